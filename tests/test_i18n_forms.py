"""The forms, reminders and snooze replies in every language the bot speaks: each rendered from a small team's
pipeline in English, Spanish, Swedish and Romanian within Slack's limits, each form keeping the language it was
opened in; and a Spanish reader's advance form, opened and refused, through signed requests."""

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.advance_form import (
    ADVANCE_VIEW,
    CRITERIA_ACTION,
    EVIDENCE_ACTION,
    NOTE_INPUT,
    TARGET_ACTION,
    TARGET_BLOCK,
    advance_done,
    advance_from_view,
    advance_modal,
    form_options,
)
from bot.ask_evidence_form import PROMPT_BLOCK, ask_evidence_modal, prompt_from_form
from bot.blocks import Message
from bot.listeners import views
from bot.mrkdwn import MESSAGE_BLOCK_LIMIT, section
from bot.reminder_blocks import (
    move_reminder,
    reminder_settings,
    snooze_changed,
    snooze_fact,
    stall_nudge,
    with_snooze,
)
from commands.deals.home import WaitingMove, home_overview
from commands.deals.move_options import move_options
from commands.deals.results import DealSummary, Snooze
from commands.deals.snooze import SnoozeChanged
from commands.errors import FieldErrors
from commands.i18n.catalogs import bundled_translators
from commands.i18n.languages import Language
from commands.i18n.translator import Translator, tr
from commands.reminders.results import MoveReminder, StallNudge
from commands.reminders.settings import ReminderSettings
from commands.services import Services
from tests.conftest import REP, RunningBot
from tests.fakes.slack_api import block_problems, view_problems
from tests.readme_views import ANA, CHANNEL, MANAGER, sample_team
from tests.test_slack_flows import create_deal

TRANSLATORS = bundled_translators()
LANGUAGES = list(Language)
UNTIL = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)

#: A word each reader sees in the advance form (the select's label) and in the Ask for evidence form's title.
MOVE_TO = {Language.EN: "Move to", Language.ES: "Mover a", Language.SV: "Flytta till", Language.RO: "Mută în"}
ASK_TITLE = {
    Language.EN: "Ask for evidence",
    Language.ES: "Pedir pruebas",
    Language.SV: "Be om bevis",
    Language.RO: "Cere dovezi",
}


@pytest.fixture(scope="module")
def team() -> Iterator[Services]:
    with sample_team() as (services, _):
        yield services


def t_of(language: Language) -> Translator:
    return TRANSLATORS[language]


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = json.loads(view["private_metadata"])
    return kept


def waiting(services: Services) -> WaitingMove:
    return home_overview(services, MANAGER).waiting[0]


def deal_summary(services: Services, number: int) -> DealSummary:
    groups = home_overview(services, ANA).stages
    return next(deal.deal for group in groups for deal in group.deals if deal.deal.number == number)


def message_problems(message: Message) -> list[str]:
    assert message.text
    return block_problems([block.to_dict() for block in message.blocks], limit=MESSAGE_BLOCK_LIMIT)


# ---------------------------------------------------------------- the advance form


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_advance_form_is_in_its_readers_language_and_keeps_it(team: Services, language: Language) -> None:
    t = t_of(language)
    options = move_options(team, ANA, deal_number=1)
    view = advance_modal(t, options, target=options.targets[2]).to_dict()  # a skip: two stages' fields, hints

    assert view_problems(view, expected_type="modal") == []
    assert len(view["title"]["text"]) <= 24 and len(view["submit"]["text"]) <= 24
    assert metadata(view) == {"deal": 1, "name": "Nordic Freight rollout", "from": options.current.key,
                              "language": language.value}  # fmt: skip
    labels = [block["label"]["text"] for block in view["blocks"] if block["type"] == "input"]
    assert labels[0] == MOVE_TO[language]
    assert form_options(view, team.pipeline) == options  # read back as it always was


def test_the_advance_form_in_spanish_swedish_and_romanian(team: Services) -> None:
    options = move_options(team, ANA, deal_number=1)
    target = options.targets[2]

    def shown(language: Language) -> str:
        return json.dumps(advance_modal(t_of(language), options, target=target).to_dict(), ensure_ascii=False)

    spanish, swedish, romanian = shown(Language.ES), shown(Language.SV), shown(Language.RO)
    assert "Avanzar deal-1" in spanish and "Pedir el cambio" in spanish and "Cancelar" in spanish
    assert "marca lo que ha hecho el comprador" in spanish and "el comprador ha…" in spanish
    assert "Propuesta recibida (se salta 1 etapa)" in spanish and "Contrato firmado (se salta 2 etapas)" in spanish
    assert "La prueba de que el comprador ha llegado a" in spanish and "Nota para el responsable de ventas" in spanish
    assert "Flytta fram deal-1" in swedish and "köparen har…" in swedish and "(hoppar över 2 steg)" in swedish
    assert "Avansează deal-1" in romanian and "cumpărătorul a…" in romanian and "(sare peste 2 etape)" in romanian


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_advance_forms_done_view_is_in_its_readers_language(team: Services, language: Language) -> None:
    t = t_of(language)
    options = move_options(team, ANA, deal_number=1)
    view = advance_done(t, options, "Asked to move *deal-1*.").to_dict()
    assert view_problems(view, expected_type="modal") == []
    assert metadata(view) == {"language": language.value}
    expected = {Language.EN: "Done", Language.ES: "Listo", Language.SV: "Klar", Language.RO: "Gata"}
    assert view["close"]["text"] == expected[language]


def submitted(options: Any, state: dict[str, Any]) -> dict[str, Any]:
    view = advance_modal(t_of(Language.ES), options, target=options.targets[0]).to_dict()
    return {**view, "state": {"values": state}}


def test_the_advance_forms_refusals_are_written_in_the_forms_language(team: Services) -> None:
    options = move_options(team, ANA, deal_number=1)
    target = options.targets[0]
    es, sv, ro = t_of(Language.ES), t_of(Language.SV), t_of(Language.RO)

    with pytest.raises(FieldErrors) as no_target:
        advance_from_view(submitted(options, {}), options)
    assert es.show(no_target.value.field_texts[TARGET_BLOCK]) == "Elige la etapa a la que quieres mover la oportunidad."

    state: dict[str, dict[str, Any]] = {
        TARGET_BLOCK: {TARGET_ACTION: {"selected_option": {"value": target.key}}},
        f"criteria-{target.key}": {CRITERIA_ACTION: {"selected_options": [{"value": "1"}]}},
        f"evidence-{target.key}": {EVIDENCE_ACTION: {"value": "https://mail.example.com/m/1"}},
        "note": {NOTE_INPUT: {"value": ""}},
    }
    with pytest.raises(FieldErrors) as unticked:
        advance_from_view(submitted(options, state), options)
    refusal = unticked.value.field_texts[f"criteria-{target.key}"]
    assert es.show(refusal).startswith("Marca cada uno cuando el comprador lo haya hecho. Sin marcar: 2. ")
    assert sv.show(refusal).startswith("Bocka för varje punkt när köparen har gjort den. Inte ibockade: 2. ")
    assert ro.show(refusal).startswith("Bifează fiecare criteriu după ce cumpărătorul l-a îndeplinit. Nebifate: 2. ")
    assert str(refusal).startswith("Tick each once the buyer has done it. Not ticked: 2. ")


# ---------------------------------------------------------------- the Ask for evidence form


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_ask_for_evidence_form_is_in_its_readers_language(team: Services, language: Language) -> None:
    move = waiting(team).move
    view = ask_evidence_modal(t_of(language), move, channel_id=CHANNEL).to_dict()
    assert view_problems(view, expected_type="modal") == []
    assert view["title"]["text"] == ASK_TITLE[language]
    assert metadata(view) == {"move_id": move.id, "channel_id": CHANNEL, "language": language.value}
    in_language = move.to_stage.text_in(language.value)
    assert view["blocks"][1]["element"]["initial_value"] == in_language.evidence_prompt
    intro = view["blocks"][0]["text"]["text"]
    assert f"<@{move.requested_by}>" in intro and f"*{in_language.name}*" in intro


def test_the_ask_for_evidence_form_in_spanish_swedish_and_romanian(team: Services) -> None:
    move = waiting(team).move

    def shown(language: Language) -> str:
        view = ask_evidence_modal(t_of(language), move, channel_id=CHANNEL).to_dict()
        return json.dumps(view, ensure_ascii=False)

    assert "Pide pruebas a" in shown(Language.ES) and "¿Qué te tiene que enseñar el comercial?" in shown(Language.ES)
    assert "Be <@" in shown(Language.SV) and "Vad ska säljaren visa dig?" in shown(Language.SV)
    assert "Cere dovezi de la" in shown(Language.RO) and '"text": "Cere"' in shown(Language.RO)


def test_an_empty_ask_for_evidence_is_refused_in_the_forms_language() -> None:
    with pytest.raises(FieldErrors) as refused:
        prompt_from_form("  \u200b ")
    refusal = refused.value.field_texts[PROMPT_BLOCK]
    assert t_of(Language.ES).show(refusal).startswith("Di qué prueba de la acción del comprador")
    assert t_of(Language.SV).show(refusal).startswith("Skriv vilket bevis på köparens åtgärd")
    assert str(refusal).startswith("Say what evidence of the buyer's action")


@pytest.mark.parametrize(
    "constant",
    [
        views.NO_ACTOR,
        views.LOST_TRACK,
        views.NO_ACTOR_NEW_DEAL,
        views.NO_ACTOR_ASK,
        views.LOST_TRACK_ASK,
        views.LOST_CHANNEL,
    ],
)
def test_the_forms_refusals_are_translated(constant: str) -> None:
    for language in (Language.ES, Language.SV, Language.RO):
        shown = t_of(language).show(tr(constant))
        assert shown != constant and ("/deal new" in shown) == ("/deal new" in constant)


# ---------------------------------------------------------------- reminders, nudges, settings, snoozes


@pytest.mark.parametrize("language", LANGUAGES)
def test_reminders_and_nudges_are_in_the_threads_language_within_slacks_limits(
    team: Services, language: Language
) -> None:
    t = t_of(language)
    move = waiting(team)
    reminder = MoveReminder(move.deal, move.move, (MANAGER.user_id,), timedelta(hours=30))
    two_missing = replace(reminder, move=replace(move.move, approvals_needed=2))
    deal = deal_summary(team, 1)
    stage = deal.stage
    nudge = StallNudge(deal, ANA.user_id, stage, 21, team.pipeline.next_after(stage.key), True)
    last = StallNudge(deal, ANA.user_id, stage, 1, None, True)
    for message in (move_reminder(t, reminder), move_reminder(t, two_missing), stall_nudge(t, nudge)):
        assert message_problems(message) == []
    assert "/deal snooze deal-1 7d reason:" in stall_nudge(t, last).text


def test_reminders_and_nudges_in_spanish_swedish_and_romanian(team: Services) -> None:
    move = waiting(team)
    reminder = MoveReminder(move.deal, move.move, (MANAGER.user_id,), timedelta(hours=30))
    two_missing = replace(reminder, move=replace(move.move, approvals_needed=2))
    deal = deal_summary(team, 1)
    stage = deal.stage
    nudge = StallNudge(deal, ANA.user_id, stage, 21, team.pipeline.next_after(stage.key), True)
    es, sv, ro = t_of(Language.ES), t_of(Language.SV), t_of(Language.RO)

    assert "lleva 1 día esperando una decisión" in move_reminder(es, reminder).text
    assert "Aún le faltan 2 aprobaciones" in move_reminder(es, two_missing).text
    assert "har väntat på beslut i 1 dag" in move_reminder(sv, reminder).text
    assert "Mai are nevoie de 2 aprobări" in move_reminder(ro, two_missing).text
    assert "lleva 21 días en" in stall_nudge(es, nudge).text and "pospón" in stall_nudge(es, nudge).text
    assert "har legat i" in stall_nudge(sv, nudge).text and "21 dagar" in stall_nudge(sv, nudge).text
    assert "stă în *Nevoi confirmate* de 21 de zile" in stall_nudge(ro, nudge).text
    assert "de 5 zile (limita" in stall_nudge(ro, replace(nudge, days_in_stage=5)).text
    assert "(cel mult 90 de zile)" in stall_nudge(ro, nudge).text


@pytest.mark.parametrize("language", LANGUAGES)
def test_reminder_settings_and_snoozes_are_in_the_readers_language(team: Services, language: Language) -> None:
    t = t_of(language)
    deal = deal_summary(team, 1)
    snooze = Snooze(UNTIL, "Budget <freeze> until January", REP, UNTIL - timedelta(days=7))
    replies = [
        reminder_settings(t, ReminderSettings(36, None, None, changed=True)),
        reminder_settings(t, ReminderSettings(48, MANAGER.user_id, UNTIL)),
        reminder_settings(t, ReminderSettings(None, MANAGER.user_id, UNTIL, changed=True)),
        snooze_changed(t, SnoozeChanged(deal, snooze)),
        snooze_changed(t, SnoozeChanged(deal, None, snooze)),
        with_snooze(t, Message(text="deal-1", blocks=[section("deal-1"), section("*Stage:* x")]), snooze),
    ]
    for reply in replies:
        assert message_problems(reply) == []
    fact = snooze_fact(t, snooze)
    assert f"<!date^{int(UNTIL.timestamp())}^{{date_short}}|{t.day(UNTIL.date())} UTC>" in fact
    assert "Budget &lt;freeze&gt; until January" in fact and f"<@{REP}>" in fact
    assert "`/pipeline reminders pending 24h`" in replies[0].text and "`/deal snooze deal-1 off`" in replies[3].text


def test_reminder_settings_and_snoozes_in_spanish_swedish_and_romanian(team: Services) -> None:
    deal = deal_summary(team, 1)
    snooze = Snooze(UNTIL, "Budget freeze", REP, UNTIL - timedelta(days=7))
    es, sv, ro = t_of(Language.ES), t_of(Language.SV), t_of(Language.RO)

    assert reminder_settings(es, ReminderSettings(36, None, None, changed=True)).text.startswith("Cambiado. ")
    assert "tras *36 horas*" in reminder_settings(es, ReminderSettings(36, None, None)).text
    assert "efter *2 dagar*" in reminder_settings(sv, ReminderSettings(48, None, None)).text
    assert "Setat de <@" in reminder_settings(ro, ReminderSettings(48, MANAGER.user_id, UNTIL)).text
    assert "*desactivados*" in reminder_settings(es, ReminderSettings(None, None, None)).text
    assert "*Pospuesta* hasta el" in snooze_fact(es, snooze) and "|7 dic 2026 UTC>" in snooze_fact(es, snooze)
    assert "*Pausad* till" in snooze_fact(sv, snooze)
    assert "ya no está pospuesta" in snooze_changed(es, SnoozeChanged(deal, None, snooze)).text
    assert "fără mementouri de blocare până pe" in snooze_changed(ro, SnoozeChanged(deal, snooze)).text


# ---------------------------------------------------------------- end to end, a Spanish reader


def test_a_spanish_reader_opens_the_advance_form_in_spanish_and_is_refused_in_spanish(bot: RunningBot) -> None:
    bot.slack.user_locales[REP] = "es-ES"
    create_deal(bot)
    before = len(bot.slack.calls_to("views.open"))
    assert bot.command("/advance", "deal-1", user=REP, channel_id="C_SALES").status == 200
    bot.slack.wait_for("views.open", count=before + 1)
    opened = [record for record in bot.slack.views if record["method"] == "views.open"][-1]
    view = opened["view"]
    assert view["title"]["text"] == "Avanzar deal-1" and view["submit"]["text"] == "Pedir el cambio"
    assert view_problems(view, expected_type="modal") == []
    assert metadata(view)["language"] == "es"
    fields = {block["block_id"]: block for block in view["blocks"] if "block_id" in block}
    assert fields[TARGET_BLOCK]["label"]["text"] == "Mover a"
    target = fields[TARGET_BLOCK]["element"]["initial_option"]["value"]

    state: dict[str, dict[str, Any]] = {
        TARGET_BLOCK: {TARGET_ACTION: {"type": "static_select", "selected_option": {"value": target}}},
        f"criteria-{target}": {CRITERIA_ACTION: {"type": "checkboxes", "selected_options": [{"value": "1"}]}},
        f"evidence-{target}": {EVIDENCE_ACTION: {"type": "url_text_input", "value": "not a link"}},
        "note": {NOTE_INPUT: {"type": "plain_text_input", "value": ""}},
    }
    answer = bot.sender.submit_view(
        ADVANCE_VIEW, state, private_metadata=view["private_metadata"], user_id=REP, view_id=opened["id"]
    )

    assert answer.status == 200
    errors = answer.json()["errors"]
    assert errors[f"criteria-{target}"].startswith("Marca cada uno cuando el comprador lo haya hecho. Sin marcar: 2.")
    assert f"evidence-{target}" in errors  # the link's own words are the slash grammar's (bot/slash_grammar.py)
