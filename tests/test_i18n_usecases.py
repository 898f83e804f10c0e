"""The use cases' refusals in every language, and the currency a new deal's value is stored in.

Each refusal is raised through its use case (or the pure function that builds it) and read as the Slack side
reads it, `t.show(error.text)`, in Spanish, Swedish and Romanian; the currency rules are driven through
`create_deal` on a real database.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import time

import pytest
from babel.messages.pofile import read_po
from sqlmodel import col, select

from bot.mrkdwn import escape
from commands.deals.deal import ListDeals, MarkLost, NewDeal, create_deal, list_deals, mark_lost, show_deal
from commands.deals.evidence import Evidence
from commands.deals.home import home_overview
from commands.deals.managers import ChangeManager, change_manager
from commands.deals.move_options import options_at
from commands.deals.moves import (
    Advance,
    AlreadyDecided,
    current_stage,
    decide_move,
    last_stage,
    request_move,
)
from commands.deals.results import MoveRequested
from commands.deals.snooze import EndSnooze, SnoozeDeal, snooze_deal
from commands.digest.schedules import SetSchedule, schedule_off, set_schedule
from commands.errors import CommandError
from commands.i18n.catalogs import bundled_translators, catalog_path
from commands.i18n.languages import Language
from commands.i18n.translator import Translator
from commands.inbox.requests import Claim, Once, Replayed
from commands.pipeline.stages import Approval
from commands.reminders.settings import SetPendingReminders, set_pending_reminders
from commands.services import Actor, Services
from commands.text_rules import checked_text, refuse_unstorable
from commands.workspace.settings import SetCurrency, set_currency
from storage.models import Deal, DealEvent, MoveRequest
from tests.conftest import MANAGER, OTHER_MANAGER, OTHER_REP, REP
from tests.fakes.slack_api import block_problems

TEAM = "T1"
rep = Actor(TEAM, REP)
other_rep = Actor(TEAM, OTHER_REP)
manager = Actor(TEAM, MANAGER)
other_manager = Actor(TEAM, OTHER_MANAGER)
LINK = Evidence("https://mail.example.com/msg/1")
TRANSLATED = (Language.ES, Language.SV, Language.RO)
MINE = (
    "commands/deals/",
    "commands/digest/schedules.py",
    "commands/reminders/settings.py",
    "commands/text_rules.py",
    "commands/inbox/",
    "commands/outbox/",
)


def translators() -> dict[Language, Translator]:
    return dict(bundled_translators())


def refused(action: Callable[[], object]) -> CommandError:
    with pytest.raises(CommandError) as raised:
        action()
    return raised.value


def new_deal(services: Services, actor: Actor = rep, **fields: object) -> int:
    command = NewDeal(
        name=str(fields.get("name", "Acme renewal")),
        value_cents=fields.get("value_cents", 500000),  # type: ignore[arg-type]
        company=None,
        evidence=(),
        value_currency=fields.get("value_currency"),  # type: ignore[arg-type]
    )
    return create_deal(services, actor, channel_id="C1", command=command).number


def pending_move(services: Services, actor: Actor = rep) -> tuple[int, int]:
    number = new_deal(services, actor)
    requested = request_move(services, actor, Advance(number, (LINK,), None, None))
    assert isinstance(requested, MoveRequested)
    return number, requested.move.id


# --- Each refusal, in es / sv / ro ------------------------------------------------------------------------


def _no_stage_to_list(services: Services) -> CommandError:
    return refused(lambda: list_deals(services, rep, ListDeals("all", "nowhere")))


def _not_the_owner(services: Services) -> CommandError:
    number = new_deal(services)
    return refused(lambda: mark_lost(services, other_rep, MarkLost(number, "budget cut")))


def _already_lost(services: Services) -> CommandError:
    number = new_deal(services)
    mark_lost(services, rep, MarkLost(number, "budget cut"))
    return refused(lambda: mark_lost(services, rep, MarkLost(number, "again")))


def _no_such_deal(services: Services) -> CommandError:
    return refused(lambda: show_deal(services, rep, number=99))


def _other_currency_than_the_workspace(services: Services) -> CommandError:
    set_currency(services, manager, SetCurrency("EUR"))
    return refused(lambda: new_deal(services, value_currency="USD"))


def _other_currency_than_the_deals(services: Services) -> CommandError:
    new_deal(services, value_currency="USD")
    new_deal(services, value_currency="USD")
    return refused(lambda: new_deal(services, value_currency="SEK"))


def _no_evidence(services: Services) -> CommandError:
    number = new_deal(services)
    return refused(lambda: request_move(services, rep, Advance(number, (), None, None)))


def _skip_with_too_few_links(services: Services) -> CommandError:
    number = new_deal(services)
    return refused(lambda: request_move(services, rep, Advance(number, (LINK,), "proposal-received", None)))


def _back_without_a_note(services: Services) -> CommandError:
    number, move_id = pending_move(services)
    decide_move(services, manager, move_id=move_id, approve=True)
    return refused(lambda: request_move(services, rep, Advance(number, (), "meeting-booked", None)))


def _already_there(services: Services) -> CommandError:
    number = new_deal(services)
    return refused(lambda: request_move(services, rep, Advance(number, (LINK,), "meeting-booked", None)))


def _no_stage_to_move_to(services: Services) -> CommandError:
    number = new_deal(services)
    return refused(lambda: request_move(services, rep, Advance(number, (LINK,), "nowhere", None)))


def _form_of_another_stage(services: Services) -> CommandError:
    number = new_deal(services)
    return refused(lambda: request_move(services, rep, Advance(number, (LINK,), None, None, "needs-confirmed")))


def _move_waiting(services: Services) -> CommandError:
    number, _ = pending_move(services)
    return refused(lambda: request_move(services, rep, Advance(number, (LINK,), None, None)))


def _lost_does_not_move(services: Services) -> CommandError:
    number = new_deal(services)
    mark_lost(services, rep, MarkLost(number, "budget cut"))
    return refused(lambda: request_move(services, rep, Advance(number, (LINK,), None, None)))


def _last_stage(services: Services) -> CommandError:
    return last_stage(7, services.pipeline.stages[-1])


def _stage_gone(services: Services) -> CommandError:
    at = services.clock()
    deal = Deal(
        team_id=TEAM,
        number=3,
        name="Old",
        owner_id=REP,
        stage_key="gone",
        channel_id="C1",
        created_at=at,
        stage_entered_at=at,
    )
    return refused(lambda: current_stage(services.pipeline, deal))


def _rejection_without_reason(services: Services) -> CommandError:
    _, move_id = pending_move(services)
    return refused(lambda: decide_move(services, manager, move_id=move_id, approve=False, reason=" "))


def _already_approved(services: Services) -> CommandError:
    _, move_id = pending_move(services)
    decide_move(services, manager, move_id=move_id, approve=True)
    return refused(lambda: decide_move(services, other_manager, move_id=move_id, approve=True))


def _already_rejected(services: Services) -> CommandError:
    _, move_id = pending_move(services)
    decide_move(services, manager, move_id=move_id, approve=False, reason="No budget shown")
    return refused(lambda: decide_move(services, other_manager, move_id=move_id, approve=True))


def _cancelled_by_loss(services: Services) -> CommandError:
    number, move_id = pending_move(services)
    mark_lost(services, rep, MarkLost(number, "budget cut"))
    return refused(lambda: decide_move(services, manager, move_id=move_id, approve=True))


def _approved_twice(services: Services) -> CommandError:
    two = replace(
        services,
        pipeline=replace(
            services.pipeline,
            stages=tuple(
                replace(stage, approval=Approval.TWO) if stage.key == "needs-confirmed" else stage
                for stage in services.pipeline.stages
            ),
        ),
    )
    _, move_id = pending_move(two)
    decide_move(two, manager, move_id=move_id, approve=True)
    return refused(lambda: decide_move(two, manager, move_id=move_id, approve=True))


def _own_request(services: Services) -> CommandError:
    _, move_id = pending_move(services, manager)
    return refused(lambda: decide_move(services, manager, move_id=move_id, approve=True))


def _no_such_move(services: Services) -> CommandError:
    return refused(lambda: decide_move(services, manager, move_id=999, approve=True))


def _only_managers_decide(services: Services) -> CommandError:
    _, move_id = pending_move(services)
    return refused(lambda: decide_move(services, other_rep, move_id=move_id, approve=True))


def _snooze_too_long(services: Services) -> CommandError:
    number = new_deal(services)
    return refused(lambda: snooze_deal(services, rep, SnoozeDeal(number, 91, "holidays")))


def _snooze_not_the_owner(services: Services) -> CommandError:
    number = new_deal(services)
    return refused(lambda: snooze_deal(services, other_rep, SnoozeDeal(number, 7, "holidays")))


def _not_snoozed(services: Services) -> CommandError:
    number = new_deal(services)
    return refused(lambda: snooze_deal(services, rep, EndSnooze(number)))


def _snooze_lost(services: Services) -> CommandError:
    number = new_deal(services)
    mark_lost(services, rep, MarkLost(number, "budget cut"))
    return refused(lambda: snooze_deal(services, rep, SnoozeDeal(number, 7, "holidays")))


def _managers_by_a_rep(services: Services) -> CommandError:
    return refused(lambda: change_manager(services, rep, ChangeManager("add", OTHER_REP)))


def _manager_from_settings(services: Services) -> CommandError:
    return refused(lambda: change_manager(services, manager, ChangeManager("remove", OTHER_MANAGER)))


def _form_out_of_date(services: Services) -> CommandError:
    return refused(lambda: options_at(services.pipeline, deal_number=1, deal_name="Acme", from_key="gone"))


def _reminder_hours(services: Services) -> CommandError:
    return refused(lambda: set_pending_reminders(services, manager, SetPendingReminders(24 * 15)))


def _reminders_by_a_rep(services: Services) -> CommandError:
    return refused(lambda: set_pending_reminders(services, rep, SetPendingReminders(24)))


SCHEDULE = SetSchedule("weekly", "mon", time(9), "Europe/Madrid")


def _schedule_by_a_rep(services: Services) -> CommandError:
    return refused(lambda: set_schedule(services, rep, channel_id="C1", command=SCHEDULE, default_tz="UTC"))


def _schedule_off_by_a_rep(services: Services) -> CommandError:
    return refused(lambda: schedule_off(services, rep, channel_id="C1"))


def _unknown_zone(services: Services) -> CommandError:
    command = replace(SCHEDULE, tz="Mars/Olympus")
    return refused(lambda: set_schedule(services, manager, channel_id="C1", command=command, default_tz="UTC"))


def _replayed(services: Services) -> CommandError:
    claim = Claim(TEAM, "1.2.3")
    new_deal_once = lambda: create_deal(  # noqa: E731
        services, rep, channel_id="C1", command=NewDeal("Once", None, None, ()), claim=claim
    )
    new_deal_once()
    with pytest.raises(Replayed) as raised:
        new_deal_once()
    return CommandError(raised.value.text)


def _no_trigger(services: Services) -> CommandError:
    return refused(lambda: Once(services, team_id=TEAM, trigger_id=None).key())


def _nul(services: Services) -> CommandError:
    return refused(lambda: refuse_unstorable("a\x00b", "X"))


def _surrogate(services: Services) -> CommandError:
    return refused(lambda: refuse_unstorable("a\ud800b", "X"))


def _control(services: Services) -> CommandError:
    return refused(lambda: refuse_unstorable("a\x07b", "X"))


def _too_long(services: Services) -> CommandError:
    return refused(lambda: checked_text("x" * 30, what="X", limit=20, empty="-", hint="-"))


@dataclass(frozen=True)
class Case:
    make: Callable[[Services], CommandError]
    words: dict[Language, str]
    """A word (or words) a reader of each language must see."""


CASES = {
    "no stage to list": Case(
        _no_stage_to_list, {Language.ES: "No hay ninguna etapa", Language.SV: "Stegen är", Language.RO: "Etapele sunt"}
    ),
    "not the owner": Case(
        _not_the_owner,
        {
            Language.ES: "Solo el propietario de deal-1 o un responsable de ventas puede marcarla como perdida.",
            Language.SV: "Bara ägaren till deal-1 eller en säljchef kan markera den som förlorad.",
            Language.RO: "Doar proprietarul tranzacției deal-1 sau un manager de vânzări poate marca tranzacția",
        },
    ),
    "already lost": Case(
        _already_lost,
        {Language.ES: "ya está perdida", Language.SV: "redan förlorad", Language.RO: "deja pierdută"},
    ),
    "no such deal": Case(
        _no_such_deal,
        {Language.ES: "No existe deal-99", Language.SV: "Det finns ingen deal-99", Language.RO: "Nu există deal-99"},
    ),
    "other currency than the workspace's": Case(
        _other_currency_than_the_workspace,
        {Language.ES: "5.000\xa0US$, está en USD", Language.SV: "arbetsytan räknar", Language.RO: "Scrie-o în EUR"},
    ),
    "other currency than the deals'": Case(
        _other_currency_than_the_deals,
        {
            Language.ES: "2 oportunidades de este espacio de trabajo",
            Language.SV: "2 affärer i den här arbetsytan",
            Language.RO: "2 tranzacții din acest spațiu de lucru",
        },
    ),
    "no evidence": Case(
        _no_evidence, {Language.ES: "pruebas", Language.SV: "bevis på vad köparen", Language.RO: "dovezi"}
    ),
    "skip with too few links": Case(
        _skip_with_too_few_links,
        {
            Language.ES: "se salta Necesidades confirmadas y Producto evaluado",
            Language.SV: "hoppar över Behov bekräftade och Produkt utvärderad",
            Language.RO: "sare peste Nevoi confirmate și Produs evaluat",
        },
    ),
    "back without a note": Case(
        _back_without_a_note, {Language.ES: "una nota", Language.SV: "anteckning", Language.RO: "o notă"}
    ),
    "already there": Case(
        _already_there,
        {Language.ES: "ya está en la etapa", Language.SV: "redan i steget", Language.RO: "deja în etapa"},
    ),
    "no stage to move to": Case(
        _no_stage_to_move_to,
        {Language.ES: "No hay ninguna etapa", Language.SV: "Det finns inget steg", Language.RO: "Nu există nicio"},
    ),
    "form of another stage": Case(
        _form_of_another_stage,
        {Language.ES: "formulario", Language.SV: "formuläret", Language.RO: "formularul"},
    ),
    "move waiting": Case(
        _move_waiting,
        {Language.ES: "esperando a un responsable", Language.SV: "väntar på en säljchef", Language.RO: "așteaptă"},
    ),
    "lost does not move": Case(
        _lost_does_not_move,
        {
            Language.ES: "Una oportunidad perdida",
            Language.SV: "En förlorad affär",
            Language.RO: "O tranzacție pierdută",
        },
    ),
    "last stage": Case(
        _last_stage, {Language.ES: "la última etapa", Language.SV: "det sista steget", Language.RO: "ultima etapă"}
    ),
    "stage gone": Case(
        _stage_gone, {Language.ES: "ya no existe", Language.SV: "inte längre finns", Language.RO: "nu mai există"}
    ),
    "rejection without a reason": Case(
        _rejection_without_reason,
        {Language.ES: "un motivo", Language.SV: "en anledning", Language.RO: "un motiv"},
    ),
    "already approved": Case(
        _already_approved, {Language.ES: "ya se aprobó", Language.SV: "redan godkänd", Language.RO: "deja aprobată"}
    ),
    "already rejected": Case(
        _already_rejected, {Language.ES: "ya se rechazó", Language.SV: "redan avslagen", Language.RO: "deja respinsă"}
    ),
    "cancelled by a loss": Case(
        _cancelled_by_loss,
        {Language.ES: "se canceló", Language.SV: "flytten avbröts", Language.RO: "a fost anulată"},
    ),
    "approved twice": Case(
        _approved_twice,
        {
            Language.ES: "Le falta una aprobación más",
            Language.SV: "ett godkännande till",
            Language.RO: "Mai are nevoie de o aprobare",
        },
    ),
    "own request": Case(
        _own_request, {Language.ES: "Tú pediste", Language.SV: "Du bad om", Language.RO: "Tu ai cerut"}
    ),
    "no such move": Case(
        _no_such_move, {Language.ES: "no existe", Language.SV: "finns inte", Language.RO: "nu există"}
    ),
    "only managers decide": Case(
        _only_managers_decide,
        {
            Language.ES: "Solo un responsable de ventas puede aprobar, rechazar o cuestionar un cambio de etapa.",
            Language.SV: "Bara en säljchef kan godkänna, avslå eller ifrågasätta en flytt.",
            Language.RO: "Doar un manager de vânzări poate aproba, respinge",
        },
    ),
    "snooze too long": Case(
        _snooze_too_long,
        {Language.ES: "posponer entre 1 y 90 días", Language.SV: "1 till 90 dagar", Language.RO: "1 și 90 de zile"},
    ),
    "snooze by another rep": Case(
        _snooze_not_the_owner,
        {Language.ES: "posponer sus recordatorios", Language.SV: "pausa dess påminnelser", Language.RO: "amâna"},
    ),
    "not snoozed": Case(
        _not_snoozed, {Language.ES: "no está pospuesta", Language.SV: "inte pausad", Language.RO: "nu este amânată"}
    ),
    "snooze a lost deal": Case(
        _snooze_lost,
        {
            Language.ES: "no recibe recordatorios",
            Language.SV: "inga påminnelser",
            Language.RO: "nu primește mementouri",
        },
    ),
    "managers changed by a rep": Case(
        _managers_by_a_rep,
        {Language.ES: "cambiar quiénes son", Language.SV: "ändra vilka som är säljchefer", Language.RO: "schimba cine"},
    ),
    "manager from the settings": Case(
        _manager_from_settings, {Language.ES: "Quítala", Language.SV: "starta om appen", Language.RO: "Scoate-o"}
    ),
    "form out of date": Case(
        _form_out_of_date, {Language.ES: "desactualizado", Language.SV: "inaktuellt", Language.RO: "nu mai este actual"}
    ),
    "reminder hours": Case(
        _reminder_hours,
        {Language.ES: "entre 1 hora y 14 días", Language.SV: "1 timme och 14 dagar", Language.RO: "1 oră și 14 zile"},
    ),
    "reminders by a rep": Case(
        _reminders_by_a_rep, {Language.ES: "recuerdan", Language.SV: "påminnelser om", Language.RO: "mementouri"}
    ),
    "schedule by a rep": Case(
        _schedule_by_a_rep,
        {
            Language.ES: "programar el resumen",
            Language.SV: "schemalägga sammanfattningen",
            Language.RO: "programa rezumatul",
        },
    ),
    "schedule off by a rep": Case(
        _schedule_off_by_a_rep,
        {Language.ES: "desactivar el resumen", Language.SV: "stänga av den", Language.RO: "opri rezumatul"},
    ),
    "unknown zone": Case(
        _unknown_zone,
        {Language.ES: "zona horaria 'Mars/Olympus'", Language.SV: "Tidszonen", Language.RO: "fusul orar"},
    ),
    "replayed": Case(
        _replayed, {Language.ES: "ya se había recibido", Language.SV: "redan tagits emot", Language.RO: "deja primită"}
    ),
    "no trigger id": Case(
        _no_trigger, {Language.ES: "Vuelve a ejecutar", Language.SV: "Kör kommandot igen", Language.RO: "Rulează"}
    ),
    "NUL character": Case(_nul, {Language.ES: "carácter NUL", Language.SV: "NUL-tecken", Language.RO: "caracter NUL"}),
    "broken character": Case(
        _surrogate, {Language.ES: "carácter roto", Language.SV: "trasigt tecken", Language.RO: "caracter stricat"}
    ),
    "control character": Case(
        _control, {Language.ES: "carácter de control", Language.SV: "styrtecken", Language.RO: "caracter de control"}
    ),
    "too long": Case(
        _too_long,
        {Language.ES: "30 caracteres", Language.SV: "30 tecken", Language.RO: "30 de caractere"},
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_refusal_reads_in_spanish_swedish_and_romanian(services: Services, name: str) -> None:
    case = CASES[name]
    error = case.make(services)
    english = str(error.text)
    assert error.message == english
    for language in TRANSLATED:
        t = translators()[language]
        shown = t.show(error.text)
        assert case.words[language] in shown, (language, shown)
        assert shown != english
        assert "{" not in shown, shown  # every placeholder filled
        text = escape(f":no_entry_sign: {shown}")
        if error.usage_text is not None:
            text += "\n" + escape(t.show(error.usage_text))
        assert block_problems([{"type": "section", "text": {"type": "mrkdwn", "text": text}}], limit=50) == []


def test_usage_lines_keep_the_grammar_and_translate_the_rest(services: Services) -> None:
    number = new_deal(services)
    skip = refused(lambda: request_move(services, rep, Advance(number, (LINK,), "proposal-received", None)))
    no_evidence = refused(lambda: request_move(services, rep, Advance(number, (), None, None)))
    listing = _no_stage_to_list(services)
    assert skip.usage_text is not None and no_evidence.usage_text is not None and listing.usage_text is not None
    es = translators()[Language.ES]
    assert es.show(skip.usage_text) == (
        "`/advance deal-1 to:proposal-received evidence:<enlace de needs-confirmed> "
        "evidence:<enlace de product-evaluated> evidence:<enlace de proposal-received>`"
    )
    assert str(skip.usage_text) == (
        "`/advance deal-1 to:proposal-received evidence:<needs-confirmed link> "
        "evidence:<product-evaluated link> evidence:<proposal-received link>`"
    )
    assert "evidence:<enlace al correo" in es.show(no_evidence.usage_text)
    assert "`/deal list all stage:product-evaluated`" in translators()[Language.SV].show(listing.usage_text)


def test_a_manager_only_refusal_reads_in_swedish(services: Services) -> None:
    refusal = _schedule_by_a_rep(services)

    assert translators()[Language.SV].show(refusal.text) == (
        "Bara en säljchef kan schemalägga sammanfattningen. Säljchefer anges i SALES_MANAGERS eller läggs till med "
        "`/pipeline managers add @någon`."
    )
    assert refusal.message == (
        "Only a sales manager can schedule the digest. "
        "Managers are set in SALES_MANAGERS or added with `/pipeline managers add @someone`."
    )


def test_romanian_counts_take_their_three_forms(services: Services) -> None:
    ro = translators()[Language.RO]
    few = refused(lambda: checked_text("x" * 19, what="X", limit=10, empty="-", hint="-"))
    many = refused(lambda: checked_text("x" * 21, what="X", limit=10, empty="-", hint="-"))
    assert "19 caractere;" in ro.show(few.text)
    assert "21 de caractere;" in ro.show(many.text)


def test_an_already_decided_move_keeps_what_the_reply_is_built_from(services: Services) -> None:
    _, move_id = pending_move(services)
    decide_move(services, manager, move_id=move_id, approve=True)
    with pytest.raises(AlreadyDecided) as raised:
        decide_move(services, other_manager, move_id=move_id, approve=False, reason="too late")
    assert raised.value.move.status == "approved" and raised.value.move.decided_by == MANAGER
    assert raised.value.message == "This move was already approved."


def test_every_message_of_the_use_cases_is_translated_with_its_placeholders() -> None:
    for language in TRANSLATED:
        with catalog_path(language).open("rb") as file:
            catalog = read_po(file, locale=language.value)
        ours = [m for m in catalog if m.id and any(where.startswith(MINE) for where, _ in m.locations)]
        assert len(ours) >= 50
        for message in ours:
            forms = tuple(message.string) if isinstance(message.string, tuple | list) else (str(message.string),)
            source = str(message.id[-1] if isinstance(message.id, tuple | list) else message.id)
            assert all(forms) and "fuzzy" not in message.flags, (language, message.id)
            for form in forms:
                # A singular form may say "one" instead of {count}; every other placeholder is kept.
                assert _fields(form) - {"count"} == _fields(source) - {"count"}, (language, form)


def _fields(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


# --- The currency of a new deal's value ---------------------------------------------------------------------


def stored_deals(services: Services) -> list[tuple[int, int | None, str | None]]:
    with services.sessions() as session:
        deals = session.exec(select(Deal).order_by(col(Deal.id))).all()
        return [(deal.number, deal.value_cents, deal.value_currency) for deal in deals]


def stored_changes(services: Services) -> tuple[object, ...]:
    with services.sessions() as session:
        return (
            stored_deals(services),
            len(session.exec(select(DealEvent)).all()),
            len(session.exec(select(MoveRequest)).all()),
        )


def test_a_value_without_a_currency_takes_the_workspaces(services: Services) -> None:
    set_currency(services, manager, SetCurrency("EUR"))

    deal = create_deal(services, rep, channel_id="C1", command=NewDeal("Acme", 500000, None, ()))

    assert deal.value_currency == "EUR"
    assert stored_deals(services) == [(1, 500000, "EUR")]
    assert show_deal(services, rep, number=1).deal.value_currency == "EUR"
    assert [summary.value_currency for summary in list_deals(services, rep, ListDeals("all", None)).deals] == ["EUR"]
    home = home_overview(services, rep)
    assert [item.deal.value_currency for group in home.stages for item in group.deals] == ["EUR"]


def test_a_value_in_the_workspaces_currency_is_stored_in_it(services: Services) -> None:
    set_currency(services, manager, SetCurrency("SEK"))

    new_deal(services, value_currency="SEK")

    assert stored_deals(services) == [(1, 500000, "SEK")]


def test_a_value_in_another_currency_than_the_workspaces_is_refused_and_nothing_changes(services: Services) -> None:
    set_currency(services, manager, SetCurrency("EUR"))
    new_deal(services)
    before = stored_changes(services)

    refusal = refused(lambda: new_deal(services, value_cents=500000, value_currency="USD"))

    assert refusal.message == (
        "This workspace keeps deal values in EUR; the value you typed, US$5,000, is in USD. "
        "Type it in EUR, like `value:€5k`."
    )
    assert stored_changes(services) == before
    assert new_deal(services) == 2  # the refused deal took no number


def test_the_example_is_typed_as_value_takes_it(services: Services) -> None:
    set_currency(services, manager, SetCurrency("SEK"))

    refusal = refused(lambda: new_deal(services, value_cents=123456, value_currency="GBP"))

    assert "like `value:1234.56`." in refusal.message  # a bare number is in the workspace's currency


def test_without_a_workspace_currency_the_typed_one_is_stored(services: Services) -> None:
    new_deal(services, value_currency="SEK")
    new_deal(services)
    new_deal(services, value_cents=None)
    new_deal(services, value_currency="SEK")

    assert stored_deals(services) == [(1, 500000, "SEK"), (2, 500000, None), (3, None, None), (4, 500000, "SEK")]
    assert show_deal(services, rep, number=1).deal.value_currency == "SEK"
    assert show_deal(services, rep, number=2).deal.value_currency is None


def test_without_a_workspace_currency_a_second_currency_is_refused_and_nothing_changes(services: Services) -> None:
    new_deal(services, value_currency="USD")
    new_deal(services)
    before = stored_changes(services)

    refusal = refused(lambda: new_deal(services, value_currency="EUR"))

    assert refusal.message == (
        "1 deal in this workspace already holds a value in USD, and a pipeline's totals add one currency, so a "
        "value in EUR can't be stored. Type it in USD; a sales manager can make that the workspace's currency with "
        "`/pipeline currency USD`."
    )
    assert stored_changes(services) == before


def test_another_workspaces_currency_does_not_count(services: Services) -> None:
    new_deal(services, Actor("T2", REP), value_currency="USD")
    set_currency(services, Actor("T2", MANAGER), SetCurrency("USD"))

    new_deal(services, value_currency="EUR")

    assert stored_deals(services)[-1] == (1, 500000, "EUR")


def test_a_deal_without_a_value_has_no_currency(services: Services) -> None:
    set_currency(services, manager, SetCurrency("EUR"))

    deal = create_deal(services, rep, channel_id="C1", command=NewDeal("Acme", None, None, ()))

    assert deal.value_currency is None and stored_deals(services) == [(1, None, None)]


def test_values_typed_before_the_currency_are_summarised_in_it_once_set(services: Services) -> None:
    new_deal(services)
    set_currency(services, manager, SetCurrency("EUR"))

    assert show_deal(services, rep, number=1).deal.value_currency == "EUR"
