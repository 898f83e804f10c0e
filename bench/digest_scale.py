"""Does the pipeline digest stay flat in memory as the history grows, and how long does it take?

Loads a realistic event history for a large workspace (100,000 deals / 1,000,000 events by default)
and a small one (1,000 / 10,000) into a fresh database, with the stage spells derived from the same
events, then measures `compute_digest` on each in a fresh interpreter: wall time (best of 3, or of
fewer once the runs add up to a minute), the peak of Python allocations during one call (tracemalloc),
and the growth of the process's peak RSS as a cross-check; and, on the same data in the same process,
the floor: one plain SQL statement per number family the digest computes. With `--old-history-days`
it also measures a workspace with the same recent stories and a longer, older history.

Run from the repository root (see bench/README.md):

    python -m bench.digest_scale [--database-url URL] [--deals N] [--events-per-deal N] [--seed N]
                                 [--old-history-days N] [--per-query] [--json]

The database must not exist yet: a SQLite file is created (default: in a temporary directory), a
PostgreSQL database is created through the server's `postgres` database; both are removed at the
end unless `--keep` is given.
"""

import argparse
import hashlib
import inspect
import json
import multiprocessing
import os
import random
import re
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, create_engine, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, col
from sqlmodel.sql.sqltypes import UTCDateTime

from commands.digest import compute as digest_module
from commands.digest.compute import (
    DEFAULT_WINDOW_DAYS,
    FORECAST_DAYS,
    LIST_LIMIT,
    PENDING_AFTER,
    compute_digest,
    period_ending,
)
from commands.digest.report import Digest, Period
from commands.pipeline.loading import default_pipeline
from commands.pipeline.stages import Pipeline
from commands.services import Services
from storage import report_queries, spell_queries, spells
from storage.db import READ_ONLY, make_engine, make_session_factory
from storage.migrate import upgrade_to_head
from storage.models import Deal, DealEvent, DealSequence, MoveRequest, StageSpell
from storage.spell_queries import HOURLY_UNTIL_SECONDS
from storage.spells import STAGE_CHANGES, Change, derive

LARGE_TEAM = "TBENCHLARGE"
SMALL_TEAM = "TBENCHSMALL"
WARM_UP_TEAM = "TBENCHWARMUP"
LONG_TEAM = "TBENCHLONG"
LABELS = {SMALL_TEAM: "small", LARGE_TEAM: "large", LONG_TEAM: "long"}
SMALL_DEALS = 1_000
WARM_UP_DEALS = 50
HISTORY_DAYS = 365
BATCH_ROWS = 10_000
TIMED_RUNS = 3
SLOW_SECONDS = 60.0
DEFAULT_TIMEOUT_SECONDS = 900
PROTECTED_DATABASES = frozenset({"test", "postgres", "template0", "template1"})

OWNERS = tuple(f"UREP{n:04d}" for n in range(1, 41))
MANAGERS = tuple(f"UMGR{n:04d}" for n in range(1, 6))
CHANNELS = tuple(f"CSALES{n:04d}" for n in range(1, 5))
COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell", "Cyberdyne", "Soylent")
OFFERS = ("platform licence", "renewal", "expansion", "pilot", "enterprise plan", "team plan")
LOST_REASONS = ("No budget this year", "Chose a competitor", "Project cancelled", "Went silent after the demo")
REJECT_REASONS = ("That is our recap, not the buyer's reply.", "The invite is not accepted yet.", "Link is broken.")
BACK_NOTES = ("Buyer's champion left; re-confirming needs.", "Budget moved to next quarter.")

# Where a deal's story is headed: lost deals die early, open ones spread over the whole pipeline.
LOST_SHARE = 0.30
PENDING_SHARE = 0.03
LOST_STAGE_WEIGHTS = (35, 30, 20, 15)
OPEN_STAGE_WEIGHTS = (22, 18, 15, 12, 13, 10, 10)
SKIP_CHANCE = 0.05
STEP_GAP_DAYS = 6.0
DECISION_GAP_DAYS = 0.5
ACTIVE_OPEN_SHARE = 0.7
ACTIVE_IDLE_DAYS = 5.0
BACK_EPISODE_CHANCE = 0.2

# A story is a list of steps; each writes these events (and a move request for the ones that ask):
#   advance/skip: requested + approved (one or two stages); reject: requested + rejected;
#   back: moved_back one stage; pend: requested, left pending; lost: lost;
#   cancel_lost: requested, then lost, which cancels the request.
STEP_EVENTS = {"advance": 2, "skip": 2, "reject": 2, "back": 1, "pend": 1, "lost": 1, "cancel_lost": 2}


@dataclass(frozen=True)
class History:
    team_id: str
    deals: int
    events_per_deal: int
    seed_name: str = ""
    """Whose stories to tell (default: the workspace's own); the same name tells the same stories."""
    old_deals: int = 0
    """Deals added before the stories above, all lost more than HISTORY_DAYS ago: history with no recent activity."""
    old_days: int = 0


@dataclass
class Loaded:
    deals: int = 0
    events: int = 0
    moves: int = 0
    pending: int = 0
    lost: int = 0
    spells: int = 0
    old_deals: int = 0
    old_events: int = 0


@dataclass
class Measurement:
    team_id: str
    seconds: list[float] = field(default_factory=list)
    tracemalloc_peak_bytes: int | None = None
    rss_growth_bytes: int | None = None
    summary: dict[str, int] = field(default_factory=dict)
    per_query: dict[str, dict[str, float]] = field(default_factory=dict)
    timed_out_after: float | None = None
    fingerprint: str = ""
    floor: dict[str, float] = field(default_factory=dict)
    """Best seconds of each floor statement."""
    floor_seconds: list[float] = field(default_factory=list)
    """Each run of all floor statements, in seconds."""
    events_floor_seconds: list[float] = field(default_factory=list)
    deals: int = 0
    events: int = 0
    spells: int = 0

    @property
    def best_seconds(self) -> float | None:
        return min(self.seconds) if self.seconds else None

    @property
    def best_floor_seconds(self) -> float | None:
        return min(self.floor_seconds) if self.floor_seconds else None

    @property
    def over_floor(self) -> float | None:
        best, floor = self.best_seconds, self.best_floor_seconds
        return None if best is None or not floor else best / floor


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.digest_scale", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url",
        help="a database that does not exist yet: sqlite:///path.db, or "
        "postgresql+psycopg://postgres@127.0.0.1:5432/bench_digest (default: a temporary SQLite file)",
    )
    parser.add_argument("--deals", type=int, default=100_000, help="deals in the large history (default 100000)")
    parser.add_argument("--events-per-deal", type=int, default=10, help="average events per deal (default 10)")
    parser.add_argument("--small-deals", type=int, default=SMALL_DEALS, help="deals in the small history")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the histories (default 1)")
    parser.add_argument(
        "--old-history-days",
        type=int,
        default=0,
        help="also load and measure a workspace with the large history's stories plus this many days of older "
        "history before them (as many deals per day, all lost by then): the digest should not notice",
    )
    parser.add_argument(
        "--per-query",
        action="store_true",
        help="also time each function of storage.spell_queries, storage.report_queries (and any other "
        "storage.*_queries module commands.digest.compute uses) as the digest calls it, "
        "on the large and long histories",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        help=f"give up on a history's measurement after this many seconds (default {DEFAULT_TIMEOUT_SECONDS})",
    )
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="also ANALYZE a SQLite database after loading (the app never does; PostgreSQL is always vacuumed "
        "and analyzed, as autovacuum would)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards (for EXPLAIN)")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    arguments = parser.parse_args(argv)
    if arguments.deals < 1 or arguments.small_deals < 1 or arguments.events_per_deal < 1:
        parser.error("--deals, --small-deals and --events-per-deal must be at least 1")
    if arguments.old_history_days < 0:
        parser.error("--old-history-days must not be negative")
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    as_of = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    histories = [
        History(WARM_UP_TEAM, WARM_UP_DEALS, arguments.events_per_deal),
        History(SMALL_TEAM, arguments.small_deals, arguments.events_per_deal),
        History(LARGE_TEAM, arguments.deals, arguments.events_per_deal),
    ]
    if arguments.old_history_days:
        old_deals = round(arguments.deals * arguments.old_history_days / HISTORY_DAYS)
        histories.append(
            History(
                LONG_TEAM,
                arguments.deals,
                arguments.events_per_deal,
                seed_name=LARGE_TEAM,
                old_deals=old_deals,
                old_days=arguments.old_history_days,
            )
        )
    measured = [SMALL_TEAM, LARGE_TEAM] + ([LONG_TEAM] if arguments.old_history_days else [])
    load_average = os.getloadavg()
    with fresh_database(arguments.database_url, keep=arguments.keep) as url:
        engine = make_engine(url)
        pipeline = default_pipeline()
        upgrade_to_head(engine, stage_keys=pipeline.keys)
        started = time.perf_counter()
        loaded = {
            history.team_id: load_history(engine, history, pipeline=pipeline, as_of=as_of, seed=arguments.seed)
            for history in histories
        }
        analyze(engine, sqlite_too=arguments.analyze)
        load_seconds = time.perf_counter() - started
        spell_check = check_spells(engine, pipeline)
        dialect = engine.dialect.name
        engine.dispose()
        if spell_check["differences"]:
            raise SystemExit(f"the loaded stage spells disagree with the events: {spell_check}")
        measurements = {
            team: measure_apart(
                url, team, as_of, per_query=arguments.per_query and team != SMALL_TEAM, timeout=arguments.timeout
            )
            for team in measured
        }
    for team, measurement in measurements.items():
        counts = loaded[team]
        measurement.deals, measurement.events, measurement.spells = counts.deals, counts.events, counts.spells
    report = {
        "database": dialect,
        "url": make_url(url).render_as_string(hide_password=True),
        "kept": arguments.keep,
        "as_of": as_of.isoformat(),
        "seed": arguments.seed,
        "sqlite_analyzed": dialect == "sqlite" and arguments.analyze,
        "load_average_at_start": [round(value, 2) for value in load_average],
        "load_average_at_end": [round(value, 2) for value in os.getloadavg()],
        "load_seconds": round(load_seconds, 1),
        "loaded": {team: asdict(counts) for team, counts in loaded.items()},
        "spell_check": spell_check,
        **{LABELS[team]: _measurement_json(measurement) for team, measurement in measurements.items()},
        "large_over_small": ratios(measurements[SMALL_TEAM], measurements[LARGE_TEAM]),
    }
    if LONG_TEAM in measurements:
        long, large = measurements[LONG_TEAM], measurements[LARGE_TEAM]
        report["long_over_large"] = {
            **ratios(large, long),
            "old_history_days": arguments.old_history_days,
            "same_digest": long.fingerprint == large.fingerprint,
        }
    print(json.dumps(report, indent=2) if arguments.json else render_table(report, measurements))
    return 0


def check_spells(engine: Engine, pipeline: Pipeline) -> dict[str, Any]:
    """The bench writes stage spells itself, as the app's use cases would: derive the small workspace's
    spells from its events again (`storage.spells.compare`) and count the differences; and count the rows."""
    with Session(engine) as session:
        differences = sum(1 for _ in spells.compare(session, stage_keys=pipeline.keys, team_id=SMALL_TEAM))
        rows = session.execute(select(col(StageSpell.team_id), func.count()).group_by(col(StageSpell.team_id))).all()
    by_team = {str(team): int(count) for team, count in rows}
    return {"team_checked": SMALL_TEAM, "differences": differences, "rows": sum(by_team.values()), "by_team": by_team}


# --- the database -------------------------------------------------------------------------------


@contextmanager
def fresh_database(url: str | None, *, keep: bool) -> Iterator[str]:
    """A URL to a database created here, removed afterwards unless `keep`."""
    if url is None:
        directory = Path(tempfile.mkdtemp(prefix="bench_digest_"))
        try:
            yield f"sqlite:///{directory / 'bench.db'}"
        finally:
            if not keep:
                shutil.rmtree(directory)
        return
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not parsed.database or parsed.database == ":memory:" or path.exists():
            raise SystemExit(f"{url}: give a SQLite file that does not exist yet")
        try:
            yield url
        finally:
            if not keep:
                for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                    leftover.unlink(missing_ok=True)
        return
    name = parsed.database or ""
    if name in PROTECTED_DATABASES or not name:
        raise SystemExit(f"{url}: name a database of its own (e.g. bench_digest), not {name or 'none'}")
    server = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
            if exists.first() is not None:
                raise SystemExit(f"database {name} already exists: drop it (dropdb {name}) or name another one")
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield url
        finally:
            if not keep:
                with server.connect() as connection:
                    connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        server.dispose()


def analyze(engine: Engine, *, sqlite_too: bool) -> None:
    """PostgreSQL's autovacuum vacuums and analyzes freshly loaded tables within a minute (since PostgreSQL 13
    inserts alone trigger the vacuum, which sets the visibility map that index-only scans rely on); do both
    now. The app never analyzes SQLite, so by default SQLite is measured without statistics, as it runs."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM (ANALYZE)")
    elif sqlite_too:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")


# --- the history --------------------------------------------------------------------------------


def plan_budgets(rng: random.Random, deals: int, events_per_deal: int) -> list[int]:
    """Events per deal: skewed (many short stories, a few long ones), at least 1, summing exactly."""
    if events_per_deal == 1:
        return [1] * deals
    budgets = [1 + round(rng.gammavariate(2.0, (events_per_deal - 1) / 2.0)) for _ in range(deals)]
    missing = deals * events_per_deal - sum(budgets)
    while missing:
        index = rng.randrange(deals)
        if missing > 0:
            budgets[index] += 1
            missing -= 1
        elif budgets[index] > 1:
            budgets[index] -= 1
            missing += 1
    return budgets


def plan_story(rng: random.Random, budget: int, stages: int, *, lost: bool = False) -> list[str]:
    """Steps whose events add up to exactly `budget`: created, then moves, then how the story ends
    (with `lost` and a budget of at least 2, always lost)."""
    last = stages - 1
    roll = 0.0 if lost else rng.random()
    ending = "lost" if roll < LOST_SHARE else "pend" if roll < LOST_SHARE + PENDING_SHARE else "open"
    weights = LOST_STAGE_WEIGHTS if ending == "lost" else OPEN_STAGE_WEIGHTS
    target = rng.choices(range(min(len(weights), stages)), weights[:stages])[0]
    if budget == 1:
        ending = "open"
    tail = [] if ending == "open" else [ending]
    spare = budget - 1 - len(tail)
    target = min(target, spare // 2)
    if ending == "pend" and target == last:
        target -= 1
    steps: list[str] = []
    stage = 0
    while stage < target:
        skip = stage + 2 <= target and rng.random() < SKIP_CHANCE
        steps.append("skip" if skip else "advance")
        stage += 2 if skip else 1
    spare -= 2 * len(steps)
    if spare % 2:
        if target >= 1:
            if spare >= 3 and rng.random() < BACK_EPISODE_CHANCE:
                _insert_back_episode(rng, steps)
                spare -= 3
            else:
                steps.append("back")
                spare -= 1
        elif ending == "open" and spare >= 3:
            # Forward and back again: the deal ends where it started, with a move back on record.
            steps = ["advance", "back"]
            spare -= 3
        elif ending == "open":
            tail, spare = ["lost"], spare - 1
        else:
            tail, spare = ["cancel_lost"], spare - 1
    while spare >= 2:
        _insert_reject(rng, steps, can_end_with_reject=target < last)
        spare -= 2
    return steps + tail


def _insert_back_episode(rng: random.Random, steps: list[str]) -> None:
    """A move back and the approved move forward again, right after some move forward."""
    forwards = [index for index, step in enumerate(steps) if step in ("advance", "skip")]
    at = rng.choice(forwards) + 1
    steps[at:at] = ["back", "advance"]


def _insert_reject(rng: random.Random, steps: list[str], *, can_end_with_reject: bool) -> None:
    """A rejected request before some move forward, or at the end while a next stage exists."""
    places = [index for index, step in enumerate(steps) if step in ("advance", "skip")]
    if can_end_with_reject or not places:
        places.append(len(steps))
    steps.insert(rng.choice(places), "reject")


def story_events(steps: list[str]) -> int:
    return 1 + sum(STEP_EVENTS[step] for step in steps)


class Loader:
    """Rows for one workspace, written with executemany in batches of about BATCH_ROWS events."""

    def __init__(self, connection: Connection, *, team_id: str, pipeline: Pipeline, first_ids: tuple[int, int]):
        self.connection = connection
        self.team_id = team_id
        self.keys = pipeline.keys
        self.next_deal_id, self.next_move_id = first_ids
        self.deals: list[dict[str, Any]] = []
        self.moves: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.spells: list[dict[str, Any]] = []
        self.changes: list[Change] = []
        self.loaded = Loaded()

    def add_deal(
        self, rng: random.Random, *, number: int, steps: list[str], as_of: datetime, history_days: float = HISTORY_DAYS
    ) -> None:
        """One deal's story, its last event before `as_of` and its first no earlier than `history_days` before."""
        deal_id = self.next_deal_id
        self.next_deal_id += 1
        owner = rng.choice(OWNERS)
        company = rng.choice(COMPANIES) if rng.random() < 0.9 else None
        times = _event_times(rng, steps, as_of, history_days)
        created_at = next(times)
        evidence = _links(rng, deal_id, 1) if rng.random() < 0.5 else []
        self._event(deal_id, "created", owner, created_at, to_stage=self.keys[0], evidence=evidence)
        stage, entered_at = 0, created_at
        status, lost_reason = "open", None
        for step in steps:
            if step in ("advance", "skip", "reject", "pend", "cancel_lost"):
                to = stage + (2 if step == "skip" else 1)
                requester = owner if rng.random() < 0.9 else rng.choice(MANAGERS)
                move = self._request(rng, deal_id, requester, next(times), stage, to)
                if step == "pend":
                    self.loaded.pending += 1
                    continue
                decided_at = next(times)
                if step == "cancel_lost":
                    lost_reason = rng.choice(LOST_REASONS)
                    move.update(status="cancelled", decided_by=owner, decided_at=decided_at)
                    move["decision_reason"] = "The deal was marked lost."
                    self._event(
                        deal_id, "lost", owner, decided_at, from_stage=self.keys[stage], note=lost_reason, move=move
                    )
                    status = "lost"
                    continue
                manager = rng.choice([name for name in MANAGERS if name != requester])
                approved = step != "reject"
                reason = None if approved else rng.choice(REJECT_REASONS)
                move.update(
                    status="approved" if approved else "rejected",
                    decided_by=manager,
                    decided_at=decided_at,
                    decision_reason=reason,
                )
                self._event(
                    deal_id,
                    move["status"],
                    manager,
                    decided_at,
                    from_stage=move["from_stage"],
                    to_stage=move["to_stage"],
                    evidence=move["evidence"],
                    note=reason,
                    move=move,
                )
                if approved:
                    stage, entered_at = to, decided_at
            elif step == "back":
                at = next(times)
                note = rng.choice(BACK_NOTES)
                back_to = self.keys[stage - 1]
                self._event(deal_id, "moved_back", owner, at, from_stage=self.keys[stage], to_stage=back_to, note=note)
                stage, entered_at = stage - 1, at
            else:
                lost_reason = rng.choice(LOST_REASONS)
                self._event(deal_id, "lost", owner, next(times), from_stage=self.keys[stage], note=lost_reason)
                status = "lost"
        if next(times, None) is not None:
            raise AssertionError("a story wrote fewer events than planned")
        # The deal's stays, derived from the same events by the one definition the app uses.
        self.spells.extend(
            {
                "team_id": self.team_id,
                "deal_id": deal_id,
                "stage_key": spell.stage_key,
                "entered_at": spell.entered_at,
                "entered_via": spell.entered_via,
                "left_at": spell.left_at,
                "ended": str(spell.ended),
            }
            for spell in derive(self.changes, self.keys)
        )
        self.changes = []
        self.deals.append(
            {
                "id": deal_id,
                "team_id": self.team_id,
                "number": number,
                "name": f"{company or 'Unnamed'} {rng.choice(OFFERS)} {number}",
                "owner_id": owner,
                "value_cents": round(rng.lognormvariate(15.5, 1.0)) if rng.random() < 0.9 else None,
                "company": company,
                "stage_key": self.keys[stage],
                "status": status,
                "lost_reason": lost_reason,
                "channel_id": rng.choice(CHANNELS),
                "thread_ts": _slack_ts(created_at),
                "created_at": created_at,
                "stage_entered_at": entered_at,
            }
        )
        self.loaded.deals += 1
        self.loaded.lost += status == "lost"
        if len(self.events) >= BATCH_ROWS:
            self.flush()

    def _request(
        self, rng: random.Random, deal_id: int, requester: str, at: datetime, stage: int, to: int
    ) -> dict[str, Any]:
        move: dict[str, Any] = {
            "id": self.next_move_id,
            "team_id": self.team_id,
            "deal_id": deal_id,
            "requested_by": requester,
            "requested_at": at,
            "from_stage": self.keys[stage],
            "to_stage": self.keys[to],
            "evidence": _links(rng, deal_id, to - stage),
            "note": "Buyer asked for the proposal early." if rng.random() < 0.1 else None,
            "status": "pending",
            "decided_by": None,
            "decided_at": None,
            "decision_reason": None,
            "message_ts": _slack_ts(at),
        }
        self.next_move_id += 1
        self.moves.append(move)
        self._event(
            deal_id,
            "requested",
            requester,
            at,
            from_stage=move["from_stage"],
            to_stage=move["to_stage"],
            evidence=move["evidence"],
            note=move["note"],
            move=move,
        )
        return move

    def _event(
        self,
        deal_id: int,
        kind: str,
        actor: str,
        at: datetime,
        *,
        from_stage: str | None = None,
        to_stage: str | None = None,
        evidence: list[dict[str, Any]] | None = None,
        note: str | None = None,
        move: dict[str, Any] | None = None,
    ) -> None:
        if kind in STAGE_CHANGES:
            self.changes.append(Change(kind, at, from_stage, to_stage))
        self.events.append(
            {
                "team_id": self.team_id,
                "deal_id": deal_id,
                "kind": kind,
                "actor_id": actor,
                "at": at,
                "from_stage": from_stage,
                "to_stage": to_stage,
                "evidence": evidence or [],
                "note": note,
                "move_id": move["id"] if move else None,
            }
        )

    def flush(self) -> None:
        """Parents before children (deals, moves, events, spells), one transaction per batch."""
        tables = ((Deal, self.deals), (MoveRequest, self.moves), (DealEvent, self.events), (StageSpell, self.spells))
        for table, rows in tables:
            for start in range(0, len(rows), BATCH_ROWS):
                self.connection.execute(insert(table), rows[start : start + BATCH_ROWS])
        self.connection.commit()
        self.loaded.moves += len(self.moves)
        self.loaded.events += len(self.events)
        self.loaded.spells += len(self.spells)
        self.deals, self.moves, self.events, self.spells = [], [], [], []


def _event_times(
    rng: random.Random, steps: list[str], as_of: datetime, history_days: float = HISTORY_DAYS
) -> Iterator[datetime]:
    """One strictly increasing time per event of the story, all in the `history_days` before `as_of`.

    A step comes days after the one before, a decision hours after its request. Lost deals and
    stale open ones end anywhere in the year; active open deals had their last event days ago.
    """
    days = 86400.0
    gaps = []
    for step in steps:
        gaps.append(rng.expovariate(1 / (STEP_GAP_DAYS * days)))
        if STEP_EVENTS[step] == 2:
            gaps.append(rng.expovariate(1 / (DECISION_GAP_DAYS * days)))
    gaps = [max(gap, 1.0) for gap in gaps]
    history = history_days * days
    latest = 3600.0
    if steps and steps[-1] in ("lost", "cancel_lost") or rng.random() > ACTIVE_OPEN_SHARE:
        before_now = rng.uniform(latest, history)
    else:
        before_now = min(latest + rng.expovariate(1 / (ACTIVE_IDLE_DAYS * days)), history)
    lifetime = sum(gaps)
    room = history - before_now
    if lifetime > room:
        gaps = [max(gap * room / lifetime, 1.0) for gap in gaps]
        lifetime = sum(gaps)
    at = as_of - timedelta(seconds=before_now + lifetime)
    yield at
    for gap in gaps:
        at += timedelta(seconds=gap)
        yield at


def _links(rng: random.Random, deal_id: int, count: int) -> list[dict[str, Any]]:
    return [
        {"url": f"https://mail.example.com/t/{deal_id}-{rng.randrange(10**6)}", "label": None} for _ in range(count)
    ]


def _slack_ts(at: datetime) -> str:
    return f"{at.timestamp():.6f}"


def load_history(engine: Engine, history: History, *, pipeline: Pipeline, as_of: datetime, seed: int) -> Loaded:
    rng = random.Random(f"{seed}:{history.seed_name or history.team_id}")
    budgets = plan_budgets(rng, history.deals, history.events_per_deal)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            # Durability is not the point of a benchmark load; the measurement reads a finished file.
            connection.connection.driver_connection.execute("PRAGMA synchronous=OFF")  # type: ignore[union-attr]
        last_deal = connection.execute(select(func.max(Deal.id))).scalar_one() or 0
        last_move = connection.execute(select(func.max(MoveRequest.id))).scalar_one() or 0
        connection.commit()
        loader = Loader(
            connection, team_id=history.team_id, pipeline=pipeline, first_ids=(last_deal + 1, last_move + 1)
        )
        for number, budget in enumerate(budgets, start=1):
            loader.add_deal(rng, number=number, steps=plan_story(rng, budget, len(pipeline.stages)), as_of=as_of)
        loader.flush()
        if history.old_deals:
            # Older history: deals told with their own random stream, each lost before the year above
            # began, so nothing of theirs is open or falls in any window the digest reads.
            recent = asdict(loader.loaded)
            old_rng = random.Random(f"{seed}:{history.team_id}:old")
            old_budgets = plan_budgets(old_rng, history.old_deals, history.events_per_deal)
            old_end = as_of - timedelta(days=HISTORY_DAYS)
            for number, budget in enumerate(old_budgets, start=history.deals + 1):
                steps = plan_story(old_rng, max(budget, 2), len(pipeline.stages), lost=True)
                loader.add_deal(old_rng, number=number, steps=steps, as_of=old_end, history_days=history.old_days)
            loader.flush()
            loader.loaded.old_deals = loader.loaded.deals - recent["deals"]
            loader.loaded.old_events = loader.loaded.events - recent["events"]
        total_deals = history.deals + history.old_deals
        connection.execute(insert(DealSequence), [{"team_id": history.team_id, "last_number": total_deals}])
        if engine.dialect.name == "postgresql":
            # The ids were given explicitly; let the app's own inserts continue after them.
            for table in ("deal", "move_request"):
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
        connection.commit()
        if engine.dialect.name == "sqlite":
            connection.connection.driver_connection.execute("PRAGMA synchronous=FULL")  # type: ignore[union-attr]
    return loader.loaded


# --- the floor: one plain statement per number family -------------------------------------------


EVENTS_FLOOR = "entries per stage, lead() over deal_event"
BIND_NAME = re.compile(r"(?<![:\w]):(\w+)")


@dataclass(frozen=True)
class FloorStatement:
    name: str
    sql: str
    params: dict[str, Any]


def floor_statements(dialect: str, pipeline: Pipeline, period: Period) -> list[FloorStatement]:
    """What the digest needs, each number family asked in one straightforward statement over the same
    tables (what a person would type at the SQL prompt): the bar the digest is held to."""
    as_of = period.end
    window = timedelta(days=DEFAULT_WINDOW_DAYS)
    forecast_start = as_of - timedelta(days=FORECAST_DAYS)
    won_key = pipeline.won_stage().key
    before_won = pipeline.keys[: pipeline.index(won_key)]
    stall_cutoffs = {
        f"stall_{n}": as_of - timedelta(days=stage.stall_after_days) for n, stage in enumerate(pipeline.stages)
    }
    stall_keys = {f"stall_key_{n}": stage.key for n, stage in enumerate(pipeline.stages)}
    before_won_keys = {f"before_won_{n}": key for n, key in enumerate(before_won)}
    in_before_won = ", ".join(f":{name}" for name in before_won_keys)

    def seconds(start: str, end: str) -> str:
        if dialect == "sqlite":
            return f"((julianday({end}) - julianday({start})) * 86400.0)"
        return f"date_part('epoch', {end} - {start})"

    def whole(start: str, end: str, unit: int) -> str:
        if dialect == "sqlite":
            return f"CAST({seconds(start, end)} / {unit} AS INTEGER)"
        return f"CAST(floor({seconds(start, end)} / {unit}) AS INTEGER)"

    def bucket(start: str, end: str) -> str:
        """Whole hours for a month, then whole days (in hours): as `storage.spell_queries` keeps durations."""
        return (
            f"CASE WHEN {seconds(start, end)} < {HOURLY_UNTIL_SECONDS} THEN {whole(start, end, 3600)} "
            f"ELSE {whole(start, end, 86400)} * 24 END"
        )

    def watched(start: datetime, end: datetime, suffix: str) -> FloorStatement:
        ended = f"(left_at IS NOT NULL AND left_at < :end_{suffix})"
        return FloorStatement(
            f"stays watched, {suffix} window",
            f"""SELECT stage_key, hours, outcome, seen_from, count(*) FROM (
                  SELECT stage_key,
                         {bucket("entered_at", f"CASE WHEN {ended} THEN left_at ELSE :end_{suffix} END")} AS hours,
                         CASE WHEN {ended} THEN ended ELSE 'open' END AS outcome,
                         CASE WHEN entered_at < :start_{suffix}
                              THEN {bucket("entered_at", f":start_{suffix}")} ELSE 0 END AS seen_from
                  FROM stage_spell
                  WHERE team_id = :team AND entered_at < :end_{suffix}
                    AND (left_at IS NULL OR left_at >= :start_{suffix})
                ) AS watched GROUP BY stage_key, hours, outcome, seen_from""",
            {f"start_{suffix}": start, f"end_{suffix}": end},
        )

    def stays(start: datetime, end: datetime, suffix: str) -> FloorStatement:
        ended = f"(left_at IS NOT NULL AND left_at < :end_{suffix})"
        return FloorStatement(
            f"stays entered, {suffix} window",
            f"""SELECT stage_key, hours, outcome, count(*) FROM (
                  SELECT stage_key,
                         CASE WHEN {ended} THEN ended ELSE 'open' END AS outcome,
                         {whole("entered_at", f"CASE WHEN {ended} THEN left_at ELSE :end_{suffix} END", 3600)} AS hours
                  FROM stage_spell
                  WHERE team_id = :team AND entered_at >= :start_{suffix} AND entered_at < :end_{suffix}
                ) AS stays GROUP BY stage_key, hours, outcome""",
            {f"start_{suffix}": start, f"end_{suffix}": end},
        )

    open_at = "s.entered_at < :as_of AND (s.left_at IS NULL OR s.left_at >= :as_of)"
    stalled = " OR ".join(
        f"(s.stage_key = :{key} AND s.entered_at < :{cut})" for key, cut in zip(stall_keys, stall_cutoffs, strict=True)
    )
    return [
        FloorStatement(
            "open deals by stage and age",
            f"""SELECT s.stage_key, {whole("s.entered_at", ":as_of", 86400)} AS age, count(*),
                       coalesce(sum(d.value_cents), 0)
                FROM stage_spell s JOIN deal d ON d.id = s.deal_id
                WHERE s.team_id = :team AND {open_at}
                GROUP BY s.stage_key, age""",
            {},
        ),
        stays(as_of - window, as_of, "current"),
        stays(as_of - 2 * window, as_of - window, "previous"),
        watched(as_of - window, as_of, "current"),
        watched(as_of - 2 * window, as_of - window, "previous"),
        watched(forecast_start, as_of, "forecast"),
        FloorStatement(
            "time to close of wins",
            f"""SELECT stage_key, days, count(*) FROM (
                  SELECT e.stage_key, {whole("max(e.entered_at)", "w.entered_at", 86400)} AS days
                  FROM stage_spell w JOIN stage_spell e ON e.deal_id = w.deal_id
                  WHERE w.team_id = :team AND w.stage_key = :won_key AND w.entered_via = 'approved'
                    AND w.entered_at >= :start_forecast AND w.entered_at < :as_of
                    AND e.stage_key IN ({in_before_won}) AND e.entered_at <= w.entered_at
                  GROUP BY w.id, e.stage_key, w.entered_at
                ) AS closes GROUP BY stage_key, days""",
            {"start_forecast": forecast_start, **before_won_keys},
        ),
        FloorStatement(
            "deals entering (forecast basis)",
            f"""SELECT count(DISTINCT deal_id) FROM stage_spell
                WHERE team_id = :team AND stage_key IN ({in_before_won})
                  AND entered_at >= :start_current AND entered_at < :as_of""",
            {"start_current": as_of - window, **before_won_keys},
        ),
        FloorStatement(
            "stalled deals (first page and total)",
            f"""SELECT d.number, d.name, d.owner_id, s.stage_key, s.entered_at, d.value_cents, count(*) OVER ()
                FROM stage_spell s JOIN deal d ON d.id = s.deal_id
                WHERE s.team_id = :team AND {open_at} AND ({stalled})
                ORDER BY s.entered_at, d.number LIMIT {LIST_LIMIT}""",
            {**stall_keys, **stall_cutoffs},
        ),
        FloorStatement(
            "won and lost in the period",
            """SELECT won.deals, won.value, lost.deals, lost.value FROM
                 (SELECT count(DISTINCT s.deal_id) AS deals, coalesce(sum(d.value_cents), 0) AS value
                  FROM stage_spell s JOIN deal d ON d.id = s.deal_id
                  WHERE s.team_id = :team AND s.stage_key = :won_key AND s.entered_via = 'approved'
                    AND s.entered_at >= :start AND s.entered_at < :as_of) AS won,
                 (SELECT count(*) AS deals, coalesce(sum(d.value_cents), 0) AS value FROM deal d
                  WHERE d.id IN (SELECT deal_id FROM deal_event
                                 WHERE team_id = :team AND kind = 'lost' AND at >= :start AND at < :as_of)) AS lost""",
            {},
        ),
        FloorStatement(
            "event lists (4 kinds, first page and total)",
            f"""SELECT * FROM (
                  SELECT d.number, d.name, d.owner_id, d.value_cents, e.kind, e.actor_id, e.at, e.from_stage,
                         e.to_stage, e.evidence, e.note, m.requested_by,
                         row_number() OVER (PARTITION BY e.kind ORDER BY e.at, e.id) AS position,
                         count(*) OVER (PARTITION BY e.kind) AS total
                  FROM deal_event e JOIN deal d ON d.id = e.deal_id LEFT JOIN move_request m ON m.id = e.move_id
                  WHERE e.team_id = :team AND e.kind IN ('approved', 'rejected', 'created', 'lost')
                    AND e.at >= :start AND e.at < :as_of
                ) AS listed WHERE position <= {LIST_LIMIT}""",
            {},
        ),
        FloorStatement(
            "pending moves (first page and total)",
            f"""SELECT d.number, d.name, m.to_stage, m.requested_by, m.requested_at, d.channel_id, m.message_ts,
                       d.thread_ts, count(*) OVER ()
                FROM move_request m JOIN deal d ON d.id = m.deal_id
                WHERE m.team_id = :team AND m.requested_at < :pending_before
                  AND (m.decided_at IS NULL OR m.decided_at >= :as_of)
                ORDER BY m.requested_at LIMIT {LIST_LIMIT}""",
            {"pending_before": as_of - PENDING_AFTER},
        ),
    ]


def events_floor_statement(period: Period) -> FloorStatement:
    """The old digest's floor, for context: entries per stage in the window and how many were left since,
    from the events alone (a window function over each deal's stage changes)."""
    kinds = ", ".join(f"'{kind}'" for kind in STAGE_CHANGES)
    return FloorStatement(
        EVENTS_FLOOR,
        f"""SELECT to_stage, count(*), count(left_at) FROM (
              SELECT to_stage, at, lead(at) OVER (PARTITION BY deal_id ORDER BY at, id) AS left_at
              FROM deal_event WHERE team_id = :team AND kind IN ({kinds}) AND at >= :start_current
            ) AS entries WHERE to_stage IS NOT NULL AND at < :as_of GROUP BY to_stage""",
        {"start_current": period.end - timedelta(days=DEFAULT_WINDOW_DAYS)},
    )


def run_floor(engine: Engine, statements: Sequence[FloorStatement], *, team_id: str, period: Period) -> list[float]:
    """Seconds of each statement, run to the last row, in one read-only transaction (as the digest's)."""
    common = {
        "team": team_id,
        "as_of": period.end,
        "start": period.start,
        "won_key": default_pipeline().won_stage().key,
    }
    seconds = []
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection, connection.begin():
        for statement in statements:
            available = {**common, **statement.params}
            params = {name: available[name] for name in set(BIND_NAME.findall(statement.sql))}
            clause = text(statement.sql).bindparams(
                *(bindparam(name, type_=UTCDateTime()) for name, value in params.items() if isinstance(value, datetime))
            )
            started = time.perf_counter()
            connection.execute(clause, params).all()
            seconds.append(time.perf_counter() - started)
    return seconds


# --- the measurement ----------------------------------------------------------------------------


def measure_apart(url: str, team_id: str, as_of: datetime, *, per_query: bool, timeout: float) -> Measurement:
    """Measure in a new interpreter, so each history's peak RSS starts from the same baseline; a
    measurement that outlasts `timeout` is stopped (its database work with it) and reported as such."""
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(1, maxtasksperchild=1) as pool:
        pending = pool.apply_async(measure, (url, team_id, as_of, per_query))
        try:
            measurement: Measurement = pending.get(timeout)
        except multiprocessing.TimeoutError:
            pool.terminate()
            return Measurement(team_id, timed_out_after=round(time.perf_counter() - started, 1))
    return measurement


def measure(url: str, team_id: str, as_of: datetime, per_query: bool) -> Measurement:
    """Runs in a fresh interpreter: warm up (imports, compiled SQL, pools) on a tiny workspace first,
    so what grows afterwards is what this workspace's history costs. Then the floor, on the same data."""
    engine = make_engine(url)
    pipeline = default_pipeline()
    services = Services(sessions=make_session_factory(engine), pipeline=pipeline)
    period = period_ending(as_of)
    statements = floor_statements(engine.dialect.name, pipeline, period)
    compute_digest(services, team_id=WARM_UP_TEAM, period=period)
    run_floor(engine, statements, team_id=WARM_UP_TEAM, period=period)
    rss_before = _peak_rss_bytes()
    seconds: list[float] = []
    while len(seconds) < TIMED_RUNS and sum(seconds) < SLOW_SECONDS:
        started = time.perf_counter()
        compute_digest(services, team_id=team_id, period=period)
        seconds.append(time.perf_counter() - started)
    rss_growth = _peak_rss_bytes() - rss_before
    tracemalloc.start()
    digest = compute_digest(services, team_id=team_id, period=period)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    summary = {
        "open_deals": sum(total.deals for total in digest.by_stage),
        "won_in_period": digest.won_in_period.deals,
        "lost_in_period": digest.lost_in_period.deals,
        "approved_in_period": digest.approved.total,
        "new_in_period": digest.new_deals.total,
        "stalled": digest.stalled.total,
        "pending_over_a_day": digest.pending.total,
        "entered_in_window": sum(row.current.entered for row in digest.conversion),
        "forecast_basis": digest.forecast.basis,
    }
    measurement = Measurement(team_id, seconds, peak, rss_growth, summary, fingerprint=fingerprint(digest))
    runs = [run_floor(engine, statements, team_id=team_id, period=period) for _ in range(TIMED_RUNS)]
    measurement.floor = {statement.name: min(run[index] for run in runs) for index, statement in enumerate(statements)}
    measurement.floor_seconds = [sum(run) for run in runs]
    events_floor = [events_floor_statement(period)]
    measurement.events_floor_seconds = [
        run_floor(engine, events_floor, team_id=team_id, period=period)[0] for _ in range(TIMED_RUNS)
    ]
    if per_query:
        measurement.per_query = _per_query(services, team_id, period)
    engine.dispose()
    return measurement


def fingerprint(digest: Digest) -> str:
    """The digest as JSON, minus what differs between workspaces telling the same stories: the workspace's
    id, and evidence links (which name the deal's row id)."""
    bare = replace(
        digest,
        team_id="",
        approved=replace(digest.approved, items=tuple(replace(line, evidence=()) for line in digest.approved.items)),
        rejected=replace(digest.rejected, items=tuple(replace(line, evidence=()) for line in digest.rejected.items)),
    )
    return hashlib.sha256(json.dumps(bare.to_json(), sort_keys=True).encode()).hexdigest()[:16]


def query_modules() -> list[ModuleType]:
    """The storage modules whose functions compute_digest calls: `storage.spell_queries`, `storage.report_queries`
    and any other `storage.*_queries` module `commands.digest.compute` imports."""
    found = [spell_queries, report_queries]
    for value in vars(digest_module).values():
        if isinstance(value, ModuleType) and value.__name__.startswith("storage.") and value not in found:
            found.append(value)
    return [module for module in found if module.__name__.endswith("_queries")]


def _per_query(services: Services, team_id: str, period: Any) -> dict[str, dict[str, float]]:
    """Each function of the query modules as compute_digest calls it: calls, total seconds, peak traced bytes."""
    functions = [
        (module, name)
        for module in query_modules()
        for name, value in vars(module).items()
        if _is_query(module, name, value)
    ]
    label = {(module, name): f"{module.__name__.rsplit('.', 1)[-1]}.{name}" for module, name in functions}
    stats = {label[key]: {"calls": 0.0, "seconds": 0.0, "peak_bytes": 0.0} for key in functions}
    originals = {key: getattr(*key) for key in functions}

    def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            tracing = tracemalloc.is_tracing()
            if tracing:
                tracemalloc.reset_peak()
                held = tracemalloc.get_traced_memory()[0]
            started = time.perf_counter()
            result = function(*args, **kwargs)
            if tracing:
                peak = tracemalloc.get_traced_memory()[1] - held
                stats[name]["peak_bytes"] = max(stats[name]["peak_bytes"], peak)
            else:
                stats[name]["calls"] += 1
                stats[name]["seconds"] += time.perf_counter() - started
            return result

        return wrapper

    try:
        for (module, name), function in originals.items():
            setattr(module, name, timed(label[module, name], function))
        compute_digest(services, team_id=team_id, period=period)
        tracemalloc.start()
        compute_digest(services, team_id=team_id, period=period)
        tracemalloc.stop()
    finally:
        for (module, name), function in originals.items():
            setattr(module, name, function)
    return {name: row for name, row in stats.items() if row["calls"]}


def _is_query(module: ModuleType, name: str, value: Any) -> bool:
    return inspect.isfunction(value) and not name.startswith("_") and value.__module__ == module.__name__


def _peak_rss_bytes() -> int:
    # ru_maxrss is in kilobytes on Linux (bytes on macOS; this benchmark is run on Linux).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# --- the report ---------------------------------------------------------------------------------


def _measurement_json(measurement: Measurement) -> dict[str, Any]:
    best = measurement.best_seconds
    floor = measurement.best_floor_seconds
    over_floor = measurement.over_floor
    return {
        "team_id": measurement.team_id,
        "deals": measurement.deals,
        "events": measurement.events,
        "spells": measurement.spells,
        "seconds": [round(value, 4) for value in measurement.seconds],
        "best_seconds": None if best is None else round(best, 4),
        "floor_seconds": [round(value, 4) for value in measurement.floor_seconds],
        "best_floor_seconds": None if floor is None else round(floor, 4),
        "digest_over_floor": None if over_floor is None else round(over_floor, 2),
        "floor_by_statement": {name: round(value, 4) for name, value in measurement.floor.items()},
        "events_floor_seconds": [round(value, 4) for value in measurement.events_floor_seconds],
        "tracemalloc_peak_bytes": measurement.tracemalloc_peak_bytes,
        "rss_growth_bytes": measurement.rss_growth_bytes,
        "timed_out_after_seconds": measurement.timed_out_after,
        "digest": measurement.summary,
        "digest_fingerprint": measurement.fingerprint,
        **({"per_query": measurement.per_query} if measurement.per_query else {}),
    }


def ratios(small: Measurement, large: Measurement) -> dict[str, float | None]:
    def ratio(big: float | None, little: float | None) -> float | None:
        return None if big is None or not little else round(big / little, 2)

    return {
        "seconds": ratio(large.best_seconds, small.best_seconds),
        "tracemalloc_peak": ratio(large.tracemalloc_peak_bytes, small.tracemalloc_peak_bytes),
    }


def render_table(report: dict[str, Any], measurements: dict[str, Measurement]) -> str:
    loaded = report["loaded"][LARGE_TEAM]
    statistics = ", SQLite analyzed" if report["sqlite_analyzed"] else ""
    check = report["spell_check"]
    load = "/".join(f"{value:.1f}" for value in report["load_average_at_start"])
    load_end = "/".join(f"{value:.1f}" for value in report["load_average_at_end"])
    lines = [
        f"Digest on {report['database']} ({report['url']}{statistics}), as of {report['as_of']}, "
        f"seed {report['seed']}; load average {load} at start, {load_end} at end",
        f"Loaded in {report['load_seconds']} s; the large history: {loaded['deals']:,} deals "
        f"({loaded['lost']:,} lost), {loaded['events']:,} events, {loaded['moves']:,} move requests "
        f"({loaded['pending']:,} pending), {loaded['spells']:,} stage spells",
        f"Stage spells: {check['rows']:,} rows in all; {check['team_checked']} derived again from its events "
        f"(storage.spells.compare): {check['differences']} differences",
    ]
    if LONG_TEAM in report["loaded"]:
        long = report["loaded"][LONG_TEAM]
        lines.append(
            f"The long history: the large one's stories plus {long['old_deals']:,} deals / {long['old_events']:,} "
            f"events lost in the {report['long_over_large']['old_history_days']} days before its year"
        )
    header = ("history", "deals", "events", "spells", "digest", "floor", "digest/floor", "tracemalloc", "RSS growth")
    row_format = "{:<11} {:>9} {:>11} {:>11} {:>18} {:>9} {:>12} {:>11} {:>10}"
    lines += ["", row_format.format(*header)]
    for team, row in measurements.items():
        floor = row.best_floor_seconds
        lines.append(
            row_format.format(
                LABELS[team],
                f"{row.deals:,}",
                f"{row.events:,}",
                f"{row.spells:,}",
                _time(row),
                "n/a" if floor is None else f"{floor:.3f} s",
                _times(row.over_floor),
                _mib(row.tracemalloc_peak_bytes),
                _mib(row.rss_growth_bytes),
            )
        )
    ratio = report["large_over_small"]
    lines.append(f"large/small: time {_times(ratio['seconds'])}, tracemalloc peak {_times(ratio['tracemalloc_peak'])}")
    if "long_over_large" in report:
        longer = report["long_over_large"]
        same = "the same digest" if longer["same_digest"] else "A DIFFERENT DIGEST"
        peak = _times(longer["tracemalloc_peak"])
        lines.append(f"long/large: time {_times(longer['seconds'])}, tracemalloc peak {peak}, {same}")
    large = measurements[LARGE_TEAM]
    if large.summary:
        lines += ["", "Large digest: " + ", ".join(f"{key} {value:,}" for key, value in large.summary.items())]
    if large.floor:
        lines += ["", f"{'floor statement (large), best of ' + str(len(large.floor_seconds)):<58} {'seconds':>9}"]
        for name, seconds in large.floor.items():
            lines.append(f"{name:<58} {seconds:>9.3f}")
        lines.append(f"{'all, best run':<58} {large.best_floor_seconds or 0:>9.3f}")
    if large.events_floor_seconds:
        lines.append(f"{'context, the old floor: ' + EVENTS_FLOOR:<58} {min(large.events_floor_seconds):>9.3f}")
    for team in (LARGE_TEAM, LONG_TEAM):
        measurement = measurements.get(team)
        if measurement is None or not measurement.per_query:
            continue
        lines += ["", f"{'query function (' + LABELS[team] + ')':<40} {'calls':>5} {'seconds':>9} {'peak':>12}"]
        for name, stats in sorted(measurement.per_query.items(), key=lambda item: -item[1]["seconds"]):
            lines.append(
                f"{name:<40} {int(stats['calls']):>5} {stats['seconds']:>9.3f} {_mib(int(stats['peak_bytes'])):>12}"
            )
    return "\n".join(lines)


def _time(row: Measurement) -> str:
    if row.timed_out_after is not None:
        return f"> {row.timed_out_after:.0f} s (stopped)"
    best = row.best_seconds
    return "n/a" if best is None else f"{best:.3f} s (best of {len(row.seconds)})"


def _times(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} x"


def _mib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 2**20:.2f} MiB"


if __name__ == "__main__":
    sys.exit(main())
