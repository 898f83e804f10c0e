"""The Home tab, as published to the fake Slack: what a rep and a manager see, days in stage and stalled on a
clock the test moves, the tab refreshed for the people a change concerns, and Block Kit's limits with a big
pipeline."""

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.blocks import APPROVE_ACTION
from commands.crm.exports import ImportedDeal
from commands.crm.import_deals import import_deals
from commands.deals.evidence import Evidence
from commands.deals.moves import Advance, request_move
from commands.pipeline.stages import Pipeline, Stage
from commands.services import Actor
from storage.models import MoveRequest
from tests.conftest import (
    MANAGER,
    OTHER_MANAGER,
    OTHER_REP,
    REP,
    SQLITE_PREFIX,
    Clock,
    ListenerWatch,
    RunningBot,
    migrate,
    running_bot,
)
from tests.fakes.slack_api import FakeSlack
from tests.test_private_channels import home_click

TEAM = "T1"
CHANNEL = "C_SALES"
STORED = "U0STORED"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def timed_bot(bot: RunningBot, clock: Clock) -> RunningBot:
    """The running app on the test's clock (set before any request, so every stored time is on it)."""
    object.__setattr__(bot.services, "clock", clock)  # Services is frozen; `build` reads the real clock
    return bot


def open_home(bot: RunningBot, user: str) -> dict[str, Any]:
    """The view published when `user` opens the Home tab (after the refreshes already queued)."""
    bot.settle()
    before = len(bot.slack.calls_to("views.publish"))
    bot.sender.send_event(
        {"type": "app_home_opened", "user": user, "tab": "home", "channel": "D1"}, event_id=f"Ev{user}{before}"
    )
    call = bot.slack.wait_for("views.publish", count=before + 1)[-1]
    assert call.args["user_id"] == user
    view: dict[str, Any] = call.args["view"]
    return view


def texts(view: dict[str, Any]) -> str:
    """Every text of the view, in order, as the person reads them."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(view["blocks"])
    return "\n".join(found)


def published_since(bot: RunningBot, before: int) -> dict[str, str]:
    """The latest view published to each person since the `before`th publish, as text."""
    bot.settle()
    return {call.args["user_id"]: texts(call.args["view"]) for call in bot.slack.calls_to("views.publish")[before:]}


def imported(bot: RunningBot, *deals: tuple[str, str, str, tuple[tuple[str, datetime], ...]]) -> None:
    """Deals brought in with their history (crm id, name, owner, (stage key, entered at)...)."""
    records = [
        ImportedDeal(
            line=index + 2,
            crm_id=crm_id,
            name=name,
            company=None,
            value_cents=None,
            owner_id=owner,
            channel_id=CHANNEL,
            created_at=entries[0][1],
            lost_at=None,
            lost_reason=None,
            entries=entries,
        )
        for index, (crm_id, name, owner, entries) in enumerate(deals)
    ]
    import_deals(bot.services, team_id=TEAM, deals=records, source="CSV deals.csv", dry_run=False)


def test_days_in_stage_and_stalled_on_a_clock(timed_bot: RunningBot, clock: Clock) -> None:
    """Meeting booked stalls after 14 days: a deal exactly 14 days in it is not stalled, one a second more is,
    and both read 14 days. The won stage and the stages after it never stall."""
    bot = timed_bot
    bot.command("/deal", "new Acme renewal", channel_id=CHANNEL)
    clock.advance(days=1)
    bot.command("/deal", "new Globex pilot", channel_id=CHANNEL)
    signed = T0 - timedelta(days=100)
    imported(
        bot,
        ("W1", "Initech won", REP, (("meeting-booked", signed - timedelta(days=9)), ("contract-signed", signed))),
        ("W2", "Umbrella live", REP, (("meeting-booked", signed - timedelta(days=9)), ("live", signed))),
    )
    clock.advance(days=14)

    seen = texts(open_home(bot, REP))
    stalled, _, by_stage = seen.partition("Your open deals by stage")
    assert "*Your stalled deals* (1)" in stalled
    assert "*deal-1* Acme renewal · Meeting booked · 15 days in stage (stalls after 14)" in stalled
    assert "Globex" not in stalled and "Initech" not in stalled and "Umbrella" not in stalled
    assert "• *deal-2* Globex pilot · 14 days in stage\n" in by_stage + "\n"
    assert "• *deal-1* Acme renewal · 15 days in stage · :warning: stalled" in by_stage
    assert "• *deal-3* Initech won · 115 days in stage\n" in by_stage + "\n"
    assert "• *deal-4* Umbrella live · 115 days in stage" in by_stage and "stalled" not in by_stage.split("Contract")[1]

    clock.advance(seconds=1)
    seen = texts(open_home(bot, REP))
    assert "*Your stalled deals* (2)" in seen
    assert "*deal-2* Globex pilot · Meeting booked · 14 days in stage (stalls after 14)" in seen


def test_a_rep_sees_stages_in_pipeline_order_with_the_next_stage_s_criteria_and_their_pending_moves(
    timed_bot: RunningBot, clock: Clock
) -> None:
    bot = timed_bot
    pipeline = bot.services.pipeline
    imported(
        bot,
        ("P1", "Late stage <!channel>", REP, (("proposal-received", T0 - timedelta(days=2)),)),
        ("P2", "Early stage", REP, (("meeting-booked", T0 - timedelta(days=3)),)),
        ("P3", "Someone else's", OTHER_REP, (("meeting-booked", T0 - timedelta(days=30)),)),
    )
    bot.command("/advance", "deal-2 evidence:https://mail.example.com/m/1", channel_id=CHANNEL)

    view = open_home(bot, REP)
    seen = texts(view)
    assert "<!channel>" not in json.dumps(view) and "Late stage &lt;!channel&gt;" in seen
    assert "Someone else" not in seen and "Stalled deals in the team" not in seen and APPROVE_ACTION not in seen
    pending = seen.index("*Your moves waiting for a manager* (1)")
    assert "*deal-2* Early stage → Needs confirmed, asked by <@U_REP>" in seen[pending:]
    meeting, proposal = seen.index("*Meeting booked* (1)"), seen.index("*Proposal received* (1)")
    assert pending < meeting < proposal
    after_meeting = pipeline.stage("needs-confirmed")
    assert f"Next, *{after_meeting.name}*, once the buyer: {'; '.join(after_meeting.exit_criteria)}" in seen
    after_proposal = pipeline.next_after("proposal-received")
    assert after_proposal is not None
    assert f"Next, *{after_proposal.name}*, once the buyer: {after_proposal.exit_criteria[0]}" in seen[proposal:]


def test_a_manager_sees_waiting_moves_then_the_team_s_stalled_deals_above_their_own_pipeline(
    timed_bot: RunningBot,
) -> None:
    bot = timed_bot
    imported(
        bot,
        ("M1", "Stuck deal", OTHER_REP, (("needs-confirmed", T0 - timedelta(days=22)),)),
        ("M2", "Fresh deal", OTHER_REP, (("needs-confirmed", T0 - timedelta(days=20)),)),
        ("M3", "Won long ago", OTHER_REP, (("contract-signed", T0 - timedelta(days=90)),)),
    )
    bot.command("/advance", "deal-2 evidence:https://mail.example.com/m/2", user=OTHER_REP, channel_id=CHANNEL)

    view = open_home(bot, MANAGER)
    seen = texts(view)
    waiting = seen.index("*Moves waiting for a manager* (1)")
    team = seen.index("*Stalled deals in the team* (1)")
    yours = seen.index("Your pipeline")
    assert waiting < team < yours
    assert "*deal-1* Stuck deal · Needs confirmed · 22 days in stage (stalls after 21) · <@U_REP2>" in seen[team:yours]
    assert "Fresh deal" not in seen[team:] and "Won long ago" not in seen
    buttons = next(block for block in view["blocks"] if block["type"] == "actions")
    assert [element["action_id"] for element in buttons["elements"]] == [
        "move_approve",
        "move_reject",
        "move_ask_evidence",
    ]
    assert "*Your open deals by stage* (0)" in seen[yours:]


def test_the_home_tabs_a_change_concerns_are_refreshed_after_the_ack(timed_bot: RunningBot) -> None:
    bot = timed_bot
    bot.command("/pipeline", "managers add <@U0STORED|stored>", user=MANAGER, channel_id=CHANNEL)
    bot.settle()

    before = len(bot.slack.calls_to("views.publish"))
    bot.command("/deal", "new Acme renewal", channel_id=CHANNEL)
    seen = published_since(bot, before)
    assert set(seen) == {REP, MANAGER, OTHER_MANAGER, STORED}
    assert "• *deal-1* Acme renewal · 0 days in stage" in seen[REP]

    before = len(bot.slack.calls_to("views.publish"))
    bot.command("/advance", "deal-1 evidence:https://mail.example.com/m/1", channel_id=CHANNEL)
    seen = published_since(bot, before)
    assert set(seen) == {REP, MANAGER, OTHER_MANAGER, STORED}
    assert "*Your moves waiting for a manager* (1)" in seen[REP]
    assert "*Moves waiting for a manager* (1)" in seen[STORED] and "Acme renewal" in seen[STORED]

    with bot.services.sessions() as session:
        move = session.exec(select(MoveRequest)).one()
    before = len(bot.slack.calls_to("views.publish"))
    clicked = bot.sender.action(APPROVE_ACTION, str(move.id), user_id=MANAGER, message_ts="1.2", thread_ts="1.1")
    assert clicked.status == 200
    seen = published_since(bot, before)
    assert set(seen) == {REP, MANAGER, OTHER_MANAGER, STORED}
    assert "waiting for a manager" not in seen[REP] and "*Needs confirmed* (1)" in seen[REP]
    assert "Moves waiting" not in seen[OTHER_MANAGER]

    before = len(bot.slack.calls_to("views.publish"))
    bot.command("/deal", "lost deal-1 reason:Went with a competitor", channel_id=CHANNEL)
    seen = published_since(bot, before)
    assert set(seen) == {REP, MANAGER, OTHER_MANAGER, STORED}
    assert "*Your open deals by stage* (0)" in seen[REP] and "Acme" not in seen[REP]


def test_the_refresh_waits_for_the_after_ack_worker(timed_bot: RunningBot) -> None:
    """Nothing is published before the ack: with the after-ack worker held, the command is answered and no Home
    tab is published until the worker is let go."""
    bot = timed_bot
    pool = bot.runtime.app.listener_runner.listener_executor
    assert isinstance(pool, ListenerWatch)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        held.set()
        release.wait(10)

    pool.after_ack.run("a test's hold", hold)
    assert held.wait(5)
    try:
        answer = bot.command("/deal", "new Acme renewal", channel_id=CHANNEL)
        assert "Created deal-1" in answer.json()["text"]
        assert bot.slack.calls_to("views.publish") == []
    finally:
        release.set()
    assert "Acme renewal" in published_since(bot, 0)[REP]


def test_a_refused_command_refreshes_no_home_tab(timed_bot: RunningBot) -> None:
    bot = timed_bot
    bot.command("/deal", "new Acme renewal", channel_id=CHANNEL)
    bot.settle()
    before = len(bot.slack.calls_to("views.publish"))
    assert "Only" in bot.command("/deal", "lost deal-1 reason:No budget", user=OTHER_REP).json()["text"]
    assert published_since(bot, before) == {}


STAGES = 130
WON_AT = 110


def big_pipeline() -> Pipeline:
    """Many stages with long names and criteria full of characters mrkdwn would read as markup."""
    criterion = "Buyer did <https://evil.example|thing> {}.{} " + "y" * 80
    return Pipeline(
        tuple(
            Stage(
                key=f"stage-{index}",
                name=f"Buyer step {index} <@U_EVIL> & *bold* " + "x" * 60,
                exit_criteria=tuple(criterion.format(index, n) for n in range(8)),
                evidence_prompt="Show me the buyer's email.",
                stall_after_days=1 + index % 5,
                won=index == WON_AT,
            )
            for index in range(STAGES)
        )
    )


@pytest.fixture
def big_bot(database_url: str, slack: FakeSlack, sqlite_template: Path, clock: Clock) -> Iterator[RunningBot]:
    if database_url.startswith(SQLITE_PREFIX):
        migrate(database_url, sqlite_template)
    with running_bot(database_url, slack, pipeline=big_pipeline()) as running:
        object.__setattr__(running.services, "clock", clock)
        yield running
    assert slack.violations == [], "the bot sent something Slack would refuse"


def test_a_big_pipeline_stays_within_block_kit_s_limits_and_says_what_is_left_out(big_bot: RunningBot) -> None:
    bot = big_bot
    entered = T0 - timedelta(days=30)
    deals = [
        (f"B{index}", f"Deal {index} <!here>", MANAGER, ((f"stage-{index % STAGES}", entered),))
        for index in range(2 * STAGES)
    ]
    deals += [(f"C{index}", f"Crowded {index}", MANAGER, (("stage-3", entered),)) for index in range(15)]
    deals += [(f"O{index}", f"Other {index}", OTHER_REP, (("stage-1", entered),)) for index in range(80)]
    imported(bot, *deals)
    proof = (Evidence(url="https://mail.example.com/m/1", label="Buyer's reply"),)
    for number in range(1, 25):
        request_move(bot.services, Actor(TEAM, MANAGER), Advance(number, proof, to_key=None, note=None))

    view = open_home(bot, MANAGER)
    assert len(view["blocks"]) <= 100
    seen = texts(view)
    assert "<!here>" not in json.dumps(view) and "<@U_EVIL>" not in json.dumps(view)
    assert "<https://evil" not in json.dumps(view) and "&lt;@U_EVIL&gt; &amp; *bold*" in seen
    assert seen.count("Approve") == 15 and "Decide these after the ones above:" in seen
    assert "*Stalled deals in the team* (" in seen and "more not listed here" in seen
    assert f"*Your open deals by stage* ({2 * STAGES + 15})" in seen
    assert "more stages" in texts({"blocks": view["blocks"][-1:]})  # the last block says so: nothing cut after it
    assert "• and 7 more at this stage; see them with `/deal list stage:stage-3`" in seen

    before = len(bot.slack.calls_to("views.publish"))
    assert home_click(bot, APPROVE_ACTION, "999999", user=MANAGER) == 200  # refused: told on top of the tab
    noticed = bot.slack.wait_for("views.publish", count=before + 1)[-1].args["view"]
    assert len(noticed["blocks"]) <= 100 and "That move does not exist" in texts({"blocks": noticed["blocks"][:1]})
    assert "more stages" in texts({"blocks": noticed["blocks"][-1:]})

    rep_view = open_home(bot, OTHER_REP)
    assert len(rep_view["blocks"]) <= 100 and "*Your stalled deals* (80)" in texts(rep_view)
