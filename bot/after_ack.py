"""What a listener does after its ack, on threads of its own, so the ack goes out at once.

Two workers, in two steps:

- **answers**: a slash command's or a click's use case and the reply the person sees (on the response_url or in
  the thread). Slack waits 3 seconds for an ack; a use case that queues for SQLite's write lock behind its peers
  would make the ack wait with it. Acked first, the person sees the reply a moment later instead, however long
  the queue, and a listener thread is free for the next request at once.
- **after-ack**: what a change owes the deal's thread (posts) and the Home tabs. Each thread post takes SQLite's
  write lock twice; on one worker they hold it at most once at a time, so an answer waits behind at most one post.
  The posts stay owed in the database until delivered, so nothing queued here is lost if the process dies (the
  catch-up sends it).
"""

import logging
import threading
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor

from commands.errors import CommandError
from commands.i18n.translator import N_, tr

logger = logging.getLogger(__name__)

AFTER_ACK_THREADS = 1
ANSWER_THREADS = 2
ANSWER_QUEUE_LIMIT = 500  # about 5 s of answers on SQLite's two threads
BUSY = N_("The bot is answering many requests at once, so nothing was done. Try again in a minute.")
ANSWER_THREADS_POSTGRESQL = 8


def answer_threads(dialect: str) -> int:
    """How many requests are answered at once. SQLite takes one writer at a time: more threads would only queue at
    its lock, doing Python that takes the GIL from the acks (4 missed the ack target that 2 held, bench/README.md).
    PostgreSQL runs transactions side by side and an answer mostly waits on the server: 8 answered a burst of 1,240
    requests over 4 workers in 24–28 s where 2 took 36 s (`python -m bench.load`)."""
    return ANSWER_THREADS_POSTGRESQL if dialect == "postgresql" else ANSWER_THREADS


class AfterAck:
    def __init__(self, threads: int = AFTER_ACK_THREADS, *, answer_threads: int = ANSWER_THREADS) -> None:
        self._answers = ThreadPoolExecutor(max_workers=answer_threads, thread_name_prefix="answer")
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="after-ack")
        self._pending = 0
        self._answering = 0
        self._by_person: dict[Hashable, deque[tuple[str, Callable[[], object]]]] = {}
        self._idle = threading.Condition()

    def answer(self, what: str, work: Callable[[], object], *, person: Hashable | None = None) -> None:
        """Answer a request whose ack has gone: run its use case and tell the person (`work` tells them its
        own refusals; anything it raises is a bug, logged). One `person`'s answers run one at a time, in the
        order they came: a `/advance` sent before the reply to its `/deal new` still finds the deal."""
        with self._idle:
            self._answering += 1
            self._pending += 1
            if person is not None:
                waiting = self._by_person.get(person)
                if waiting is not None:  # this person's earlier answer is queued or running: after it
                    waiting.append((what, work))
                    return
                self._by_person[person] = deque()
        try:
            self._answers.submit(self._answer_in_turn, what, work, person)
        except RuntimeError:  # shut down: the person gets no reply, and nothing was changed
            with self._idle:
                self._by_person.pop(person, None)
                self._answering -= 1
            self._done()
            logger.warning("stopping: %s not answered", what)

    def _answer_in_turn(self, what: str, work: Callable[[], object], person: Hashable | None) -> None:
        """Run the answer, then the answers of the same person that came meanwhile, on this thread (handing
        them to the pool again could meet it stopped)."""
        while True:
            self._do(what, work)
            with self._idle:
                self._answering -= 1
                waiting = self._by_person.get(person) if person is not None else None
                if not waiting:
                    self._by_person.pop(person, None)
                    return
                what, work = waiting.popleft()

    def now(self, what: str, work: Callable[[], object]) -> None:
        """Answer a request whose ack has gone on the calling thread (a listener's), ahead of the queued
        answers: for what Slack allows only seconds after the request, like opening a form. Logged as `answer`."""
        with self._idle:
            self._pending += 1
        self._do(what, work)

    def refuse_when_full(self) -> None:
        """Refuse, before its ack, a request that would join more than ANSWER_QUEUE_LIMIT answers waiting or
        running in this process: its person would wait longer for the reply than for a try again."""
        with self._idle:
            full = self._answering >= ANSWER_QUEUE_LIMIT
        if full:
            raise CommandError(tr(BUSY))

    def run(self, what: str, work: Callable[[], object]) -> None:
        """Do `work` later, in order with the rest; its failure is logged (nobody waits for an answer)."""
        self._submit(self._pool, what, work)

    def _submit(self, pool: ThreadPoolExecutor, what: str, work: Callable[[], object]) -> None:
        with self._idle:
            self._pending += 1
        try:
            pool.submit(self._do, what, work)
        except RuntimeError:  # shut down: what `work` would have posted stays owed, for the next catch-up
            self._done()
            logger.warning("stopping: the work after %s is left to the catch-up", what)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until everything given to `run` is done; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def shutdown(self, *, wait: bool = True) -> None:
        """The answers first: they leave work for the after-ack worker."""
        self._answers.shutdown(wait=wait)
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
