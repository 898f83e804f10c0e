"""The work after the acks: answers on threads of their own, posts on one worker in order, failures logged,
and all of it finished by a stop."""

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

    for name in ("first", "second", "third"):
        after_ack.answer(name, lambda name=name: answer(name))  # type: ignore[misc]
    after_ack.shutdown(wait=True)
    assert sorted(done) == sorted(
        f"{step} {name}" for name in ("first", "second", "third") for step in ("answered", "posted")
    )
