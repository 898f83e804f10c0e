"""Backtest of the digest's forecast on simulated pipelines whose stage probabilities are known.

For each shape (see `bench.simulated_pipeline.SHAPES`) and seed: simulate about 400 days of deals, write
what was known at `as_of` as the import CSV, import it into a fresh database with the real command line
(`python -m commands import FILE --team TSIM`), run `python -m commands digest --team TSIM --as-of DATE --json`,
and compare:
- per stage, the reported win probability (`forecast.stages[].won_rate`) with the true one;
- the forecast's expected wins, and an oracle's (the true win probability of each open deal's stage), with
  the wins the simulation then realises among the deals open at `as_of`.

Targets: over at least 20 seeds the forecast's mean absolute error is at most 1.1 times the oracle's, and
every stage's reported win probability with at least 100 ended spells behind it (`basis`) is within
±15% (relative) of the truth. The exit code is 0 whatever the numbers (it is a measurement); 2 when a
command fails, so nothing could be measured.

    python -m bench.forecast_backtest [--seeds N] [--shapes steady,slow] [--database-url URL] [--json]
    python -m bench.forecast_backtest --oracle-only     # the simulation alone: truth, oracle, realised

A SQLite database in a temporary directory is used by default; `--database-url` names a PostgreSQL (or
SQLite file) database that must not exist yet: it is created and dropped for every seed.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bench.digest_scale import fresh_database
from bench.simulated_pipeline import (
    SHAPES,
    Shape,
    Simulation,
    open_stage_keys,
    shapes_named,
    simulate,
    true_win_probabilities,
    write_csv,
)
from commands.__main__ import main as commands_main
from commands.digest.compute import FORECAST_DAYS

TEAM = "TSIM"
DEFAULT_AS_OF = date(2026, 6, 1)
DEFAULT_HISTORY_DAYS = 400
DEFAULT_SEEDS = 20
MIN_SEEDS = 20
MIN_BASIS = 100
RELATIVE_TOLERANCE = 0.15
MAE_RATIO_TARGET = 1.1


class CommandFailed(Exception):
    """A command of `python -m commands` exited non-zero: the backtest cannot go on."""


@dataclass
class StageReport:
    stage: str
    won_rate: float | None
    basis: int | None
    open_deals: int | None


@dataclass
class SeedRun:
    shape: str
    seed: int
    deals: int
    deals_in_csv: int
    open_deals: int
    open_by_stage: dict[str, int]
    realised_wins: int
    oracle: float
    age_aware_oracle: float
    complete_data: float
    simulate_seconds: float
    forecast: float | None = None
    digest_open_deals: int | None = None
    stages: dict[str, StageReport] = field(default_factory=dict)
    import_seconds: float | None = None
    digest_seconds: float | None = None


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.forecast_backtest", description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=DEFAULT_SEEDS, help=f"seeds per shape (default {DEFAULT_SEEDS})")
    parser.add_argument("--first-seed", type=int, default=1, help="the first seed (default 1)")
    parser.add_argument("--shapes", default=",".join(SHAPES), help=f"comma-separated (default {','.join(SHAPES)})")
    parser.add_argument(
        "--database-url",
        help="a database that does not exist yet, created and dropped for each seed, e.g. "
        "postgresql+psycopg://postgres@127.0.0.1:5432/bench_forecast (default: a temporary SQLite file)",
    )
    parser.add_argument("--as-of", type=date.fromisoformat, default=DEFAULT_AS_OF, help="the digest's date (UTC)")
    parser.add_argument("--history-days", type=int, default=DEFAULT_HISTORY_DAYS, help="days of deals before as-of")
    parser.add_argument("--window", type=int, help="pass --window N to the digest (default: the digest's own)")
    parser.add_argument("--oracle-only", action="store_true", help="simulate only: truth, oracle and realised wins")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    arguments = parser.parse_args(argv)
    if arguments.seeds < 1 or arguments.history_days < 1:
        parser.error("--seeds and --history-days must be at least 1")
    try:
        arguments.shape_list = shapes_named([name.strip() for name in arguments.shapes.split(",") if name.strip()])
    except ValueError as error:
        parser.error(str(error))
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    as_of = datetime(arguments.as_of.year, arguments.as_of.month, arguments.as_of.day, tzinfo=UTC)
    seeds = range(arguments.first_seed, arguments.first_seed + arguments.seeds)
    runs: dict[str, list[SeedRun]] = {}
    try:
        for shape in arguments.shape_list:
            runs[shape.name] = [
                run_seed(
                    shape,
                    seed,
                    as_of=as_of,
                    history_days=arguments.history_days,
                    database_url=arguments.database_url,
                    window=arguments.window,
                    oracle_only=arguments.oracle_only,
                )
                for seed in seeds
            ]
    except CommandFailed as error:
        print(f"python -m bench.forecast_backtest: {error}", file=sys.stderr)
        return 2
    report = build_report(arguments.shape_list, runs, as_of=as_of, arguments=arguments)
    print(json.dumps(report, indent=2) if arguments.json else render(report))
    return 0


# --- one seed ----------------------------------------------------------------------------------


def run_seed(
    shape: Shape,
    seed: int,
    *,
    as_of: datetime,
    history_days: int,
    database_url: str | None,
    window: int | None,
    oracle_only: bool,
) -> SeedRun:
    started = time.perf_counter()
    simulation = simulate(shape, seed, as_of, history_days)
    run = summarise_simulation(simulation, as_of)
    run.simulate_seconds = time.perf_counter() - started
    if oracle_only:
        run.deals_in_csv = sum(deal.created < as_of for deal in simulation.deals)
        _progress(run)
        return run
    with tempfile.TemporaryDirectory(prefix="bench_forecast_") as directory:
        csv_path = Path(directory) / f"{shape.name}-{seed}.csv"
        run.deals_in_csv = write_csv(simulation, csv_path, as_of)
        with fresh_database(database_url, keep=False) as url, _environment(DATABASE_URL=url, PIPELINE_FILE=""):
            started = time.perf_counter()
            _command(["import", str(csv_path), "--team", TEAM, "--channel", "C0SIM001"])
            run.import_seconds = time.perf_counter() - started
            digest_arguments = ["digest", "--team", TEAM, "--as-of", as_of.date().isoformat(), "--json"]
            if window is not None:
                digest_arguments += ["--window", str(window)]
            started = time.perf_counter()
            output = _command(digest_arguments)
            run.digest_seconds = time.perf_counter() - started
            gc.collect()  # the commands' engines are not disposed: close their connections before the drop
    read_digest(run, output)
    _progress(run)
    return run


def summarise_simulation(simulation: Simulation, as_of: datetime) -> SeedRun:
    open_deals = simulation.open_at(as_of)
    by_stage = {key: 0 for key in open_stage_keys()}
    for deal in open_deals:
        by_stage[deal.stage_key] += 1
    return SeedRun(
        shape=simulation.shape.name,
        seed=simulation.seed,
        deals=len(simulation.deals),
        deals_in_csv=0,
        open_deals=len(open_deals),
        open_by_stage=by_stage,
        realised_wins=sum(deal.won for deal in open_deals),
        oracle=simulation.oracle_forecast(as_of),
        age_aware_oracle=simulation.age_aware_oracle_forecast(as_of),
        complete_data=simulation.complete_data_forecast(as_of, FORECAST_DAYS),
        simulate_seconds=0.0,
    )


def read_digest(run: SeedRun, output: str) -> None:
    """Take the forecast from the digest's JSON (the contract: forecast.expected_wins, forecast.stages[])."""
    try:
        forecast = json.loads(output)["forecast"]
        run.forecast = float(forecast["expected_wins"])
        stages = forecast["stages"]
        run.stages = {
            entry["stage"]: StageReport(
                stage=entry["stage"],
                won_rate=None if entry.get("won_rate") is None else float(entry["won_rate"]),
                basis=None if entry.get("basis") is None else int(entry["basis"]),
                open_deals=None if entry.get("open_deals") is None else int(entry["open_deals"]),
            )
            for entry in stages
        }
        open_deals = forecast.get("open_deals")
        run.digest_open_deals = (
            int(open_deals) if open_deals is not None else sum(stage.open_deals or 0 for stage in run.stages.values())
        )
    except (ValueError, KeyError, TypeError) as error:
        raise CommandFailed(f"the digest's JSON does not hold the forecast as expected ({error!r})") from error


def _command(argv: list[str]) -> str:
    """Run `python -m commands ARGV` in this process; its standard output, or CommandFailed."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code: int | str | None = commands_main(argv)
        except SystemExit as stop:  # argparse: an unknown subcommand or option
            code = stop.code
    if code not in (0, None):
        raise CommandFailed(
            f"python -m commands {' '.join(argv)} exited {code}: {err.getvalue().strip() or out.getvalue().strip()}"
        )
    return out.getvalue()


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _progress(run: SeedRun) -> None:
    timing = f"simulate {run.simulate_seconds:.2f}s"
    if run.import_seconds is not None and run.digest_seconds is not None:
        timing += f", import {run.import_seconds:.2f}s, digest {run.digest_seconds:.2f}s"
    forecast = "" if run.forecast is None else f", forecast {run.forecast:.1f}"
    print(
        f"{run.shape} seed {run.seed}: {run.deals_in_csv} deals, {run.open_deals} open, "
        f"realised {run.realised_wins}, oracle {run.oracle:.1f}{forecast} ({timing})",
        file=sys.stderr,
        flush=True,
    )


# --- the report --------------------------------------------------------------------------------


def build_report(
    shapes: Sequence[Shape], runs: dict[str, list[SeedRun]], *, as_of: datetime, arguments: argparse.Namespace
) -> dict[str, Any]:
    report: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "history_days": arguments.history_days,
        "seeds": arguments.seeds,
        "first_seed": arguments.first_seed,
        "oracle_only": arguments.oracle_only,
        "targets": {
            "mae_ratio_at_most": MAE_RATIO_TARGET,
            "relative_tolerance": RELATIVE_TOLERANCE,
            "min_basis": MIN_BASIS,
            "min_seeds": MIN_SEEDS,
        },
        "shapes": {},
    }
    for shape in shapes:
        report["shapes"][shape.name] = shape_report(shape, runs[shape.name], oracle_only=arguments.oracle_only)
    verdicts = [
        verdict
        for shape_result in report["shapes"].values()
        for verdict in shape_result["verdicts"].values()
        if verdict is not None
    ]
    report["all_targets_met"] = None if arguments.oracle_only else all(verdicts)
    return report


def shape_report(shape: Shape, runs: list[SeedRun], *, oracle_only: bool) -> dict[str, Any]:
    truth = true_win_probabilities(shape)
    stages = []
    per_report_checked = per_report_outside = 0
    mean_within: list[bool] = []
    for key, true_rate in truth.items():
        row: dict[str, Any] = {
            "stage": key,
            "true_won_rate": true_rate,
            "mean_open_deals": statistics.fmean(run.open_by_stage[key] for run in runs),
        }
        if not oracle_only:
            reports = [run.stages.get(key) for run in runs]
            rates = [entry.won_rate for entry in reports if entry is not None and entry.won_rate is not None]
            bases = [entry.basis for entry in reports if entry is not None and entry.basis is not None]
            errors = [rate / true_rate - 1 for rate in rates]
            checked = [
                entry.won_rate / true_rate - 1
                for entry in reports
                if entry is not None and entry.won_rate is not None and (entry.basis or 0) >= MIN_BASIS
            ]
            outside = sum(abs(error) > RELATIVE_TOLERANCE for error in checked)
            per_report_checked += len(checked)
            per_report_outside += outside
            mean_rate = statistics.fmean(rates) if rates else None
            mean_basis = statistics.fmean(bases) if bases else None
            bias = None if mean_rate is None else mean_rate / true_rate - 1
            if bias is not None and mean_basis is not None and mean_basis >= MIN_BASIS:
                mean_within.append(abs(bias) <= RELATIVE_TOLERANCE)
            row.update(
                mean_reported=mean_rate,
                reported_seeds=len(rates),
                bias=bias,
                mean_abs_relative_error=statistics.fmean(abs(error) for error in errors) if errors else None,
                max_abs_relative_error=max((abs(error) for error in errors), default=None),
                mean_basis=mean_basis,
                min_basis=min(bases, default=None),
                seeds_with_enough_basis=len(checked),
                seeds_outside_tolerance=outside,
            )
        stages.append(row)
    realised = [run.realised_wins for run in runs]
    oracle_mae = statistics.fmean(abs(run.oracle - run.realised_wins) for run in runs)
    result: dict[str, Any] = {
        "parameters": asdict(shape),
        "seeds": len(runs),
        "mean_deals": statistics.fmean(run.deals_in_csv for run in runs),
        "mean_open_deals": statistics.fmean(run.open_deals for run in runs),
        "mean_realised_wins": statistics.fmean(realised),
        "mean_oracle": statistics.fmean(run.oracle for run in runs),
        "mean_age_aware_oracle": statistics.fmean(run.age_aware_oracle for run in runs),
        "oracle_mae": oracle_mae,
        "age_aware_oracle_mae": statistics.fmean(abs(run.age_aware_oracle - run.realised_wins) for run in runs),
        "complete_data_mae": statistics.fmean(abs(run.complete_data - run.realised_wins) for run in runs),
        "stages": stages,
        "seconds_per_seed": statistics.fmean(
            run.simulate_seconds + (run.import_seconds or 0.0) + (run.digest_seconds or 0.0) for run in runs
        ),
        "verdicts": {"mae_ratio": None, "every_report_within_tolerance": None, "mean_within_tolerance": None},
        "runs": [asdict(run) for run in runs],
    }
    if oracle_only:
        return result
    forecasts = [run.forecast if run.forecast is not None else 0.0 for run in runs]
    forecast_mae = statistics.fmean(abs(f - run.realised_wins) for f, run in zip(forecasts, runs, strict=True))
    ratio = forecast_mae / oracle_mae if oracle_mae else None
    mismatched = [run.seed for run in runs if run.digest_open_deals != run.open_deals]
    result.update(
        mean_forecast=statistics.fmean(forecasts),
        forecast_mae=forecast_mae,
        mae_ratio=ratio,
        seeds_where_open_deals_differ=mismatched,
        reports_checked=per_report_checked,
        reports_outside_tolerance=per_report_outside,
    )
    result["verdicts"] = {
        "mae_ratio": ratio is not None and ratio <= MAE_RATIO_TARGET and len(runs) >= MIN_SEEDS,
        "every_report_within_tolerance": per_report_outside == 0,
        "mean_within_tolerance": all(mean_within),
    }
    return result


def render(report: dict[str, Any]) -> str:
    lines = [
        f"Forecast backtest: as of {report['as_of']}, {report['history_days']} days of history, "
        f"{report['seeds']} seeds per shape (from {report['first_seed']})"
        + (", simulation only" if report["oracle_only"] else ""),
    ]
    for name, shape in report["shapes"].items():
        lines += ["", *_render_shape(name, shape, oracle_only=report["oracle_only"])]
    if not report["oracle_only"]:
        lines += ["", "ALL TARGETS MET" if report["all_targets_met"] else "SOME TARGETS MISSED"]
    return "\n".join(lines)


def _render_shape(name: str, shape: dict[str, Any], *, oracle_only: bool) -> list[str]:
    parameters = shape["parameters"]
    lines = [
        f"== {name}: {parameters['description']}",
        f"   {parameters['arrivals_per_day']:g} deals/day, forward {_numbers(parameters['forward'])}, "
        f"stays {_numbers(parameters['stay_days'])} days"
        + (f" (lost: {_numbers(parameters['lost_stay_days'])})" if parameters["lost_stay_days"] else "")
        + f", skip {parameters['skip']:g}; {shape['seeds']} seeds, {shape['mean_deals']:.0f} deals and "
        f"{shape['mean_open_deals']:.0f} open on average, {shape['seconds_per_seed']:.2f} s per seed",
    ]
    if oracle_only:
        lines.append(f"   {'stage':<20}{'true':>8}{'open':>8}")
        for row in shape["stages"]:
            lines.append(f"   {row['stage']:<20}{row['true_won_rate']:>8.4f}{row['mean_open_deals']:>8.1f}")
    else:
        lines.append(
            f"   {'stage':<20}{'true':>8}{'reported':>10}{'bias':>8}{'mean|err|':>11}{'basis':>8}{'open':>7}"
            f"   within ±{RELATIVE_TOLERANCE:.0%} (seeds with basis ≥ {MIN_BASIS})"
        )
        for row in shape["stages"]:
            enough = row["seeds_with_enough_basis"]
            within = f"{enough - row['seeds_outside_tolerance']}/{enough}" if enough else "-"
            lines.append(
                f"   {row['stage']:<20}{row['true_won_rate']:>8.4f}{_number(row['mean_reported'], '.4f'):>10}"
                f"{_number(row['bias'], '+.1%'):>8}{_number(row['mean_abs_relative_error'], '.1%'):>11}"
                f"{_number(row['mean_basis'], '.0f'):>8}{row['mean_open_deals']:>7.1f}   {within}"
            )
    lines.append(
        f"   wins among the open deals: realised {shape['mean_realised_wins']:.1f} on average, "
        f"oracle {shape['mean_oracle']:.1f}, age-aware oracle {shape['mean_age_aware_oracle']:.1f}"
        + ("" if oracle_only else f", forecast {shape['mean_forecast']:.1f}")
    )
    lines.append(
        f"   MAE: oracle {shape['oracle_mae']:.2f}, age-aware oracle {shape['age_aware_oracle_mae']:.2f}, "
        f"complete-data estimate {shape['complete_data_mae']:.2f} "
        f"({shape['complete_data_mae'] / shape['oracle_mae']:.3f}x the oracle)"
        + ("" if oracle_only else f", forecast {shape['forecast_mae']:.2f}")
    )
    if oracle_only:
        return lines
    verdicts = shape["verdicts"]
    ratio = shape["mae_ratio"]
    few = f" (only {shape['seeds']} seeds; the target needs {MIN_SEEDS})" if shape["seeds"] < MIN_SEEDS else ""
    lines += [
        f"   {_pass(verdicts['mae_ratio'])} forecast MAE / oracle MAE = {_number(ratio, '.3f')} "
        f"(target ≤ {MAE_RATIO_TARGET}){few}",
        f"   {_pass(verdicts['every_report_within_tolerance'])} every reported win probability with basis ≥ "
        f"{MIN_BASIS} within ±{RELATIVE_TOLERANCE:.0%} of the truth: {shape['reports_outside_tolerance']} of "
        f"{shape['reports_checked']} outside",
        f"   {_pass(verdicts['mean_within_tolerance'])} mean reported win probability within "
        f"±{RELATIVE_TOLERANCE:.0%} for the stages whose mean basis ≥ {MIN_BASIS}",
    ]
    if shape["seeds_where_open_deals_differ"]:
        lines.append(
            f"   WARNING: the digest's open deals differ from the simulation's in seeds "
            f"{', '.join(map(str, shape['seeds_where_open_deals_differ']))}"
        )
    return lines


def _pass(verdict: bool | None) -> str:
    return "PASS" if verdict else "FAIL"


def _number(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _numbers(values: Sequence[float]) -> str:
    return "/".join(f"{value:g}" for value in values)


if __name__ == "__main__":
    sys.exit(main())
