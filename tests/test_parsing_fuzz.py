import re
import typing
import unicodedata
from collections.abc import Callable
from urllib.parse import urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.mrkdwn import link
from bot.slash_grammar import (
    AdvanceCommand,
    DealCommand,
    PipelineCommand,
    ShowDeal,
    parse_advance,
    parse_deal,
    parse_pipeline,
)
from commands.deals.deal import ListDeals, MarkLost, NewDeal
from commands.deals.evidence import Evidence
from commands.deals.moves import Advance
from commands.digest.schedules import SetSchedule
from commands.errors import CommandError
from commands.i18n.translator import ENGLISH
from commands.text_rules import (
    COMMAND_TEXT_LIMIT,
    COMPANY_LIMIT,
    EVIDENCE_COUNT_LIMIT,
    LABEL_LIMIT,
    NAME_LIMIT,
    NOTE_LIMIT,
    REASON_LIMIT,
    URL_LIMIT,
    clean_text,
    is_visible,
    label_misleads,
    without_credentials,
)
from tests.conftest import examples

SLACKISH_TOKENS = [
    "new",
    "show",
    "list",
    "lost",
    "help",
    "mine",
    "all",
    "managers",
    "add",
    "remove",
    "digest",
    "schedule",
    "weekly",
    "daily",
    "off",
    "stages",
    "mon",
    "Friday",
    "9:30",
    "24:00",
    "42",
    "#42",
    "deal-42",
    "DEAL-0",
    "value:",
    "value:50k",
    "value:$1,000.50",
    "value:-5",
    "company:",
    "company:AT&amp;T",
    "evidence:",
    "evidence:https://x.example",
    "evidence:<https://x.example|Signed contract PDF>",
    "evidence:javascript:alert(1)",
    "evidence: ",
    "to:",
    "to:proposal",
    "stage:won",
    "note:",
    "reason:",
    "tz:",
    "tz:Europe/Berlin",
    "tz:Nowhere/Else",
    "<@U123ABC|dana>",
    "<@U123ABC>",
    "U123ABC",
    "@dana",
    "<!channel>",
    "&lt;!channel&gt;",
    "<!subteam^S1|@sales>",
    "<#C123|general>",
    "<https://x.example>",
    "<https://x.example|a b c>",
    "<",
    ">",
    "<<>>",
    "&amp;",
    "&amp;lt;",
    "&",
    ":",
    "::",
    "https://",
    "\x00",
    "\t",
    "\n",
    " ",
    "\u00a0",
    "\u200b",
    "\U0001f600",
]
# The input classes of the "Input limits and spoofing": bidi controls, zero-width and blank-looking
# characters, NUL and other controls, unpaired surrogates, credentials in links, hosts in other scripts, and
# labels that name another host than their link.
BIDI = [
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200e",
    "\u200f",
    "\u061c",
]
INVISIBLE = [
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u00ad",
    "\u180e",
    "\u3164",
    "\u115f",
    "\u2800",
    "\u034f",
]
UNSTORABLE = ["\x00", "\x07", "\x1b", "\x7f", "\x9b", "\ud800", "\udfff", "\udbff"]
HOSTILE_TOKENS = [
    *BIDI,
    *INVISIBLE,
    *UNSTORABLE,
    "evidence:https://rep:hunter2@crm.example/1",
    "evidence:<https://rep:hunter2@crm.example/1|CRM>",
    "evidence:https://@crm.example/1",
    "evidence:https://bücher.example/a",
    "evidence:https://аpple.example/po",
    "evidence:https://xn--pple-43d.example/po",
    "evidence:https://☃.net",
    "evidence:<https://evil.example|https://bank.example/login>",
    "evidence:<https://evil.example|bank.example>",
    "evidence:<https://evil.example|ｐａｙｐａｌ．ｃｏｍ>",
    "evidence:<https://evil.example|https://bank.example@evil.example>",
    "evidence:<https://evil.example|10.0.0.1>",
    "evidence:https://pay\u200bpal.example",
    "evidence:https://x.example/\u202egpj.exe",
    "evidence:<https://x.example|\u202eFDP\u202c>",
    "evidence:https://" + "ü" * 70 + ".example",
    "<https://evil.example|https://bank.example>",
    "company:\u200b",
    "note:\u202e",
    "reason:\u3164",
]
hostile_text = st.lists(
    st.one_of(
        st.sampled_from(HOSTILE_TOKENS),
        st.sampled_from(SLACKISH_TOKENS),
        st.text(st.sampled_from([*BIDI, *INVISIBLE, *UNSTORABLE, "a", " ", ".", "é"]), max_size=8),
    ),
    max_size=12,
).map(" ".join)
# Long values around each limit, and megabytes, behind every option that takes text.
huge_text = st.tuples(
    st.sampled_from(
        ["new ", "new Acme company:", "42 note:", "lost 42 reason:", "42 evidence:https://x.example/", "new Acme "]
    ),
    st.sampled_from(["a", "é", "\u200b", "ab ", "x.example "]),
    st.sampled_from(
        sorted({NAME_LIMIT, NOTE_LIMIT, URL_LIMIT, LABEL_LIMIT, COMMAND_TEXT_LIMIT} | {199, 201, 999, 1_001, 1_000_000})
    ),
).map(lambda parts: parts[0] + (parts[1] * parts[2])[: parts[2]])

slackish_text = st.lists(st.one_of(st.sampled_from(SLACKISH_TOKENS), st.text(max_size=12)), max_size=12).map(" ".join)
any_text = st.one_of(st.text(), slackish_text, hostile_text)

NEW_DEAL_OPTION = re.compile(r"(?:^|\s)(?:value|company|evidence):", re.IGNORECASE)

RESULT_TYPES: dict[Callable[[str], object], tuple[type, ...]] = {
    parse_deal: typing.get_args(DealCommand),
    parse_advance: typing.get_args(AdvanceCommand),
    parse_pipeline: typing.get_args(PipelineCommand),
}


def parse_or_refuse(parse: Callable[[str], object], text: str) -> object | None:
    try:
        result = parse(text)
    except CommandError as error:
        assert isinstance(error.message, str)
        assert error.message.strip()
        assert len(error.message) < 600  # quoted values are shortened
        assert "hunter2@" not in error.message  # a link's password is never echoed
        return None
    assert isinstance(result, RESULT_TYPES[parse])
    return result


def assert_clean_text(text: str | None, limit: int = NAME_LIMIT) -> None:
    if text is not None:
        assert text
        assert text == text.strip()
        assert "  " not in text
        assert len(text) <= limit
        assert is_visible(text)
        assert text == clean_text(text)
        for ch in text:
            assert unicodedata.category(ch) not in ("Cc", "Cs"), ch
            assert unicodedata.category(ch) != "Cf" or ch in "\u200c\u200d", ch


def assert_valid_evidence(evidence: tuple[Evidence, ...]) -> None:
    urls = [item.url for item in evidence]
    assert len(urls) == len(set(urls))
    assert len(urls) <= EVIDENCE_COUNT_LIMIT
    for item in evidence:
        assert item.url.lower().startswith(("http://", "https://"))
        assert len(item.url) <= URL_LIMIT
        parts = urlsplit(item.url)
        assert parts.username is None and parts.password is None and "@" not in parts.netloc
        assert all(unicodedata.category(ch) not in ("Cc", "Cs", "Cf") for ch in item.url)
        assert_clean_text(item.label, LABEL_LIMIT)
        assert_honest_link(item)


def assert_honest_link(evidence: Evidence) -> None:
    """What Slack shows for the link names no other host than the target's, hides nothing, and breaks out of
    nothing; a host in another script is followed by its punycode."""
    shown = link(evidence)
    target, _, rest = shown[1:].partition("|")
    label, _, after = rest.partition(">")
    assert shown.startswith("<") and "<" not in label and "|" not in label
    visible = label.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    the_link_itself = without_credentials(evidence.url).split("://", 1)[-1].startswith(visible.removesuffix("…"))
    assert the_link_itself or not label_misleads(visible, evidence.url), (evidence, shown)
    assert all(unicodedata.category(ch) != "Cf" or ch in "\u200c\u200d" for ch in visible)
    host = urlsplit(evidence.url).hostname or ""
    assert (after != "") == (not host.isascii()), shown


def assert_valid(result: object) -> None:
    if isinstance(result, NewDeal):
        assert_clean_text(result.name)
        assert_clean_text(result.company, COMPANY_LIMIT)
        assert result.value_cents is None or 0 <= result.value_cents <= 10**13
        assert_valid_evidence(result.evidence)
    if isinstance(result, Advance):
        assert result.deal_number >= 1
        assert_clean_text(result.note, NOTE_LIMIT)
        assert_valid_evidence(result.evidence)
        assert result.to_key is None or result.to_key == result.to_key.lower()
    if isinstance(result, ShowDeal | MarkLost):
        assert result.deal_number >= 1
    if isinstance(result, MarkLost):
        assert_clean_text(result.reason, REASON_LIMIT)
    if isinstance(result, ListDeals):
        assert result.scope in ("mine", "all")
    if isinstance(result, SetSchedule):
        assert (result.weekday is None) == (result.frequency == "daily")


@settings(max_examples=examples(500), deadline=None)
@given(any_text)
def test_parse_deal_returns_a_command_or_refuses(text: str) -> None:
    assert_valid(parse_or_refuse(parse_deal, text))


@settings(max_examples=examples(500), deadline=None)
@given(any_text)
def test_parse_advance_returns_a_command_or_refuses(text: str) -> None:
    assert_valid(parse_or_refuse(parse_advance, text))


@settings(max_examples=examples(500), deadline=None)
@given(any_text)
def test_parse_pipeline_returns_a_command_or_refuses(text: str) -> None:
    assert_valid(parse_or_refuse(parse_pipeline, text))


@settings(max_examples=examples(500), deadline=None)
@given(slackish_text)
def test_every_subcommand_prefix_returns_a_command_or_refuses(text: str) -> None:
    for prefix in ("new ", "show ", "list ", "lost 42 ", "lost 42 reason:"):
        assert_valid(parse_or_refuse(parse_deal, prefix + text))
    assert_valid(parse_or_refuse(parse_advance, "42 " + text))
    for prefix in ("managers add ", "schedule weekly ", "schedule daily "):
        assert_valid(parse_or_refuse(parse_pipeline, prefix + text))


@settings(max_examples=examples(300), deadline=None)
@given(st.one_of(hostile_text, huge_text))
def test_hostile_and_huge_text_is_refused_or_stored_clean_within_its_limits(text: str) -> None:
    for parse, prefix in ((parse_deal, ""), (parse_deal, "new "), (parse_advance, "42 "), (parse_deal, "lost 42 ")):
        assert_valid(parse_or_refuse(parse, prefix + text))
    assert_valid(parse_or_refuse(parse_advance, text))


@settings(max_examples=examples(300), deadline=None)
@given(st.one_of(st.text(), st.text(st.sampled_from([*BIDI, *INVISIBLE, "a", " ", "\n", "é", "👩"]))))
def test_cleaning_is_stable_and_leaves_nothing_hidden(text: str) -> None:
    cleaned = clean_text(text)
    assert clean_text(cleaned) == cleaned
    assert all(unicodedata.category(ch) != "Cf" or ch in "\u200c\u200d" for ch in cleaned)
    assert cleaned == cleaned.strip() and "  " not in cleaned


@settings(max_examples=examples(300), deadline=None)
@given(
    url=st.one_of(
        st.sampled_from(
            ["https://evil.example/a", "https://bücher.example/", "http://10.0.0.1/x", "https://u:p@h.example"]
        ),
        st.text(min_size=1, max_size=20).map(lambda path: "https://x.example/" + path),
    ),
    label=st.one_of(
        st.none(),
        st.text(max_size=40),
        st.sampled_from(
            ["bank.example", "https://bank.example/login", "ｂａｎｋ．ｅｘａｍｐｌｅ", "a@bank.example", "x.example"]
        ),
        st.lists(st.sampled_from([*BIDI, *INVISIBLE, "bank", ".", "example", " ", "|", ">", "&", "https://"])).map(
            "".join
        ),
    ),
)
def test_a_rendered_link_never_shows_another_host_or_hidden_characters(url: str, label: str | None) -> None:
    """Also for links stored before the input rules, so the evidence here is built directly."""
    assert_honest_link(Evidence(url, label))


@settings(max_examples=examples(500), deadline=None)
@given(st.integers(min_value=0, max_value=10**13))
def test_formatted_amounts_parse_back(cents: int) -> None:
    assert parse_deal(f"new Acme value:{ENGLISH.money(cents, None)}") == NewDeal(
        name="Acme", value_cents=cents, company=None, evidence=()
    )


@settings(max_examples=examples(500), deadline=None)
@given(
    st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=NAME_LIMIT)
    .filter(str.strip)
    .filter(lambda name: not NEW_DEAL_OPTION.search(name))
)
def test_escaped_names_come_back_unescaped_and_clean(name: str) -> None:
    escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    result = parse_or_refuse(parse_deal, f"new {escaped}")
    if is_visible(clean_text(name)):
        assert isinstance(result, NewDeal)
        assert result.name == clean_text(name)
    else:  # only invisible characters: refused like an empty name
        assert result is None
