"""The work after the acks: answers on threads of their own, posts on one worker in order, failures logged,
and all of it finished by a stop."""

import functools
import logging
import threading
import time

import pytest

from bot.after_ack import AfterAck, ListenerPool


def test_a_stop_finishes_the_listeners_then_the_work_they_left_for_after_their_acks() -> None:
    pool = ListenerPool(2, AfterAck())
    done: list[str] = []

    def slow_post(name: str) -> None:
        time.sleep(0.1)
        done.append(name)

    def listener(name: str) -> None:
        time.sleep(0.1)
        pool.after_ack.run(name, lambda: slow_post(name))

    for name in ("first", "second"):
        pool.submit(listener, name)
    pool.shutdown(wait=True)
    assert sorted(done) == ["first", "second"]


def test_work_runs_in_order_and_a_failure_is_logged_without_stopping_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    after_ack = AfterAck()
    done: list[int] = []
    started = threading.Event()

    def fail() -> None:
        raise RuntimeError("slack is down")

    def first() -> None:
        started.wait(5)
        done.append(1)

    after_ack.run("the first", first)
    after_ack.run("the failing one", fail)
    after_ack.run("the last", lambda: done.append(3))
    started.set()
    assert after_ack.wait_idle(5)
    assert done == [1, 3]
    assert [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR] == [
        "the work after the failing one failed; what it owed stays owed"
    ]
    after_ack.shutdown()


def test_work_given_after_the_stop_is_left_to_the_catch_up(caplog: pytest.LogCaptureFixture) -> None:
    after_ack = AfterAck()
    after_ack.shutdown()
    after_ack.run("a late click", lambda: pytest.fail("ran after the stop"))
    assert after_ack.wait_idle(1)
    assert "left to the catch-up" in caplog.text


def test_a_stop_finishes_the_answers_then_the_posts_they_left() -> None:
    after_ack = AfterAck()
    done: list[str] = []

    def answer(name: str) -> None:
        time.sleep(0.05)
        done.append(f"answered {name}")
        after_ack.run(name, lambda: done.append(f"posted {name}"))

    names = ("first", "second", "third")
    for name in names:
        after_ack.answer(name, functools.partial(answer, name))
    after_ack.shutdown(wait=True)
    assert sorted(done) == sorted(f"{step} {name}" for name in names for step in ("answered", "posted"))


def test_one_persons_answers_run_in_order_while_anothers_run_beside_them() -> None:
    after_ack = AfterAck(answer_threads=2)
    first_started, release_first = threading.Event(), threading.Event()
    done: list[str] = []

    def first() -> None:
        first_started.set()
        release_first.wait(5)
        done.append("ana 1")

    after_ack.answer("ana's first", first, person="ana")
    assert first_started.wait(5)
    after_ack.answer("ana's second", lambda: done.append("ana 2"), person="ana")
    after_ack.answer("bo's", lambda: done.append("bo"), person="bo")
    deadline = time.monotonic() + 5
    while "bo" not in done and time.monotonic() < deadline:
        time.sleep(0.01)
    assert done == ["bo"], "another person's answer runs while Ana's first is still running, and Ana's second waits"
    release_first.set()
    assert after_ack.wait_idle(5)
    assert done == ["bo", "ana 1", "ana 2"]
    after_ack.shutdown()


def test_a_stop_answers_what_one_person_left_queued() -> None:
    after_ack = AfterAck(answer_threads=1)
    done: list[int] = []
    for number in range(5):
        after_ack.answer(f"answer {number}", functools.partial(done.append, number), person="ana")
    after_ack.shutdown(wait=True)
    assert done == [0, 1, 2, 3, 4]
