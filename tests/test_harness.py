"""The test harness itself: a running app is stopped only after the work it does after each ack."""

import threading

import pytest

from tests.conftest import MANAGER, RunningBot, drain_listeners, running_bot, stop_within
from tests.fakes.slack_api import FakeSlack
from tests.test_digest_slack import CHANNEL, seed


def test_stopping_the_app_waits_for_the_digest_it_is_still_posting(database_url: str, slack: FakeSlack) -> None:
    with running_bot(database_url, slack) as bot:
        seed(bot, deals=1)
        assert "Posting the pipeline digest" in bot.command("/pipeline", "digest", user=MANAGER).json()["text"]
        # Leave at once: the digest and its chart are still being posted after the ack.
    assert [file["channel_id"] for file in slack.files] == [CHANNEL], "the chart upload finished before the stop"
    assert not [m for m in slack.messages if "could not" in m["text"]]


def test_listener_work_still_running_after_the_timeout_fails_the_test(database_url: str, slack: FakeSlack) -> None:
    release = threading.Event()
    with running_bot(database_url, slack) as bot:
        executor = bot.runtime.app.listener_runner.listener_executor
        executor.submit(release.wait, 10)
        with pytest.raises(AssertionError, match=r"listener work still running 0\.2s after the test ended"):
            drain_listeners(bot.runtime, timeout=0.2)
        release.set()


def test_settle_waits_for_the_work_after_the_acks_so_far(bot: RunningBot) -> None:
    seed(bot, deals=1)
    assert "Posting the pipeline digest" in bot.command("/pipeline", "digest", user=MANAGER).json()["text"]
    bot.settle()
    assert [file["channel_id"] for file in bot.slack.files] == [CHANNEL]


def test_settle_fails_when_a_listener_is_still_running_after_the_timeout(bot: RunningBot) -> None:
    release = threading.Event()
    bot.listeners.submit(release.wait, 10)
    with pytest.raises(AssertionError, match=r"1 listener\(s\) still running after 0\.2s"):
        bot.listeners.settle(timeout=0.2)
    release.set()


def test_a_stop_still_waiting_for_work_after_the_timeout_fails_the_test() -> None:
    """What the scheduler fixture's teardown uses: a shutdown(wait=True) stuck behind a tick fails the test."""
    release = threading.Event()

    def shutdown_behind_a_stuck_tick() -> None:
        release.wait(10)

    with pytest.raises(AssertionError, match=r"a scheduler tick still running 0\.2s after the test ended"):
        stop_within(shutdown_behind_a_stuck_tick, 0.2, "a scheduler tick")
    release.set()
