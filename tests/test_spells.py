"""Stage spells: derived from the events by one definition, kept with them, backfilled by the migration."""

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import Engine, insert, select
from sqlmodel import Session, col

from commands.deals.deal import MarkLost, NewDeal, create_deal, mark_lost
from commands.deals.evidence import Evidence
from commands.deals.moves import Advance, decide_move, request_move
from commands.deals.results import MoveRequested
from commands.services import Actor, Services
from storage import spells
from storage.migrate import alembic_config, upgrade_to_head
from storage.models import Deal, DealEvent, SpellEnd, StageSpell
from storage.spells import Change, Spell
from tests.conftest import MANAGER, REP, Clock

KEYS = ("a", "b", "c", "d")
T0 = datetime(2026, 5, 1, 9, tzinfo=UTC)


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def test_derive_covers_every_way_a_stay_ends() -> None:
    changes = [
        Change("created", day(0), None, "a"),
        Change("approved", day(2), "a", "d"),  # a skip: b and c are passed through at once
        Change("moved_back", day(5), "d", "b"),
        Change("requested", day(6), "b", "c"),  # not a stage change
        Change("lost", day(9), "b", None),
    ]
    assert spells.derive(changes, KEYS) == [
        Spell("a", day(0), "created", day(2), SpellEnd.MOVED_ON),
        Spell("b", day(2), "approved", day(2), SpellEnd.SKIPPED),
        Spell("c", day(2), "approved", day(2), SpellEnd.SKIPPED),
        Spell("d", day(2), "approved", day(5), SpellEnd.MOVED_BACK),
        Spell("b", day(5), "moved_back", day(9), SpellEnd.LOST),
    ]


def test_a_stage_no_longer_in_the_pipeline_skips_nothing() -> None:
    changes = [Change("created", day(0), None, "gone"), Change("approved", day(1), "gone", "c")]
    assert [spell.stage_key for spell in spells.derive(changes, KEYS)] == ["gone", "c"]


def stored(engine: Engine) -> list[tuple[str, str, str]]:
    with Session(engine) as session:
        rows = session.execute(select(StageSpell).order_by(col(StageSpell.deal_id), col(StageSpell.id))).scalars()
        return [(row.stage_key, row.entered_via, row.ended) for row in rows]


def test_the_use_cases_write_spells_with_their_events(engine: Engine, services: Services, clock: Clock) -> None:
    rep, manager = Actor("T1", REP), Actor("T1", MANAGER)
    deal = create_deal(services, rep, channel_id="C1", command=NewDeal("Acme", 100, None, ()))
    links = (Evidence("https://x.example/1"), Evidence("https://x.example/2"))
    clock.advance(days=3)
    asked = request_move(services, rep, Advance(deal.number, links, "product-evaluated", None))
    assert isinstance(asked, MoveRequested)
    assert stored(engine) == [("meeting-booked", "created", "open")]  # a request moves nothing
    clock.advance(days=1)
    decide_move(services, manager, move_id=asked.move.id, approve=True)
    clock.advance(days=2)
    request_move(services, rep, Advance(deal.number, (), "needs-confirmed", "Budget owner changed"))
    clock.advance(days=2)
    mark_lost(services, rep, MarkLost(deal.number, "No budget"))
    assert stored(engine) == [
        ("meeting-booked", "created", "moved_on"),
        ("needs-confirmed", "approved", "skipped"),
        ("product-evaluated", "approved", "moved_back"),
        ("needs-confirmed", "moved_back", "lost"),
    ]
    with Session(engine) as session:
        assert list(spells.compare(session, stage_keys=services.pipeline.keys)) == []


def test_the_migration_backfills_spells_from_existing_events(database_url: str) -> None:
    from storage.db import make_engine

    engine = make_engine(database_url)
    with engine.connect() as connection:
        command.upgrade(alembic_config(connection), "0004")
    with engine.begin() as connection:
        deal_id = connection.execute(
            insert(Deal).returning(col(Deal.id)),
            {
                "team_id": "T1",
                "number": 1,
                "name": "Old deal",
                "owner_id": REP,
                "stage_key": "c",
                "status": "open",
                "channel_id": "C1",
                "created_at": day(0),
                "stage_entered_at": day(4),
            },
        ).scalar_one()
        for kind, at, before, after in [("created", day(0), None, "a"), ("approved", day(4), "a", "c")]:
            connection.execute(
                insert(DealEvent),
                {
                    "team_id": "T1",
                    "deal_id": deal_id,
                    "kind": kind,
                    "actor_id": REP,
                    "at": at,
                    "from_stage": before,
                    "to_stage": after,
                    "evidence": [],
                },
            )
    with pytest.raises(RuntimeError, match="stage keys"):
        upgrade_to_head(engine)
    upgrade_to_head(engine, stage_keys=KEYS)
    assert stored(engine) == [("a", "created", "moved_on"), ("b", "approved", "skipped"), ("c", "approved", "open")]
    engine.dispose()
