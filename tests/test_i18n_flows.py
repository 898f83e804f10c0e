"""End to end in each language, through signed requests: a manager sets the workspace's language and currency,
a rep adds a deal and asks to move it, a manager approves it, the digest is posted. Channel posts are in the
workspace's language; replies in the reader's."""

from dataclasses import dataclass

import pytest
from sqlmodel import select

from bot.blocks import APPROVE_ACTION
from storage.models import Deal
from tests.conftest import MANAGER, REP, RunningBot
from tests.test_slack_flows import CHANNEL, all_text, click, deal_row, move_row, shown

NBSP = str.maketrans({"\u00a0": " ", "\u202f": " "})


@dataclass(frozen=True)
class Expected:
    language: str
    rep_locale: str
    currency_set: str
    created: str
    card: str
    refusal: str
    other_currency: str
    slug: str
    asked: str
    approved: str
    digest: str


FLOWS = [
    Expected(
        language="es",
        rep_locale="es-ES",
        currency_set="Done: deal values are now kept in *EUR*",  # the manager's Slack is in English, which Slack
        created="He creado deal-1 · Acme en *Reunión concertada*",  # offers beside Spanish: their choice
        card="deal-1 · Acme: Reunión concertada",
        refusal="'notalink' no es un enlace web",
        other_currency="Este espacio de trabajo lleva el valor de las oportunidades en EUR",
        slug="necesidades-confirmadas",
        asked="He pedido mover deal-1 · Acme a *Necesidades confirmadas*",
        approved="ha aprobado tu cambio de etapa: deal-1 · Acme ya está en *Necesidades confirmadas*",
        digest="1 oportunidad abierta por 12.500 € en el pipeline",
    ),
    Expected(
        language="sv",
        rep_locale="en-US",  # Slack has no Swedish: an English Slack reads the workspace's language
        currency_set="Klart: affärernas värden anges nu i *EUR*",
        created="Skapade deal-1 · Acme i *Möte bokat*",
        card="deal-1 · Acme: Möte bokat",
        refusal="'notalink' är ingen webblänk",
        other_currency="Den här arbetsytan räknar affärernas värden i EUR",
        slug="behov-bekraftade",
        asked="Bad om att flytta deal-1 · Acme till *Behov bekräftade*",
        approved="godkände din flytt: deal-1 · Acme är nu i *Behov bekräftade*",
        digest="1 öppen affär om 12 500 € i pipelinen",
    ),
    Expected(
        language="ro",
        rep_locale="en-GB",
        currency_set="Gata: valorile tranzacțiilor sunt păstrate acum în *EUR*",
        created="Am creat deal-1 · Acme în *Întâlnire programată*",
        card="deal-1 · Acme: Întâlnire programată",
        refusal="'notalink' nu este un link web",
        other_currency="Acest spațiu de lucru ține valorile tranzacțiilor în EUR",
        slug="nevoi-confirmate",
        asked="Am cerut să mut deal-1 · Acme în *Nevoi confirmate*",
        approved="ți-a aprobat mutarea: deal-1 · Acme e acum în *Nevoi confirmate*",
        digest="1 tranzacție deschisă în valoare de 12.500 EUR în pipeline",
    ),
]


def _posts(bot: RunningBot) -> list[str]:
    return [all_text(message).translate(NBSP) for message in bot.slack.messages if message["channel"] == CHANNEL]


@pytest.mark.parametrize("expected", FLOWS, ids=lambda expected: expected.language)
def test_a_deal_goes_through_the_pipeline_in_the_teams_language(bot: RunningBot, expected: Expected) -> None:
    bot.slack.user_locales[REP] = expected.rep_locale
    assert "*" + {"es": "español", "sv": "svenska", "ro": "română"}[expected.language] + "*" in shown(
        bot.command("/pipeline", f"language {expected.language}", user=MANAGER)
    )
    assert expected.currency_set in shown(bot.command("/pipeline", "currency EUR", user=MANAGER))

    assert expected.created in shown(bot.command("/deal", "new Acme value:12.500€ company:Acme"))
    bot.slack.wait_for(lambda: deal_row(bot).thread_ts is not None)
    assert any(expected.card in post for post in _posts(bot))
    assert (deal_row(bot).value_cents, deal_row(bot).value_currency) == (1_250_000, "EUR")

    assert expected.refusal in shown(bot.command("/advance", "deal-1 evidence:notalink"))
    assert expected.other_currency in shown(bot.command("/deal", "new Beta value:$5k"))
    with bot.services.sessions() as session:
        assert len(session.exec(select(Deal)).all()) == 1  # refused: nothing stored

    asked = bot.command("/advance", f"deal-1 to:{expected.slug} evidence:https://mail.example.com/reply")
    assert expected.asked in shown(asked)
    bot.slack.wait_for(lambda: move_row(bot).message_ts is not None)
    click(bot, APPROVE_ACTION, user=MANAGER)
    bot.slack.wait_for(lambda: any(expected.approved in post for post in _posts(bot)))
    assert deal_row(bot).stage_key == "needs-confirmed"

    bot.command("/pipeline", "digest", user=MANAGER)
    bot.slack.wait_for(lambda: any(expected.digest in post for post in _posts(bot)))


def test_a_spanish_reader_in_an_english_workspace_reads_spanish_while_the_channel_reads_english(
    bot: RunningBot,
) -> None:
    bot.slack.user_locales[REP] = "es-ES"
    assert "He creado deal-1 · Acme en *Reunión concertada*" in shown(bot.command("/deal", "new Acme"))
    bot.slack.wait_for(lambda: deal_row(bot).thread_ts is not None)
    card = _posts(bot)[0]
    assert "Meeting booked" in card and "Reunión" not in card
    bot.slack.user_locales[MANAGER] = "es-LA"
    refusal = shown(bot.command("/pipeline", "language fr", user=MANAGER))
    assert "El bot habla en, es, sv, ro; `fr` no es ninguno de ellos" in refusal
    assert "Meeting booked" in shown(bot.command("/deal", "show deal-1", user="U_SOMEONE"))


def test_a_stage_is_found_by_its_name_in_any_language_spaces_and_accents_and_all(bot: RunningBot) -> None:
    bot.command("/deal", "new Acme")
    bot.slack.wait_for(lambda: deal_row(bot).thread_ts is not None)
    listed = shown(bot.command("/deal", "list all stage:Reunión Concertada"))
    assert "*Open deals at Meeting booked* (1)" in listed
    asked = bot.command("/advance", "deal-1 to:Necesidades confirmadas evidence:https://mail.example.com/reply")
    assert "Asked to move deal-1 · Acme to *Needs confirmed*" in shown(asked)
    unknown = shown(bot.command("/deal", "list all stage:Propuesta enviada"))
    assert "There is no stage 'propuesta enviada'" in unknown
