"""`python -m commands check`: the stage spells rebuilt from the events, differences reported and fixed."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update
from sqlmodel import col

from commands.__main__ import main
from commands.crm.exports import read_deals
from commands.crm.import_deals import import_deals
from commands.deals.deal import MarkLost, NewDeal, create_deal, mark_lost
from commands.deals.evidence import Evidence
from commands.deals.moves import Advance, decide_move, request_move
from commands.deals.results import MoveRequested
from commands.pipeline.loading import default_pipeline
from commands.services import Actor, Services
from storage.models import Deal, StageSpell
from tests.conftest import MANAGER, REP, Clock

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TEAM = "T1"


@pytest.fixture
def history(
    services: Services, clock: Clock, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Services:
    """The example file imported, plus deals made and moved in Slack; the CLI pointed at the same database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("PIPELINE_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    deals = read_deals(
        EXAMPLES / "deals.csv",
        file_format="ours",
        pipeline=default_pipeline(),
        now=datetime(2026, 11, 2, tzinfo=UTC),
        default_channel="C0123SALES",
    )
    import_deals(services, team_id=TEAM, deals=deals, source="CSV deals.csv", dry_run=False)
    rep, manager = Actor(TEAM, REP), Actor(TEAM, MANAGER)
    create_deal(services, rep, channel_id="C1", command=NewDeal("Made in Slack", None, None, ()))
    clock.advance(days=2)
    link = (Evidence("https://mail.example.com/1", None),)
    moved = request_move(services, rep, Advance(7, link, None, None))
    assert isinstance(moved, MoveRequested)
    clock.advance(hours=3)
    decide_move(services, manager, move_id=moved.move.id, approve=True)
    create_deal(services, Actor("T2", REP), channel_id="C2", command=NewDeal("Other workspace", None, None, ()))
    mark_lost(services, Actor("T2", REP), MarkLost(1, "No budget"))
    return services


def spell_count(services: Services) -> int:
    with services.sessions() as session:
        return session.execute(select(func.count()).select_from(StageSpell)).scalar_one()


def deal_id(services: Services, number: int, team_id: str = TEAM) -> int:
    with services.sessions() as session:
        found = session.execute(
            select(col(Deal.id)).where(col(Deal.team_id) == team_id, col(Deal.number) == number)
        ).scalar_one()
        assert found is not None
        return found


def test_no_difference_after_an_import_and_moves_in_slack(
    history: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check"]) == 0
    assert "No differences: every deal's stage spells are what its events say." in capsys.readouterr().out
    assert main(["check", "--team", "T2"]) == 0
    assert "No differences in T2" in capsys.readouterr().out


def test_a_deleted_spell_is_found_and_fixed(history: Services, capsys: pytest.CaptureFixture[str]) -> None:
    hooli = deal_id(history, 5)
    with history.sessions.begin() as session:
        first = session.execute(
            select(col(StageSpell.id)).where(col(StageSpell.deal_id) == hooli).order_by(col(StageSpell.id)).limit(1)
        ).scalar_one()
        session.execute(delete(StageSpell).where(col(StageSpell.id) == first))
    count = spell_count(history)

    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert (
        "deal-5 (T1): missing: meeting-booked from 2026-02-01 00:00 UTC (created) to 2026-02-10 00:00 UTC, moved_on"
    ) in out
    assert "1 deal differs from their events. Run `python -m commands check --fix`" in out
    assert spell_count(history) == count  # without --fix, nothing is written

    assert main(["check", "--fix"]) == 0
    assert "Rewrote the stage spells of 1 deal from their events." in capsys.readouterr().out
    assert spell_count(history) == count + 1
    assert main(["check"]) == 0


def test_an_edited_spell_is_found_per_workspace_and_fixed(
    history: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    slack_deal, other = deal_id(history, 7), deal_id(history, 1, "T2")
    with history.sessions.begin() as session:
        session.execute(
            update(StageSpell)
            .where(col(StageSpell.deal_id) == slack_deal, col(StageSpell.stage_key) == "needs-confirmed")
            .values(stage_key="product-evaluated")
        )
        session.execute(update(StageSpell).where(col(StageSpell.deal_id) == other).values(ended="open", left_at=None))

    assert main(["check", "--team", "T2"]) == 1
    out = capsys.readouterr().out
    assert "deal-1 (T2): missing: meeting-booked" in out and "lost; stored but not in the events: meeting-booked" in out
    assert "deal-7" not in out and "1 deal in T2 differs" in out

    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "deal-7 (T1): missing: needs-confirmed from 2026-11-04 12:00 UTC (approved), open" in out
    assert "stored but not in the events: product-evaluated from 2026-11-04 12:00 UTC (approved), open" in out
    assert "2 deals differ" in out

    assert main(["check", "--team", "T1", "--fix"]) == 0
    assert main(["check"]) == 1  # T2 is still wrong
    capsys.readouterr()
    assert main(["check", "--fix"]) == 0
    assert main(["check"]) == 0
