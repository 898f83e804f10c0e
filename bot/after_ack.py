"""The work after an ack (thread posts, a Home tab refresh) on a thread of its own.

Each thread post takes SQLite's write lock twice. Done in the listener threads, the posts of every request in
flight queued for that lock together with the acks' own transactions; on one worker they hold it at most once
at a time, so a request waits behind its peers' changes and at most one post. The posts themselves stay owed in
the database until delivered, so nothing queued here is lost if the process dies (the catch-up sends it).
"""

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

logger = logging.getLogger(__name__)

AFTER_ACK_THREADS = 1


class AfterAck:
    def __init__(self, threads: int = AFTER_ACK_THREADS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="after-ack")
        self._pending = 0
        self._idle = threading.Condition()

    def run(self, what: str, work: Callable[[], object]) -> None:
        """Do `work` later, in order with the rest; its failure is logged (nobody waits for an answer)."""
        with self._idle:
            self._pending += 1
        try:
            self._pool.submit(self._do, what, work)
        except RuntimeError:  # shut down: what `work` would have posted stays owed, for the next catch-up
            self._done()
            logger.warning("stopping: the work after %s is left to the catch-up", what)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until everything given to `run` is done; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def shutdown(self, *, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait)

    def _do(self, what: str, work: Callable[[], object]) -> None:
        try:
            work()
        except Exception:
            logger.exception("the work after %s failed; what it owed stays owed", what)
        finally:
            self._done()

    def _done(self) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()


class ListenerPool(ThreadPoolExecutor):
    """Bolt's listener threads, and the work they leave for after their acks: `shutdown` finishes the
    listeners first, then what they left."""

    def __init__(self, threads: int, after_ack: AfterAck) -> None:
        super().__init__(max_workers=threads)
        self.after_ack = after_ack

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=wait, cancel_futures=cancel_futures)
        self.after_ack.shutdown(wait=wait)
