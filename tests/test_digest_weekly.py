"""The digest as a weekly review: pipeline apart from customers, the change since a week earlier, moves per
transition and the notable ones, lost deals by reason. The expected numbers are counted by hand from the story.
"""

import json

import pytest

from bot.digest_blocks import digest_message
from commands.digest.changes import week_earlier
from commands.digest.report import Digest
from commands.digest.text import digest_text
from commands.i18n.translator import ENGLISH
from commands.services import Services
from tests.conftest import Clock
from tests.test_digest_numbers import NEW_YORK, History, digest_at, utc

AS_OF = utc(7, 1, 0)
"""The digest's end; a week earlier is 24 June 00:00 UTC, the period's start."""
K = 1_000_00  # 1,000 in cents


def tell(services: Services, clock: Clock) -> dict[str, int]:
    """Eleven deals; for each, where it stood on 24 June 00:00 (then) and on 1 July 00:00 (now)."""
    h = History(services, clock)
    deals = {}
    # Alpha, 10k: meeting booked since 1 June, moved on 26 June. Then MB, now NC.
    deals["alpha"] = h.create(utc(6, 1), "Alpha", 10 * K)
    h.advance(deals["alpha"], utc(6, 25), utc(6, 26))
    # Bravo, 20k: meeting booked, lost 28 June "  No   Budget ". Then MB, now gone.
    deals["bravo"] = h.create(utc(6, 10), "Bravo", 20 * K)
    h.lose(deals["bravo"], utc(6, 28), "  No   Budget ")
    # Charlie, 30k: created 27 June. Then absent, now MB.
    deals["charlie"] = h.create(utc(6, 27), "Charlie", 30 * K)
    # Delta, 40k: up to proposal received by 7 June, won 29 June. Then PR, now contract signed.
    deals["delta"] = h.create(utc(6, 2), "Delta", 40 * K)
    for day in (5, 6, 7):
        h.advance(deals["delta"], utc(6, day), utc(6, day, 10))
    h.advance(deals["delta"], utc(6, 28), utc(6, 29))
    # Echo, 50k: to needs confirmed on 20 June, moved back 30 June. Then NC, now MB.
    deals["echo"] = h.create(utc(6, 3), "Echo", 50 * K)
    h.advance(deals["echo"], utc(6, 19), utc(6, 20))
    h.back(deals["echo"], utc(6, 30), "meeting-booked", "Buyer's champion left")
    # Foxtrot, 60k: meeting booked all along. MB then and now.
    deals["foxtrot"] = h.create(utc(6, 5), "Foxtrot", 60 * K)
    # Golf, 80k: created at 24 June 00:00 exactly, so not open a week earlier (a stay counts from after its entry).
    deals["golf"] = h.create(utc(6, 24, 0), "Golf", 80 * K)
    # Hotel, 5k: created 25 June, lost 26 June "no budget". Neither then nor now.
    deals["hotel"] = h.create(utc(6, 25), "Hotel", 5 * K)
    h.lose(deals["hotel"], utc(6, 26), "no budget")
    # India, 70k: meeting booked since 1 June, skipped to product evaluated on 25 June. Then MB, now PE.
    deals["india"] = h.create(utc(6, 1, 10), "India", 70 * K)
    h.advance(deals["india"], utc(6, 24, 12), utc(6, 25), to="product-evaluated", links=2)
    # Juliet, 1k: lost 30 June "Chose a competitor". Then MB, now gone.
    deals["juliet"] = h.create(utc(6, 2, 10), "Juliet", 1 * K)
    h.lose(deals["juliet"], utc(6, 30), "Chose a competitor")
    # Kilo, 2k: moved on at 24 June 00:00 exactly: a stay left at that instant was still open then. Then MB, now NC.
    deals["kilo"] = h.create(utc(6, 1, 12), "Kilo", 2 * K)
    h.advance(deals["kilo"], utc(6, 23), utc(6, 24, 0))
    return deals


@pytest.fixture
def weekly(services: Services, clock: Clock) -> Digest:
    tell(services, clock)
    return digest_at(services, AS_OF)


def totals(digest: Digest) -> dict[str, tuple[int, int, int, int]]:
    return {
        total.stage.key: (total.deals, total.value_cents, total.change.deals, total.change.value_cents)
        for total in digest.by_stage
        if total.change is not None
    }


def test_a_week_earlier_is_the_same_local_wall_time_seven_days_before() -> None:
    assert week_earlier(AS_OF, "UTC") == utc(6, 24, 0)
    # New York leaves summer time on 1 November 2026: 9:00 local is 13:00 UTC before, 14:00 UTC after.
    assert week_earlier(utc(11, 5, 14), NEW_YORK) == utc(10, 29, 13)


def test_every_stage_total_has_its_change_since_a_week_earlier(weekly: Digest) -> None:
    # Then (24 June 00:00): MB Alpha 10, Bravo 20, Foxtrot 60, India 70, Juliet 1, Kilo 2; NC Echo 50; PR Delta 40.
    # Now (1 July 00:00): MB Charlie 30, Echo 50, Foxtrot 60, Golf 80; NC Alpha 10, Kilo 2; PE India 70; CS Delta 40.
    assert weekly.week_earlier == utc(6, 24, 0)
    assert totals(weekly) == {
        "meeting-booked": (4, 220 * K, -2, 57 * K),
        "needs-confirmed": (2, 12 * K, 1, -38 * K),
        "product-evaluated": (1, 70 * K, 1, 70 * K),
        "proposal-received": (0, 0, -1, -40 * K),
        "contract-signed": (1, 40 * K, 1, 40 * K),
        "implementation-started": (0, 0, 0, 0),
        "live": (0, 0, 0, 0),
    }
    assert (weekly.pipeline.deals, weekly.pipeline.value_cents) == (7, 302 * K)
    assert weekly.pipeline.change is not None and weekly.pipeline.change.deals == -1
    assert weekly.pipeline.change.value_cents == 302 * K - 253 * K
    assert (weekly.customers.deals, weekly.customers.value_cents) == (1, 40 * K)
    assert [total.stage.key for total in weekly.customers.stages] == [
        "contract-signed",
        "implementation-started",
        "live",
    ]


def test_the_forecasts_change_has_its_reasons_and_they_add_up(services: Services, weekly: Digest) -> None:
    change = weekly.forecast.change
    assert change is not None
    deals = {reason.reason: reason.deals for reason in change.reasons}
    # new: Charlie, Golf; won: Delta; lost: Bravo, Juliet; moved: Alpha, Echo, India, Kilo; time: Foxtrot;
    # rates: the 8 deals open before the win a week earlier.
    assert deals == {"new": 2, "won": 1, "lost": 2, "moved": 4, "time": 1, "rates": 8}
    wins = {reason.reason: reason.expected_wins for reason in change.reasons}
    assert wins["new"] > 0 and wins["won"] < 0 and wins["lost"] < 0
    assert sum(reason.expected_value_cents for reason in change.reasons) == pytest.approx(
        change.expected_value_cents, abs=len(change.reasons)
    )
    # The change is this forecast minus the forecast of a digest ending a week earlier, computed on its own.
    before = digest_at(services, utc(6, 24, 0))
    assert change.expected_wins == pytest.approx(
        weekly.forecast.expected_wins - before.forecast.expected_wins, abs=0.02
    )
    assert change.expected_value_cents == pytest.approx(
        weekly.forecast.expected_value_cents - before.forecast.expected_value_cents, abs=2
    )


def test_moves_are_counted_per_transition_then_the_notable_ones(weekly: Digest) -> None:
    assert [(t.from_stage.key, t.to_stage.key, t.kind, t.moves) for t in weekly.transitions] == [
        ("meeting-booked", "needs-confirmed", "forward", 2),
        ("meeting-booked", "product-evaluated", "skip", 1),
        ("needs-confirmed", "meeting-booked", "back", 1),
        ("proposal-received", "contract-signed", "forward", 1),
    ]
    # The largest forward moves by value (India 70k, Delta 40k, Alpha 10k), the skip (India), the move back (Echo).
    assert [(n.move.deal_name, n.why) for n in weekly.notable_moves] == [
        ("India", ("largest", "skip")),
        ("Delta", ("largest",)),
        ("Alpha", ("largest",)),
        ("Echo", ("back",)),
    ]
    assert not weekly.quiet


def test_lost_deals_are_grouped_by_reason_ignoring_case_and_spaces(weekly: Digest) -> None:
    assert [(r.reason, r.deals, r.value_cents) for r in weekly.lost_reasons.items] == [
        ("no budget", 2, 25 * K),
        ("chose a competitor", 1, 1 * K),
    ]
    assert weekly.lost_reasons.total == 2


def test_text_slack_and_json_show_the_same_week(weekly: Digest) -> None:
    text = digest_text(ENGLISH, weekly)
    assert "Pipeline (open deals before the win): 7 deals (-1), 302,000 (+49,000)" in text
    assert "    Meeting booked: 4 deals (-2), 220,000 (+57,000)" in text
    assert "Customers (the won stage and after): 1 deal (+1), 40,000 (+40,000)" in text
    assert "Meeting booked -> Product evaluated (skip): 1" in text
    assert "deal-9 India (70,000): Meeting booked -> Product evaluated, largest, skipped a stage" in text
    assert "no budget: 2 (25,000)" in text
    assert "Since 2026-06-24 00:00 (UTC): " in text and "new deals +" in text

    posted = json.dumps([block.to_dict() for block in digest_message(ENGLISH, weekly).blocks], ensure_ascii=False)
    assert "*Pipeline (open deals before the win)*: 7 deals (-1) · 302,000 (+49,000)" in posted
    assert "Proposal received: 0 deals (-1) · 0 (-40,000)" in posted
    assert "Needs confirmed → Meeting booked (back): 1" in posted
    assert "_moved back_ · <@U_REP>: Buyer's champion left" in posted
    assert "chose a competitor: 1 · 1,000" in posted

    payload = weekly.to_json()
    assert payload["pipeline"]["deals"] == 7 and payload["pipeline"]["change"] == {"deals": -1, "value_cents": 49 * K}
    assert payload["customers"]["value_cents"] == 40 * K
    assert payload["week_earlier"] == "2026-06-24T00:00:00+00:00"
    assert payload["transitions"][1] == {
        "from_stage": "meeting-booked",
        "to_stage": "product-evaluated",
        "kind": "skip",
        "moves": 1,
    }
    assert payload["notable_moves"][0]["why"] == ["largest", "skip"]
    assert payload["lost_reasons"]["items"][0] == {"reason": "no budget", "deals": 2, "value_cents": 25 * K}
    assert [reason["reason"] for reason in payload["forecast"]["change"]["reasons"]] == [
        "new",
        "won",
        "lost",
        "moved",
        "time",
        "rates",
    ]
    assert payload["quiet"] is False


def test_a_period_in_which_nothing_happened_is_quiet(services: Services, clock: Clock) -> None:
    tell(services, clock)
    quiet = digest_at(services, utc(6, 18, 0))  # 11-17 June: no deal created, moved or lost
    assert quiet.quiet and not quiet.transitions and not quiet.new_deals.total and not quiet.lost_deals.total
    assert quiet.to_json()["quiet"] is True
    assert not digest_at(services, utc(6, 21, 0)).quiet  # Echo moved on 20 June
    assert not digest_at(services, utc(6, 11, 0)).quiet  # Bravo was created on 10 June
