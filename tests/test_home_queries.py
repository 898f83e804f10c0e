"""The Home tab is rebuilt for every manager after every change, so what it reads must not grow with the number of
moves waiting (a fixed number of statements however many there are), and changes that come in together republish
each tab once."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from slack_sdk import WebClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.after_ack import AfterAck
from bot.listeners.events import HomeTab
from bot.readers import Readers
from commands.deals.deal import NewDeal, create_deal
from commands.deals.evidence import Evidence
from commands.deals.home import home_overview
from commands.deals.moves import Advance, request_move
from commands.services import Actor, Services
from tests.conftest import MANAGER, OTHER_MANAGER, REP
from tests.fakes.slack_api import FakeSlack

TEAM = "T1"


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def wait_moves(services: Services, count: int) -> None:
    rep = Actor(TEAM, REP)
    for number in range(count):
        deal = create_deal(services, rep, channel_id="C1", command=NewDeal(f"Deal {number}", None, None, ()))
        link = (Evidence(f"https://mail.example.com/{number}"),)
        request_move(services, rep, Advance(deal_number=deal.number, evidence=link, to_key=None, note=None))


def statements_for_home(services: Services, engine: Engine) -> int:
    with statements(engine) as seen:
        overview = home_overview(services, Actor(TEAM, MANAGER))
    assert overview.decides
    return len(seen)


def test_a_managers_home_reads_as_much_for_forty_waiting_moves_as_for_two(services: Services, engine: Engine) -> None:
    wait_moves(services, 2)
    few = statements_for_home(services, engine)
    wait_moves(services, 38)
    assert len(home_overview(services, Actor(TEAM, MANAGER)).waiting) == 40
    assert statements_for_home(services, engine) == few


def test_tabs_republished_together_read_the_teams_rates_once(
    services: Services, engine: Engine, slack: FakeSlack
) -> None:
    """The team's year of stays (the forecast's rates, for "Your week") is the Home tab's largest read: the
    owner's and each manager's tab, republished after one change, read it once between them."""
    wait_moves(services, 3)
    after_ack = AfterAck()
    home = HomeTab(
        services, Readers(services), WebClient(token="xoxb-test", base_url=slack.base_url), after_ack=after_ack
    )
    with statements(engine) as seen:
        home.refresh(Actor(TEAM, REP), 1)
        assert after_ack.wait_idle(15)
    after_ack.shutdown()
    assert sorted(call.args["user_id"] for call in slack.calls_to("views.publish")) == sorted(
        [REP, MANAGER, OTHER_MANAGER]
    )
    assert len([statement for statement in seen if ") AS watched" in statement]) == 1  # spell_queries.stays_watched


def test_changes_queued_before_the_worker_gets_to_them_republish_each_tab_once(
    services: Services, slack: FakeSlack
) -> None:
    wait_moves(services, 3)
    after_ack = AfterAck()
    home = HomeTab(
        services, Readers(services), WebClient(token="xoxb-test", base_url=slack.base_url), after_ack=after_ack
    )
    busy = threading.Event()
    after_ack.run("a slow post", busy.wait)
    try:
        for number in (1, 2, 3, 1, 2, 3):
            home.refresh(Actor(TEAM, REP), number)
    finally:
        busy.set()
    assert after_ack.wait_idle(15)
    published = sorted(call.args["user_id"] for call in slack.calls_to("views.publish"))
    assert published == sorted([REP, MANAGER, OTHER_MANAGER])
    home.refresh(Actor(TEAM, REP), 1)
    assert after_ack.wait_idle(15)
    assert len(slack.calls_to("views.publish")) == 6, "a change after the republish republishes again"
    after_ack.shutdown()
