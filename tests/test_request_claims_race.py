"""Claims of different requests at once do not wait for each other on PostgreSQL, even while old claims are dropped.

Every claim drops the workspace's claims older than an hour on its way (`commands.inbox.requests.claim_in`). If a
claim waited for the rows another transaction is dropping, one slow change would hold up every other ack of the
workspace until it committed. SQLite has one writer at a time, so there the question does not arise.
"""

import os
import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from commands.inbox.requests import KEPT_FOR, Claim, claim_in, first_time
from commands.services import Services
from storage.models import HandledRequest
from tests.conftest import Clock

TEAM = "T1"


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="a race between PostgreSQL transactions")
def test_a_claim_does_not_wait_for_a_transaction_that_is_dropping_the_old_claims(
    engine: Engine, services: Services, clock: Clock
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: claims queue there by design")
    assert first_time(services, team_id=TEAM, key="an-old-one")
    clock.advance(seconds=(KEPT_FOR + timedelta(minutes=1)).total_seconds())
    outcome: list[object] = []

    def second_claim() -> None:
        try:
            with services.sessions.begin() as session:
                claim_in(session, Claim(TEAM, "second"), now=clock())
            outcome.append("claimed")
        except Exception as error:  # the app's lock_timeout ends a wait for the first transaction's rows
            outcome.append(error)

    with services.sessions.begin() as first:
        claim_in(first, Claim(TEAM, "first"), now=clock())  # drops the old claim; its row stays locked till commit
        rival = threading.Thread(target=second_claim)
        rival.start()
        rival.join(30)
        assert not rival.is_alive()
    assert outcome == ["claimed"]
    with services.sessions() as session:
        keys = sorted(row.request_key for row in session.exec(select(HandledRequest)))
    assert keys == ["first", "second"]
