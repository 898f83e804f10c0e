"""Does the pipeline digest stay flat in memory as the history grows, and how long does it take?

Loads a realistic event history for a large workspace (100,000 deals / 1,000,000 events by default)
and a small one (1,000 / 10,000) into a fresh database, then measures `compute_digest` on each in a
fresh interpreter: wall time (best of 3, or of fewer once the runs add up to a minute), the peak of
Python allocations during one call (tracemalloc), and the growth of the process's peak RSS as a
cross-check.

Run from the repository root (see bench/README.md):

    python -m bench.digest_scale [--database-url URL] [--deals N] [--events-per-deal N] [--seed N] [--json]

The database must not exist yet: a SQLite file is created (default: in a temporary directory), a
PostgreSQL database is created through the server's `postgres` database; both are removed at the
end unless `--keep` is given.
"""

import argparse
import inspect
import json
import multiprocessing
import random
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from commands.digest import compute_digest, period_ending
from commands.pipeline import Pipeline
from commands.pipeline_file import default_pipeline
from commands.services import Services
from storage import report_queries
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade_to_head
from storage.models import Deal, DealEvent, DealSequence, MoveRequest

LARGE_TEAM = "TBENCHLARGE"
SMALL_TEAM = "TBENCHSMALL"
WARM_UP_TEAM = "TBENCHWARMUP"
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


@dataclass
class Loaded:
    deals: int = 0
    events: int = 0
    moves: int = 0
    pending: int = 0
    lost: int = 0


@dataclass
class Measurement:
    team_id: str
    seconds: list[float] = field(default_factory=list)
    tracemalloc_peak_bytes: int | None = None
    rss_growth_bytes: int | None = None
    summary: dict[str, int] = field(default_factory=dict)
    per_query: dict[str, dict[str, float]] = field(default_factory=dict)
    timed_out_after: float | None = None
    deals: int = 0
    events: int = 0

    @property
    def best_seconds(self) -> float | None:
        return min(self.seconds) if self.seconds else None


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
    parser.add_argument("--per-query", action="store_true", help="also time each report_queries function")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        help=f"give up on a history's measurement after this many seconds (default {DEFAULT_TIMEOUT_SECONDS})",
    )
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="also ANALYZE a SQLite database after loading (the app never does; PostgreSQL is always analyzed)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards (for EXPLAIN)")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    arguments = parser.parse_args(argv)
    if arguments.deals < 1 or arguments.small_deals < 1 or arguments.events_per_deal < 1:
        parser.error("--deals, --small-deals and --events-per-deal must be at least 1")
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    as_of = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    histories = (
        History(WARM_UP_TEAM, WARM_UP_DEALS, arguments.events_per_deal),
        History(SMALL_TEAM, arguments.small_deals, arguments.events_per_deal),
        History(LARGE_TEAM, arguments.deals, arguments.events_per_deal),
    )
    with fresh_database(arguments.database_url, keep=arguments.keep) as url:
        engine = make_engine(url)
        upgrade_to_head(engine)
        started = time.perf_counter()
        pipeline = default_pipeline()
        loaded = {
            history.team_id: load_history(engine, history, pipeline=pipeline, as_of=as_of, seed=arguments.seed)
            for history in histories
        }
        analyze(engine, sqlite_too=arguments.analyze)
        load_seconds = time.perf_counter() - started
        dialect = engine.dialect.name
        engine.dispose()
        small = measure_apart(url, SMALL_TEAM, as_of, per_query=False, timeout=arguments.timeout)
        large = measure_apart(url, LARGE_TEAM, as_of, per_query=arguments.per_query, timeout=arguments.timeout)
    small.deals, small.events = loaded[SMALL_TEAM].deals, loaded[SMALL_TEAM].events
    large.deals, large.events = loaded[LARGE_TEAM].deals, loaded[LARGE_TEAM].events
    report = {
        "database": dialect,
        "url": make_url(url).render_as_string(hide_password=True),
        "kept": arguments.keep,
        "as_of": as_of.isoformat(),
        "seed": arguments.seed,
        "sqlite_analyzed": dialect == "sqlite" and arguments.analyze,
        "load_seconds": round(load_seconds, 1),
        "loaded": {team: asdict(counts) for team, counts in loaded.items()},
        "small": _measurement_json(small),
        "large": _measurement_json(large),
        "large_over_small": ratios(small, large),
    }
    print(json.dumps(report, indent=2) if arguments.json else render_table(report, small, large))
    return 0


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
    """PostgreSQL's autovacuum analyzes freshly loaded tables within a minute; do it now. The app never
    analyzes SQLite, so by default SQLite is measured without statistics, as it runs in production."""
    if engine.dialect.name == "postgresql" or sqlite_too:
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


def plan_story(rng: random.Random, budget: int, stages: int) -> list[str]:
    """Steps whose events add up to exactly `budget`: created, then moves, then how the story ends."""
    last = stages - 1
    roll = rng.random()
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
        self.loaded = Loaded()

    def add_deal(self, rng: random.Random, *, number: int, steps: list[str], as_of: datetime) -> None:
        deal_id = self.next_deal_id
        self.next_deal_id += 1
        owner = rng.choice(OWNERS)
        company = rng.choice(COMPANIES) if rng.random() < 0.9 else None
        times = _event_times(rng, steps, as_of)
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
        """Parents before children (deals, moves, events), one transaction per batch."""
        for table, rows in ((Deal, self.deals), (MoveRequest, self.moves), (DealEvent, self.events)):
            for start in range(0, len(rows), BATCH_ROWS):
                self.connection.execute(insert(table), rows[start : start + BATCH_ROWS])
        self.connection.commit()
        self.loaded.moves += len(self.moves)
        self.loaded.events += len(self.events)
        self.deals, self.moves, self.events = [], [], []


def _event_times(rng: random.Random, steps: list[str], as_of: datetime) -> Iterator[datetime]:
    """One strictly increasing time per event of the story, all in the last HISTORY_DAYS.

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
    history = HISTORY_DAYS * days
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
    rng = random.Random(f"{seed}:{history.team_id}")
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
        connection.execute(insert(DealSequence), [{"team_id": history.team_id, "last_number": history.deals}])
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
    so what grows afterwards is what this workspace's history costs."""
    engine = make_engine(url)
    services = Services(sessions=make_session_factory(engine), pipeline=default_pipeline())
    period = period_ending(as_of)
    compute_digest(services, team_id=WARM_UP_TEAM, period=period)
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
        "forecast_basis": digest.forecast.basis,
    }
    measurement = Measurement(team_id, seconds, peak, rss_growth, summary)
    if per_query:
        measurement.per_query = _per_query(services, team_id, period)
    engine.dispose()
    return measurement


def _per_query(services: Services, team_id: str, period: Any) -> dict[str, dict[str, float]]:
    """Each report_queries function as compute_digest calls it: calls, total seconds, peak traced bytes."""
    names = [name for name, value in vars(report_queries).items() if _is_query(name, value)]
    stats = {name: {"calls": 0.0, "seconds": 0.0, "peak_bytes": 0.0} for name in names}
    originals = {name: getattr(report_queries, name) for name in names}

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
        for name, function in originals.items():
            setattr(report_queries, name, timed(name, function))
        compute_digest(services, team_id=team_id, period=period)
        tracemalloc.start()
        compute_digest(services, team_id=team_id, period=period)
        tracemalloc.stop()
    finally:
        for name, function in originals.items():
            setattr(report_queries, name, function)
    return {name: row for name, row in stats.items() if row["calls"]}


def _is_query(name: str, value: Any) -> bool:
    return inspect.isfunction(value) and not name.startswith("_") and value.__module__ == report_queries.__name__


def _peak_rss_bytes() -> int:
    # ru_maxrss is in kilobytes on Linux (bytes on macOS; this benchmark is run on Linux).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# --- the report ---------------------------------------------------------------------------------


def _measurement_json(measurement: Measurement) -> dict[str, Any]:
    best = measurement.best_seconds
    return {
        "team_id": measurement.team_id,
        "deals": measurement.deals,
        "events": measurement.events,
        "seconds": [round(value, 4) for value in measurement.seconds],
        "best_seconds": None if best is None else round(best, 4),
        "tracemalloc_peak_bytes": measurement.tracemalloc_peak_bytes,
        "rss_growth_bytes": measurement.rss_growth_bytes,
        "timed_out_after_seconds": measurement.timed_out_after,
        "digest": measurement.summary,
        **({"per_query": measurement.per_query} if measurement.per_query else {}),
    }


def ratios(small: Measurement, large: Measurement) -> dict[str, float | None]:
    def ratio(big: float | None, little: float | None) -> float | None:
        return None if big is None or not little else round(big / little, 2)

    return {
        "seconds": ratio(large.best_seconds, small.best_seconds),
        "tracemalloc_peak": ratio(large.tracemalloc_peak_bytes, small.tracemalloc_peak_bytes),
    }


def render_table(report: dict[str, Any], small: Measurement, large: Measurement) -> str:
    loaded = report["loaded"][LARGE_TEAM]
    statistics = ", SQLite analyzed" if report["sqlite_analyzed"] else ""
    header = ("history", "deals", "events", "time", "tracemalloc peak", "peak RSS growth")
    lines = [
        f"Digest on {report['database']} ({report['url']}{statistics}), as of {report['as_of']}, seed {report['seed']}",
        f"Loaded in {report['load_seconds']} s; the large history: {loaded['deals']:,} deals "
        f"({loaded['lost']:,} lost), {loaded['events']:,} events, {loaded['moves']:,} move requests "
        f"({loaded['pending']:,} pending)",
        "",
        "{:<11} {:>9} {:>11} {:>18} {:>17} {:>16}".format(*header),
    ]
    for label, row in (("small", small), ("large", large)):
        lines.append(
            f"{label:<11} {row.deals:>9,} {row.events:>11,} {_time(row):>18} "
            f"{_mib(row.tracemalloc_peak_bytes):>17} {_mib(row.rss_growth_bytes):>16}"
        )
    ratio = report["large_over_small"]
    lines.append(
        f"{'large/small':<11} {'':>9} {'':>11} {_times(ratio['seconds']):>18} {_times(ratio['tracemalloc_peak']):>17}"
    )
    if large.summary:
        lines += ["", "Large digest: " + ", ".join(f"{key} {value:,}" for key, value in large.summary.items())]
    if large.per_query:
        lines += ["", f"{'report_queries function (large)':<32} {'calls':>5} {'seconds':>9} {'peak':>12}"]
        for name, stats in sorted(large.per_query.items(), key=lambda item: -item[1]["seconds"]):
            lines.append(
                f"{name:<32} {int(stats['calls']):>5} {stats['seconds']:>9.3f} {_mib(int(stats['peak_bytes'])):>12}"
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
