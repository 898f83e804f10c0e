"""Command line: `python -m commands digest [--team T] [--as-of YYYY-MM-DD] [--tz ZONE] [--json]`.

Reads DATABASE_URL and PIPELINE_FILE from the environment or `.env`, like the app.
"""

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import find_dotenv, load_dotenv
from sqlalchemy.exc import SQLAlchemyError

from commands.digest import DEFAULT_PERIOD_DAYS, DEFAULT_WINDOW_DAYS, compute_digest, local_midnight, period_ending
from commands.digest_text import digest_text
from commands.pipeline_file import PipelineFileError, default_pipeline, load_pipeline
from commands.services import Services
from storage import report_queries
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade_to_head


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m commands", description="Pipeline tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    digest = commands.add_parser("digest", help="the pipeline digest, as text or JSON")
    digest.add_argument("--team", help="Slack workspace id (default: the only one in the database)")
    digest.add_argument("--as-of", type=date.fromisoformat, help="end of the period: midnight starting this date")
    digest.add_argument("--tz", default="UTC", help="IANA zone for the period's midnight (default UTC)")
    digest.add_argument("--days", type=int, default=DEFAULT_PERIOD_DAYS, help="period length in days")
    digest.add_argument("--window", type=int, default=DEFAULT_WINDOW_DAYS, help="conversion window in days")
    digest.add_argument("--json", action="store_true", help="print JSON instead of text")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    load_dotenv(find_dotenv(usecwd=True))
    try:
        ZoneInfo(arguments.tz)
        pipeline_file = os.environ.get("PIPELINE_FILE", "").strip()
        pipeline = load_pipeline(pipeline_file) if pipeline_file else default_pipeline()
        engine = make_engine(os.environ.get("DATABASE_URL", "").strip() or "sqlite:///salesbot.db")
        upgrade_to_head(engine, stage_keys=pipeline.keys)
        services = Services(sessions=make_session_factory(engine), pipeline=pipeline)
        team = arguments.team or _only_team(services)
        as_of = local_midnight(arguments.as_of, arguments.tz) if arguments.as_of else datetime.now(UTC)
        period = period_ending(as_of, days=arguments.days, tz=arguments.tz)
        digest = compute_digest(services, team_id=team, period=period, window_days=arguments.window)
    except (ZoneInfoNotFoundError, ValueError) as error:
        print(f"python -m commands: {error}", file=sys.stderr)
        return 2
    except (PipelineFileError, SQLAlchemyError, LookupError) as error:
        print(f"python -m commands: {error}", file=sys.stderr)
        return 1
    print(json.dumps(digest.to_json(), indent=2) if arguments.json else digest_text(digest))
    return 0


def _only_team(services: Services) -> str:
    with services.sessions() as session:
        teams = list(report_queries.team_ids(session))
    if len(teams) != 1:
        raise LookupError(
            f"the database has {len(teams)} workspaces ({', '.join(teams) or 'none'}); choose one with --team"
        )
    return teams[0]


if __name__ == "__main__":
    sys.exit(main())
