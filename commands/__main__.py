"""Command line, reading DATABASE_URL and PIPELINE_FILE from the environment or `.env`, like the app:

    python -m commands digest [--team T] [--as-of YYYY-MM-DD] [--tz ZONE] [--json]
    python -m commands import FILE.csv --team T [--format ours|hubspot|pipedrive] [--stage-map FILE]
                                       [--channel C…] [--dry-run]
    python -m commands check [--team T] [--fix]

Exit codes: 0 done, 1 refused (bad data, an unknown --team, or differences found by check), 2 bad arguments.
`digest` on a database without any deal prints one line saying so on stderr and exits 0.
"""

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import find_dotenv, load_dotenv
from sqlalchemy.exc import SQLAlchemyError

from commands.crm_import import CHANNEL_ID, FORMAT_NAMES, FORMATS, StageMap, load_stage_map, read_deals
from commands.digest import DEFAULT_PERIOD_DAYS, DEFAULT_WINDOW_DAYS, compute_digest, local_midnight, period_ending
from commands.digest_text import digest_text
from commands.errors import CommandError
from commands.import_history import PROGRESS_EVERY, import_deals
from commands.parsing import format_deal_id
from commands.pipeline import Pipeline
from commands.pipeline_file import PipelineFileError, default_pipeline, load_pipeline
from commands.services import Services
from commands.stage_history import HistoryDifference, check_stage_history
from storage import report_queries, spells
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade_to_head

PROG = "python -m commands"
TEAM_ID = re.compile(r"[A-Z][A-Z0-9]{0,31}")
MAX_PERIOD_DAYS = 366
MAX_WINDOW_DAYS = 3650


def days_between(low: int, high: int, what: str) -> Callable[[str], int]:
    """An argparse type: a whole number of days from `low` to `high`, refused with a message otherwise."""

    def parse(text: str) -> int:
        try:
            days = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days ({what})") from None
        if not low <= days <= high:
            raise argparse.ArgumentTypeError(f"{days} days is out of range: give {low} to {high} days ({what})")
        return days

    return parse


NO_DEALS_YET = (
    "no digest: the database holds no deals yet (create one with /deal new in Slack, "
    f"or import a CRM export with `{PROG} import`)"
)


class BadArguments(Exception):
    """An argument the command cannot use: exit code 2."""


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description="Pipeline tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    digest = commands.add_parser("digest", help="the pipeline digest, as text or JSON")
    digest.add_argument("--team", help="Slack workspace id (default: the only one in the database)")
    digest.add_argument("--as-of", type=date.fromisoformat, help="end of the period: midnight starting this date")
    digest.add_argument("--tz", default="UTC", help="IANA zone for the period's midnight (default UTC)")
    digest.add_argument(
        "--days",
        type=days_between(1, MAX_PERIOD_DAYS, "the period's length"),
        default=DEFAULT_PERIOD_DAYS,
        help=f"period length in days, 1 to {MAX_PERIOD_DAYS} (default {DEFAULT_PERIOD_DAYS})",
    )
    digest.add_argument(
        "--window",
        type=days_between(1, MAX_WINDOW_DAYS, "the conversion window"),
        default=DEFAULT_WINDOW_DAYS,
        help=f"conversion window in days, 1 to {MAX_WINDOW_DAYS} (default {DEFAULT_WINDOW_DAYS})",
    )
    digest.add_argument("--json", action="store_true", help="print JSON instead of text")
    imports = commands.add_parser("import", help="import deals and their stage history from a CRM export (CSV)")
    imports.add_argument("file", type=Path, help="the CSV file")
    imports.add_argument("--team", required=True, help="Slack workspace id to import into, like T0123ABCD")
    imports.add_argument("--format", choices=FORMATS, default="ours", help="the file's format (default: ours)")
    imports.add_argument("--stage-map", type=Path, help="YAML file mapping their stages and owners to ours")
    imports.add_argument("--channel", help="Slack channel id for deals whose row names none, like C0123ABCD")
    imports.add_argument("--dry-run", action="store_true", help="check the file and report; write nothing")
    check = commands.add_parser("check", help="rebuild the stage spells from the events and report differences")
    check.add_argument("--team", help="Slack workspace id (default: every workspace)")
    check.add_argument("--fix", action="store_true", help="rewrite the spells that differ from the events")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    load_dotenv(find_dotenv(usecwd=True))
    if arguments.command == "import":
        return _run(_import, arguments)
    if arguments.command == "check":
        return _run(_check, arguments)
    return _digest(arguments)


def _digest(arguments: argparse.Namespace) -> int:
    try:
        ZoneInfo(arguments.tz)
        pipeline = _pipeline()
        services = _services(pipeline)
        teams = _team_ids(services)
        if not teams and not arguments.team:
            # A fresh install: nothing is wrong, there is just nothing to digest yet.
            print(f"{PROG} digest: {NO_DEALS_YET}", file=sys.stderr)
            return 0
        team = arguments.team or _only_team(teams)
        if team not in teams:
            holds = f"it holds {_listed(teams)}" if teams else "it holds no deals yet"
            raise LookupError(f"workspace {team} has no data in this database ({holds}); check --team")
        as_of = local_midnight(arguments.as_of, arguments.tz) if arguments.as_of else datetime.now(UTC)
        period = period_ending(as_of, days=arguments.days, tz=arguments.tz)
        digest = compute_digest(services, team_id=team, period=period, window_days=arguments.window)
    except (ZoneInfoNotFoundError, ValueError) as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 2
    except (PipelineFileError, SQLAlchemyError, LookupError) as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 1
    print(json.dumps(digest.to_json(), indent=2) if arguments.json else digest_text(digest))
    return 0


def _run(command: Callable[[argparse.Namespace], int], arguments: argparse.Namespace) -> int:
    try:
        return command(arguments)
    except BadArguments as error:
        print(f"{PROG} {arguments.command}: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"{PROG} {arguments.command}: {error.message}", file=sys.stderr)
        return 1
    except (PipelineFileError, SQLAlchemyError) as error:
        print(f"{PROG} {arguments.command}: {error}", file=sys.stderr)
        return 1


def _import(arguments: argparse.Namespace) -> int:
    path: Path = arguments.file
    _require_file(path, "the file to import")
    if not TEAM_ID.fullmatch(arguments.team):
        raise BadArguments(f"--team {arguments.team!r} is not a Slack workspace id (like T0123ABCD)")
    if arguments.channel is not None and not CHANNEL_ID.fullmatch(arguments.channel):
        raise BadArguments(f"--channel {arguments.channel!r} is not a Slack channel id (like C0123ABCD)")
    if arguments.format != "ours" and arguments.stage_map is None:
        raise BadArguments(
            f"--format {arguments.format} needs --stage-map FILE: a YAML file mapping their stage labels to "
            "our stage keys (see examples/stage-map.yaml)"
        )
    pipeline = _pipeline()
    stage_map: StageMap | None = None
    if arguments.stage_map is not None:
        _require_file(arguments.stage_map, "the stage map")
        stage_map = load_stage_map(arguments.stage_map, stage_keys=pipeline.keys)
    deals = read_deals(
        path,
        file_format=arguments.format,
        pipeline=pipeline,
        now=datetime.now(UTC),
        stage_map=stage_map,
        default_channel=arguments.channel,
    )
    if len(deals) >= PROGRESS_EVERY:
        print(f"read {len(deals):,} deals from {path.name}", file=sys.stderr)
    services = _services(pipeline)
    summary = import_deals(
        services,
        team_id=arguments.team,
        deals=deals,
        source=f"{FORMAT_NAMES[arguments.format]} {path.name}",
        dry_run=arguments.dry_run,
        progress=lambda done, total: print(f"imported {done:,} of {total:,} deals", file=sys.stderr),
    )
    print(summary.text(pipeline))
    return 0


def _check(arguments: argparse.Namespace) -> int:
    pipeline = _pipeline()
    try:
        found = check_stage_history(_services(pipeline), team_id=arguments.team, fix=arguments.fix)
    except CommandError as error:
        raise BadArguments(error.message) from None
    for difference in found:
        print(_difference_line(difference))
    where = f" in {arguments.team}" if arguments.team else ""
    if not found:
        print(f"No differences{where}: every deal's stage spells are what its events say.")
        return 0
    count = f"{len(found)} deal{'s' if len(found) != 1 else ''}"
    if arguments.fix:
        print(f"Rewrote the stage spells of {count}{where} from their events.")
        return 0
    verb = "differs" if len(found) == 1 else "differ"
    print(f"{count}{where} {verb} from their events. Run `{PROG} check --fix` to rewrite them from the events.")
    return 1


def _difference_line(difference: HistoryDifference) -> str:
    deal = format_deal_id(difference.deal_number) if difference.deal_number is not None else "a deal"
    parts = []
    if difference.missing:
        parts.append("missing: " + "; ".join(_spell_text(spell) for spell in difference.missing))
    if difference.extra:
        parts.append("stored but not in the events: " + "; ".join(_spell_text(spell) for spell in difference.extra))
    if not parts:
        parts.append(
            f"the same spells in another order: stored {len(difference.stored)}, derived {len(difference.derived)}"
        )
    return f"{deal} ({difference.team_id}): " + "; ".join(parts)


def _spell_text(spell: spells.Spell) -> str:
    left = f" to {_when(spell.left_at)}" if spell.left_at is not None else ""
    return f"{spell.stage_key} from {_when(spell.entered_at)} ({spell.entered_via}){left}, {spell.ended}"


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _pipeline() -> Pipeline:
    pipeline_file = os.environ.get("PIPELINE_FILE", "").strip()
    return load_pipeline(pipeline_file) if pipeline_file else default_pipeline()


def _services(pipeline: Pipeline) -> Services:
    engine = make_engine(os.environ.get("DATABASE_URL", "").strip() or "sqlite:///salesbot.db")
    upgrade_to_head(engine, stage_keys=pipeline.keys)
    return Services(sessions=make_session_factory(engine), pipeline=pipeline)


def _require_file(path: Path, what: str) -> None:
    if not path.is_file():
        raise BadArguments(f"{path}: no such file ({what})")


def _team_ids(services: Services) -> list[str]:
    with services.sessions() as session:
        return sorted(report_queries.team_ids(session))


def _only_team(teams: list[str]) -> str:
    if len(teams) != 1:
        raise LookupError(f"the database has {len(teams)} workspaces ({_listed(teams)}); choose one with --team")
    return teams[0]


def _listed(teams: list[str], shown: int = 5) -> str:
    more = f" and {len(teams) - shown} more" if len(teams) > shown else ""
    return ", ".join(teams[:shown]) + more


if __name__ == "__main__":
    sys.exit(main())
