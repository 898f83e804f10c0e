"""Quiet periods: a scheduled digest for a period in which no deal moved, was created or was lost posts one line,
nothing or the whole digest, as the schedule says (`/pipeline schedule … quiet:short|skip|full`)."""

from datetime import UTC, datetime, timedelta
from datetime import time as wall_time

import pytest
from sqlmodel import select

from bot.app_factory import make_client
from bot.digest_post import digest_deliverer
from bot.scheduler import DigestRunner
from commands.deals.deal import MarkLost, NewDeal, create_deal, mark_lost
from commands.digest.schedules import SetSchedule, set_schedule
from commands.services import Actor, Services
from storage.models import DigestDelivery, DigestSchedule
from tests.conftest import MANAGER, REP, Clock, RunningBot
from tests.fakes.slack_api import FakeSlack

TEAM = "T1"
CHANNEL = "C_DIGEST"
DUE_AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday; the weekly period is 26 Oct 09:00 – 2 Nov 09:00


def schedule(services: Services, clock: Clock, quiet: str | None) -> None:
    """A weekly Monday 09:00 UTC digest, set a month before it is due; `None` leaves quiet: out (the default)."""
    clock.now = DUE_AT - timedelta(days=30)
    options = {} if quiet is None else {"quiet": quiet}
    command = SetSchedule(frequency="weekly", weekday="mon", at=wall_time(9, 0), tz="UTC", **options)
    set_schedule(services, Actor(TEAM, MANAGER), channel_id=CHANNEL, command=command, default_tz="UTC")


def deal_at(services: Services, clock: Clock, when: datetime, name: str = "Acme") -> int:
    clock.now = when
    return create_deal(services, Actor(TEAM, REP), channel_id="C1", command=NewDeal(name, 12_000_00, None, ())).number


def run(services: Services, slack: FakeSlack, clock: Clock) -> list[DigestDelivery]:
    clock.now = DUE_AT
    deliver = digest_deliverer(services, make_client(token="xoxb-test", base_url=slack.base_url))
    DigestRunner(services, deliver, worker="A").run_once(DUE_AT)
    DigestRunner(services, deliver, worker="B").run_once(DUE_AT + timedelta(minutes=1))  # claimed once
    with services.sessions() as session:
        return list(session.exec(select(DigestDelivery)).all())


def digests(slack: FakeSlack) -> list[dict]:
    return [m for m in slack.messages if m["text"].startswith("Pipeline digest")]


@pytest.mark.parametrize("quiet", [None, "short"])
def test_a_quiet_week_posts_one_line_without_a_chart(
    services: Services, clock: Clock, slack: FakeSlack, quiet: str | None
) -> None:
    deal_at(services, clock, DUE_AT - timedelta(days=20))
    schedule(services, clock, quiet)
    [row] = run(services, slack, clock)
    [post] = digests(slack)
    assert post["text"] == (
        "Pipeline digest, 26 Oct – 2 Nov 2026 (UTC): a quiet period. No deal moved, was created or was lost. "
        "Pipeline: 1 open deal · 12,000; customers: 0 deals · 0; 1 stalled. `/pipeline digest` posts the whole digest."
    )
    assert len(post["blocks"]) == 1 and slack.files == []
    assert row.status == "sent" and row.message_ts == post["ts"] and not row.chart_uploaded


def test_a_quiet_week_with_skip_posts_nothing_and_records_it(
    services: Services, clock: Clock, slack: FakeSlack
) -> None:
    deal_at(services, clock, DUE_AT - timedelta(days=20))
    schedule(services, clock, "skip")
    [row] = run(services, slack, clock)
    assert slack.messages == [] and slack.files == []
    assert row.status == "sent" and row.message_ts is None


def test_a_quiet_week_with_full_posts_the_whole_digest(services: Services, clock: Clock, slack: FakeSlack) -> None:
    deal_at(services, clock, DUE_AT - timedelta(days=20))
    schedule(services, clock, "full")
    run(services, slack, clock)
    [post] = digests(slack)
    assert "Where deals are" in str(post["blocks"]) and len(slack.files) == 1


@pytest.mark.parametrize("happening", ["created", "lost"])
def test_a_week_in_which_something_happened_is_posted_whole_even_with_skip(
    services: Services, clock: Clock, slack: FakeSlack, happening: str
) -> None:
    number = deal_at(services, clock, DUE_AT - timedelta(days=(2 if happening == "created" else 20)))
    if happening == "lost":
        clock.now = DUE_AT - timedelta(days=1)
        mark_lost(services, Actor(TEAM, REP), MarkLost(number, "no budget"))
    schedule(services, clock, "skip")
    run(services, slack, clock)
    [post] = digests(slack)
    assert "Where deals are" in str(post["blocks"]) and len(slack.files) == 1


def stored_quiet(bot: RunningBot) -> list[str]:
    with bot.services.sessions() as session:
        return [row.quiet for row in session.exec(select(DigestSchedule)).all()]


def test_schedule_takes_quiet_and_refuses_an_unknown_choice(bot: RunningBot) -> None:
    refused = bot.command("/pipeline", "schedule weekly mon 09:00 quiet:never", user=MANAGER).json()["text"]
    assert refused.startswith(":no_entry_sign:")
    assert "'never' is not a choice for quiet:" in refused and "quiet:skip" in refused
    assert stored_quiet(bot) == []
    skipping = bot.command("/pipeline", "schedule weekly mon 09:00 tz:UTC quiet:SKIP", user=MANAGER).json()["text"]
    assert stored_quiet(bot) == ["skip"]
    assert "posts nothing (`quiet:skip`)" in skipping
    assert "posts nothing (`quiet:skip`)" in bot.command("/pipeline", "schedule").json()["text"]
    bot.command("/pipeline", "schedule daily 08:00 quiet:full", user=MANAGER)
    assert stored_quiet(bot) == ["full"]
    short = bot.command("/pipeline", "schedule daily 08:00", user=MANAGER).json()["text"]
    assert stored_quiet(bot) == ["short"]
    assert "gets one line (`quiet:short`)" in short
