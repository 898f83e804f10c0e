"""The forecast backtest's simulated pipelines: the truth is right, the CSV only knows the past, runs repeat."""

import csv
import json
import math
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench import forecast_backtest
from bench.simulated_pipeline import (
    SHAPES,
    Shape,
    Simulation,
    age_aware_win_probability,
    csv_header,
    open_stage_keys,
    simulate,
    stage_keys,
    true_win_probabilities,
    true_win_probability,
    won_position,
    write_csv,
)

AS_OF = datetime(2026, 6, 1, tzinfo=UTC)
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def test_stages_come_from_the_default_pipeline() -> None:
    assert stage_keys()[won_position()] == "contract-signed"
    assert open_stage_keys() == ("meeting-booked", "needs-confirmed", "product-evaluated", "proposal-received")
    assert stage_keys()[won_position() + 1 :] == ("implementation-started", "live")


def test_the_truth_is_the_product_of_forward_rates_without_skips() -> None:
    shape = replace(SHAPES["steady"], skip=0.0)
    forward = shape.forward
    truth = true_win_probabilities(shape)
    assert truth["proposal-received"] == pytest.approx(forward[3])
    assert truth["meeting-booked"] == pytest.approx(math.prod(forward))
    assert true_win_probability(shape, "contract-signed") == 1.0


def test_a_skip_from_two_stages_before_won_lands_on_won() -> None:
    shape = SHAPES["skips"]
    p, s = shape.forward, shape.skip
    # From product-evaluated a skip reaches contract-signed directly; from proposal-received none is possible.
    assert true_win_probability(shape, "product-evaluated") == pytest.approx(p[2] * ((1 - s) * p[3] + s))
    assert true_win_probability(shape, "proposal-received") == pytest.approx(p[3])


@pytest.mark.parametrize("name", list(SHAPES))
def test_the_analytic_truth_matches_the_simulated_share_of_stays_won(name: str) -> None:
    shape = SHAPES[name]
    history_days = round(12_000 / shape.arrivals_per_day)
    simulation = simulate(shape, seed=7, as_of=AS_OF, history_days=history_days)
    truth = true_win_probabilities(shape)
    for key, (stays, wins) in simulation.stays().items():
        assert stays >= 400, (key, stays)
        standard_error = math.sqrt(truth[key] * (1 - truth[key]) / stays)
        assert abs(wins / stays - truth[key]) < 4 * standard_error, (name, key, wins / stays, truth[key])


def test_the_age_aware_truth_equals_the_plain_one_unless_losses_linger() -> None:
    steady, lingering = SHAPES["steady"], SHAPES["lingering-losses"]
    month = 30 * 86_400.0
    for key in open_stage_keys():
        assert age_aware_win_probability(steady, key, month) == pytest.approx(true_win_probability(steady, key))
        assert age_aware_win_probability(lingering, key, 0.0) == pytest.approx(true_win_probability(lingering, key))
        assert age_aware_win_probability(lingering, key, month) < true_win_probability(lingering, key)


def test_the_csv_holds_nothing_after_as_of(tmp_path: Path) -> None:
    simulation = simulate(SHAPES["skips"], seed=3, as_of=AS_OF, history_days=400)
    cut = AS_OF - timedelta(days=100, hours=5)
    path = tmp_path / "deals.csv"
    written = write_csv(simulation, path, cut)
    header, rows = read_rows(path)
    assert header == csv_header()
    assert header[:9] == ["id", "name", "company", "value", "owner", "channel", "created", "lost", "lost_reason"]
    assert header[9:] == [f"entered {key}" for key in stage_keys()]
    assert written == len(rows) == sum(deal.created < cut for deal in simulation.deals)
    assert len({row["id"] for row in rows}) == len(rows)
    later_in_simulation = sum(
        any(at >= cut for _, at in deal.entries) or (deal.lost_at is not None and deal.lost_at >= cut)
        for deal in simulation.deals
        if deal.created < cut
    )
    assert later_in_simulation > 0  # the cut does hide something
    skipped = 0
    for row in rows:
        times = [row["created"], row["lost"], *(row[f"entered {key}"] for key in stage_keys())]
        assert all(ISO.fullmatch(value) for value in times if value), row
        assert all(datetime.fromisoformat(value) < cut for value in times if value), row
        assert row["entered meeting-booked"] == row["created"]
        entered = [datetime.fromisoformat(row[f"entered {key}"]) for key in stage_keys() if row[f"entered {key}"]]
        assert entered == sorted(entered) and len(set(entered)) == len(entered)
        if row["lost"]:
            assert row["lost_reason"] and datetime.fromisoformat(row["lost"]) > entered[-1]
            assert not row[f"entered {stage_keys()[won_position()]}"]
        else:
            assert not row["lost_reason"]
        positions = [p for p, key in enumerate(stage_keys()) if row[f"entered {key}"]]
        assert positions[0] == 0 and all(1 <= b - a <= 2 for a, b in zip(positions, positions[1:], strict=False))
        skipped += positions[-1] + 1 - len(positions)
        assert re.fullmatch(r"\d+(\.\d\d)?", row["value"]) and 1_000 <= float(row["value"]) <= 100_000
        assert re.fullmatch(r"U0SIM\d{3}", row["owner"])
        assert row["channel"] == "" or re.fullmatch(r"C0SIM\d{3}", row["channel"])
        assert row["name"] and row["company"] and row["id"].startswith("SIM-")
    assert skipped > 0


def test_skips_never_pass_the_won_stage() -> None:
    simulation = simulate(SHAPES["skips"], seed=5, as_of=AS_OF, history_days=400)
    won = won_position()
    jumps = 0
    for deal in simulation.deals:
        positions = [stage_keys().index(key) for key, _ in deal.entries]
        steps = [after - before for before, after in zip(positions, positions[1:], strict=False)]
        assert all(step in (1, 2) for step in steps)
        assert all(before >= won or after <= won for before, after in zip(positions, positions[1:], strict=False))
        assert all(step == 1 for before, step in zip(positions, steps, strict=False) if before >= won - 1)
        jumps += steps.count(2)
    assert jumps > 0


def open_deals_from_csv(path: Path) -> dict[str, str]:
    """Deal id → stage, for the deals the CSV shows open: not lost, not at or past the won stage."""
    _, rows = read_rows(path)
    found = {}
    for row in rows:
        entered = [key for key in stage_keys() if row[f"entered {key}"]]
        if not row["lost"] and stage_keys().index(entered[-1]) < won_position():
            found[row["id"]] = entered[-1]
    return found


def test_realised_wins_are_counted_among_the_deals_open_at_as_of(tmp_path: Path) -> None:
    simulation = simulate(SHAPES["steady"], seed=11, as_of=AS_OF, history_days=400)
    open_deals = simulation.open_at(AS_OF)
    path = tmp_path / "deals.csv"
    write_csv(simulation, path, AS_OF)
    assert {deal.deal_id: deal.stage_key for deal in open_deals} == open_deals_from_csv(path)
    deals = {deal.deal_id: deal for deal in simulation.deals}
    realised = 0
    for open_deal in open_deals:
        deal = deals[open_deal.deal_id]
        assert open_deal.stage_key in open_stage_keys()
        won_at = deal.won_at
        assert open_deal.won == (won_at is not None)
        if won_at is not None:
            assert won_at >= AS_OF
            realised += 1
        else:
            assert deal.lost_at is not None and deal.lost_at >= AS_OF
    assert 0 < realised == simulation.realised_wins(AS_OF) < len(open_deals)
    truth = true_win_probabilities(simulation.shape)
    assert simulation.oracle_forecast(AS_OF) == pytest.approx(sum(truth[deal.stage_key] for deal in open_deals))
    # Every deal ran to its end: won and on to live, or lost.
    assert all((deal.lost_at is None) == (deal.entries[-1][0] == "live") for deal in simulation.deals)


def pooled(shape: Shape, seeds: range) -> tuple[int, float, float, float]:
    """Realised wins, the oracle, the age-aware oracle and the variance of the realised count, over seeds."""
    realised, oracle, aware, variance = 0, 0.0, 0.0, 0.0
    for seed in seeds:
        simulation = simulate(shape, seed, AS_OF, 400)
        realised += simulation.realised_wins(AS_OF)
        oracle += simulation.oracle_forecast(AS_OF)
        aware += simulation.age_aware_oracle_forecast(AS_OF)
        for deal in simulation.open_at(AS_OF):
            p = age_aware_win_probability(shape, deal.stage_key, (AS_OF - deal.entered_at).total_seconds())
            variance += p * (1 - p)
    return realised, oracle, aware, variance


def test_the_oracles_predict_what_the_simulation_realises() -> None:
    realised, oracle, aware, variance = pooled(SHAPES["steady"], range(1, 11))
    assert abs(realised - oracle) < 4 * math.sqrt(variance)
    assert aware == pytest.approx(oracle)
    # When lost deals linger, open deals are mostly the ones that will be lost: only the age-aware oracle knows.
    realised, oracle, aware, variance = pooled(SHAPES["lingering-losses"], range(1, 11))
    assert abs(realised - aware) < 4 * math.sqrt(variance)
    assert oracle - realised > 4 * math.sqrt(variance)


def test_a_seed_repeats_its_history_and_another_seed_does_not(tmp_path: Path) -> None:
    shape = SHAPES["lingering-losses"]
    first, again, other = (simulate(shape, seed, AS_OF, 200) for seed in (4, 4, 5))
    assert first == again and first.deals != other.deals
    write_csv(first, tmp_path / "first.csv", AS_OF)
    write_csv(again, tmp_path / "again.csv", AS_OF)
    assert (tmp_path / "first.csv").read_bytes() == (tmp_path / "again.csv").read_bytes()


def test_the_slow_shapes_take_longer_than_the_window() -> None:
    won_key = stage_keys()[won_position()]
    slow = simulate(SHAPES["slow"], seed=1, as_of=AS_OF, history_days=400)
    to_close = [(deal.won_at - deal.created).days for deal in slow.deals if deal.won_at is not None]
    assert sum(to_close) / len(to_close) > 90  # from first meeting to signature
    glacial = simulate(SHAPES["glacial"], seed=1, as_of=AS_OF, history_days=400)
    stays = [
        (after - before).days
        for deal in glacial.deals
        for (key, before), (_, after) in zip(deal.entries, deal.entries[1:], strict=False)
        if stage_keys().index(key) < stage_keys().index(won_key)
    ]
    assert sum(stays) / len(stays) > 90  # every stay
    assert glacial.history_days == 1100  # it brings three years of history
    assert 1_500 < len(slow.deals) < 2_500


def test_the_report_passes_a_forecast_that_knows_the_truth() -> None:
    """The driver's arithmetic, with a stand-in digest that reports the truth and the oracle's sum."""
    shape = SHAPES["steady"]
    truth = true_win_probabilities(shape)
    runs = []
    for seed in range(1, 21):
        run = forecast_backtest.summarise_simulation(simulate(shape, seed, AS_OF, 400), AS_OF)
        stages = [
            {"stage": key, "won_rate": rate, "basis": 150, "open_deals": run.open_by_stage[key]}
            for key, rate in truth.items()
        ]
        digest = {"forecast": {"expected_wins": run.oracle, "open_deals": run.open_deals, "stages": stages}}
        forecast_backtest.read_digest(run, json.dumps(digest))
        runs.append(run)
    arguments = forecast_backtest.parse_arguments(["--shapes", "steady"])
    report = forecast_backtest.build_report([shape], {"steady": runs}, as_of=AS_OF, arguments=arguments)
    result = report["shapes"]["steady"]
    assert result["mae_ratio"] == pytest.approx(1.0)
    assert result["verdicts"] == {
        "mae_ratio": True,
        "every_report_within_tolerance": True,
        "mean_within_tolerance": True,
    }
    assert report["all_targets_met"] is True
    assert not result["seeds_where_open_deals_differ"]
    text = forecast_backtest.render(report)
    assert "FAIL" not in text and text.count("PASS") == 3


def test_oracle_only_runs_without_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert forecast_backtest.main(["--oracle-only", "--seeds", "2", "--shapes", "slow,skips", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["shapes"]) == {"slow", "skips"}
    assert report["shapes"]["skips"]["stages"][0]["true_won_rate"] == pytest.approx(
        true_win_probability(SHAPES["skips"], "meeting-booked")
    )


def test_a_simulation_needs_an_aware_as_of() -> None:
    with pytest.raises(ValueError):
        simulate(SHAPES["steady"], 1, datetime(2026, 6, 1), 10)
    assert isinstance(simulate(SHAPES["steady"], 1, AS_OF, 1), Simulation)
