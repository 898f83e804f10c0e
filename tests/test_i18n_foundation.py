"""The languages' foundation: numbers, money and dates as each locale writes them, which language a reader
gets, and the workspace's language and currency settings."""

from datetime import date
from decimal import Decimal

import pytest
from slack_sdk import WebClient
from sqlmodel import select

from bot.readers import Readers, form_language
from commands.errors import CommandError
from commands.i18n.catalogs import bundled_translators
from commands.i18n.languages import Language, language_named, reader_language
from commands.i18n.translator import ENGLISH, Translator, tr, tr_n
from commands.services import Actor, Services
from commands.workspace.settings import (
    SetCurrency,
    SetLanguage,
    set_currency,
    set_language,
    workspace_settings,
    workspace_translator,
)
from storage.models import Deal
from tests.conftest import MANAGER, OTHER_MANAGER, REP, Clock
from tests.fakes.slack_api import FakeSlack

TEAM = "T1"
SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})


def shown(text: str) -> str:
    """CLDR separates groups and units with no-break spaces; compare them as spaces."""
    return text.translate(SPACES)


@pytest.fixture(scope="module")
def translators() -> dict[Language, Translator]:
    return dict(bundled_translators())


@pytest.mark.parametrize(
    ("language", "cents", "currency", "expected"),
    [
        (Language.ES, 123450, "EUR", "1.234,50 €"),
        (Language.SV, 123450, "SEK", "1 234,50 kr"),
        (Language.EN, 1_000_000, "EUR", "€10,000"),
        (Language.ES, 1_000_000, "EUR", "10.000 €"),
        (Language.RO, 250_000_050, "RON", "2.500.000,50 RON"),
        (Language.SV, -5000, "EUR", "-50 €"),
        (Language.EN, 123450, None, "1,234.50"),
        (Language.SV, 1_200_000, None, "12 000"),
    ],
)
def test_money_is_written_as_the_readers_locale_writes_it(
    translators: dict[Language, Translator], language: Language, cents: int, currency: str | None, expected: str
) -> None:
    assert shown(translators[language].money(cents, currency)) == expected


def test_numbers_shares_and_days_follow_the_locale(translators: dict[Language, Translator]) -> None:
    es, sv, ro, en = (translators[code] for code in (Language.ES, Language.SV, Language.RO, Language.EN))
    assert shown(es.number(1234567)) == "1.234.567" and shown(sv.number(1234567)) == "1 234 567"
    assert shown(sv.percent(0.21)) == "21 %" and en.percent(0.21) == "21%" and en.percent(None) == "—"
    assert es.day(date(2026, 12, 1)) == "1 dic 2026" and en.day(date(2026, 12, 1)) == "1 Dec 2026"
    assert shown(ro.days(date(2026, 11, 23), date(2026, 11, 29))) == "23–29 nov. 2026"
    assert en.days(date(2026, 11, 29), date(2026, 11, 29)) == "29 Nov 2026"


def test_parameters_that_are_numbers_or_texts_are_written_in_the_readers_language(
    translators: dict[Language, Translator],
) -> None:
    inner = tr("Only a sales manager can {doing}. ", doing="x")
    assert ENGLISH("{count} of {total}", count=1200, total=Decimal("3.5")) == "1,200 of 3.5"
    assert shown(translators[Language.SV]("{n}", n=1200)) == "1 200"
    assert str(tr_n("{count} deal", "{count} deals", 2)) == "2 deals"
    assert str(tr_n("{count} deal", "{count} deals", 1)) == "1 deal"
    assert str(tr("{inner}!", inner=inner)).startswith("Only a sales manager can x.")


def test_a_refusal_keeps_its_english_for_logs_and_its_text_for_the_reader() -> None:
    error = CommandError(tr("No deal {deal}.", deal="deal-4"), tr("Usage: {x}", x="/deal show deal-4"))
    assert error.message == "No deal deal-4." and error.usage == "Usage: /deal show deal-4"
    assert error.text.in_language(ENGLISH) == "No deal deal-4."


@pytest.mark.parametrize(
    ("slack_locale", "workspace", "expected"),
    [
        ("es-ES", Language.EN, Language.ES),  # Slack in Spanish: Spanish replies in an English workspace
        ("es-LA", Language.SV, Language.ES),
        ("en-US", Language.ES, Language.EN),  # Slack offers Spanish, and this person chose English
        ("en-GB", Language.SV, Language.SV),  # Slack has no Swedish: an English Slack says nothing
        ("en-US", Language.RO, Language.RO),
        ("sv-SE", Language.EN, Language.SV),  # if Slack ever offers it
        ("de-DE", Language.ES, Language.ES),  # a language the bot does not speak
        (None, Language.RO, Language.RO),
        ("", Language.EN, Language.EN),
    ],
)
def test_which_language_a_reader_gets(slack_locale: str | None, workspace: Language, expected: Language) -> None:
    assert reader_language(slack_locale, workspace) is expected


def test_language_codes_are_read_as_slack_and_people_write_them() -> None:
    assert language_named("ES") is Language.ES and language_named("sv_SE") is Language.SV
    assert language_named("ro-RO") is Language.RO and language_named("fr") is None and language_named("") is None


def test_a_form_remembers_its_language_in_its_metadata() -> None:
    assert form_language({"private_metadata": '{"move_id": 3, "language": "sv"}'}) is Language.SV
    assert form_language({"private_metadata": '{"move_id": 3}'}) is None
    assert form_language({"private_metadata": "not json"}) is None
    assert form_language({"private_metadata": '{"language": "xx"}'}) is None
    assert form_language(None) is None


def test_a_readers_locale_is_asked_once_after_which_it_is_remembered(services: Services, slack: FakeSlack) -> None:
    slack.user_locales[REP] = "es-ES"
    now = [0.0]
    readers = Readers(services, ttl=60, clock=lambda: now[0])
    client = WebClient(token="xoxb-test", base_url=slack.base_url)
    rep = Actor(TEAM, REP)
    assert readers.known(rep).language is Language.EN  # nothing asked yet: the ack's refusals are in English
    assert readers.person(client, rep).language is Language.ES
    assert readers.person(client, rep).language is Language.ES
    asked = slack.calls_to("users.info")
    assert len(asked) == 1 and str(asked[0].args.get("include_locale")).lower() in ("true", "1")
    assert readers.known(rep).language is Language.ES
    now[0] = 61.0
    slack.user_locales[REP] = "en-US"
    assert readers.person(client, rep).language is Language.EN
    assert len(slack.calls_to("users.info")) == 2


def test_a_reader_slack_cannot_tell_about_reads_the_workspaces_language(services: Services, slack: FakeSlack) -> None:
    set_language(services, Actor(TEAM, MANAGER), SetLanguage("ro"))
    slack.fail_next("users.info", status=500, times=10)
    readers = Readers(services)
    client = WebClient(token="xoxb-test", base_url=slack.base_url)
    assert readers.person(client, Actor(TEAM, REP)).language is Language.RO
    assert readers.channel(TEAM).language is Language.RO


def test_only_a_manager_sets_the_language_and_a_refusal_changes_nothing(services: Services) -> None:
    with pytest.raises(CommandError) as refused:
        set_language(services, Actor(TEAM, REP), SetLanguage("es"))
    assert "Only a sales manager" in refused.value.message
    with pytest.raises(CommandError) as unknown:
        set_language(services, Actor(TEAM, MANAGER), SetLanguage("fr"))
    assert "`fr`" in unknown.value.message and "/pipeline language es" in unknown.value.message
    assert workspace_settings(services, TEAM).language is Language.EN
    settings = set_language(services, Actor(TEAM, MANAGER), SetLanguage("SV"))
    assert settings.language is Language.SV and settings.language_set_by == MANAGER
    set_currency(services, Actor(TEAM, OTHER_MANAGER), SetCurrency("EUR"))
    both = workspace_settings(services, TEAM)
    assert (both.language_set_by, both.currency_set_by) == (MANAGER, OTHER_MANAGER)
    assert workspace_translator(services, TEAM).language is Language.SV
    assert workspace_settings(services, "T_OTHER").language is Language.EN


def _deal(services: Services, clock: Clock, number: int, cents: int | None, currency: str | None) -> None:
    now = clock()
    with services.sessions.begin() as session:
        session.add(
            Deal(
                team_id=TEAM,
                number=number,
                name=f"Deal {number}",
                owner_id=REP,
                value_cents=cents,
                value_currency=currency,
                stage_key=services.pipeline.first().key,
                channel_id="C1",
                created_at=now,
                stage_entered_at=now,
            )
        )


def _currencies(services: Services) -> dict[int, str | None]:
    with services.sessions() as session:
        return {deal.number: deal.value_currency for deal in session.exec(select(Deal).where(Deal.team_id == TEAM))}


def test_setting_the_currency_counts_earlier_values_in_it(services: Services, clock: Clock) -> None:
    _deal(services, clock, 1, 500_000, None)
    _deal(services, clock, 2, None, None)
    _deal(services, clock, 3, 100, "EUR")
    result = set_currency(services, Actor(TEAM, MANAGER), SetCurrency("eur"))
    assert result.settings.currency == "EUR" and result.adopted == 1
    assert _currencies(services) == {1: "EUR", 2: None, 3: "EUR"}


def test_the_currency_does_not_change_while_deals_hold_values_in_another(services: Services, clock: Clock) -> None:
    _deal(services, clock, 1, 500_000, "EUR")
    _deal(services, clock, 2, 70_000, None)
    with pytest.raises(CommandError) as refused:
        set_currency(services, Actor(TEAM, MANAGER), SetCurrency("SEK"))
    assert refused.value.message.startswith("1 deal holds a value in EUR")
    assert workspace_settings(services, TEAM).currency is None and _currencies(services) == {1: "EUR", 2: None}
    with pytest.raises(CommandError) as not_a_code:
        set_currency(services, Actor(TEAM, MANAGER), SetCurrency("EURO"))
    assert "ISO 4217" in not_a_code.value.message
    with pytest.raises(CommandError):
        set_currency(services, Actor(TEAM, MANAGER), SetCurrency("XYZ"))
    with pytest.raises(CommandError):
        set_currency(services, Actor(TEAM, REP), SetCurrency("EUR"))
    assert workspace_settings(services, TEAM).currency is None


def test_a_locale_slack_could_not_give_is_asked_again_a_minute_later(services: Services, slack: FakeSlack) -> None:
    slack.user_locales[REP] = "es-ES"
    slack.fail_next("users.info", status=500, times=10)
    now = [0.0]
    readers = Readers(services, clock=lambda: now[0])
    client = WebClient(token="xoxb-test", base_url=slack.base_url, retry_handlers=[])
    rep = Actor(TEAM, REP)
    assert readers.person(client, rep).language is Language.EN
    slack.reset()
    now[0] = 30.0
    assert readers.person(client, rep).language is Language.EN  # within the minute: not asked again
    assert slack.calls_to("users.info") == []
    now[0] = 61.0
    assert readers.person(client, rep).language is Language.ES


def test_before_a_person_was_looked_up_an_ack_speaks_their_workspaces_language(
    services: Services, slack: FakeSlack
) -> None:
    set_language(services, Actor(TEAM, MANAGER), SetLanguage("sv"))
    readers = Readers(services)
    assert readers.known(Actor(TEAM, REP)).language is Language.EN  # this process has read nothing yet
    readers.channel(TEAM)
    assert readers.known(Actor(TEAM, REP)).language is Language.SV
    assert readers.known(Actor("T_OTHER", REP)).language is Language.EN
