"""How much does "Your week" (the reader's own digest, `commands.digest.own`) add to the Home tab?

Imports a simulated 10,000-deal workspace (bench.simulated_pipeline, shape `steady`) into a fresh database, then
times, for the owner with the most deals: `home_overview` (which includes the summary), `own_summary` alone,
and, as the floor, `home_overview` with the summary replaced by a constant. Best of `--runs` each.

    python -m bench.home_own_week [--database-url URL] [--runs N]

Without --database-url a SQLite file in a temporary directory is used. The database must be empty.
"""

import argparse
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

from bench.simulated_pipeline import SHAPES, simulate, write_csv
from commands.crm.exports import read_deals
from commands.crm.import_deals import import_deals
from commands.deals import home
from commands.digest.own import own_summary
from commands.pipeline.loading import default_pipeline
from commands.services import Actor, Services
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade_to_head

TEAM = "T1"
HISTORY_DAYS = 2_000


def best(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    url = arguments.database_url or f"sqlite:///{folder / 'bench.db'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    now = datetime.now(UTC).replace(microsecond=0)
    services = Services(
        sessions=make_session_factory(engine), pipeline=default_pipeline(), env_managers=frozenset(), clock=lambda: now
    )
    as_of = now - timedelta(hours=1)
    path = folder / "deals.csv"
    written = write_csv(simulate(SHAPES["steady"], 1, as_of, HISTORY_DAYS), path, as_of)
    deals = read_deals(path, file_format="ours", pipeline=services.pipeline, now=now, default_channel="C0SALES1")
    import_deals(services, team_id=TEAM, deals=deals, source=path.name, dry_run=False)
    owner, owned = Counter(deal.owner_id for deal in deals).most_common(1)[0]
    actor = Actor(TEAM, owner)
    with_week = best(arguments.runs, lambda: home.home_overview(services, actor))
    alone = best(arguments.runs, lambda: own_summary(services, team_id=TEAM, owner_id=owner, at=now))
    constant = own_summary(services, team_id=TEAM, owner_id=owner, at=now)
    with mock.patch.object(home, "own_summary", lambda *_, **__: constant):
        without = best(arguments.runs, lambda: home.home_overview(services, actor))
    print(f"database: {engine.dialect.name}; deals: {written}; owner {owner} owns {owned}")
    print(f"home_overview without the week: {without * 1000:.1f} ms")
    print(f"home_overview with the week:    {with_week * 1000:.1f} ms")
    print(f"own_summary alone:              {alone * 1000:.1f} ms")


if __name__ == "__main__":
    main()
