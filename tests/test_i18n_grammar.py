"""The slash grammar in every language: refusals and usage texts translated around the grammar's English words,
`/pipeline language` and `/pipeline currency`, and amounts typed with a currency or in European formats."""

import re
from collections.abc import Callable

import pytest

from bot.mrkdwn import escape, section
from bot.slash_grammar import (
    ADVANCE_USAGE,
    DEAL_USAGE,
    NEW_DEAL_USAGE,
    PIPELINE_USAGE,
    Amount,
    advance_from_form,
    new_deal_from_form,
    parse_advance,
    parse_amount,
    parse_deal,
    parse_pipeline,
)
from commands.deals.deal import NewDeal
from commands.errors import CommandError, FieldErrors
from commands.i18n.catalogs import bundled_translators, read_catalog
from commands.i18n.languages import Language
from commands.i18n.translator import Text, Translator
from commands.workspace.settings import SetCurrency, SetLanguage, ShowCurrency, ShowLanguage
from tests.fakes.slack_api import MESSAGE_BLOCK_LIMIT, block_problems

TRANSLATED = (Language.ES, Language.SV, Language.RO)
USAGES = {"deal": DEAL_USAGE, "advance": ADVANCE_USAGE, "pipeline": PIPELINE_USAGE, "new": NEW_DEAL_USAGE}
UNFILLED = re.compile(r"\{[a-z_]+\}")


def translator(language: Language) -> Translator:
    return bundled_translators()[language]


def refusal(parse: Callable[[str], object], text: str) -> CommandError:
    with pytest.raises(CommandError) as caught:
        parse(text)
    return caught.value


# --- Refusals and usage in the reader's language -------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "message_words", "usage_words"),
    [
        (Language.ES, ["no es un importe", "'lots'", "12,5k"], ["crea una oportunidad", "Ejemplo", "Renovación Acme"]),
        (Language.SV, ["är inget belopp", "'lots'", "12,5k"], ["lägger till en affär", "Exempel", "Acme förnyelse"]),
        (Language.RO, ["nu este o sumă", "'lots'", "12,5k"], ["adaugă o tranzacție", "Exemplu", "Reînnoire Acme"]),
    ],
)
def test_an_amount_refusal_is_in_the_readers_language_with_the_grammar_in_english(
    language: Language, message_words: list[str], usage_words: list[str]
) -> None:
    error = refusal(parse_deal, "new Acme value:lots")
    t = translator(language)
    message, usage = t.show(error.text), t.show(error.usage_text or Text(""))
    for word in message_words:
        assert word in message
    for word in [*usage_words, "`/deal new <name> [value:<amount>]", "company:", "evidence:https://"]:
        assert word in usage
    assert "adds a deal" not in usage


@pytest.mark.parametrize(
    ("parse", "text", "es", "sv", "ro", "grammar"),
    [
        (parse_deal, "show foo", "no es un id de oportunidad", "är inget affärs-id", "nu este un id de", "deal-42"),
        (parse_deal, "shwo 42", "¿Querías decir", "Menade du", "Te-ai referit", "`/deal show`"),
        (parse_deal, "lost 42", "se perdió la oportunidad", "affären förlorades", "a fost pierdută", "reason:"),
        (parse_deal, "new Acme company:", "está vacío", "är tomt", "e gol", "company:Acme"),
        (parse_deal, "new Acme\x00 deal", "no se puede guardar", "inte kan sparas", "nu poate fi salvat", "U+0000"),
        (parse_deal, "snooze 42 200d reason:x", "de 1 a 90 días", "från 1 till 90 dagar", "între 1 și 90 zile", "200"),
        (parse_advance, "42 looks good", "no forma parte de", "hör inte till", "nu face parte din", "note:"),
        (
            parse_advance,
            "42 evidence:ftp://x.example",
            "no es un enlace web",
            "ingen webblänk",
            "nu este un link",
            "https://",
        ),
        (parse_pipeline, "schedule daily 25:00", "no es una hora", "är ingen tid", "nu este o oră", "HH:MM"),
        (parse_pipeline, "managers add @dana", "texto normal", "vanlig text", "text simplu", "@"),
        (parse_pipeline, "language es sv", "código de idioma", "språkkod", "cod de limbă", "/pipeline language es"),
        (
            parse_pipeline,
            "currency EUR USD",
            "código de moneda",
            "valutakod",
            "cod de monedă",
            "/pipeline currency EUR",
        ),
    ],
)
def test_refusals_are_translated(
    parse: Callable[[str], object], text: str, es: str, sv: str, ro: str, grammar: str
) -> None:
    error = refusal(parse, text)
    for language, words in ((Language.ES, es), (Language.SV, sv), (Language.RO, ro)):
        shown = translator(language).show(error.text)
        assert words in shown, (language, shown)
        assert grammar in shown
        assert not UNFILLED.search(shown)


@pytest.mark.parametrize("language", TRANSLATED)
@pytest.mark.parametrize("name", sorted(USAGES))
def test_usage_texts_are_translated_whole_and_fit_a_section(language: Language, name: str) -> None:
    t = translator(language)
    english, shown = str(USAGES[name]), t.show(USAGES[name])
    assert shown != english
    assert not UNFILLED.search(shown)
    commands = re.findall(r"`(/[a-z]+(?: [a-z]+)*)", english)
    assert commands
    for command in commands:
        assert f"`{command}" in shown
    assert english.count("\n") == shown.count("\n")
    assert block_problems([section(escape(shown)).to_dict()], limit=MESSAGE_BLOCK_LIMIT) == []
    assert len(escape(shown)) < 3_000  # a section's text is clipped at 3,000 characters, not shown whole


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (Language.ES, ["Cómo usar `/pipeline`", "muestra el tablero", "`/pipeline language <code>`", "idioma"]),
        (Language.SV, ["Så använder du `/pipeline`", "visar tavlan", "`/pipeline currency <code>`", "valutan"]),
        (Language.RO, ["Cum folosești `/pipeline`", "arată tabla", "`/pipeline language <code>`", "moneda"]),
    ],
)
def test_the_pipeline_help_names_the_new_subcommands_in_every_language(language: Language, words: list[str]) -> None:
    shown = translator(language).show(PIPELINE_USAGE)
    for word in [*words, "`/pipeline language es`", "`/pipeline currency EUR`"]:
        assert word in shown


def test_every_message_of_the_grammar_is_translated_in_every_catalog() -> None:
    for language in TRANSLATED:
        catalog = read_catalog(language)
        ours = [m for m in catalog if m.id and any(where.startswith("bot/slash_grammar") for where, _ in m.locations)]
        assert len(ours) > 80
        missing = [m.id for m in ours if not m.string or "fuzzy" in m.flags]
        assert missing == [], language
        for message in ours:
            assert sorted(UNFILLED.findall(str(message.id))) == sorted(UNFILLED.findall(str(message.string)))


@pytest.mark.parametrize("language", TRANSLATED)
def test_form_field_refusals_are_translated(language: Language) -> None:
    t = translator(language)
    with pytest.raises(FieldErrors) as refused:
        new_deal_from_form(name="   ", value="¥5000", company="x" * 201, evidence="not a link")
    texts = {field: t.show(text) for field, text in refused.value.field_texts.items()}
    assert set(texts) == {"name", "value", "company", "evidence"}
    for field, text in texts.items():
        assert text != str(refused.value.field_texts[field]), field
    assert "'¥'" in texts["value"]
    with pytest.raises(FieldErrors) as refused:
        advance_from_form(
            deal_number=42,
            from_key="a",
            to_key="c",
            links=(("e1", "https://x.example"), ("e2", "https://x.example")),
            note="",
        )
    assert refused.value.field_texts["e2"] != str(refused.value.field_texts["e2"])
    assert {"es": "mismo", "sv": "samma", "ro": "același"}[language.value] in t.show(refused.value.field_texts["e2"])


# --- /pipeline language and currency ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("language", ShowLanguage()),
        ("LANGUAGE", ShowLanguage()),
        ("language es", SetLanguage("es")),
        ("language  ro ", SetLanguage("ro")),
        ("language klingon", SetLanguage("klingon")),  # the use case says which languages there are
        ("currency", ShowCurrency()),
        ("currency EUR", SetCurrency("EUR")),
        ("Currency sek", SetCurrency("sek")),
        ("currency XYZ", SetCurrency("XYZ")),  # the use case checks ISO 4217
    ],
)
def test_language_and_currency_subcommands(text: str, expected: object) -> None:
    assert parse_pipeline(text) == expected


@pytest.mark.parametrize(
    ("text", "message_part", "usage_part"),
    [
        ("language es sv", "Give one language code after /pipeline language", "/pipeline language <code>"),
        ("language es please", "(got 'es please')", "/pipeline language <code>"),
        ("currency EUR USD", "Give one currency code after /pipeline currency", "/pipeline currency <code>"),
        ("langauge es", "Did you mean `/pipeline language`?", "/pipeline currency"),
        ("curency EUR", "Did you mean `/pipeline currency`?", "/pipeline language"),
    ],
)
def test_language_and_currency_refusals(text: str, message_part: str, usage_part: str) -> None:
    error = refusal(parse_pipeline, text)
    assert message_part in error.message
    assert error.usage is not None and usage_part in error.usage


def test_the_pipeline_help_names_language_and_currency() -> None:
    english = str(PIPELINE_USAGE)
    for command in (
        "`/pipeline language`",
        "`/pipeline language es`",
        "`/pipeline currency`",
        "`/pipeline currency EUR`",
    ):
        assert command in english


# --- Amounts with a currency, European formats ------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "cents", "currency"),
    [
        ("50000", 5_000_000, None),
        ("€10k", 1_000_000, "EUR"),
        ("10k€", 1_000_000, "EUR"),
        ("10€", 1_000, "EUR"),
        ("$5,000", 500_000, "USD"),
        ("$1.2m", 120_000_000, "USD"),
        ("£2.5k", 250_000, "GBP"),
        ("10000kr", 1_000_000, "SEK"),
        ("10KR", 1_000, "SEK"),
        ("10kkr", 1_000_000, "SEK"),
        ("5000lei", 500_000, "RON"),
        ("5000LEI", 500_000, "RON"),
        ("10kSEK", 1_000_000, "SEK"),
        ("10ksek", 1_000_000, "SEK"),
        ("EUR10k", 1_000_000, "EUR"),
        ("usd5000", 500_000, "USD"),
        ("10KRW", 1_000, "KRW"),
        ("2mJPY", 200_000_000, "JPY"),
        ("€10EUR", 1_000, "EUR"),
        # European number formats
        ("1.234,50€", 123_450, "EUR"),
        ("1.234,50", 123_450, None),
        ("1,234.50", 123_450, None),
        ("1.234.567", 123_456_700, None),
        ("1,234,567", 123_456_700, None),
        ("1.234", 123_400, None),
        ("50.000", 5_000_000, None),
        ("1234,50", 123_450, None),
        ("0,5", 50, None),
        ("12,5k", 1_250_000, None),
        ("1,2m", 120_000_000, None),
        ("1.234.567,89lei", 123_456_789, "RON"),
        # a `.` before k/m keeps the decimal meaning it always had; a `,` with three digits groups, as before
        ("2.125m", 212_500_000, None),
        ("2,125m", 212_500_000, None),  # before a scale, a comma is the decimal mark too
        ("12,500k", 1_250_000, None),
        ("0.500", 50, None),  # a first group of zeros groups nothing: a half
        ("0,50€", 50, "EUR"),
        ("1.234k", 123_400, None),
        ("50,000k", 5_000_000, None),  # one mark before a scale is the decimal mark: 50.000k, fifty thousand
        ("12.5k", 1_250_000, None),
        ("1.23456k", 123_456, None),
    ],
)
def test_amounts_keep_their_currency(typed: str, cents: int, currency: str | None) -> None:
    assert parse_amount(typed) == Amount(cents, currency)
    parsed = parse_deal(f"new Acme value:{typed}")
    assert isinstance(parsed, NewDeal)
    assert (parsed.value_cents, parsed.value_currency) == (cents, currency)


@pytest.mark.parametrize(
    ("typed", "cents", "currency"),
    [
        ("10 000 kr", 1_000_000, "SEK"),
        ("1 234,50", 123_450, None),
        ("EUR 10k", 1_000_000, "EUR"),
        (" 1.234,50 € ", 123_450, "EUR"),
        ("€12.5k", 1_250_000, "EUR"),
    ],
)
def test_the_forms_value_may_have_spaces(typed: str, cents: int, currency: str | None) -> None:
    formed = new_deal_from_form(name="Acme", value=typed, company="", evidence="")
    assert (formed.value_cents, formed.value_currency) == (cents, currency)


@pytest.mark.parametrize(
    ("typed", "message_part"),
    [
        ("¥5000", "does not know which currency '¥' is"),
        ("5000₹", "does not know which currency '₹' is"),
        ("10kFOO", "'FOO' in '10kFOO' is not a currency code"),
        ("xyz10", "'xyz' in 'xyz10' is not a currency code"),
        ("€10kUSD", "has two currencies, EUR and USD"),
        ("$€10", "has two currencies, USD and EUR"),
        ("EUR10kUSD", "has two currencies, EUR and USD"),
        ("EUR-5", "can't be negative"),
        ("-€5", "can't be negative"),
        ("5,0000", "is not an amount"),
        ("1.234,5.6", "is not an amount"),
        ("1,23,456", "is not an amount"),
        ("10k_EUR", "is not an amount"),
        ("10euros", "is not an amount"),
        ("1.0001", "fraction of a cent"),
    ],
)
def test_amount_refusals_name_the_currency_and_show_examples(typed: str, message_part: str) -> None:
    error = refusal(parse_deal, f"new Acme value:{typed}")
    assert message_part in error.message
    assert "value:" in error.message or "12.5k" in error.message
    assert error.usage is not None and "/deal new" in error.usage


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (Language.ES, ["no sabe qué moneda", "'¥'", "value:JPY500k"]),
        (Language.SV, ["vet inte vilken valuta", "'¥'", "value:JPY500k"]),
        (Language.RO, ["nu știe ce monedă", "'¥'", "value:JPY500k"]),
    ],
)
def test_a_currency_refusal_is_translated(language: Language, words: list[str]) -> None:
    shown = translator(language).show(refusal(parse_deal, "new Acme value:¥5000").text)
    for word in words:
        assert word in shown


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_translated_amount_examples_are_amounts_the_parser_accepts(language: Language) -> None:
    shown = translator(language).show(refusal(parse_deal, "new Acme value:lots").text)
    examples = re.findall(r"[0-9$€£][0-9.,$€£a-zA-Z]*[0-9a-zA-Z€$£]", shown.split(". ", 1)[1])
    assert len(examples) >= 5
    for example in examples:
        parse_amount(example)
