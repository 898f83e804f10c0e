"""Reminders of pending moves and nudges of stalled deals, end to end: signed slash commands into the running app,
the reminder tick called directly on a clock the test moves, and what the fake Slack shows in the deal's thread."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.announcer import Announcer
from bot.blocks import APPROVE_ACTION
from bot.reminders import ReminderRunner
from commands.reminders import due as due_module
from commands.reminders.due import due_reminders, owe_move_reminder
from commands.reminders.quiet_hours import in_working_hours
from storage.models import Announcement, AnnouncementKind, DeliveryStatus, Reminder, ReminderSetting
from tests.conftest import MANAGER, OTHER_MANAGER, REP, SQLITE_PREFIX, Clock, RunningBot, migrate, running_bot
from tests.fakes.slack_api import FakeSlack
from tests.test_private_channels import PRIVATE, invite, owed, run
from tests.test_slack_flows import CHANNEL, click, create_deal, deal_row, request_move, shown, ts

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday; 10:00 in Stockholm
STOCKHOLM = "Europe/Stockholm"
REMINDER_MARK = ":alarm_clock:"
NUDGE_MARK = ":mag:"

TWO_MANAGERS_PIPELINE = """\
stages:
  - key: meeting-booked
    name: Meeting booked
    exit_criteria: [Buyer booked a needs-assessment meeting]
    evidence_prompt: Show me the calendar invite the buyer accepted.
  - key: proposal-received
    name: Proposal received
    exit_criteria: [Buyer acknowledged the proposal]
    evidence_prompt: Show me the buyer's acknowledgement.
    approval: two
  - key: contract-signed
    name: Contract signed
    exit_criteria: [Buyer signed the contract]
    evidence_prompt: Show me the signed contract.
    won: true
  - key: live
    name: Live
    exit_criteria: [Buyer went live]
    evidence_prompt: Show me the go-live note.
    stall_after_days: 3
"""


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


def on_clock(bot: RunningBot, clock: Clock, slack: FakeSlack) -> RunningBot:
    """The running app on the test's clock, everyone working in Stockholm unless a test says otherwise."""
    object.__setattr__(bot.services, "clock", clock)  # Services is frozen; `build` reads the real clock
    for user in (MANAGER, OTHER_MANAGER, REP):
        slack.user_timezones[user] = STOCKHOLM
    return bot


@pytest.fixture
def timed_bot(bot: RunningBot, clock: Clock, slack: FakeSlack) -> RunningBot:
    return on_clock(bot, clock, slack)


@pytest.fixture
def two_step_bot(
    database_url: str, slack: FakeSlack, sqlite_template: Path, tmp_path: Path, clock: Clock
) -> Iterator[RunningBot]:
    if database_url.startswith(SQLITE_PREFIX):
        migrate(database_url, sqlite_template)
    pipeline_file = tmp_path / "pipeline.yaml"
    pipeline_file.write_text(TWO_MANAGERS_PIPELINE, encoding="utf-8")
    with running_bot(database_url, slack, pipeline_file=pipeline_file) as running:
        yield on_clock(running, clock, slack)
    assert slack.violations == [], "the bot sent something Slack would refuse"


def tick(bot: RunningBot) -> int:
    bot.settle()
    return ReminderRunner(bot.services, bot.runtime.app.client).run_once()


def replies(bot: RunningBot, mark: str) -> list[dict[str, Any]]:
    thread_ts = ts(deal_row(bot).thread_ts)
    return [m for m in bot.slack.thread(CHANNEL, thread_ts) if m["text"].startswith(mark)]


def reminders(bot: RunningBot) -> list[str]:
    return [m["text"] for m in replies(bot, REMINDER_MARK)]


def nudges(bot: RunningBot) -> list[str]:
    return [m["text"] for m in replies(bot, NUDGE_MARK)]


# --- pending moves ------------------------------------------------------------------------------------------


def test_a_pending_move_is_reminded_after_a_day_then_daily_until_it_is_decided(
    timed_bot: RunningBot, clock: Clock
) -> None:
    bot = timed_bot
    create_deal(bot)
    request_move(bot)
    clock.advance(hours=23, minutes=59)
    assert tick(bot) == 0
    assert reminders(bot) == []

    clock.advance(minutes=1)
    assert tick(bot) == 1
    [reminder] = reminders(bot)
    assert f"<@{MANAGER}>" in reminder and f"<@{OTHER_MANAGER}>" in reminder
    assert f"<@{REP}>:" not in reminder  # the requester is named as such, never asked to decide
    assert "has waited 1 day for a decision" in reminder and "Meeting booked" not in reminder

    clock.advance(hours=23)
    tick(bot)
    assert len(reminders(bot)) == 1

    clock.advance(hours=1)
    tick(bot)
    assert len(reminders(bot)) == 2

    assert click(bot, APPROVE_ACTION, user=MANAGER).status == 200
    bot.settle()
    clock.advance(days=2)
    tick(bot)
    assert len(reminders(bot)) == 2


def test_a_reminder_owed_before_the_decision_is_not_posted_after_it(timed_bot: RunningBot, clock: Clock) -> None:
    """The reminder is claimed, then the move is decided before the post goes out: the thread gets no reminder,
    and what was owed is kept."""
    bot = timed_bot
    create_deal(bot)
    request_move(bot)
    clock.advance(days=1)
    [due] = due_reminders(bot.services).moves
    assert owe_move_reminder(bot.services, due, mention=due.deciders)
    assert click(bot, APPROVE_ACTION, user=MANAGER).status == 200
    bot.settle()
    Announcer(bot.services, bot.runtime.app.client).catch_up()
    assert reminders(bot) == []
    with bot.services.sessions() as session:
        assert [r.recipients for r in session.exec(select(Reminder)).all()] == [[MANAGER, OTHER_MANAGER]]
        owed = session.exec(select(Announcement).where(Announcement.kind == AnnouncementKind.MOVE_REMINDER)).one()
        assert owed.status == DeliveryStatus.SENT


def test_a_manager_who_approved_already_is_not_reminded(two_step_bot: RunningBot, clock: Clock) -> None:
    bot = two_step_bot
    create_deal(bot)
    request_move(bot)
    assert click(bot, APPROVE_ACTION, user=MANAGER).status == 200
    bot.settle()
    clock.advance(days=1)
    tick(bot)
    [reminder] = reminders(bot)
    assert f"<@{OTHER_MANAGER}>" in reminder and f"<@{MANAGER}>" not in reminder
    assert "It still needs 1 approval." in reminder


def test_only_the_managers_in_working_hours_are_mentioned(timed_bot: RunningBot, clock: Clock) -> None:
    bot = timed_bot
    bot.slack.user_timezones[OTHER_MANAGER] = "America/New_York"  # 04:00 there when it is due
    create_deal(bot)
    request_move(bot)
    clock.advance(days=1)
    tick(bot)
    [reminder] = reminders(bot)
    assert f"<@{MANAGER}>" in reminder and f"<@{OTHER_MANAGER}>" not in reminder


def test_the_wait_before_a_reminder_is_the_workspace_setting(timed_bot: RunningBot, clock: Clock) -> None:
    bot = timed_bot
    clock.now = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # so that 12 hours later is working hours in Stockholm
    assert "after *1 day*" in shown(bot.command("/pipeline", "reminders"))
    answer = shown(bot.command("/pipeline", "reminders pending 12h", user=MANAGER))
    assert "Changed." in answer and "after *12 hours*" in answer
    assert "after *12 hours*" in shown(bot.command("/pipeline", "reminders"))
    create_deal(bot)
    request_move(bot)
    clock.advance(hours=11)
    tick(bot)
    assert reminders(bot) == []
    clock.advance(hours=1)
    tick(bot)
    assert len(reminders(bot)) == 1

    assert "*off*" in shown(bot.command("/pipeline", "reminders pending off", user=MANAGER))
    clock.advance(days=2)
    tick(bot)
    assert len(reminders(bot)) == 1
    assert "*off*" in shown(bot.command("/pipeline", "reminders"))

    assert "after *2 days*" in shown(bot.command("/pipeline", "reminders pending 2d", user=MANAGER))


@pytest.mark.parametrize(
    ("text", "user", "refusal"),
    [
        ("reminders pending 12h", REP, "Only a sales manager can change when pending moves are reminded"),
        ("reminders pending", MANAGER, "Say how long a move may wait"),
        ("reminders pending 0h", MANAGER, "A move can wait from 1h to 14d"),
        ("reminders pending 15d", MANAGER, "not 360h"),
        ("reminders pending soon", MANAGER, "'soon' is not a length of time"),
        ("reminders pending 12h now", MANAGER, "Unexpected 'now'"),
        ("reminders later", MANAGER, "'later' is not part of /pipeline reminders"),
        ("remindres", MANAGER, "Did you mean `/pipeline reminders`?"),
    ],
)
def test_a_bad_reminder_setting_is_refused_and_nothing_is_stored(
    timed_bot: RunningBot, text: str, user: str, refusal: str
) -> None:
    assert refusal in shown(timed_bot.command("/pipeline", text, user=user))
    with timed_bot.services.sessions() as session:
        assert session.exec(select(ReminderSetting)).all() == []


# --- stalled deals ------------------------------------------------------------------------------------------


def test_a_stalled_deal_is_nudged_once_a_week_asking_for_the_next_stages_criteria(
    timed_bot: RunningBot, clock: Clock
) -> None:
    bot = timed_bot
    create_deal(bot)
    clock.advance(days=14)  # exactly its stage's 14 days: not stalled yet
    tick(bot)
    assert nudges(bot) == []
    clock.advance(hours=1)
    tick(bot)
    [nudge] = nudges(bot)
    assert nudge.startswith(f"{NUDGE_MARK} <@{REP}>:")
    assert "*Meeting booked* for 14 days" in nudge
    assert "To reach *Needs confirmed*" in nudge and "Buyer confirmed the budget" in nudge
    clock.advance(days=6, hours=23)
    tick(bot)
    assert len(nudges(bot)) == 1
    clock.advance(hours=1)
    tick(bot)
    assert len(nudges(bot)) == 2


def test_deals_past_the_win_and_lost_deals_are_not_nudged(two_step_bot: RunningBot, clock: Clock) -> None:
    """`live` (after the win, 3 days to stall) is not nudged; a lost deal is not either."""
    bot = two_step_bot
    create_deal(bot)
    with bot.services.sessions.begin() as session:
        deal = session.get(type(deal_row(bot)), deal_row(bot).id)
        assert deal is not None
        deal.stage_key = "live"
        session.add(deal)
    create_deal(bot, "Beta")
    bot.command("/deal", "lost deal-2 reason:chose a competitor")
    bot.settle()
    clock.advance(days=30)
    tick(bot)
    assert nudges(bot) == []
    thread_ts = ts(deal_row(bot, 2).thread_ts)
    assert not [m for m in bot.slack.thread(CHANNEL, thread_ts) if m["text"].startswith(NUDGE_MARK)]


def test_quiet_hours_defer_a_nudge_to_the_owners_next_working_morning(timed_bot: RunningBot, clock: Clock) -> None:
    bot = timed_bot
    create_deal(bot)
    clock.now = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)  # Friday 20:00 in Stockholm
    tick(bot)
    clock.now = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)  # Saturday
    tick(bot)
    clock.now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # Sunday
    tick(bot)
    clock.now = datetime(2026, 11, 23, 6, 59, tzinfo=UTC)  # Monday 07:59 in Stockholm
    tick(bot)
    assert nudges(bot) == []
    clock.now = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # Monday 08:00 in Stockholm
    tick(bot)
    assert len(nudges(bot)) == 1


def test_quiet_hours_defer_a_reminder_while_no_manager_is_working(timed_bot: RunningBot, clock: Clock) -> None:
    bot = timed_bot
    clock.now = datetime(2026, 11, 6, 12, 0, tzinfo=UTC)  # Friday
    create_deal(bot)
    request_move(bot)
    clock.now = datetime(2026, 11, 7, 12, 0, tzinfo=UTC)  # Saturday: due, but nobody works
    tick(bot)
    clock.now = datetime(2026, 11, 9, 6, 30, tzinfo=UTC)  # Monday 07:30 in Stockholm
    tick(bot)
    assert reminders(bot) == []
    clock.now = datetime(2026, 11, 9, 7, 30, tzinfo=UTC)
    tick(bot)
    assert len(reminders(bot)) == 1


@pytest.mark.parametrize(
    ("utc", "working"),
    [
        (datetime(2026, 10, 23, 6, 0, tzinfo=UTC), True),  # Friday 08:00 CEST
        (datetime(2026, 10, 23, 17, 59, tzinfo=UTC), True),  # Friday 19:59 CEST
        (datetime(2026, 10, 23, 18, 0, tzinfo=UTC), False),  # Friday 20:00 CEST
        (datetime(2026, 10, 25, 10, 0, tzinfo=UTC), False),  # Sunday, the night the clocks went back
        (datetime(2026, 10, 26, 6, 0, tzinfo=UTC), False),  # Monday 07:00 CET: an hour later than in summer
        (datetime(2026, 10, 26, 7, 0, tzinfo=UTC), True),  # Monday 08:00 CET
        (datetime(2026, 10, 26, 18, 59, tzinfo=UTC), True),  # Monday 19:59 CET
        (datetime(2026, 10, 26, 19, 0, tzinfo=UTC), False),  # Monday 20:00 CET
    ],
)
def test_working_hours_follow_the_local_clock_across_daylight_saving(utc: datetime, working: bool) -> None:
    assert in_working_hours(STOCKHOLM, utc) is working


def test_an_unknown_zone_counts_as_utc() -> None:
    assert in_working_hours("Mars/Olympus", datetime(2026, 11, 2, 8, 0, tzinfo=UTC))
    assert not in_working_hours("Mars/Olympus", datetime(2026, 11, 2, 7, 59, tzinfo=UTC))


def test_a_thread_the_bot_cannot_post_in_gets_one_reminder_when_it_is_invited_not_one_a_day(
    timed_bot: RunningBot, clock: Clock
) -> None:
    bot = timed_bot
    bot.slack.add_private_channel(PRIVATE, members=[REP, MANAGER, OTHER_MANAGER])
    run(bot, "/deal", "new Acme renewal value:10k")
    run(bot, "/advance", "deal-1 evidence:https://mail.example.com/thread/1")
    for _ in range(5):  # five days nobody decides, and the bot is still not invited
        clock.advance(hours=24)
        tick(bot)
    assert len([row for row in owed(bot) if row.kind == AnnouncementKind.MOVE_REMINDER]) == 1
    invite(bot)
    bot.slack.wait_for(lambda: all(row.status == DeliveryStatus.SENT for row in owed(bot)) or None, timeout=10)
    reminders = [message for message in bot.slack.messages if message["text"].startswith(":alarm_clock:")]
    assert len(reminders) == 1 and "5 days" in reminders[0]["text"]


def test_moves_left_by_a_tick_never_hide_the_others(
    timed_bot: RunningBot, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A workspace with reminders off has the oldest moves; read one at a time, the other workspace's is found."""
    bot = timed_bot
    bot.command("/deal", "new Old deal value:1k", team_id="T_OFF")
    bot.command("/advance", "deal-1 evidence:https://mail.example.com/m/1", team_id="T_OFF")
    clock.advance(hours=1)
    bot.command("/deal", "new Acme value:1k")
    bot.command("/advance", "deal-1 evidence:https://mail.example.com/m/2")
    with bot.services.sessions.begin() as session:
        session.add(ReminderSetting(team_id="T_OFF", pending_after_hours=None, changed_by=MANAGER, changed_at=T0))
    clock.advance(hours=25)
    monkeypatch.setattr(due_module, "PAGE", 1)
    assert [move.team_id for move in due_reminders(bot.services).moves] == ["T1"]
