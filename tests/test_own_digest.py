"""Your own digest: the digest narrowed to one owner's deals, with the team's rates, through the computation,
`/pipeline digest mine`, and `salesbot digest --owner`."""

import json

import pytest

from commands.__main__ import main
from commands.deals.deal import NewDeal, create_deal
from commands.deals.evidence import Evidence
from commands.deals.moves import Advance, decide_move, request_move
from commands.deals.results import MoveRequested
from commands.digest.compute import compute_digest, period_ending
from commands.digest.own import own_summary
from commands.digest.report import Digest, Total
from commands.i18n.translator import ENGLISH
from commands.services import Actor, Services
from tests.conftest import MANAGER, OTHER_REP, REP, Clock, RunningBot
from tests.test_digest_numbers import History, utc
from tests.test_home import open_home, texts

TEAM = "T1"
CHANNEL = "C_SALES"


def two_reps(services: Services, clock: Clock) -> None:
    """REP: Alpha 1,000 (Meeting booked), Bravo 2,000 (moved to Needs confirmed), Charlie 500 (lost, "no budget").
    OTHER_REP: Delta 4,000 (moved to Needs confirmed, then Product evaluated), Echo 8,000 (Meeting booked).
    Everything happens between Nov 24 and Nov 27, in the week before Dec 1."""
    story = History(services, clock, TEAM)
    story.create(utc(11, 24), "Alpha", 1_000_00, owner=REP)
    bravo = story.create(utc(11, 24, 10), "Bravo", 2_000_00, owner=REP)
    story.advance(bravo, utc(11, 25), utc(11, 25, 10))
    charlie = story.create(utc(11, 25, 11), "Charlie", 500_00, owner=REP)
    story.lose(charlie, utc(11, 26), "no budget")
    delta = story.create(utc(11, 24, 11), "Delta", 4_000_00, owner=OTHER_REP)
    story.advance(delta, utc(11, 25, 12), utc(11, 25, 13), by=OTHER_REP)
    story.advance(delta, utc(11, 26, 12), utc(11, 26, 13), by=OTHER_REP)
    story.create(utc(11, 27), "Echo", 8_000_00, owner=OTHER_REP)
    clock.now = utc(12, 1)


def digest_of(services: Services, owner: str | None) -> Digest:
    return compute_digest(services, team_id=TEAM, period=period_ending(utc(12, 1)), owner_id=owner)


def open_by_stage(digest: Digest) -> dict[str, tuple[int, int]]:
    return {total.stage.key: (total.deals, total.value_cents) for total in digest.by_stage if total.deals}


def test_each_reps_numbers_are_their_deals_alone(services: Services, clock: Clock) -> None:
    two_reps(services, clock)
    mine, theirs, team = digest_of(services, REP), digest_of(services, OTHER_REP), digest_of(services, None)
    assert (mine.owner_id, theirs.owner_id, team.owner_id) == (REP, OTHER_REP, None)

    assert open_by_stage(mine) == {"meeting-booked": (1, 1_000_00), "needs-confirmed": (1, 2_000_00)}
    assert open_by_stage(theirs) == {"meeting-booked": (1, 8_000_00), "product-evaluated": (1, 4_000_00)}
    assert (mine.pipeline.deals, mine.pipeline.value_cents) == (2, 3_000_00)
    assert mine.pipeline.change is not None and (mine.pipeline.change.deals, mine.pipeline.change.value_cents) == (
        2,
        3_000_00,
    )
    assert (team.pipeline.deals, team.pipeline.value_cents) == (4, 15_000_00)

    assert [(t.from_stage.key, t.to_stage.key, t.moves) for t in mine.transitions] == [
        ("meeting-booked", "needs-confirmed", 1)
    ]
    assert sorted((t.from_stage.key, t.to_stage.key, t.moves) for t in theirs.transitions) == [
        ("meeting-booked", "needs-confirmed", 1),
        ("needs-confirmed", "product-evaluated", 1),
    ]
    assert [m.move.deal_name for m in mine.notable_moves] == ["Bravo"]
    assert [m.deal_name for m in mine.approved.items] == ["Bravo"] and mine.approved.total == 1
    assert theirs.approved.total == 2
    assert [d.deal_name for d in mine.new_deals.items] == ["Alpha", "Bravo", "Charlie"]
    assert [d.deal_name for d in theirs.new_deals.items] == ["Delta", "Echo"]
    assert (mine.lost_in_period.deals, mine.lost_in_period.value_cents) == (1, 500_00)
    assert [(r.reason, r.deals) for r in mine.lost_reasons.items] == [("no budget", 1)]
    assert (theirs.lost_in_period.deals, theirs.lost_deals.total, theirs.lost_reasons.total) == (0, 0, 0)
    assert mine.forecast.open_deals == 2 and theirs.forecast.open_deals == 2


def test_rates_stay_the_teams_and_the_forecasts_add_up_to_the_teams(services: Services, clock: Clock) -> None:
    two_reps(services, clock)
    mine, theirs, team = digest_of(services, REP), digest_of(services, OTHER_REP), digest_of(services, None)
    assert mine.conversion == team.conversion == theirs.conversion
    assert [s.won_rate for s in mine.forecast.stages] == [s.won_rate for s in team.forecast.stages]
    assert mine.forecast.basis == team.forecast.basis
    parts = mine.forecast.expected_value_cents + theirs.forecast.expected_value_cents
    assert abs(parts - team.forecast.expected_value_cents) <= 1
    assert mine.forecast.expected_value_cents != theirs.forecast.expected_value_cents
    week = own_summary(services, team_id=TEAM, owner_id=REP, at=utc(12, 1))
    assert (week.pipeline.deals, week.pipeline.value_cents, week.change.deals, week.moved) == (2, 3_000_00, 2, 1)
    assert (week.expected_wins, week.expected_value_cents) == (
        mine.forecast.expected_wins,
        mine.forecast.expected_value_cents,
    )
    later = own_summary(services, team_id=TEAM, owner_id=REP, at=utc(12, 5))
    assert (later.pipeline_then, later.change, later.moved) == (Total(2, 3_000_00), Total(0, 0), 0)
    # Nothing was open a week earlier, so each forecast's change is all of it: that rep's new deals.
    for digest in (mine, theirs):
        assert digest.forecast.change is not None
        assert digest.forecast.change.expected_value_cents == digest.forecast.expected_value_cents


def test_cli_owner_narrows_the_json_and_the_text(
    services: Services,
    clock: Clock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: object,
    capfd: pytest.CaptureFixture[str],
) -> None:
    two_reps(services, clock)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("PIPELINE_FILE", raising=False)
    monkeypatch.chdir(str(tmp_path))
    assert main(["digest", "--owner", REP, "--as-of", "2026-12-01", "--json"]) == 0
    printed = json.loads(capfd.readouterr().out)
    assert printed["owner_id"] == REP
    assert (printed["pipeline"]["deals"], printed["pipeline"]["value_cents"]) == (2, 3_000_00)
    assert printed["lost_in_period"] == {"deals": 1, "value_cents": 500_00}
    assert main(["digest", "--as-of", "2026-12-01", "--json"]) == 0
    assert json.loads(capfd.readouterr().out)["owner_id"] is None
    assert main(["digest", "--owner", OTHER_REP, "--as-of", "2026-12-01"]) == 0
    text = capfd.readouterr().out
    assert text.startswith(f"Pipeline digest of {OTHER_REP}'s deals")
    assert "Pipeline (open deals before the win): 2 deals (+2), 12,000 (+12,000)" in text


def test_pipeline_digest_mine_answers_the_asker_alone(bot: RunningBot) -> None:
    for owner, name, value in ((REP, "Alpha", 1_000_00), (OTHER_REP, "Echo", 8_000_00), (REP, "Bravo", 2_000_00)):
        create_deal(bot.services, Actor(TEAM, owner), channel_id=CHANNEL, command=NewDeal(name, value, None, ()))
    url = bot.slack.response_url("pipeline")
    reply = bot.command("/pipeline", "digest mine", user=REP, channel_id=CHANNEL, response_url=url).json()
    assert reply["response_type"] == "ephemeral" and "your own deals" in reply["text"]
    answer = bot.slack.wait_for(lambda: [response for response in bot.slack.responses if response["url"] == url][1:])[0]
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert answer["text"].startswith(f"Pipeline digest of <@{REP}>'s deals")
    shown = json.dumps(answer["blocks"], ensure_ascii=False)
    assert "Your pipeline digest" in shown and "conversion rates and the forecast's chances are the team's" in shown
    assert "*Pipeline (open deals before the win)*: 2 deals (+2) · 3,000 (+3,000)" in shown
    assert "Echo" not in shown and "Alpha" in shown and "Bravo" in shown
    bot.settle()
    assert not [m for m in bot.slack.messages if m["text"].startswith("Pipeline digest")]
    assert bot.slack.files == []


def test_pipeline_digest_with_another_word_is_refused(bot: RunningBot) -> None:
    reply = bot.command("/pipeline", "digest everyone").json()["text"]
    assert "Unexpected 'everyone' after /pipeline digest" in reply and "/pipeline digest mine" in reply
    bot.settle()
    assert len(bot.slack.responses) == 1 and bot.slack.messages == []


def test_the_home_tab_shows_the_readers_own_week(bot: RunningBot) -> None:
    rep, other = Actor(TEAM, REP), Actor(TEAM, OTHER_REP)
    create_deal(bot.services, rep, channel_id=CHANNEL, command=NewDeal("Alpha", 1_000_00, None, ()))
    bravo = create_deal(bot.services, rep, channel_id=CHANNEL, command=NewDeal("Bravo", 2_000_00, None, ()))
    create_deal(bot.services, other, channel_id=CHANNEL, command=NewDeal("Echo", 8_000_00, None, ()))
    move = request_move(bot.services, rep, Advance(bravo.number, (Evidence("https://mail.example.com/b"),), None, None))
    assert isinstance(move, MoveRequested)
    decide_move(bot.services, Actor(TEAM, MANAGER), move_id=move.move.id, approve=True)

    mine = texts(open_home(bot, REP))
    assert "*Your week* (your deals; the forecast uses the team's rates" in mine
    assert "Open pipeline: 2 deals · 3,000 (+2 · +3,000 since a week ago)" in mine
    assert "Moved this week: 1 · won: 0 (0)" in mine
    expected = own_summary(bot.services, team_id=TEAM, owner_id=REP, at=bot.services.clock())
    assert (
        f"Expected: about {expected.expected_wins:.1f} wins · {ENGLISH.money(expected.expected_value_cents, None)}"
        in mine
    )
    assert mine.index("*Your week*") < mine.index("*Your open deals by stage*")

    theirs = texts(open_home(bot, OTHER_REP))
    assert "Open pipeline: 1 deal · 8,000 (+1 · +8,000 since a week ago)" in theirs
    assert "Moved this week: 0 · won: 0 (0)" in theirs
