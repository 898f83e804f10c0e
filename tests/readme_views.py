"""The README's pictures of the Home tab and the forms: links that open the real views in Slack's Block Kit Builder.

Each view is built by the app's own renderers from a small team's pipeline, made by the use cases on a clock fixed
at 2026-11-30 09:00 UTC, so a link changes only when what a user would see changes. `tests/test_readme_views.py`
fails when the README's links no longer match the renderers; `python -m tests.readme_views --write` rewrites them.
"""

import argparse
import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from slack_sdk.models.views import View
from sqlmodel import select

from bot import blocks
from bot.advance_form import advance_modal
from bot.ask_evidence_form import ask_evidence_modal
from commands.deals.deal import NewDeal, create_deal
from commands.deals.evidence import Evidence
from commands.deals.home import home_overview
from commands.deals.move_options import move_options
from commands.deals.moves import Advance, decide_move, request_move
from commands.deals.results import MoveRequested
from commands.i18n.translator import ENGLISH
from commands.pipeline.loading import default_pipeline
from commands.services import Actor, Services
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade_to_head
from storage.models import Deal

README = Path(__file__).resolve().parent.parent / "README.md"
BUILDER = "https://app.slack.com/block-kit-builder/#"
BEGIN = "<!-- views: begin (python -m tests.readme_views --write) -->"
END = "<!-- views: end -->"

TEAM = "T0SALES"
ANA = Actor(TEAM, "U0ANA")
ERIK = Actor(TEAM, "U0ERIK")
MANAGER = Actor(TEAM, "U0MARIA")
CHANNEL = "C0DEALS"
START = datetime(2026, 10, 26, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Picture:
    title: str
    what: str
    view: View


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@contextmanager
def sample_team() -> Iterator[tuple[Services, Clock]]:
    """A fresh database holding a small team's pipeline: deals at several stages, three stalled, a move waiting."""
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/views.db")
        try:
            pipeline = default_pipeline()
            upgrade_to_head(engine, stage_keys=pipeline.keys)
            clock = Clock(START)
            services = Services(
                sessions=make_session_factory(engine),
                pipeline=pipeline,
                env_managers=frozenset({MANAGER.user_id}),
                clock=clock,
            )
            _fill(services, clock)
            yield services, clock
        finally:
            engine.dispose()


def _fill(services: Services, clock: Clock) -> None:
    nordic = _deal(services, ANA, "Nordic Freight rollout", "Nordic Freight AB", 4_800_000)
    _advance(services, ANA, nordic, "https://mail.example.com/nordic/agenda-accepted")
    clock.now = START + timedelta(days=4)
    iberia = _deal(services, ANA, "Iberia Retail pilot", "Iberia Retail SL", 1_250_000)
    _advance(services, ANA, iberia, "https://calendar.example.com/invite/iberia-accepted")
    _advance(services, ANA, iberia, "https://mail.example.com/iberia/pains-confirmed", "https://docs.example.com/ib")
    clock.now = START + timedelta(days=20)
    carpathia = _deal(services, ANA, "Carpathia Logistics", "Carpathia Logistics SRL", 2_200_000)
    clock.now = START + timedelta(days=30)
    _deal(services, ERIK, "Baltic Foods expansion", "Baltic Foods", 900_000)
    clock.now = NOW - timedelta(hours=20)
    request_move(
        services,
        ANA,
        Advance(
            deal_number=carpathia,
            evidence=(Evidence("https://mail.example.com/carpathia/meeting-accepted"),),
            to_key=None,
            note="Their COO accepted the invite for Tuesday.",
        ),
    )
    clock.now = NOW
    _cards_posted(services)


def _cards_posted(services: Services) -> None:
    """As if Slack had taken every card: each deal has its thread."""
    with services.sessions.begin() as session:
        for number, deal in enumerate(session.exec(select(Deal)).all(), start=1):
            deal.thread_ts = f"1796000000.{number:06d}"


def _deal(services: Services, actor: Actor, name: str, company: str, cents: int) -> int:
    command = NewDeal(name=name, value_cents=cents, company=company, evidence=())
    return create_deal(services, actor, channel_id=CHANNEL, command=command).number


def _advance(services: Services, actor: Actor, number: int, *links: str) -> None:
    evidence = tuple(Evidence(link) for link in links)
    requested = request_move(services, actor, Advance(deal_number=number, evidence=evidence, to_key=None, note=None))
    assert isinstance(requested, MoveRequested)
    if requested.move.status == "pending":
        decide_move(services, MANAGER, move_id=requested.move.id, approve=True)


PictureOf = Callable[[Services], Picture]


def _rep_home(services: Services) -> Picture:
    view = blocks.home_view(ENGLISH, home_overview(services, ANA))
    return Picture("The Home tab, as a rep sees it", "stalled deals first, moves waiting, deals by stage", view)


def _manager_home(services: Services) -> Picture:
    view = blocks.home_view(ENGLISH, home_overview(services, MANAGER))
    return Picture("The Home tab, as a manager sees it", "moves to decide with their buttons, the team's stalls", view)


def _new_deal_form(services: Services) -> Picture:
    view = blocks.new_deal_modal(ENGLISH, channel_id=CHANNEL)
    return Picture("The new deal form", "`/deal new` alone", view)


def _reject_form(services: Services) -> Picture:
    waiting = home_overview(services, MANAGER).waiting[0]
    view = blocks.reject_modal(ENGLISH, waiting.move, channel_id=CHANNEL)
    return Picture("The rejection form", "Reject on a move", view)


def _advance_form(services: Services) -> Picture:
    options = move_options(services, ANA, deal_number=1)
    target = options.targets[1]
    view = advance_modal(ENGLISH, options, target=target)
    return Picture(
        "The advance form", f"`/advance deal-1` without evidence, or Advance…, skipping to {target.name}", view
    )


def _ask_evidence_form(services: Services) -> Picture:
    waiting = home_overview(services, MANAGER).waiting[0]
    view = ask_evidence_modal(ENGLISH, waiting.move, channel_id=CHANNEL)
    return Picture("The Ask for evidence form", "the prompt the manager edits before it is posted", view)


PICTURES: tuple[PictureOf, ...] = (
    _rep_home,
    _manager_home,
    _new_deal_form,
    _advance_form,
    _reject_form,
    _ask_evidence_form,
)


def pictures() -> list[Picture]:
    with sample_team() as (services, _):
        return [picture(services) for picture in PICTURES]


def builder_link(view: View) -> str:
    """Block Kit Builder opens the JSON after `#` (a Home tab as a "home" surface, a form as a "modal")."""
    surface: dict[str, Any] = view.to_dict()
    surface.pop("private_metadata", None)
    surface.pop("callback_id", None)
    return BUILDER + quote(json.dumps(surface, separators=(",", ":"), ensure_ascii=False), safe="")


def readme_section(shown: list[Picture]) -> str:
    lines = [BEGIN]
    lines += [f"- [{picture.title}]({builder_link(picture.view)}): {picture.what}." for picture in shown]
    lines.append(END)
    return "\n".join(lines)


def current_section(readme: str) -> str | None:
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        return None
    return readme[start : end + len(END)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--write", action="store_true", help="rewrite the README's links")
    args = parser.parse_args(argv)
    wanted = readme_section(pictures())
    readme = README.read_text(encoding="utf-8")
    current = current_section(readme)
    if current is None:
        print(f"README.md has no {BEGIN!r} … {END!r} section", file=sys.stderr)
        return 2
    if args.write:
        README.write_text(readme.replace(current, wanted), encoding="utf-8")
        return 0
    print(wanted)
    return 0 if current == wanted else 1


if __name__ == "__main__":
    sys.exit(main())
