"""A thread post that fails for a reason other than Slack's answer (a bug rendering it) counts as an attempt, so it
is retried with backoff and given up in time instead of being claimed again forever."""

import pytest
from sqlmodel import select

from bot.threads import DealThreads
from storage.models import Announcement
from tests.conftest import RunningBot


def test_a_post_that_breaks_is_retried_later_with_its_error_kept(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: DealThreads, subject: object) -> object:
        raise RuntimeError("cannot render this")

    monkeypatch.setattr(DealThreads, "announce", broken)
    assert "Created deal-1" in bot.command("/deal", "new Acme").json()["text"]
    bot.settle()
    with bot.services.sessions() as session:
        [card] = session.exec(select(Announcement)).all()
    assert (card.kind, card.status, card.attempts) == ("card", "pending", 1)
    assert card.last_error == "RuntimeError: cannot render this"
    assert card.next_attempt_at > card.created_at
    assert bot.slack.messages == []
