"""Storage behaviour the rest relies on."""

from sqlmodel import select

from commands.deals.deal import NewDeal, create_deal
from commands.services import Actor, Services
from storage.db import read_only
from storage.models import Deal
from tests.conftest import REP


def test_a_long_read_only_report_does_not_block_writers(services: Services) -> None:
    """A digest reads for a while; on SQLite it must not hold the write lock meanwhile."""
    create_deal(services, Actor("T1", REP), channel_id="C1", command=NewDeal("Before", None, None, ()))
    with services.sessions() as report:
        read_only(report)
        assert len(report.exec(select(Deal)).all()) == 1  # the report's transaction is open
        create_deal(services, Actor("T1", REP), channel_id="C1", command=NewDeal("During", None, None, ()))
    with services.sessions() as session:
        assert len(session.exec(select(Deal)).all()) == 2
