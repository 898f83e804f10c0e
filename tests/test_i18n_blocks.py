"""Every renderer in bot/blocks.py in every language: within Slack's Block Kit limits, in the reader's words, and
forms that remember the language their refusals are answered in."""

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot import blocks
from bot.blocks import Message
from bot.mrkdwn import MESSAGE_BLOCK_LIMIT, mention, packed_sections, section
from commands.crm.import_deals import IMPORT_ACTOR
from commands.deals.deal import ListDeals, MarkLost, list_deals, mark_lost, show_deal
from commands.deals.evidence import Evidence
from commands.deals.home import home_overview
from commands.deals.managers import ChangeManager, change_manager, list_managers
from commands.deals.moves import Advance, AlreadyDecided, ask_for_evidence, decide_move, request_move
from commands.deals.results import ApprovalGiven, MovedBack, MoveRequested
from commands.digest.schedules import ScheduleView, SetSchedule, set_schedule
from commands.errors import CommandError
from commands.i18n.catalogs import bundled_translators
from commands.i18n.languages import Language
from commands.i18n.translator import Translator, tr
from commands.pipeline.board import pipeline_board
from commands.pipeline.lint import lint_pipeline
from commands.services import Services
from storage.models import MoveStatus, QuietDigest
from tests.fakes.slack_api import block_problems, view_problems
from tests.readme_views import ANA, CHANNEL, ERIK, MANAGER, NOW, sample_team

TRANSLATORS = bundled_translators()
LANGUAGES = list(Language)
MODAL_TEXT_LIMIT = 24
BUTTON_TEXT_LIMIT = 75


@dataclass(frozen=True)
class Rendered:
    """Everything bot/blocks.py renders, in one language, from one populated workspace."""

    messages: dict[str, Message]
    texts: dict[str, str]
    views: dict[str, View]


def _render_all(t: Translator) -> Rendered:
    with sample_team() as (services, clock):
        return _rendered(t, services, clock)


def _rendered(t: Translator, services: Services, clock: Any) -> Rendered:
    pipeline = services.pipeline
    homes = {
        name: home_overview(services, actor) for name, actor in (("rep", ANA), ("manager", MANAGER), ("erik", ERIK))
    }
    carpathia = show_deal(services, ANA, number=3)
    assert carpathia.pending is not None
    waiting = carpathia.pending
    baltic = show_deal(services, ERIK, number=4)

    clock.now = NOW + timedelta(hours=1)
    requested = request_move(
        services,
        ERIK,
        Advance(deal_number=4, evidence=(Evidence("https://mail.example.com/baltic/invite"),), to_key=None, note="Hi"),
    )
    assert isinstance(requested, MoveRequested)
    asked = ask_for_evidence(services, MANAGER, move_id=requested.move.id, prompt="Show the accepted invite")
    rejected = decide_move(services, MANAGER, move_id=requested.move.id, approve=False, reason="No reply yet")
    approved = decide_move(services, MANAGER, move_id=waiting.id, approve=True)
    two_needed = replace(waiting, approvals_needed=2, approved_by=(MANAGER.user_id,), status=MoveStatus.PENDING)
    given = ApprovalGiven(approved.deal, two_needed, approver_id=MANAGER.user_id, managers_to_ask=("U0OTHER",))
    too_few = MoveRequested(requested.deal, replace(requested.move, approvals_needed=3), ("U0OTHER",))
    by_policy = replace(requested.move, approvals_needed=0, status=MoveStatus.APPROVED, decided_at=NOW)
    moved_back = request_move(
        services, ANA, Advance(deal_number=2, evidence=(), to_key=pipeline.stages[1].key, note="Pains not confirmed")
    )
    assert isinstance(moved_back, MovedBack)
    lost = mark_lost(services, ANA, MarkLost(deal_number=1, reason="Went with a competitor"))
    cancelled = replace(requested.move, status=MoveStatus.CANCELLED, decided_by=ANA.user_id)
    detail = show_deal(services, ANA, number=3)
    imported = replace(detail, history=(*detail.history, replace(detail.history[0], actor_id=IMPORT_ACTOR)))
    schedule = set_schedule(
        services,
        MANAGER,
        channel_id=CHANNEL,
        command=SetSchedule("weekly", "mon", time(9, 0), "Europe/Madrid"),
        default_tz="UTC",
    )
    daily = ScheduleView(CHANNEL, "daily", None, time(8, 30), "UTC", NOW, quiet=QuietDigest.SKIP)
    added = change_manager(services, MANAGER, ChangeManager("add", ANA.user_id))
    removed = change_manager(services, MANAGER, ChangeManager("remove", "U0NOBODY"))
    sloppy = replace(
        pipeline.stages[0], name="Demo sent", exit_criteria=("We sent the demo", "We sent the demo"), texts={}
    )
    findings = lint_pipeline(replace(pipeline, stages=(sloppy, *pipeline.stages[1:])))
    assert findings
    first_deal = baltic.deal

    messages = {
        "deal_card": blocks.deal_card(t, first_deal, evidence_missing=pipeline.stages[1]),
        "deal_card_lost": blocks.deal_card(t, lost.deal),
        "created_confirmation": blocks.created_confirmation(t, first_deal),
        "move_request": blocks.move_request(t, requested),
        "move_request_too_few": blocks.move_request(t, too_few),
        "move_request_nobody": blocks.move_request(t, replace(requested, managers_to_ask=())),
        "move_outcome_rejected": blocks.move_outcome(t, rejected.move, rejected.deal),
        "move_outcome_approved": blocks.move_outcome(t, approved.move, approved.deal),
        "move_outcome_policy": blocks.move_outcome(t, by_policy, requested.deal),
        "approval_reply": blocks.approval_reply(t, given),
        "move_confirmation": blocks.move_confirmation(t, requested),
        "move_confirmation_no_thread": blocks.move_confirmation(
            t, replace(too_few, deal=replace(too_few.deal, thread_ts=None))
        ),
        "move_confirmation_policy": blocks.move_confirmation(t, replace(requested, move=by_policy)),
        "move_confirmation_nobody": blocks.move_confirmation(t, replace(requested, managers_to_ask=())),
        "decision_approved": blocks.decision_reply(t, approved),
        "decision_rejected": blocks.decision_reply(t, rejected),
        "decision_policy": blocks.decision_reply(t, replace(approved, move=by_policy)),
        "evidence_request": blocks.evidence_request(t, asked),
        "lost_reply": blocks.lost_reply(t, lost),
        "lost_confirmation": blocks.lost_confirmation(t, lost),
        "moved_back_reply": blocks.moved_back_reply(t, moved_back),
        "moved_back_confirmation": blocks.moved_back_confirmation(t, moved_back),
        "refusal": blocks.refusal(t, CommandError(tr("That deal is not yours."), usage=tr("/deal show deal-<n>"))),
        "deal_detail": blocks.deal_detail(t, imported),
        "deal_detail_pending": blocks.deal_detail(t, replace(detail, pending=two_needed)),
        "deal_list": blocks.deal_list(t, list_deals(services, ANA, ListDeals("all", None))),
        "deal_list_stage": blocks.deal_list(t, list_deals(services, ANA, ListDeals("mine", pipeline.stages[1].key))),
        "deal_list_empty": blocks.deal_list(t, list_deals(services, ERIK, ListDeals("mine", pipeline.stages[6].key))),
        "board": blocks.board(t, pipeline_board(services, ANA)),
        "stages": blocks.stages(t, pipeline),
        "managers": blocks.managers(t, list_managers(services, ANA)),
        "manager_added": blocks.manager_changed(t, added),
        "manager_not_removed": blocks.manager_changed(t, removed),
        "help": blocks.help_message(t, tr("/deal show deal-<n>")),
        "guide": blocks.guide(t, "/deal new", "/advance"),
        "lint_report": blocks.lint_report(t, findings, pipeline),
        "lint_clean": blocks.lint_report(t, (), pipeline),
        "schedule": blocks.schedule(t, schedule, changed=True),
        "schedule_daily": blocks.schedule(t, daily),
        "schedule_none": blocks.schedule(t, None),
        "schedule_stopped": blocks.schedule_stopped(t, True),
        "schedule_was_off": blocks.schedule_stopped(t, False),
    }
    texts = {
        "cannot_post": blocks.cannot_post(t, first_deal, bot_user_id="U0BOT"),
        "cannot_post_no_bot": blocks.cannot_post(t, first_deal, bot_user_id=""),
        "digest_no_access": blocks.digest_not_posted(t, CHANNEL, no_access=True, bot_user_id="U0BOT"),
        "digest_no_access_no_bot": blocks.digest_not_posted(t, CHANNEL, no_access=True, bot_user_id=""),
        "digest_refused": blocks.digest_not_posted(t, CHANNEL, no_access=False, bot_user_id="U0BOT"),
        "already_decided": blocks.already_decided(t, AlreadyDecided(rejected.move)),
        "already_cancelled": blocks.already_decided(t, AlreadyDecided(cancelled)),
    }
    views = {
        "reject_modal": blocks.reject_modal(t, requested.move, channel_id=CHANNEL),
        "new_deal_modal": blocks.new_deal_modal(t, channel_id=CHANNEL),
        "rep_home": blocks.home_view(t, homes["rep"], notice="A notice"),
        "manager_home": blocks.home_view(t, homes["manager"]),
        "erik_home": blocks.home_view(t, homes["erik"]),
        "later_home": blocks.home_view(t, home_overview(services, ANA)),
    }
    return Rendered(messages, texts, views)


@pytest.fixture(scope="module")
def rendered() -> Iterator[dict[Language, Rendered]]:
    yield {language: _render_all(TRANSLATORS[language]) for language in LANGUAGES}


@pytest.mark.parametrize("language", LANGUAGES, ids=lambda language: language.value)
def test_every_message_is_one_slack_accepts(rendered: dict[Language, Rendered], language: Language) -> None:
    shown = rendered[language]
    for name, message in shown.messages.items():
        assert message.text.strip(), name
        assert block_problems([block.to_dict() for block in message.blocks], limit=MESSAGE_BLOCK_LIMIT) == [], name
    for name, text in shown.texts.items():
        assert block_problems([section(text).to_dict()], limit=MESSAGE_BLOCK_LIMIT) == [], name


@pytest.mark.parametrize("language", LANGUAGES, ids=lambda language: language.value)
def test_every_view_is_one_slack_accepts(rendered: dict[Language, Rendered], language: Language) -> None:
    for name, view in rendered[language].views.items():
        raw = view.to_dict()
        assert view_problems(raw, expected_type=raw["type"]) == [], name
        for key in ("title", "submit", "close"):
            if key in raw:
                text = raw[key]["text"]
                assert not _cut(text, MODAL_TEXT_LIMIT), f"{name} {key}: {text!r} is cut"
        for button in _buttons(raw["blocks"]):
            assert not _cut(button, BUTTON_TEXT_LIMIT), f"{name}: {button!r} is cut"


@pytest.mark.parametrize("language", LANGUAGES, ids=lambda language: language.value)
def test_buttons_in_threads_fit_and_are_not_cut(rendered: dict[Language, Rendered], language: Language) -> None:
    blocks_ = [block.to_dict() for block in rendered[language].messages["move_request"].blocks]
    labels = _buttons(blocks_)
    assert len(labels) == 3
    assert not any(_cut(label, BUTTON_TEXT_LIMIT) for label in labels)


def _cut(text: str, limit: int) -> bool:
    """Whether `plain(…, limit)` had to cut the text to Slack's limit (it ends a cut text with "…")."""
    return len(text) > limit or (len(text) == limit and text.endswith("…"))


@pytest.mark.parametrize("language", LANGUAGES, ids=lambda language: language.value)
def test_forms_remember_the_language_they_were_opened_in(
    rendered: dict[Language, Rendered], language: Language
) -> None:
    views = rendered[language].views
    reject = json.loads(views["reject_modal"].private_metadata or "")
    assert reject["language"] == language.value
    assert reject["channel_id"] == CHANNEL and isinstance(reject["move_id"], int)
    new_deal = json.loads(views["new_deal_modal"].private_metadata or "")
    assert new_deal == {"channel_id": CHANNEL, "language": language.value}


def _buttons(raw_blocks: list[dict[str, Any]]) -> list[str]:
    labels = []
    for block in raw_blocks:
        elements = block.get("elements", []) if block["type"] == "actions" else [block.get("accessory") or {}]
        labels += [element["text"]["text"] for element in elements if element.get("type") == "button"]
    return labels


def _all_text(value: Any) -> str:
    """Every string in a message's blocks or a view, joined: what a reader could see."""
    if isinstance(value, Message):
        return value.text + "\n" + _all_text([block.to_dict() for block in value.blocks])
    if isinstance(value, View):
        return _all_text(value.to_dict())
    if isinstance(value, dict):
        return "\n".join(_all_text(item) for key, item in value.items() if key not in ("private_metadata",))
    if isinstance(value, list):
        return "\n".join(_all_text(item) for item in value)
    return value if isinstance(value, str) else ""


WORDS = {
    Language.ES: {
        "deal_card": ["*Etapa:*", "*Propietario:*", "*Valor:*", "*Empresa:*", "Aún no hay pruebas", "este hilo"],
        "move_request": ["pide mover", "*Pruebas*", "el comprador…", "Aprobar", "Rechazar", "Pedir pruebas"],
        "move_request_too_few": ["Necesita 3 aprobaciones más", "solo 1 responsable más puede darla"],
        "move_outcome_rejected": [":x: Rechazado por", "No reply yet"],
        "approval_reply": ["ha aprobado el cambio", "falta la aprobación de un responsable más"],
        "move_confirmation": ["He pedido mover", "con 1 enlace de prueba", "Un responsable lo decidirá"],
        "lost_reply": ["como perdida"],
        "deal_detail": ["*Historial*", "la creó en", "la importación", "*En esta etapa desde hace:*"],
        "deal_list": ["*Oportunidades abiertas*"],
        "deal_list_empty": ["Ninguna. Crea una con `/deal new"],
        "board": ["oportunidades abiertas", "en el pipeline", "*Clientes*"],
        "stages": ["Etapas", "Se alcanza cuando el comprador:", "Un responsable aprueba"],
        "managers": ["*Responsables de ventas:*"],
        "lint_clean": ["Sin observaciones: las 7 etapas del pipeline son necesarias"],
        "lint_report": ["Revisión del pipeline", "observaciones", "en 7 etapas"],
        "schedule": ["Programado:", "cada lunes a las 09:00", "Próximo: lun"],
        "schedule_daily": ["todos los días a las 08:30", "no publica nada"],
        "reject_modal": ["Rechazar cambio", "Motivo", "¿Qué prueba"],
        "new_deal_modal": ["Nueva oportunidad", "Nombre de la oportunidad", "Renovación Acme", "Cancelar"],
        "rep_home": [
            "Tu pipeline",
            "*Tu semana*",
            "Pipeline abierto:",
            "*Tus oportunidades abiertas por etapa*",
            "Avanzar…",
        ],
        "manager_home": ["*Cambios de etapa pendientes de un responsable*", "pedido por"],
        "cannot_post": ["No puedo publicar en", "pestaña Inicio"],
        "already_decided": ["No ha cambiado nada"],
    },
    Language.SV: {
        "deal_card": ["*Steg:*", "*Ägare:*", "*Värde:*", "*Företag:*", "Inga bevis än", "den här tråden"],
        "move_request": ["vill flytta", "*Bevis*", "köparen…", "Godkänn", "Avslå", "Be om bevis"],
        "approval_reply": ["godkände flytten", "väntar på godkännande från en säljchef till"],
        "move_confirmation": ["Bad om att flytta", "med 1 bevislänk", "En säljchef beslutar"],
        "deal_detail": ["*Historik*", "skapade den i", "importen"],
        "board": ["öppna affärer", "i pipelinen", "*Kunder*"],
        "stages": ["Steg", "Nås när köparen:"],
        "schedule": ["Schemalagt:", "varje måndag kl. 09:00", "Nästa: mån"],
        "reject_modal": ["Avslå flytt", "Skäl"],
        "new_deal_modal": ["Ny affär", "Affärens namn", "Lägg till affär", "Avbryt"],
        "rep_home": [
            "Din pipeline",
            "*Din vecka*",
            "Öppen pipeline:",
            "*Dina öppna affärer per steg*",
            "dagar i steget",
        ],
        "manager_home": ["*Flyttar som väntar på en säljchef*", "begärd av", "*Affärer som står still"],
        "digest_refused": ["Slack tog inte emot sammanfattningen"],
    },
    Language.RO: {
        "deal_card": ["*Etapă:*", "*Proprietar:*", "*Valoare:*", "*Companie:*", "Încă nu există dovezi"],
        "move_request": ["cere mutarea", "*Dovezi*", "cumpărătorul…", "Aprobă", "Respinge", "Cere dovezi"],
        "move_confirmation": ["Am cerut să mut", "cu 1 link de dovadă", "Un manager va decide"],
        "deal_detail": ["*Istoric*", "a creat-o în", "importul"],
        "board": ["tranzacții deschise", "în pipeline", "*Clienți*"],
        "lint_report": ["Verificarea pipeline-ului", "în 7 etape"],
        "schedule": ["Programat:", "în fiecare luni la 09:00"],
        "reject_modal": ["Respinge mutarea", "Motiv", "Ce dovadă"],
        "new_deal_modal": ["Tranzacție nouă", "Numele tranzacției", "Adaugă tranzacția", "Anulează"],
        "rep_home": ["Pipeline-ul tău", "*Săptămâna ta*", "*Tranzacțiile tale deschise, pe etape*", "Avansează…"],
        "manager_home": ["*Mutări care așteaptă un manager*", "cerută de"],
        "schedule_stopped": ["Programarea rezumatului pentru acest canal e oprită."],
    },
    Language.EN: {
        "deal_card": ["*Stage:*", "*Owner:*", "*Value:* 9,000", "No evidence yet that the buyer reached"],
        "move_request": ["asks to move", "*Evidence*", "Approve", "Reject", "Ask for evidence"],
        "rep_home": ["Your pipeline", "*Your week*", "*Your open deals by stage* ("],
        "schedule": ["Scheduled: the pipeline digest is posted in <#C0DEALS> every Monday at 09:00 (Europe/Madrid)."],
        "new_deal_modal": ["New deal", "Deal name", "Add deal"],
        "reject_modal": ["Reject move"],
    },
}


@pytest.mark.parametrize("language", LANGUAGES, ids=lambda language: language.value)
def test_each_surface_speaks_the_readers_language(rendered: dict[Language, Rendered], language: Language) -> None:
    shown = rendered[language]
    surfaces: dict[str, Any] = {**shown.messages, **shown.texts, **shown.views}
    for name, words in WORDS[language].items():
        text = _all_text(surfaces[name])
        for word in words:
            assert word in text, f"{language.value} {name}: {word!r} not in {text[:2000]!r}"


@pytest.mark.parametrize("language", [Language.ES, Language.SV, Language.RO], ids=lambda language: language.value)
def test_no_english_words_are_left_in_translated_messages(
    rendered: dict[Language, Rendered], language: Language
) -> None:
    """The English of a few words every surface uses must not show through in another language."""
    english = ["Stage:", "Owner:", "asked by", "Approve", "Moves waiting", "Your week", "evidence link", " deals"]
    shown = rendered[language]
    for name, surface in {**shown.messages, **shown.texts, **shown.views}.items():
        text = _all_text(surface)
        for word in english:
            assert word not in text, f"{language.value} {name}: English {word!r} in {text[:1500]!r}"


def test_romanian_counts_take_the_form_of_their_number() -> None:
    t = TRANSLATORS[Language.RO]
    assert t.n("{count} deal", "{count} deals", 1) == "1 tranzacție"
    assert t.n("{count} deal", "{count} deals", 3) == "3 tranzacții"
    assert t.n("{count} deal", "{count} deals", 21) == "21 de tranzacții"


def test_the_import_is_named_in_the_readers_language() -> None:
    assert mention(IMPORT_ACTOR, TRANSLATORS[Language.SV]) == "importen"
    assert mention(IMPORT_ACTOR) == "the import"
    assert mention("U0ANA", TRANSLATORS[Language.ES]) == "<@U0ANA>"


def test_what_does_not_fit_is_counted_in_the_readers_language() -> None:
    lines = ["x" * 2900] * 10
    spanish = packed_sections(lines, max_blocks=3, t=TRANSLATORS[Language.ES])
    assert spanish[-1].to_dict()["elements"][0]["text"] == "y 8 más"
    english = packed_sections(lines, max_blocks=3)
    assert english[-1].to_dict()["elements"][0]["text"] == "and 8 more"


def test_a_day_in_a_date_token_falls_back_to_the_readers_words() -> None:
    from bot.mrkdwn import day

    moment = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    assert day(moment, TRANSLATORS[Language.ES]).endswith("|7 dic 2026 UTC>")
    assert day(moment) == f"<!date^{int(moment.timestamp())}^{{date_short}}|07 Dec 2026 UTC>"
