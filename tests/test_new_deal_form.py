"""`/deal new` alone opens a form; submitting it does what the typed command does, and a wrong field is shown
under that field with nothing stored."""

import json
from typing import Any

from sqlmodel import select

from bot.blocks import FIELD_INPUT, NEW_DEAL_VIEW
from storage.models import Deal
from tests.conftest import REP, RunningBot

CHANNEL = "C_SALES"


def open_form(bot: RunningBot) -> dict[str, Any]:
    ack = bot.command("/deal", "new", channel_id=CHANNEL)
    assert ack.status == 200 and "Fill in the form" in ack.json()["text"]
    assert "/deal new &lt;name&gt;" in ack.json()["text"]
    opened = bot.slack.wait_for("views.open")[-1]
    view = opened.args["view"]
    return view if isinstance(view, dict) else json.loads(view)


def submit(bot: RunningBot, view: dict[str, Any], **fields: str) -> Any:
    values = {field: {FIELD_INPUT: fields.get(field, "")} for field in ("name", "company", "value", "evidence")}
    response = bot.sender.submit_view(NEW_DEAL_VIEW, values, private_metadata=view["private_metadata"], user_id=REP)
    assert response.status == 200
    return response.json() if response.body else None


def deals(bot: RunningBot) -> list[Deal]:
    with bot.services.sessions() as session:
        return list(session.exec(select(Deal)).all())


def test_the_form_creates_the_deal_and_posts_its_card(bot: RunningBot) -> None:
    view = open_form(bot)
    assert view["callback_id"] == NEW_DEAL_VIEW
    assert [block.get("block_id") for block in view["blocks"] if block["type"] == "input"] == [
        "name",
        "company",
        "value",
        "evidence",
    ]
    assert submit(bot, view, name="Acme renewal", company="Acme <Corp>", value="€12.5k") is None
    [deal] = deals(bot)
    assert (deal.name, deal.company, deal.value_cents, deal.owner_id, deal.channel_id) == (
        "Acme renewal",
        "Acme <Corp>",
        1_250_000,
        REP,
        CHANNEL,
    )
    bot.settle()
    [card] = [m for m in bot.slack.messages if m["channel"] == CHANNEL]
    shown = json.dumps(card["blocks"], ensure_ascii=False)
    assert "deal-1 · Acme renewal" in shown and "Acme &lt;Corp&gt;" in shown


def test_wrong_fields_are_shown_under_each_field_and_nothing_is_stored(bot: RunningBot) -> None:
    view = open_form(bot)
    answer = submit(bot, view, name=" ", value="lots", evidence="call notes")
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"name", "value", "evidence"}
    assert all(len(message) <= 150 and "`" not in message for message in answer["errors"].values())
    assert deals(bot) == []


def test_a_submission_replayed_creates_one_deal(bot: RunningBot) -> None:
    view = open_form(bot)
    values = {
        field: {FIELD_INPUT: "Acme" if field == "name" else ""} for field in ("name", "company", "value", "evidence")
    }
    for _ in range(2):
        bot.sender.submit_view(
            NEW_DEAL_VIEW, values, private_metadata=view["private_metadata"], user_id=REP, trigger_id="1.2.same"
        )
    assert [deal.name for deal in deals(bot)] == ["Acme"]


def test_without_a_trigger_to_open_the_form_the_reply_says_what_to_type(bot: RunningBot) -> None:
    reply = bot.command("/deal", "new", channel_id=CHANNEL, trigger_id="").json()["text"]
    assert reply.startswith(":no_entry_sign:") and "/deal new Acme renewal" in reply
    assert bot.slack.calls_to("views.open") == [] and deals(bot) == []


def test_a_value_in_another_currency_is_refused_under_the_value_in_the_forms_language(bot: RunningBot) -> None:
    bot.command("/pipeline", "currency EUR", user="U_MGR")
    bot.slack.user_locales[REP] = "es-ES"
    view = open_form_in(bot, "Rellena el formulario")
    answer = submit(bot, view, name="Acme", value="$5000")
    assert answer["response_action"] == "errors" and set(answer["errors"]) == {"value"}
    assert answer["errors"]["value"] == "Este espacio de trabajo lleva los valores en EUR. Escríbelo en EUR, como €5k."
    assert deals(bot) == []
    assert submit(bot, view, name="Acme", value="5000") is None
    assert [(deal.value_cents, deal.value_currency) for deal in deals(bot)] == [(500_000, "EUR")]


def open_form_in(bot: RunningBot, words: str) -> dict[str, Any]:
    ack = bot.command("/deal", "new", channel_id=CHANNEL)
    assert words in ack.json()["text"]
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    return view if isinstance(view, dict) else json.loads(view)
