import datetime
from collections.abc import Callable

import pytest

from bot.slash_grammar import (
    ADVANCE_USAGE,
    DEAL_USAGE,
    PIPELINE_USAGE,
    AdvanceHelp,
    DealHelp,
    ListManagers,
    NewDealForm,
    PipelineBoard,
    PipelineHelp,
    PipelineLint,
    PipelineStages,
    PostDigest,
    ScheduleOff,
    ShowDeal,
    ShowSchedule,
    new_deal_from_form,
    parse_advance,
    parse_deal,
    parse_pipeline,
)
from commands.deals.deal import ListDeals, MarkLost, NewDeal
from commands.deals.evidence import Evidence
from commands.deals.managers import ChangeManager
from commands.deals.moves import Advance
from commands.digest.schedules import SetSchedule
from commands.errors import CommandError, FieldErrors
from commands.formats import format_deal_id
from commands.i18n.translator import ENGLISH, Text

LONG_URL = "https://example.com/" + "a" * (2_001 - len("https://example.com/"))
MAX_URL = "https://example.com/" + "a" * (2_000 - len("https://example.com/"))


def refusal(parse: Callable[[str], object], text: str) -> CommandError:
    with pytest.raises(CommandError) as caught:
        parse(text)
    assert caught.value.message
    return caught.value


def new_deal(
    name: str,
    value_cents: int | None = None,
    company: str | None = None,
    evidence: tuple[Evidence, ...] = (),
    value_currency: str | None = None,
) -> NewDeal:
    return NewDeal(
        name=name, value_cents=value_cents, company=company, evidence=evidence, value_currency=value_currency
    )


def advance(
    deal_number: int = 42,
    evidence: tuple[Evidence, ...] = (),
    to_key: str | None = None,
    note: str | None = None,
) -> Advance:
    return Advance(deal_number=deal_number, evidence=evidence, to_key=to_key, note=note)


# --- /deal -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", DealHelp()),
        ("   ", DealHelp()),
        ("help", DealHelp()),
        ("HELP", DealHelp()),
        ("new Acme renewal", new_deal("Acme renewal")),
        ("NEW   Acme \t renewal  ", new_deal("Acme renewal")),
        ("new Acme: renewal", new_deal("Acme: renewal")),
        ("new Acme &amp; Sons", new_deal("Acme & Sons")),
        ("new Acme & Sons", new_deal("Acme & Sons")),
        ("new &lt;!channel&gt; special", new_deal("<!channel> special")),
        ("new <!channel> special", new_deal("<!channel> special")),
        ("new Deal for <@U123ABC|dana>", new_deal("Deal for <@U123ABC|dana>")),
        ("new a &amp;lt; b", new_deal("a &lt; b")),
        ("new Acme note:renewal to:legal reason:x", new_deal("Acme note:renewal to:legal reason:x")),
        ("new Acme see https://acme.com/x", new_deal("Acme see https://acme.com/x")),
        ("new Acme see <https://acme.com/x>", new_deal("Acme see https://acme.com/x")),
        ("new Acme <http://acme.com|acme.com>", new_deal("Acme acme.com")),
        (
            "new Acme <https://evil.example|Invoice   PDF>",
            new_deal("Acme Invoice PDF (https://evil.example)"),
        ),
        ("new Acme value:50000", new_deal("Acme", value_cents=5_000_000)),
        ("new Acme VALUE:50k", new_deal("Acme", value_cents=5_000_000)),
        ("new Acme value: 50k", new_deal("Acme", value_cents=5_000_000)),
        ("new Acme company:Acme Corp Ltd", new_deal("Acme", company="Acme Corp Ltd")),
        ("new Acme company: AT&amp;T   Inc", new_deal("Acme", company="AT&T Inc")),
        (
            "new Acme company:Acme evidence:https://x.example",
            new_deal("Acme", company="Acme", evidence=(Evidence("https://x.example"),)),
        ),
        (
            "new Big deal value:$1.2m company:Globex Inc evidence:<https://docs.example/po|Signed contract PDF>",
            new_deal(
                "Big deal",
                value_cents=120_000_000,
                company="Globex Inc",
                evidence=(Evidence("https://docs.example/po", "Signed contract PDF"),),
                value_currency="USD",
            ),
        ),
        (
            "new Acme evidence:https://a.example evidence:<https://b.example> evidence:https://a.example",
            new_deal("Acme", evidence=(Evidence("https://a.example"), Evidence("https://b.example"))),
        ),
        (
            "new Acme evidence: <https://a.example|the  deck>",
            new_deal("Acme", evidence=(Evidence("https://a.example", "the deck"),)),
        ),
        ("new Acme value:50k company:Acme", new_deal("Acme", value_cents=5_000_000, company="Acme")),
        ("new Acme company:Acme value:50k", new_deal("Acme", value_cents=5_000_000, company="Acme")),
        ("new Acme company:Acme https://acme.com", new_deal("Acme", company="Acme https://acme.com")),
        ("new Acme\t\u00a0 deal\u2028", new_deal("Acme deal")),
        ("new Invoice \u202efdp.exe\u202c for\u200b Acme", new_deal("Invoice fdp.exe for Acme")),
        ("new Acme\u3164\u3164Corp", new_deal("Acme Corp")),
        ("new 👩\u200d💻 team", new_deal("👩\u200d💻 team")),
        ("new Acme company:\u2066Globex\u2069", new_deal("Acme", company="Globex")),
    ],
)
def test_parse_deal(text: str, expected: object) -> None:
    assert parse_deal(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("show deal-42", ShowDeal(42)),
        ("show DEAL-42", ShowDeal(42)),
        ("show Deal-42", ShowDeal(42)),
        ("show 42", ShowDeal(42)),
        ("show #42", ShowDeal(42)),
        ("Show  7 ", ShowDeal(7)),
        ("show deal-007", ShowDeal(7)),
        ("list", ListDeals("mine", None)),
        ("list mine", ListDeals("mine", None)),
        ("list ALL", ListDeals("all", None)),
        ("list all stage:Proposal", ListDeals("all", "proposal")),
        ("list stage: qualified", ListDeals("mine", "qualified")),
        ("lost deal-42 reason:chose a competitor", MarkLost(42, "chose a competitor")),
        ("lost 42 Reason:  budget   cut &amp; frozen ", MarkLost(42, "budget cut & frozen")),
        ("lost #3 reason:see https://x.example", MarkLost(3, "see https://x.example")),
    ],
)
def test_parse_deal_subcommands(text: str, expected: object) -> None:
    assert parse_deal(text) == expected


@pytest.mark.parametrize(
    ("text", "message_part", "usage_part"),
    [
        ("new value:50k", "name", "/deal new"),
        ("new Acme value:", "value: is empty", "/deal new"),
        ("new Acme value: company:x", "value: is empty", "/deal new"),
        ("new Acme company:", "company: is empty", "/deal new"),
        ("new Acme company:\u200b", "company: is empty", "/deal new"),
        ("new Acme company:\u202e\u3164", "company: is empty", "/deal new"),
        ("new \u200b\u200d\u2060", "Give the deal a name", "/deal new"),
        ("new \u3164 \u2800 \ufeff", "Give the deal a name", "/deal new"),
        ("new \u202e", "Give the deal a name", "/deal new"),
        ("new Acme\x00 deal", "The command has a NUL character (U+0000), which can't be stored", "/deal new"),
        ("new Acme company:\x00", "NUL character (U+0000)", "/deal new"),
        ("new \x1b[31mRed", "a control character (U+001B)", "/deal new"),
        ("new Acme \ud800", "a broken character (an unpaired surrogate, U+D800)", "/deal new"),
        ("new " + "n" * 201, "The deal's name is 201 characters long; the most is 200.", "/deal new"),
        ("new Acme company:" + "c" * 201, "The company is 201 characters long; the most is 200.", "/deal new"),
        ("lost 42 reason:" + "r" * 1_001, "The reason is 1,001 characters long; the most is 1,000.", "/deal lost"),
        ("new " + "x" * 50_001, "The command is 50,005 characters long; the most is 50,000.", "/deal new"),
        ("new Acme value:50k big", "value: takes a single value", "/deal new"),
        ("new Acme value:5k value:6k", "value: is given more than once", "/deal new"),
        ("new Acme company:A company:B", "company: is given more than once", "/deal new"),
        ("new Acme evidence:https://a.example https://b.example", "repeat evidence:", "/deal new"),
        ("new Acme evidence:ftp://x.example", "'ftp://x.example' is not a web link", "/deal new"),
        ("show", "Say which deal", "/deal show"),
        ("show foo", "'foo' is not a deal id. Use the deal's id, like deal-42 (or just 42).", "/deal show"),
        ("show 42 43", "Unexpected '43'", "/deal show"),
        ("show deal-0", "'deal-0' is not a deal id", "/deal show"),
        ("show -1", "'-1' is not a deal id", "/deal show"),
        ("show 4.2", "is not a deal id", "/deal show"),
        ("show 99999999999", "is not a deal id", "/deal show"),
        ("show deal 42", "'deal' is not a deal id", "/deal show"),
        ("show &lt;42&gt;", "'<42>' is not a deal id", "/deal show"),
        ("list everyone", "'everyone' is not a list", "/deal list"),
        ("list all mine", "Unexpected 'mine'", "/deal list"),
        ("list stage:a stage:b", "stage: is given more than once", "/deal list"),
        ("lost", "Say which deal", "/deal lost"),
        ("lost reason:gone", "Say which deal", "/deal lost"),
        ("lost 42", "reason:", "/deal lost"),
        ("lost 42 went dark", "reason:", "/deal lost"),
        ("lost 42 reason:", "reason: is empty", "/deal lost"),
        ("lost 42 reason:a reason:b", "reason: is given more than once", "/deal lost"),
        ("lost foo reason:x", "'foo' is not a deal id", "/deal lost"),
        ("shwo 42", "Did you mean `/deal show`?", "/deal list"),
        ("nwe Acme", "Did you mean `/deal new`?", "/deal lost"),
        ("frobnicate", "'frobnicate' is not part of /deal", "/deal new"),
        ("42", "/deal show 42", "/deal show"),
    ],
)
def test_parse_deal_refusals(text: str, message_part: str, usage_part: str) -> None:
    error = refusal(parse_deal, text)
    assert message_part in error.message
    assert error.usage is not None
    assert usage_part in error.usage


# --- Amounts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        ("0", 0),
        ("50000", 5_000_000),
        ("50,000", 5_000_000),
        ("1,000,000", 100_000_000),
        ("$50,000.50", 5_000_050),
        ("50000.5", 5_000_050),
        ("€5000", 500_000),
        ("£5k", 500_000),
        ("12.5k", 1_250_000),
        ("12.5K", 1_250_000),
        ("1.2m", 120_000_000),
        ("1.2M", 120_000_000),
        ("1.23456k", 123_456),
        ("100000000000", 10**13),
    ],
)
def test_amounts(amount: str, cents: int) -> None:
    parsed = parse_deal(f"new Acme value:{amount}")
    assert isinstance(parsed, NewDeal)
    assert parsed.value_cents == cents


@pytest.mark.parametrize(
    ("amount", "message_part"),
    [
        ("-5", "can't be negative"),
        ("$-5", "can't be negative"),
        ("−5", "can't be negative"),
        ("abc", "'abc' is not an amount"),
        ("5,0000", "is not an amount"),
        ("1e6", "is not an amount"),
        ("5kk", "is not an amount"),
        ("$", "is not an amount"),
        ("٤٢", "is not an amount"),
        ("1.0001", "fraction of a cent"),
        ("100000000000.01", "too large"),
        ("10000000m", "too large"),
        ("9" * 39, "too large"),
        ("9" * 500, "is not an amount"),
    ],
)
def test_amount_refusals(amount: str, message_part: str) -> None:
    error = refusal(parse_deal, f"new Acme value:{amount}")
    assert message_part in error.message
    assert "12.5k" in error.message  # shows valid examples


@pytest.mark.parametrize(
    ("cents", "text"),
    [(0, "0"), (5, "0.05"), (5_000_000, "50,000"), (5_000_050, "50,000.50"), (123_456_789, "1,234,567.89")],
)
def test_an_amount_is_written_as_english_writes_it(cents: int, text: str) -> None:
    assert ENGLISH.money(cents, None) == text


def test_an_amount_as_written_round_trips_through_the_parser() -> None:
    assert parse_deal(f"new Acme value:{ENGLISH.money(5_000_050, None)}") == new_deal("Acme", value_cents=5_000_050)


def test_format_deal_id_round_trips_through_the_parser() -> None:
    assert format_deal_id(42) == "deal-42"
    assert parse_deal(f"show {format_deal_id(42)}") == ShowDeal(42)


# --- Evidence --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("https://x.example", Evidence("https://x.example")),
        ("http://x.example/a?b=1", Evidence("http://x.example/a?b=1")),
        ("HTTPS://X.example/Path", Evidence("HTTPS://X.example/Path")),
        ("https://x.example/a?b=1&amp;c=2", Evidence("https://x.example/a?b=1&c=2")),
        ("<https://x.example/a?b=1&amp;c=2>", Evidence("https://x.example/a?b=1&c=2")),
        ("<https://x.example|Signed contract PDF>", Evidence("https://x.example", "Signed contract PDF")),
        ("<https://x.example|Q&amp;A notes>", Evidence("https://x.example", "Q&A notes")),
        ("<https://x.example|https://x.example>", Evidence("https://x.example")),
        ("<http://acme.com|acme.com>", Evidence("http://acme.com", "acme.com")),
        ("<https://x.example|>", Evidence("https://x.example")),
        ("https://x.example:8443/a", Evidence("https://x.example:8443/a")),
        ("https://[2001:db8::1]/a", Evidence("https://[2001:db8::1]/a")),
        ("https://bücher.example/a", Evidence("https://bücher.example/a")),
        (MAX_URL, Evidence(MAX_URL)),
    ],
)
def test_evidence(token: str, expected: Evidence) -> None:
    assert parse_advance(f"42 evidence:{token}") == advance(evidence=(expected,))


@pytest.mark.parametrize(
    "token",
    [
        "javascript:alert(1)",
        "<javascript:alert(1)>",
        "ftp://x.example/file",
        "<ftp://x.example/file|file>",
        "mailto:a@x.example",
        "<mailto:a@x.example|a@x.example>",
        "/relative/path",
        "x.example/page",
        "//x.example/page",
        "https://",
        "https:///path",
        "https://x.example:99999/",
        "https://[::1",
        "https://a,b.example",
        "https://.",
        "<https://x.example",
        "<>",
        "<@U123ABC>",
        LONG_URL,
        f"<{LONG_URL}|long>",
    ],
)
def test_evidence_refusals(token: str) -> None:
    error = refusal(parse_advance, f"42 evidence:{token}")
    assert "evidence:https://" in error.message  # shows the expected form
    assert error.usage_text == ADVANCE_USAGE


def test_overlong_evidence_names_the_value_and_the_limit() -> None:
    message = refusal(parse_advance, f"42 evidence:{LONG_URL}").message
    assert "2,001" in message
    assert "2,000" in message
    assert "https://example.com/aaa" in message
    assert len(message) < 300


def test_ten_evidence_links_are_accepted() -> None:
    links = tuple(Evidence(f"https://x.example/{n}") for n in range(10))
    assert parse_advance("42 " + " ".join(f"evidence:{item.url}" for item in links)) == advance(evidence=links)


@pytest.mark.parametrize(
    "token",
    [
        "https://rep:hunter2@crm.example/deal/1",
        "<https://rep:hunter2@crm.example/deal/1|CRM>",
        "https://rep@crm.example/deal/1",
        "https://:hunter2@crm.example/deal/1",
        "https://@crm.example/deal/1",
        "HTTPS://rep:hunter2@crm.example:8443/",
    ],
)
def test_evidence_with_credentials_is_refused_without_showing_them(token: str) -> None:
    message = refusal(parse_advance, f"42 evidence:{token}").message
    assert "user name or password" in message
    assert "hunter2" not in message and "rep" not in message
    assert "crm.example" in message
    assert "evidence:https://" in message


@pytest.mark.parametrize(
    ("token", "invisible"),
    [
        ("https://pay\u200bpal.example/x", "U+200B"),
        ("https://x.example/\u202egpj.exe", "U+202E"),
        ("<https://x.example/\ufeff|deck>", "U+FEFF"),
    ],
)
def test_evidence_with_invisible_characters_is_refused(token: str, invisible: str) -> None:
    message = refusal(parse_advance, f"42 evidence:{token}").message
    assert f"invisible character ({invisible})" in message


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("<https://x.example|\u202eFDP\u202c  deck>", Evidence("https://x.example", "FDP deck")),
        ("<https://x.example|\u200b\u3164>", Evidence("https://x.example")),
        ("<https://evil.example|https://bank.example>", Evidence("https://evil.example", "https://bank.example")),
        ("https://аpple.example/po", Evidence("https://аpple.example/po")),
    ],
)
def test_evidence_labels_are_cleaned_and_kept_as_given(token: str, expected: Evidence) -> None:
    assert parse_advance(f"42 evidence:{token}") == advance(evidence=(expected,))


def test_an_evidence_label_over_its_limit_is_refused() -> None:
    message = refusal(parse_advance, f"42 evidence:<https://x.example|{'l' * 2_001}>").message
    assert "2,001 characters long; the most is 2,000" in message


@pytest.mark.parametrize("host", ["ü" * 70 + ".example", "a..example"])
def test_a_host_that_has_no_ascii_form_is_not_a_web_link(host: str) -> None:
    assert "is not a web link" in refusal(parse_advance, f"42 evidence:https://{host}/").message


def test_bad_evidence_names_the_value() -> None:
    assert "'javascript:alert(1)'" in refusal(parse_advance, "42 evidence:javascript:alert(1)").message


# --- /advance --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", advance()),
        ("deal-42", advance()),
        ("#42 to:Proposal", advance(to_key="proposal")),
        ("42 evidence:https://a.example", advance(evidence=(Evidence("https://a.example"),))),
        ("42 Evidence: https://a.example", advance(evidence=(Evidence("https://a.example"),))),
        ("42 evidence:<https://a.example>", advance(evidence=(Evidence("https://a.example"),))),
        (
            "42 evidence:<https://a.example|Signed contract PDF> to:closed-won note:CFO signed &amp; returned",
            advance(
                evidence=(Evidence("https://a.example", "Signed contract PDF"),),
                to_key="closed-won",
                note="CFO signed & returned",
            ),
        ),
        (
            "42 evidence:https://a.example evidence:https://b.example evidence:https://a.example",
            advance(evidence=(Evidence("https://a.example"), Evidence("https://b.example"))),
        ),
        (
            "42 evidence:<https://a.example|first> evidence:https://a.example",
            advance(evidence=(Evidence("https://a.example", "first"),)),
        ),
        (
            "42 note:see https://docs.example and ask: legal evidence:https://a.example",
            advance(evidence=(Evidence("https://a.example"),), note="see https://docs.example and ask: legal"),
        ),
        ("42 note:  spaced    out  ", advance(note="spaced out")),
        ("42 note:&lt;!here&gt; ping", advance(note="<!here> ping")),
        ("42 NOTE:x TO:legal", advance(to_key="legal", note="x")),
        ("42 to: legal", advance(to_key="legal")),
    ],
)
def test_parse_advance(text: str, expected: Advance) -> None:
    assert parse_advance(text) == expected


@pytest.mark.parametrize("text", ["help", "HELP", " help ", "help to:legal"])
def test_advance_help_is_help_not_a_refusal(text: str) -> None:
    assert parse_advance(text) == AdvanceHelp()


@pytest.mark.parametrize(
    ("text", "message_part"),
    [
        ("", "Start with the deal's id"),
        ("evidence:https://a.example", "Start with the deal's id"),
        ("foo evidence:https://a.example", "'foo' is not a deal id"),
        ("hlep", "'hlep' is not part of /advance. Did you mean `/advance help`?"),
        ("42 https://a.example", "Put evidence: before each link"),
        ("42 <https://a.example|deck>", "Put evidence: before each link"),
        ("42 looks good", "'looks good' is not part of /advance"),
        ("42 evidence:", "evidence: is empty"),
        ("42 evidence: to:legal", "evidence: is empty"),
        ("42 evidence:https://a.example https://b.example", "repeat evidence:"),
        ("42 to:a to:b", "to: is given more than once"),
        ("42 to:", "to: is empty"),
        ("42 note:a note:b", "note: is given more than once"),
        ("42 note:", "note: is empty"),
        ("42 evidence:javascript:alert(1)", "is not a web link"),
        ("42 note:" + "n" * 1_001, "The note is 1,001 characters long; the most is 1,000."),
        ("42 note:\u200b\u202e", "note: is empty"),
        ("42 note:a\x00b", "NUL character (U+0000)"),
        ("42 to:" + "k" * 65, "a stage's key is at most 64 characters"),
        (
            "42 " + " ".join(f"evidence:https://x.example/{n}" for n in range(11)),
            "That is 11 evidence links; the most is 10 at a time.",
        ),
    ],
)
def test_parse_advance_refusals(text: str, message_part: str) -> None:
    error = refusal(parse_advance, text)
    assert message_part in error.message
    assert error.usage_text == ADVANCE_USAGE


# --- /pipeline -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", PipelineBoard()),
        ("  ", PipelineBoard()),
        ("stages", PipelineStages()),
        ("STAGES", PipelineStages()),
        ("help", PipelineHelp()),
        ("help schedule", PipelineHelp()),
        ("lint", PipelineLint()),
        ("LINT", PipelineLint()),
        ("digest", PostDigest()),
        ("managers", ListManagers()),
        ("managers add <@U123ABC|dana>", ChangeManager("add", "U123ABC")),
        ("managers add <@U123ABC>", ChangeManager("add", "U123ABC")),
        ("managers add <@U123ABC|Dana Smith>", ChangeManager("add", "U123ABC")),
        ("managers ADD U123ABC", ChangeManager("add", "U123ABC")),
        ("managers remove W0123ABCDE", ChangeManager("remove", "W0123ABCDE")),
        ("managers remove <@W0123ABCDE|sam>", ChangeManager("remove", "W0123ABCDE")),
        ("schedule", ShowSchedule()),
        ("schedule off", ScheduleOff()),
        ("schedule OFF", ScheduleOff()),
        ("schedule weekly mon 09:00", SetSchedule("weekly", "mon", datetime.time(9, 0), None)),
        ("schedule weekly Monday 9:30", SetSchedule("weekly", "mon", datetime.time(9, 30), None)),
        ("schedule weekly SUNDAY 23:59", SetSchedule("weekly", "sun", datetime.time(23, 59), None)),
        ("schedule weekly thu 00:00", SetSchedule("weekly", "thu", datetime.time(0, 0), None)),
        (
            "schedule weekly fri 17:00 tz:Europe/Berlin",
            SetSchedule("weekly", "fri", datetime.time(17, 0), "Europe/Berlin"),
        ),
        (
            "schedule weekly fri 17:00 TZ: america/new_york",
            SetSchedule("weekly", "fri", datetime.time(17, 0), "America/New_York"),
        ),
        ("schedule daily 08:15", SetSchedule("daily", None, datetime.time(8, 15), None)),
        ("schedule daily 8:15 tz:UTC", SetSchedule("daily", None, datetime.time(8, 15), "UTC")),
        ("schedule daily 07:00 tz:Asia/Tokyo", SetSchedule("daily", None, datetime.time(7, 0), "Asia/Tokyo")),
    ],
)
def test_parse_pipeline(text: str, expected: object) -> None:
    assert parse_pipeline(text) == expected


@pytest.mark.parametrize(
    ("text", "message_part"),
    [
        ("stagse", "Did you mean `/pipeline stages`?"),
        ("manager", "Did you mean `/pipeline managers`?"),
        ("shedule", "Did you mean `/pipeline schedule`?"),
        ("frobnicate", "Use one of: stages, managers, digest, schedule, reminders, lint, help"),
        ("stages now", "Unexpected 'now'"),
        ("digest please", "Unexpected 'please'"),
        ("lnit", "Did you mean `/pipeline lint`?"),
        ("lint examples/pipeline.yaml", "Unexpected 'examples/pipeline.yaml' after /pipeline lint"),
        ("managers ad <@U123ABC>", "Did you mean `/pipeline managers add`?"),
        ("managers add", "Say who"),
        ("managers add <@U1AAAAAA> <@U2BBBBBB>", "one person at a time"),
        ("managers add @dana", "@-mention menu"),
        ("managers remove @dana", "@-mention menu"),
        ("managers add dana", "is not a person"),
        ("managers add u123abc", "is not a person"),
        ("managers add UNKNOWN", "is not a person"),
        ("managers add <!subteam^S123|@sales>", "user group"),
        ("managers add <#C123|general>", "is a channel"),
        ("managers add <!channel>", "is not a person"),
        ("schedule of", "Did you mean `/pipeline schedule off`?"),
        ("schedule off now", "Unexpected 'now'"),
        ("schedule monthly 1 09:00", "is not part of /pipeline schedule"),
        ("schedule weekly", "Say the day and the time"),
        ("schedule weekly 09:00", "Say the day and the time"),
        ("schedule weekly funday 09:00", "'funday' is not a day"),
        ("schedule weekly mon 24:00", "'24:00' is not a time"),
        ("schedule weekly mon 7pm", "'7pm' is not a time"),
        ("schedule weekly mon 09:00 10:00", "Unexpected '10:00'"),
        ("schedule daily", "Say the time"),
        ("schedule daily 9", "'9' is not a time"),
        ("schedule daily 09:60", "'09:60' is not a time"),
        ("schedule daily 009:00", "'009:00' is not a time"),
        ("schedule daily ٠٩:٠٠", "is not a time"),
        ("schedule daily 09:00 tz:Mars/Base", "tz:Europe/Berlin"),
        ("schedule daily 09:00 tz:localtime", "is not a time zone"),
        ("schedule daily 09:00 tz:../../etc/passwd", "is not a time zone"),
        ("schedule daily 09:00 tz:Europe", "is not a time zone"),
        ("schedule daily 09:00 tz:", "tz: is empty"),
        ("schedule daily 09:00 tz:UTC tz:UTC", "tz: is given more than once"),
        ("schedule daily 09:00 tz:Europe/Berlin Paris", "tz: takes a single value"),
    ],
)
def test_parse_pipeline_refusals(text: str, message_part: str) -> None:
    error = refusal(parse_pipeline, text)
    assert message_part in error.message
    assert error.usage is not None
    assert "/pipeline" in error.usage


def test_unknown_pipeline_subcommand_shows_the_whole_usage() -> None:
    assert refusal(parse_pipeline, "frobnicate").usage_text == PIPELINE_USAGE


def test_unknown_deal_subcommand_shows_the_whole_usage() -> None:
    assert refusal(parse_deal, "frobnicate").usage_text == DEAL_USAGE


# --- Usage texts and messages ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("usage", "commands"),
    [
        (DEAL_USAGE, ["`/deal new", "`/deal show", "`/deal list", "`/deal lost", "`/deal help`"]),
        (
            ADVANCE_USAGE,
            ["`/advance <deal-id> evidence:<link>", "`/advance deal-42 evidence:https://", "`/advance help`"],
        ),
        (
            PIPELINE_USAGE,
            [
                "`/pipeline`",
                "`/pipeline stages`",
                "`/pipeline managers`",
                "`/pipeline managers add @person`",
                "`/pipeline managers remove @person`",
                "`/pipeline digest`",
                "`/pipeline schedule`",
                "`/pipeline schedule off`",
                "`/pipeline schedule weekly",
                "`/pipeline schedule daily",
                "`/pipeline lint`",
                "`/pipeline help`",
            ],
        ),
    ],
)
def test_usage_texts_name_every_form_with_examples(usage: Text, commands: list[str]) -> None:
    english = str(usage)
    assert "\n" in english
    assert "Example" in english
    for command in commands:
        assert command in english


def test_long_values_are_shortened_in_messages() -> None:
    message = refusal(parse_deal, "show " + "x" * 5_000).message
    assert len(message) < 200
    assert "…" in message


def test_messages_quote_values_unescaped() -> None:
    assert "'a&b' is not a deal id" in refusal(parse_deal, "show a&amp;b").message


def test_deal_new_alone_asks_for_the_form() -> None:
    assert parse_deal("new") == NewDealForm()
    assert parse_deal("  NEW  ") == NewDealForm()


def test_the_new_deal_form_is_checked_like_the_typed_command() -> None:
    typed = parse_deal("new Acme renewal value:€12.5k company:Acme Corp evidence:https://mail.example.com/r")
    assert isinstance(typed, NewDeal)
    formed = new_deal_from_form(
        name=" Acme renewal ", value="€12.5k", company="Acme Corp", evidence="https://mail.example.com/r"
    )
    assert formed == typed
    assert new_deal_from_form(name="Acme", value="", company="", evidence="") == NewDeal("Acme", None, None, ())


def test_every_wrong_field_of_the_form_is_named() -> None:
    with pytest.raises(FieldErrors) as refused:
        new_deal_from_form(name="   ", value="lots", company="x" * 201, evidence="not a link")
    assert set(refused.value.fields) == {"name", "value", "company", "evidence"}
    assert "name" in refused.value.fields["name"]
    assert "50000" in refused.value.fields["value"]
    with pytest.raises(FieldErrors) as refused:
        new_deal_from_form(name="Acme\x00", value="1", company="", evidence="")
    assert set(refused.value.fields) == {"name"}
