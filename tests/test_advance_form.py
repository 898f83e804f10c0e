"""The advance form: `/advance deal-1` without evidence (or a deal's Advance… button on the Home tab) opens it;
choosing a stage rebuilds it with that skip's fields; submitting does what the typed command does, with every
wrong field shown under that field and nothing stored."""

import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from sqlmodel import col, select

from bot.advance_form import (
    ADVANCE_ACTION,
    ADVANCE_VIEW,
    CRITERIA_ACTION,
    EVIDENCE_ACTION,
    NOTE_INPUT,
    TARGET_ACTION,
    TARGET_BLOCK,
)
from commands.pipeline.stages import Pipeline, Stage
from commands.text_rules import NOTE_LIMIT
from storage.models import DealEvent, MoveRequest
from tests.conftest import MANAGER, OTHER_REP, REP, SQLITE_PREFIX, RunningBot, migrate, running_bot
from tests.fakes.slack_api import FakeSlack, view_problems
from tests.slack_requests import Response, block_action, new_trigger_id
from tests.test_home import T0, big_bot, imported, open_home, texts  # noqa: F401 (big_bot: a fixture)
from tests.test_private_channels import home_click
from tests.test_slack_flows import create_deal, deal_row, ts

CHANNEL = "C_SALES"
LINK = "https://mail.example.com/m/"
NEEDS = "needs-confirmed"
EVALUATED = "product-evaluated"


def open_form(bot: RunningBot, text: str = "deal-1", *, user: str = REP) -> dict[str, Any]:
    """The form `/advance <text>` opened, as Slack holds it (its id and hash, as views.open answered)."""
    before = len(bot.slack.calls_to("views.open"))
    ack = bot.command("/advance", text, user=user, channel_id=CHANNEL)
    assert ack.status == 200 and "Fill in the form to move deal-1" in ack.json()["text"], ack.text
    bot.slack.wait_for("views.open", count=before + 1)
    return latest(bot, "views.open")


def latest(bot: RunningBot, method: str) -> dict[str, Any]:
    """The view Slack holds from the latest call to `method` (its id, hash and view)."""
    return [record for record in bot.slack.views if record["method"] == method][-1]


def blocks_of(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {block["block_id"]: block for block in view["blocks"] if "block_id" in block}


def selected(key: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": key, "text": {"type": "plain_text", "text": key}}}


def ticks(*numbers: int) -> dict[str, Any]:
    return {"type": "checkboxes", "selected_options": [{"value": str(n)} for n in numbers]}


def url(value: str) -> dict[str, Any]:
    return {"type": "url_text_input", "value": value}


def values(
    target: str = NEEDS,
    *,
    ticked: dict[str, tuple[int, ...]] | None = None,
    links: dict[str, str] | None = None,
    note: str = "",
) -> dict[str, dict[str, Any]]:
    """A submission's state: the target first (where a refusal with no field of its own is shown)."""
    ticked = {NEEDS: (1, 2, 3, 4)} if ticked is None else ticked
    links = {NEEDS: f"{LINK}1"} if links is None else links
    state: dict[str, dict[str, Any]] = {TARGET_BLOCK: {TARGET_ACTION: selected(target)}}
    for key, numbers in ticked.items():
        state[f"criteria-{key}"] = {CRITERIA_ACTION: ticks(*numbers)}
    for key, link in links.items():
        state[f"evidence-{key}"] = {EVIDENCE_ACTION: url(link)}
    state["note"] = {NOTE_INPUT: {"type": "plain_text_input", "value": note}}
    return state


def submit(
    bot: RunningBot, view: dict[str, Any], state: dict[str, dict[str, Any]], *, user: str = REP, trigger: str = ""
) -> Response:
    response = bot.sender.submit_view(
        ADVANCE_VIEW,
        state,
        private_metadata=view["view"]["private_metadata"],
        user_id=user,
        view_id=view["id"],
        trigger_id=trigger or new_trigger_id(),
    )
    assert response.status == 200
    return response


def moves(bot: RunningBot) -> list[MoveRequest]:
    with bot.services.sessions() as session:
        return list(session.exec(select(MoveRequest).order_by(col(MoveRequest.id))).all())


def choose(bot: RunningBot, view: dict[str, Any], target: str, state: dict[str, dict[str, Any]]) -> Response:
    """A change of the form's stage select (dispatch_action), with what was typed so far in the view's state."""
    body = block_action(TARGET_ACTION, "", user_id=REP, message_ts="0", block_id=TARGET_BLOCK)
    payload = json.loads(parse_qs(body.decode())["payload"][0])
    for key in ("channel", "message", "response_url"):
        payload.pop(key)
    payload["container"] = {"type": "view", "view_id": view["id"]}
    payload["actions"] = [{**selected(target), "action_id": TARGET_ACTION, "block_id": TARGET_BLOCK}]
    payload["view"] = {
        **view["view"],
        "id": view["id"],
        "hash": view["hash"],
        "state": {"values": state},
    }
    return bot.sender.post(urlencode({"payload": json.dumps(payload)}).encode())


def test_advance_without_evidence_opens_the_form_for_the_next_stage(bot: RunningBot) -> None:
    create_deal(bot, "Acme <renewal>")
    opened = open_form(bot)
    view = opened["view"]
    assert view["callback_id"] == ADVANCE_VIEW and view["title"]["text"] == "Advance deal-1"
    assert "*deal-1 · Acme &lt;renewal&gt;* is at *Meeting booked*" in view["blocks"][0]["text"]["text"]
    fields = blocks_of(view)
    assert list(fields) == [TARGET_BLOCK, f"criteria-{NEEDS}", f"evidence-{NEEDS}", "note"]
    select_ = fields[TARGET_BLOCK]
    assert select_["dispatch_action"] is True
    assert select_["element"]["initial_option"]["value"] == NEEDS
    offered = [option["text"]["text"] for option in select_["element"]["options"]]
    assert offered[:3] == ["Needs confirmed", "Product evaluated (skips 1)", "Proposal received (skips 2)"]
    criteria = [option["text"]["text"] for option in fields[f"criteria-{NEEDS}"]["element"]["options"]]
    assert criteria == [
        "1. Buyer confirmed the problem they need solved",
        "2. Buyer confirmed the budget",
        "3. Buyer confirmed who makes the decision",
        "4. Buyer confirmed the timing",
    ]
    evidence = fields[f"evidence-{NEEDS}"]
    assert evidence["label"]["text"] == "Show me the buyer's reply confirming their needs and timeline."
    assert evidence["element"]["type"] == "url_text_input"
    assert fields["note"]["optional"] is True and fields["note"]["element"]["multiline"] is True
    assert moves(bot) == []


def test_to_and_note_typed_are_chosen_and_filled_in(bot: RunningBot) -> None:
    create_deal(bot)
    view = open_form(bot, f"deal-1 to:{EVALUATED} note:CFO & team <agreed>")["view"]
    fields = blocks_of(view)
    assert fields[TARGET_BLOCK]["element"]["initial_option"]["value"] == EVALUATED
    assert list(fields) == [
        TARGET_BLOCK,
        f"criteria-{NEEDS}",
        f"evidence-{NEEDS}",
        f"criteria-{EVALUATED}",
        f"evidence-{EVALUATED}",
        "note",
    ]
    assert fields["note"]["element"]["initial_value"] == "CFO & team <agreed>"


def test_submitting_asks_for_the_move_posts_it_in_the_thread_and_refreshes_the_home_tabs(bot: RunningBot) -> None:
    deal = create_deal(bot)
    opened = open_form(bot)
    bot.settle()
    published = len(bot.slack.calls_to("views.publish"))

    answer = submit(bot, opened, values(note="CFO confirmed\nbudget & timing")).json()

    assert answer["response_action"] == "update"
    assert view_problems(answer["view"], expected_type="modal") == []
    assert "Asked to move deal-1 · Acme renewal to *Needs confirmed* with 1 evidence link" in json.dumps(
        answer, ensure_ascii=False
    )
    [move] = moves(bot)
    assert (move.from_stage, move.to_stage, move.status, move.requested_by) == ("meeting-booked", NEEDS, "pending", REP)
    assert move.evidence == [{"url": f"{LINK}1", "label": None}]
    assert move.note == "CFO confirmed\nbudget & timing"
    posted = bot.slack.wait_for(
        lambda: [m for m in bot.slack.thread(CHANNEL, ts(deal.thread_ts)) if "asks to move" in m["text"]]
    )
    assert "budget &amp; timing" in json.dumps(posted[0]["blocks"])
    bot.settle()
    refreshed = {call.args["user_id"] for call in bot.slack.calls_to("views.publish")[published:]}
    assert {REP, MANAGER} <= refreshed


def test_a_skip_needs_every_criterion_of_every_stage_and_its_own_link_for_each(bot: RunningBot) -> None:
    create_deal(bot)
    opened = open_form(bot, f"deal-1 to:{EVALUATED}")
    state = values(
        EVALUATED,
        ticked={NEEDS: (1, 2, 3, 4), EVALUATED: (1, 3)},
        links={NEEDS: f"{LINK}1", EVALUATED: f"{LINK}1"},
    )
    errors = submit(bot, opened, state).json()["errors"]
    assert set(errors) == {f"criteria-{EVALUATED}", f"evidence-{EVALUATED}"}
    assert errors[f"criteria-{EVALUATED}"].startswith(
        "Tick each once the buyer has done it. Not ticked: 2. Buyer booked"
    )
    assert "same link" in errors[f"evidence-{EVALUATED}"]
    assert moves(bot) == []

    state = values(
        EVALUATED,
        ticked={NEEDS: (1, 2, 3, 4), EVALUATED: (1, 2, 3)},
        links={NEEDS: f"{LINK}1", EVALUATED: f"{LINK}2"},
    )
    assert submit(bot, opened, state).json()["response_action"] == "update"
    [move] = moves(bot)
    assert move.to_stage == EVALUATED and [item["url"] for item in move.evidence] == [f"{LINK}1", f"{LINK}2"]


def test_each_wrong_field_is_shown_under_it_and_nothing_is_stored(bot: RunningBot) -> None:
    create_deal(bot)
    opened = open_form(bot)
    cases = [
        (values(ticked={NEEDS: ()}), f"criteria-{NEEDS}", "Not ticked: 1. Buyer confirmed the problem"),
        (values(ticked={NEEDS: (1, 2, 4)}), f"criteria-{NEEDS}", "Not ticked: 3. Buyer confirmed who makes"),
        (values(links={NEEDS: ""}), f"evidence-{NEEDS}", "Paste the link"),
        (values(links={NEEDS: "call notes"}), f"evidence-{NEEDS}", "is not a web link"),
        (values(links={NEEDS: "https://user:pw@mail.example.com/x"}), f"evidence-{NEEDS}", "user name or password"),
        (values(note="x" * (NOTE_LIMIT + 1)), "note", "The note is 1,001 characters long; the most is 1,000."),
        (values(target="no-such-stage"), TARGET_BLOCK, "Choose the stage"),
    ]
    for state, field, message in cases:
        answer = submit(bot, opened, state).json()
        assert answer["response_action"] == "errors", state
        assert list(answer["errors"]) == [field], answer
        assert message in answer["errors"][field], answer
        assert len(answer["errors"][field]) <= 150
    assert moves(bot) == []
    with bot.services.sessions() as session:
        assert [event.kind for event in session.exec(select(DealEvent)).all()] == ["created"]


def test_refusals_that_belong_to_no_field_are_shown_on_the_form(bot: RunningBot) -> None:
    create_deal(bot)
    opened = open_form(bot)

    not_owner = submit(bot, opened, values(), user=OTHER_REP).json()["errors"]
    assert "Only the owner of deal-1 or a sales manager can move it." in not_owner[TARGET_BLOCK]

    assert submit(bot, opened, values()).json()["response_action"] == "update"
    pending = submit(bot, opened, values()).json()["errors"]
    assert "deal-1 already has a move to needs-confirmed waiting for a manager" in pending[TARGET_BLOCK]

    bot.command("/deal", "lost deal-1 reason:Went with a competitor", channel_id=CHANNEL)
    lost = submit(bot, opened, values()).json()["errors"]
    assert "deal-1 was lost (Went with a competitor)" in lost[TARGET_BLOCK]
    assert len(moves(bot)) == 1


def test_a_deal_moved_since_the_form_was_opened_is_not_asked_to_move_again(bot: RunningBot) -> None:
    create_deal(bot)
    opened = open_form(bot)
    bot.command("/advance", f"deal-1 evidence:{LINK}9", channel_id=CHANNEL)
    bot.slack.wait_for(lambda: moves(bot) and moves(bot)[0].message_ts)
    bot.sender.action("move_approve", str(moves(bot)[0].id), user_id=MANAGER, message_ts="1.2", thread_ts="1.1")
    bot.slack.wait_for(lambda: deal_row(bot).stage_key == NEEDS)

    errors = submit(bot, opened, values()).json()["errors"]
    assert "deal-1 moved to Needs confirmed since this form was opened" in errors[TARGET_BLOCK]
    assert len(moves(bot)) == 1


def test_a_replayed_submission_asks_once(bot: RunningBot) -> None:
    deal = create_deal(bot)
    opened = open_form(bot)
    trigger = new_trigger_id()
    first = submit(bot, opened, values(), trigger=trigger)
    second = submit(bot, opened, values(), trigger=trigger)
    assert first.json()["response_action"] == "update" and second.text == ""
    assert len(moves(bot)) == 1
    bot.settle()
    asks = [m for m in bot.slack.thread(CHANNEL, ts(deal.thread_ts)) if "asks to move" in m["text"]]
    assert len(asks) == 1


def test_without_a_trigger_the_typed_refusal_says_what_evidence_is_needed(bot: RunningBot) -> None:
    create_deal(bot)
    reply = bot.command("/advance", "deal-1", channel_id=CHANNEL, trigger_id="").json()["text"]
    assert reply.startswith(":no_entry_sign: Moving deal-1 to Needs confirmed needs evidence of what the buyer did")
    assert "Show me the buyer's reply confirming their needs and timeline." in reply and "*Usage:*" in reply
    assert bot.slack.calls_to("views.open") == [] and moves(bot) == []


def test_what_the_form_cannot_offer_is_answered_as_typed(bot: RunningBot) -> None:
    create_deal(bot)
    back = bot.command("/advance", "deal-1 to:meeting-booked", channel_id=CHANNEL).json()["text"]
    assert "is already at Meeting booked" in back
    unknown = bot.command("/advance", "deal-1 to:nowhere", channel_id=CHANNEL).json()["text"]
    assert "There is no stage 'nowhere'" in unknown
    not_owner = bot.command("/advance", "deal-1", user=OTHER_REP, channel_id=CHANNEL).json()["text"]
    assert "Only the owner of deal-1" in not_owner
    assert bot.slack.calls_to("views.open") == []


def test_choosing_another_stage_rebuilds_the_form_keeping_what_was_typed(bot: RunningBot) -> None:
    create_deal(bot)
    opened = open_form(bot)
    typed = values(ticked={NEEDS: (1, 3)}, links={NEEDS: f"{LINK}1"}, note="Buyer's CFO replied")
    assert choose(bot, opened, EVALUATED, typed).status == 200

    [update] = bot.slack.wait_for("views.update")
    assert (update.args["view_id"], update.args["hash"]) == (opened["id"], opened["hash"])
    rebuilt = blocks_of(latest(bot, "views.update")["view"])
    assert list(rebuilt) == [
        TARGET_BLOCK,
        f"criteria-{NEEDS}",
        f"evidence-{NEEDS}",
        f"criteria-{EVALUATED}",
        f"evidence-{EVALUATED}",
        "note",
    ]
    assert rebuilt[TARGET_BLOCK]["element"]["initial_option"]["value"] == EVALUATED
    assert [o["value"] for o in rebuilt[f"criteria-{NEEDS}"]["element"]["initial_options"]] == ["1", "3"]
    assert rebuilt[f"evidence-{NEEDS}"]["element"]["initial_value"] == f"{LINK}1"
    assert "initial_value" not in rebuilt[f"evidence-{EVALUATED}"]["element"]
    assert rebuilt["note"]["element"]["initial_value"] == "Buyer's CFO replied"
    assert rebuilt[f"evidence-{EVALUATED}"]["label"]["text"] == "Show me the buyer's confirmation email."

    stale = choose(bot, opened, NEEDS, typed)  # built from the view before the update: Slack refuses its hash
    assert stale.status == 200
    bot.settle()
    assert [call.ok for call in bot.slack.calls_to("views.update")] == [True, False]
    kept = blocks_of(latest(bot, "views.update")["view"])
    assert kept[TARGET_BLOCK]["element"]["initial_option"]["value"] == EVALUATED


def test_a_stage_chosen_in_a_form_slack_did_not_name_is_answered_and_changes_nothing(bot: RunningBot) -> None:
    create_deal(bot)
    opened = open_form(bot)
    nameless = {**opened, "id": ""}
    bot.settle()
    published = len(bot.slack.calls_to("views.publish"))
    assert choose(bot, nameless, EVALUATED, values()).status == 200
    noticed = bot.slack.wait_for("views.publish", count=published + 1)[-1]
    assert "This form lost track of its deal" in json.dumps(noticed.args["view"])
    assert bot.slack.calls_to("views.update") == []


def test_the_home_tab_s_advance_button_opens_the_form(bot: RunningBot) -> None:
    create_deal(bot)
    bot.command("/deal", "new Globex pilot", channel_id=CHANNEL)
    bot.command("/advance", f"deal-2 evidence:{LINK}2", channel_id=CHANNEL)
    imported(bot, ("L1", "Live deal", REP, (("live", T0),)))
    bot.settle()
    bot.sender.send_event({"type": "app_home_opened", "user": REP, "tab": "home", "channel": "D1"}, event_id="EvH1")
    home = bot.slack.wait_for(
        lambda: [
            call
            for call in bot.slack.calls_to("views.publish")
            if call.args["user_id"] == REP and "*deal-2* Globex" in json.dumps(call.args)
        ]
    )
    blocks = home[-1].args["view"]["blocks"]
    lines = {block.get("text", {}).get("text", ""): block.get("accessory") for block in blocks}
    deal_lines = {line: button for line, button in lines.items() if line.startswith("• *deal-")}
    [(acme, button), (globex, none), (live, last)] = sorted(deal_lines.items())
    assert live.startswith("• *deal-3* Live deal") and last is None
    assert acme.startswith("• *deal-1* Acme renewal") and button["action_id"] == ADVANCE_ACTION
    assert button["value"] == "1" and button["text"]["text"] == "Advance…"
    assert globex.startswith("• *deal-2* Globex pilot") and "waits for a manager" in globex and none is None

    before = len(bot.slack.calls_to("views.open"))
    assert home_click(bot, ADVANCE_ACTION, "1", user=REP) == 200
    opened = bot.slack.wait_for("views.open", count=before + 1)[-1]
    assert opened.ok and opened.args["view"]["callback_id"] == ADVANCE_VIEW
    assert opened.args["trigger_id"]

    assert home_click(bot, ADVANCE_ACTION, "2", user=REP) == 200  # refused: told on top of the tab
    noticed = bot.slack.wait_for(
        lambda: [c for c in bot.slack.calls_to("views.publish") if "already has a move" in json.dumps(c.args)]
    )
    assert noticed and len(bot.slack.calls_to("views.open")) == before + 1


def test_the_home_tab_stays_within_100_blocks_with_a_button_per_deal(big_bot: RunningBot) -> None:  # noqa: F811
    bot = big_bot
    entered = T0 - timedelta(days=3)
    imported(bot, *[(f"R{index}", f"Deal {index}", REP, ((f"stage-{index % 40}", entered),)) for index in range(400)])

    view = open_home(bot, REP)

    assert len(view["blocks"]) <= 100
    listed = [block for block in view["blocks"] if block.get("text", {}).get("text", "").startswith("• *deal-")]
    buttons = [block["accessory"] for block in listed]
    assert len(listed) > 20 and all(button["action_id"] == ADVANCE_ACTION for button in buttons)
    last = texts({"blocks": view["blocks"][-1:]})
    assert "more stages (" in last and "see them with `/deal list`" in last
    assert "*Your open deals by stage* (400)" in texts(view)

    before = len(bot.slack.calls_to("views.open"))
    assert home_click(bot, ADVANCE_ACTION, buttons[0]["value"], user=REP) == 200
    opened = bot.slack.wait_for("views.open", count=before + 1)[-1]
    assert opened.ok  # the fake checks the form against Block Kit's limits: long stage names and criteria fit
    target = blocks_of(opened.args["view"])[TARGET_BLOCK]["element"]
    assert len(target["options"]) == 10  # a skip enters at most 10 stages: one evidence link each


def long_checklist_pipeline() -> Pipeline:
    """A stage with more exit criteria than one checkboxes element holds (10), and a stage whose key ends like a
    second checklist's block id would."""
    criteria = tuple(f"Buyer did step {n}" for n in range(1, 13))
    return Pipeline(
        (
            Stage(key="start", name="Start", exit_criteria=("Buyer replied",), evidence_prompt="Show me the reply."),
            Stage(key="long", name="Long", exit_criteria=criteria, evidence_prompt="Show me the steps."),
            Stage(
                key="long-2", name="Long 2", exit_criteria=("Buyer signed",), evidence_prompt="Show me it.", won=True
            ),
        )
    )


def test_more_criteria_than_one_checklist_holds_go_in_several_each_checked(
    database_url: str, slack: FakeSlack, sqlite_template: Path
) -> None:
    if database_url.startswith(SQLITE_PREFIX):
        migrate(database_url, sqlite_template)
    with running_bot(database_url, slack, pipeline=long_checklist_pipeline()) as bot:
        bot.command("/deal", "new Acme renewal", channel_id=CHANNEL)
        opened = open_form(bot)
        fields = blocks_of(opened["view"])
        assert list(fields) == [TARGET_BLOCK, "criteria-long", "criteria-long/2", "evidence-long", "note"]
        assert [len(fields[block]["element"]["options"]) for block in ("criteria-long", "criteria-long/2")] == [10, 2]

        state = values("long", ticked={"long": tuple(range(1, 11))}, links={"long": f"{LINK}1"})
        state["criteria-long/2"] = {CRITERIA_ACTION: ticks(11)}
        errors = submit(bot, opened, state).json()["errors"]
        assert errors == {"criteria-long/2": "Tick each once the buyer has done it. Not ticked: 12. Buyer did step 12"}

        state["criteria-long/2"] = {CRITERIA_ACTION: ticks(11, 12)}
        assert submit(bot, opened, state).json()["response_action"] == "update"
        assert [move.to_stage for move in moves(bot)] == ["long"]
    assert slack.violations == []
