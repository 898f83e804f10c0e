"""When a post that failed is tried again, when a claim counts as left behind by a dead process, and when to give up:
one rule for thread announcements and for digests."""

from dataclasses import dataclass
from datetime import datetime, timedelta

ERROR_TEXT_LIMIT = 2000


@dataclass(frozen=True)
class RetryPolicy:
    """Retry after 1, 2, 4, 8… minutes, at most `max_delay`; give up after `max_attempts` (None: never on attempts
    alone: a digest gives up when its grace period is over instead). A claim older than `stale_claim` was left by
    a process that died while posting: another process may take the post over."""

    stale_claim: timedelta
    max_attempts: int | None = None
    first_delay: timedelta = timedelta(minutes=1)
    max_delay: timedelta = timedelta(minutes=60)

    def delay(self, attempts: int) -> timedelta:
        """The wait before the next attempt after `attempts` failed ones."""
        doublings = min(max(attempts - 1, 0), 30)
        return min(self.first_delay * 2**doublings, self.max_delay)

    def next_attempt(self, attempts: int, now: datetime) -> datetime:
        return now + self.delay(attempts)

    def gives_up(self, attempts: int) -> bool:
        return self.max_attempts is not None and attempts >= self.max_attempts

    def stale_before(self, now: datetime) -> datetime:
        return now - self.stale_claim


THREAD_POSTS = RetryPolicy(stale_claim=timedelta(minutes=5), max_attempts=8)
DIGESTS = RetryPolicy(stale_claim=timedelta(minutes=15))
