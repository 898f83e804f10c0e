"""Stalled deals in the digest: the last stage never stalls, pipeline apart from onboarding, and grouped by owner
(a snoozed deal counted and said so); through the computation, its JSON, and the Slack message."""

import json
from datetime import datetime

from commands.deals.snooze import SnoozeDeal, snooze_deal
from commands.digest.report import Digest
from commands.services import Actor, Services
from tests.conftest import OTHER_REP, REP, Clock, RunningBot
from tests.fakes.slack_api import FakeSlack
from tests.test_digest_numbers import TEAM, History, digest_at, names, utc
from tests.test_digest_slack import digest_posts
from tests.test_reminders import on_clock
from tests.test_slack_flows import all_text

AS_OF = utc(7, 1, 0)
ALL_STAGES = 6  # a skip from Meeting booked to Live enters six stages: one link each
EXTRA_OWNERS = tuple(f"U_OWNER{i:02}" for i in range(12))


def tell(services: Services, clock: Clock, *, extra_owners: tuple[str, ...] = ()) -> None:
    """Live for 407 days (the last stage never stalls); signed 29 days ago with no
    implementation started (Contract signed stalls after 14: onboarding); three of REP's deals stalled, one
    of them snoozed; one of OTHER_REP's stalled and one fresh; then one stalled deal each for `extra_owners`."""
    h = History(services, clock)
    live = h.create(utc(5, 1, year=2025), "Live Co", 900_000)
    h.advance(live, utc(5, 10, year=2025), utc(5, 20, year=2025), to="live", links=ALL_STAGES)
    signed = h.create(utc(5, 2), "Signed Co", 500_000)
    h.advance(signed, utc(5, 20), utc(6, 1), to="contract-signed", links=4)
    h.create(utc(5, 1), "Rep oldest", 100_000)
    snoozed = h.create(utc(6, 1), "Rep snoozed", 200_000)
    clock.now = utc(6, 25)
    snooze_deal(services, Actor(TEAM, REP), SnoozeDeal(snoozed, 30, "waiting for the budget"))
    h.create(utc(6, 5), "Other stale", 300_000, owner=OTHER_REP)
    h.create(utc(6, 25), "Other fresh", 300_000, owner=OTHER_REP)
    for hour, owner in enumerate(extra_owners):
        h.create(utc(6, 10, hour), f"Extra {hour}", 10_000, owner=owner)


def owners(digest: Digest) -> list[tuple[str, int, int, str, int]]:
    return [
        (o.owner_id, o.deals, o.snoozed, o.oldest.deal_name, o.oldest.days_in_stage)
        for o in digest.stalled.by_owner.items
    ]


def test_a_digest_of_an_earlier_day_shows_no_snooze_set_after_it(services: Services, clock: Clock) -> None:
    """Rep snoozed was stalled from 15 Jun and snoozed on 25 Jun: the digest of 20 Jun lists it as stalled, not
    snoozed, in the list and in its owner's count."""
    tell(services, clock)
    digest = digest_at(services, utc(6, 20, 0))
    (snoozed,) = [item for item in digest.stalled.pipeline.items if item.deal_name == "Rep snoozed"]
    assert snoozed.snooze is None
    assert [(o.owner_id, o.deals, o.snoozed) for o in digest.stalled.by_owner.items][0] == (REP, 3, 0)


def test_the_last_stage_never_stalls_and_won_deals_stall_in_onboarding(services: Services, clock: Clock) -> None:
    tell(services, clock)
    digest = digest_at(services, AS_OF)
    assert names(digest.stalled.pipeline) == ["Rep oldest", "Rep snoozed", "Other stale"]
    assert names(digest.stalled.onboarding) == ["Signed Co"]
    (signed,) = digest.stalled.onboarding.items
    assert (signed.stage.key, signed.days_in_stage, signed.stall_after_days) == ("contract-signed", 29, 14)
    assert (digest.stalled.pipeline.total, digest.stalled.onboarding.total, digest.stalled.total) == (3, 1, 4)
    assert [total.deals for total in digest.by_stage if total.stage.key == "live"] == [1]  # Live Co is there


def test_stalled_deals_grouped_by_owner_with_the_oldest_and_the_snoozed(services: Services, clock: Clock) -> None:
    tell(services, clock)
    digest = digest_at(services, AS_OF)
    assert owners(digest) == [(REP, 3, 1, "Rep oldest", 60), (OTHER_REP, 1, 0, "Other stale", 25)]
    assert digest.stalled.by_owner.total == 2
    snoozed = digest.stalled.pipeline.items[1]
    assert snoozed.snooze is not None and snoozed.snooze.reason == "waiting for the budget"

    data = json.loads(json.dumps(digest.to_json()))
    stalled = data["stalled"]
    assert (stalled["total"], stalled["pipeline"]["total"], stalled["onboarding"]["total"]) == (4, 3, 1)
    assert [
        (o["owner_id"], o["deals"], o["snoozed"], o["oldest"]["deal_name"]) for o in stalled["by_owner"]["items"]
    ] == [
        (REP, 3, 1, "Rep oldest"),
        (OTHER_REP, 1, 0, "Other stale"),
    ]
    assert stalled["onboarding"]["items"][0]["stage"] == "contract-signed"


def test_many_owners_are_listed_ten_then_counted(services: Services, clock: Clock) -> None:
    tell(services, clock, extra_owners=EXTRA_OWNERS)
    digest = digest_at(services, AS_OF)
    listed = owners(digest)
    assert listed[:2] == [(REP, 3, 1, "Rep oldest", 60), (OTHER_REP, 1, 0, "Other stale", 25)]
    # One deal each: the one whose deal entered its stage first comes first.
    assert [owner for owner, *_ in listed[2:]] == list(EXTRA_OWNERS[:8])
    assert (digest.stalled.by_owner.total, digest.stalled.by_owner.more) == (14, 4)


def at_as_of(bot: RunningBot, clock: Clock, slack: FakeSlack) -> RunningBot:
    timed = on_clock(bot, clock, slack)
    tell(timed.services, clock, extra_owners=EXTRA_OWNERS)
    clock.now = datetime(2026, 7, 1, 0, 0, tzinfo=AS_OF.tzinfo)
    return timed


def test_the_slack_digest_splits_and_groups_the_stalls(bot: RunningBot, clock: Clock, slack: FakeSlack) -> None:
    timed = at_as_of(bot, clock, slack)
    timed.command("/pipeline", "digest")
    post = timed.slack.wait_for(lambda: digest_posts(timed))[0]
    assert len(post["blocks"]) <= 50
    text = all_text(post)
    assert "*Stalled* (16): 15 in the pipeline, 1 in onboarding. The last stage never stalls." in text
    assert f"<@{REP}>: 3 stalled deals (1 snoozed); oldest *deal-3* Rep oldest · Meeting booked for 60 days" in text
    assert f"<@{OTHER_REP}>: 1 stalled deal; oldest *deal-5* Other stale" in text
    assert "_and 4 more owners_" in text
    onboarding = text[text.index("*Onboarding* (1), oldest first") :]
    assert "*deal-2* Signed Co · Contract signed for 29 days (limit 14)" in onboarding
    assert f"_snoozed until 25 Jul by <@{REP}>_: waiting for the budget" in text
    assert "Live Co" not in text
    timed.settle()
