"""The command line, `salesbot` (also `python -m commands`): the digest, CRM imports, a check of the stage history,
and a lint of a pipeline file.

It reads DATABASE_URL and PIPELINE_FILE from the environment or `.env`, like the app:

    salesbot digest [--team T] [--owner U] [--as-of YYYY-MM-DD] [--tz ZONE] [--days N] [--window N]
                    [--language en|es|sv|ro] [--json]
    salesbot import FILE.csv --team T [--format ours|hubspot|pipedrive] [--stage-map FILE] [--channel C] [--dry-run]
    salesbot check [--team T] [--fix]
    salesbot lint FILE

Exit codes: 0 done, 1 refused (bad data, an unknown --team, differences found by check, findings of lint), 2 bad
arguments (and a pipeline file that lint cannot load).
A bad argument is one line on stderr saying what was wrong and where to read how to do it right. Refusals by
argparse (an unknown option, a missing argument) leave `main` as SystemExit(2), as `--help` leaves it as SystemExit(0).
`digest` on a database without any deal prints one line saying so on stderr and exits 0.
"""

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from textwrap import dedent
from typing import NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import find_dotenv, load_dotenv
from sqlalchemy.exc import SQLAlchemyError

from commands.crm import import_deals
from commands.crm.exports import CHANNEL_ID, FORMAT_NAMES, FORMATS, StageMap, load_stage_map, read_deals
from commands.deals.stage_history import HistoryDifference, check_stage_history
from commands.digest.compute import (
    DEFAULT_PERIOD_DAYS,
    DEFAULT_WINDOW_DAYS,
    compute_digest,
    local_midnight,
    period_ending,
)
from commands.digest.text import digest_text
from commands.errors import CommandError
from commands.formats import format_deal_id, plural
from commands.i18n.languages import Language
from commands.pipeline.lint import lint_pipeline
from commands.pipeline.loading import FieldLines, PipelineFileError, default_pipeline, load_pipeline
from commands.pipeline.stages import Pipeline
from commands.services import Services
from commands.workspace.settings import workspace_settings
from storage import report_queries, spells
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade_to_head

PROG = "salesbot"
"""The console script's name (pyproject.toml, [project.scripts]); `python -m commands` passes its own."""
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


def calendar_date(text: str) -> date:
    """An argparse type: a date written YYYY-MM-DD, refused with a message otherwise."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: give YYYY-MM-DD, like 2026-11-23") from None


def no_deals_yet(prog: str) -> str:
    return (
        "no digest: the database holds no deals yet (create one with /deal new in Slack, "
        f"or import a CRM export with `{prog} import`)"
    )


class BadArguments(Exception):
    """An argument the command cannot use: exit code 2."""


class _Parser(argparse.ArgumentParser):
    """Refuses a bad argument in one line, naming the command and where its help is, instead of usage and error."""

    subcommands: dict[str, "_Parser"]
    """The top-level parser's subcommands by name, set by build_parser."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}. See `{self.prog} --help`.\n")


_FORMATTER = argparse.RawDescriptionHelpFormatter


def _text(block: str, prog: str) -> str:
    return dedent(block).strip().replace("PROG", prog)


def build_parser(prog: str = PROG) -> _Parser:
    """The whole command line; `prog` is the command as the user types it, used in every message and example."""
    other = "python -m commands" if prog == PROG else PROG
    parser = _Parser(
        prog=prog,
        formatter_class=_FORMATTER,
        description=_text(
            """
            Sales pipeline tools: the pipeline digest, CRM imports, a check of the stage history,
            and a lint of a pipeline file.
            They use the same database and pipeline as the bot: DATABASE_URL and PIPELINE_FILE,
            read from the environment or from a `.env` file.
            """,
            prog,
        ),
        epilog=_text(
            f"""
            Run `PROG COMMAND --help` for a command's options and examples.
            `{other}` is the same command line.

            Exit codes: 0 done; 1 refused (bad data, a --team without data, differences found by check,
            findings of lint); 2 bad arguments, or a pipeline file that does not load.
            """,
            prog,
        ),
    )
    commands = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND", parser_class=_Parser)
    parser.subcommands = {
        "digest": _add_digest(commands, prog),
        "import": _add_import(commands, prog),
        "check": _add_check(commands, prog),
        "lint": _add_lint(commands, prog),
    }
    return parser


def _add_digest(commands: "argparse._SubParsersAction[_Parser]", prog: str) -> _Parser:
    digest = commands.add_parser(
        "digest",
        help="print the pipeline digest for a period, as text or JSON",
        formatter_class=_FORMATTER,
        description=_text(
            """
            Print the pipeline digest: the same numbers as the digest the bot posts in Slack
            (deals per stage, how many moved on or dropped out, conversion rates, median days
            in each stage, and the forecast), for the days up to a midnight.

            On a database without any deal it says so in one line and exits 0;
            a --team with no data in the database exits 1.
            """,
            prog,
        ),
        epilog=_text(
            """
            examples:
              PROG digest --json
                  the last 7 days up to now, as JSON (without --json: as text)
              PROG digest --team T0123ABCD --as-of 2026-11-23 --tz Europe/Berlin
                  the 7 days up to that midnight in Berlin, for that workspace
              PROG digest --days 30 --window 365
                  the last 30 days, with conversion rates read over a year
              PROG digest --language sv
                  the digest in Swedish
            """,
            prog,
        ),
    )
    digest.add_argument("--team", metavar="T", help="Slack workspace id (default: the only one in the database)")
    digest.add_argument(
        "--owner",
        metavar="U",
        help="narrow the digest to the deals this Slack user id owns; the rates stay the team's (default: everyone)",
    )
    digest.add_argument(
        "--as-of",
        type=calendar_date,
        metavar="YYYY-MM-DD",
        help="end the period at the midnight starting this date (default: now)",
    )
    digest.add_argument(
        "--tz", default="UTC", metavar="ZONE", help="IANA time zone of that midnight, like Europe/Berlin (default UTC)"
    )
    digest.add_argument(
        "--days",
        type=days_between(1, MAX_PERIOD_DAYS, "the period's length"),
        default=DEFAULT_PERIOD_DAYS,
        metavar="N",
        help=f"period length in days, 1 to {MAX_PERIOD_DAYS} (default {DEFAULT_PERIOD_DAYS})",
    )
    digest.add_argument(
        "--window",
        type=days_between(1, MAX_WINDOW_DAYS, "the conversion window"),
        default=DEFAULT_WINDOW_DAYS,
        metavar="N",
        help=f"conversion window in days, 1 to {MAX_WINDOW_DAYS} (default {DEFAULT_WINDOW_DAYS})",
    )
    digest.add_argument(
        "--language",
        choices=[language.value for language in Language],
        help="the language of the text (default: the workspace's, as set with /pipeline language); "
        "JSON is the same in every language",
    )
    digest.add_argument("--json", action="store_true", help="print JSON instead of text")
    return digest


def _add_import(commands: "argparse._SubParsersAction[_Parser]", prog: str) -> _Parser:
    imports = commands.add_parser(
        "import",
        help="import deals and their stage history from a CRM export (CSV)",
        formatter_class=_FORMATTER,
        description=_text(
            """
            Import deals and their stage history from a CRM export (CSV): our format
            (see examples/deals.csv), HubSpot's or Pipedrive's. The file is checked whole first:
            if any row is bad, nothing is imported and every problem is listed with its line
            number (exit 1). Deals whose CRM id the workspace already has are skipped, so
            importing the same file twice changes nothing. Nothing is posted to Slack.
            """,
            prog,
        ),
        epilog=_text(
            """
            examples:
              PROG import examples/deals.csv --team T0123ABCD --channel C0123SALES --dry-run
                  check the file and report what would be imported; write nothing
              PROG import examples/deals.csv --team T0123ABCD --channel C0123SALES
                  import it; rows without a channel go to C0123SALES
              PROG import hubspot.csv --team T0123ABCD --format hubspot --stage-map examples/stage-map.yaml
              PROG import pipedrive.csv --team T0123ABCD --format pipedrive --stage-map examples/stage-map.yaml
                  a HubSpot or Pipedrive export, their stages and owners mapped to ours
            """,
            prog,
        ),
    )
    imports.add_argument("file", type=Path, metavar="FILE", help="the CSV file")
    imports.add_argument("--team", required=True, metavar="T", help="Slack workspace id to import into, like T0123ABCD")
    imports.add_argument("--format", choices=FORMATS, default="ours", help="the file's format (default: ours)")
    imports.add_argument(
        "--stage-map",
        type=Path,
        metavar="FILE",
        help="YAML file mapping their stages and owners to ours, like examples/stage-map.yaml "
        "(needed with --format hubspot or pipedrive)",
    )
    imports.add_argument(
        "--channel", metavar="C", help="Slack channel id for deals whose row names none, like C0123ABCD"
    )
    imports.add_argument("--dry-run", action="store_true", help="check the file and report; write nothing")
    return imports


def _add_check(commands: "argparse._SubParsersAction[_Parser]", prog: str) -> _Parser:
    check = commands.add_parser(
        "check",
        help="compare the stage history with the events; --fix rewrites it",
        formatter_class=_FORMATTER,
        description=_text(
            """
            Rebuild every deal's stage history from its events (the source of truth) and compare
            it with the stored one. Prints one line per deal that differs, then a count, and exits 1;
            with --fix, rewrites those deals' history from their events in one transaction and exits 0.
            Run it after an import, or after changing the order of the stages in PIPELINE_FILE.
            """,
            prog,
        ),
        epilog=_text(
            """
            examples:
              PROG check
                  report the deals of every workspace whose stage history differs from their events
              PROG check --team T0123ABCD --fix
                  rewrite the stage history of that workspace's differing deals from their events
            """,
            prog,
        ),
    )
    check.add_argument("--team", metavar="T", help="Slack workspace id (default: every workspace)")
    check.add_argument("--fix", action="store_true", help="rewrite the stage history that differs from the events")
    return check


def _add_lint(commands: "argparse._SubParsersAction[_Parser]", prog: str) -> _Parser:
    lint = commands.add_parser(
        "lint",
        help="check a pipeline file against the four standards of a stage",
        formatter_class=_FORMATTER,
        description=_text(
            """
            Check a pipeline file (the format of PIPELINE_FILE) against the four standards of a
            buyer-centric stage: required (no exit criterion repeats another), factual (each
            criterion is something the buyer did, not a feeling), inspectable (each evidence prompt
            names an email, invite, document or message a manager can open) and buyer-centric
            (stage names say what the buyer has done). Prints each finding with its stage, its
            field and a suggested rewrite. Exits 0 with no findings, 1 with findings, and 2 when
            the file does not load (with the loader's messages). Touches no database.
            """,
            prog,
        ),
        epilog=_text(
            """
            examples:
              PROG lint examples/pipeline.yaml
                  check the example pipeline; it has no findings
              PROG lint my-pipeline.yaml && echo ready
                  check a team's pipeline before setting PIPELINE_FILE to it
            """,
            prog,
        ),
    )
    lint.add_argument("file", type=Path, metavar="FILE", help="the pipeline file (YAML)")
    return lint


def parse_arguments(argv: Sequence[str], prog: str = PROG) -> argparse.Namespace:
    """The arguments, or SystemExit(2) after one line on stderr saying what is wrong."""
    parser = build_parser(prog)
    arguments, unknown = parser.parse_known_args(argv)
    if arguments.command is None:
        parser.error("no command given: choose digest, import, check or lint")
    if unknown:
        # Refused by the subcommand, so that the message points at its --help and not the top-level one.
        parser.subcommands[arguments.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    return arguments


def main(argv: Sequence[str] | None = None, *, prog: str = PROG) -> int:
    """Run one command; its exit code. `prog` is how the user typed the command, for the messages."""
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv, prog)
    load_dotenv(find_dotenv(usecwd=True))
    if arguments.command == "import":
        return _run(_import, arguments, prog)
    if arguments.command == "check":
        return _run(_check, arguments, prog)
    if arguments.command == "lint":
        return _lint(arguments.file, prog)
    return _digest(arguments, prog)


def _digest(arguments: argparse.Namespace, prog: str) -> int:
    try:
        ZoneInfo(arguments.tz)
    except (ZoneInfoNotFoundError, ValueError):
        print(
            f"{prog} digest: --tz {arguments.tz!r} is not a time zone: give an IANA name like Europe/Berlin or UTC",
            file=sys.stderr,
        )
        return 2
    try:
        pipeline = _pipeline()
        services = _services(pipeline)
        teams = _team_ids(services)
        if not teams and not arguments.team:
            # A fresh install: nothing is wrong, there is just nothing to digest yet.
            print(f"{prog} digest: {no_deals_yet(prog)}", file=sys.stderr)
            return 0
        team = arguments.team or _only_team(teams)
        if team not in teams:
            holds = f"it holds {_listed(teams)}" if teams else "it holds no deals yet"
            raise LookupError(f"workspace {team} has no data in this database ({holds}); check --team")
        as_of = local_midnight(arguments.as_of, arguments.tz) if arguments.as_of else datetime.now(UTC)
        period = period_ending(as_of, days=arguments.days, tz=arguments.tz)
        settings = workspace_settings(services, team)
        digest = replace(
            compute_digest(
                services, team_id=team, period=period, window_days=arguments.window, owner_id=arguments.owner
            ),
            currency=settings.currency,
        )
        t = services.translators[Language(arguments.language) if arguments.language else settings.language]
    except ValueError as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return 2
    except (PipelineFileError, SQLAlchemyError, LookupError) as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return 1
    print(json.dumps(digest.to_json(), indent=2) if arguments.json else digest_text(t, digest))
    return 0


def _run(command: Callable[[argparse.Namespace, str], int], arguments: argparse.Namespace, prog: str) -> int:
    try:
        return command(arguments, prog)
    except BadArguments as error:
        print(f"{prog} {arguments.command}: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"{prog} {arguments.command}: {error.message}", file=sys.stderr)
        return 1
    except (PipelineFileError, SQLAlchemyError) as error:
        print(f"{prog} {arguments.command}: {error}", file=sys.stderr)
        return 1


def _import(arguments: argparse.Namespace, prog: str) -> int:
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
    if len(deals) >= import_deals.PROGRESS_EVERY:
        print(f"read {len(deals):,} deals from {path.name}", file=sys.stderr)
    services = _services(pipeline)
    summary = import_deals.import_deals(
        services,
        team_id=arguments.team,
        deals=deals,
        source=f"{FORMAT_NAMES[arguments.format]} {path.name}",
        dry_run=arguments.dry_run,
        progress=lambda done, total: print(f"imported {done:,} of {total:,} deals", file=sys.stderr),
    )
    print(summary.text(pipeline))
    return 0


def _check(arguments: argparse.Namespace, prog: str) -> int:
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
    count = plural(len(found), "deal")
    if arguments.fix:
        print(f"Rewrote the stage spells of {count}{where} from their events.")
        return 0
    verb = "differs" if len(found) == 1 else "differ"
    print(f"{count}{where} {verb} from their events. Run `{prog} check --fix` to rewrite them from the events.")
    return 1


def _lint(path: Path, prog: str) -> int:
    try:
        pipeline = load_pipeline(path)
    except PipelineFileError as error:
        print(f"{prog} lint: {error}", file=sys.stderr)
        return 2
    found = lint_pipeline(pipeline)
    lines = FieldLines(path.read_text(encoding="utf-8"), source=str(path))
    for finding in found:
        print(f"{path}, line {lines.of(finding.stage_key, finding.field)}: {finding.text()}")
    stages = plural(len(pipeline.stages), "stage")
    if not found:
        print(f"{path}: no findings: its {stages} are required, factual, inspectable and buyer-centric.")
        return 0
    print(f"{path}: {plural(len(found), 'finding')} in {stages}.")
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
