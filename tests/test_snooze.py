"""Snoozing a deal's stall nudges through `/deal snooze`: what it stops, what it refuses, and where it shows."""

from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from storage.models import DealEvent, DealSnooze, EventKind
from tests.conftest import MANAGER, OTHER_REP, REP, Clock, RunningBot
from tests.fakes.slack_api import FakeSlack
from tests.test_digest_slack import digest_posts
from tests.test_reminders import T0, nudges, on_clock, tick
from tests.test_slack_flows import all_text, create_deal, shown

REASON = "waiting for the buyer's budget cycle"


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def timed_bot(bot: RunningBot, clock: Clock, slack: FakeSlack) -> RunningBot:
    return on_clock(bot, clock, slack)


def snooze_rows(bot: RunningBot) -> list[tuple[str, str]]:
    with bot.services.sessions() as session:
        return [(row.reason, row.snoozed_by) for row in session.exec(select(DealSnooze)).all()]


def snooze_events(bot: RunningBot) -> list[tuple[str, str, str | None]]:
    with bot.services.sessions() as session:
        rows = session.exec(
            select(DealEvent)
            .where(col(DealEvent.kind).in_((EventKind.SNOOZED, EventKind.SNOOZE_ENDED)))
            .order_by(col(DealEvent.id))
        ).all()
        return [(row.kind, row.actor_id, row.note) for row in rows]


def stall(bot: RunningBot, clock: Clock) -> None:
    """deal-1 created at T0 (Meeting booked, 14 days to stall), the clock moved to when it is stalled."""
    create_deal(bot)
    clock.advance(days=14, hours=1)


def test_a_snoozed_deal_gets_no_nudge_until_the_snooze_ends(timed_bot: RunningBot, clock: Clock) -> None:
    bot = timed_bot
    stall(bot, clock)
    answer = shown(bot.command("/deal", f"snooze deal-1 10d reason:{REASON}"))
    until = int(datetime(2026, 11, 26, 10, tzinfo=UTC).timestamp())  # in each reader's zone, as Slack shows it
    assert f"no stall nudges until <!date^{until}^{{date_short}}|26 Nov 2026 UTC>" in answer
    tick(bot)
    assert nudges(bot) == []
    clock.advance(days=9, hours=23)
    tick(bot)
    assert nudges(bot) == []
    clock.advance(hours=1)
    tick(bot)
    assert len(nudges(bot)) == 1
    assert snooze_events(bot) == [(EventKind.SNOOZED, REP, REASON)]


def test_ending_a_snooze_brings_the_nudges_back_and_stays_in_the_history(timed_bot: RunningBot, clock: Clock) -> None:
    bot = timed_bot
    stall(bot, clock)
    bot.command("/deal", f"snooze deal-1 30d reason:{REASON}")
    tick(bot)
    assert nudges(bot) == []
    assert "snooze is over" in shown(bot.command("/deal", "snooze deal-1 off", user=MANAGER))
    tick(bot)
    assert len(nudges(bot)) == 1
    assert snooze_rows(bot) == []
    assert snooze_events(bot) == [(EventKind.SNOOZED, REP, REASON), (EventKind.SNOOZE_ENDED, MANAGER, None)]
    history = all_text(bot.command("/deal", "show deal-1").json())
    assert f"snoozed\\n    note: {REASON}" in history and "snooze_ended" in history


def test_the_snooze_and_its_reason_show_in_deal_show_and_the_digest_escaped(
    timed_bot: RunningBot, clock: Clock
) -> None:
    bot = timed_bot
    stall(bot, clock)
    bot.command("/deal", "snooze deal-1 7d reason:<!channel> budget cycle")
    shown_deal = all_text(bot.command("/deal", "show deal-1").json())
    until = f"<!date^{int(datetime(2026, 11, 23, 10, tzinfo=UTC).timestamp())}^{{date_short}}|23 Nov 2026 UTC>"
    assert f"*Snoozed* until {until} by <@{REP}>: &lt;!channel&gt; budget cycle" in shown_deal
    assert "<!channel>" not in shown_deal

    bot.command("/pipeline", "digest")
    post = bot.slack.wait_for(lambda: digest_posts(bot))[0]
    text = all_text(post)
    assert f"snoozed until 23 Nov by <@{REP}>_: &lt;!channel&gt; budget cycle" in text
    assert "<!channel>" not in text
    bot.settle()


@pytest.mark.parametrize(
    ("text", "user", "refusal"),
    [
        ("snooze", REP, "Say which deal to snooze"),
        ("snooze deal-1", REP, "Say for how long, from 1d to 90d"),
        (f"snooze deal-1 reason:{REASON}", REP, "Say for how long, from 1d to 90d"),
        (f"snooze deal-1 0d reason:{REASON}", REP, "A snooze lasts from 1 to 90 days, not 0"),
        (f"snooze deal-1 400d reason:{REASON}", REP, "A snooze lasts from 1 to 90 days, not 400"),
        (f"snooze deal-1 20w reason:{REASON}", REP, "not 140"),
        (f"snooze deal-1 12h reason:{REASON}", REP, "A snooze is counted in days"),
        (f"snooze deal-1 soon reason:{REASON}", REP, "'soon' is not a length of time"),
        ("snooze deal-1 7d", REP, "Say why after reason:"),
        (
            "snooze deal-1 7d reason:",
            REP,
            "reason: is empty. Put the value right after it, like reason:waiting for the buyer",
        ),
        ("snooze deal-1 7d reason:" + "x" * 1001, REP, "The reason is 1,001 characters long; the most is 1,000"),
        (f"snooze deal-1 7d reason:{REASON}", OTHER_REP, "Only the owner of deal-1 or a sales manager can snooze"),
        (f"snooze deal-9 7d reason:{REASON}", REP, "There is no deal-9"),
        ("snooze deal-1 off", REP, "deal-1 is not snoozed"),
        ("snooze deal-1 off reason:x", REP, "Ending a snooze takes no reason"),
        ("snoze deal-1", REP, "Did you mean `/deal snooze`?"),
    ],
)
def test_a_bad_snooze_is_refused_and_nothing_is_stored(
    timed_bot: RunningBot, text: str, user: str, refusal: str
) -> None:
    create_deal(timed_bot)
    assert refusal in shown(timed_bot.command("/deal", text, user=user))
    assert snooze_rows(timed_bot) == []
    assert snooze_events(timed_bot) == []


def test_a_lost_deal_cannot_be_snoozed(timed_bot: RunningBot) -> None:
    create_deal(timed_bot)
    timed_bot.command("/deal", "lost deal-1 reason:chose a competitor")
    answer = shown(timed_bot.command("/deal", f"snooze deal-1 7d reason:{REASON}"))
    assert "deal-1 was lost (chose a competitor), so it gets no reminders to snooze." in answer
    assert snooze_rows(timed_bot) == []
    assert snooze_events(timed_bot) == []


def test_help_shows_the_new_grammar_with_an_example(timed_bot: RunningBot) -> None:
    deal_help = shown(timed_bot.command("/deal", "help"))
    assert "/deal snooze deal-42 7d reason:waiting for the buyer" in deal_help
    pipeline_help = all_text(timed_bot.command("/pipeline", "help").json())
    assert "/pipeline reminders pending 12h" in pipeline_help
