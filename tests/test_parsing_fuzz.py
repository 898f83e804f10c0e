import re
import typing
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from commands.errors import CommandError
from commands.parsing import (
    Advance,
    DealCommand,
    Evidence,
    ListDeals,
    MarkLost,
    NewDeal,
    PipelineCommand,
    SetSchedule,
    ShowDeal,
    format_amount,
    parse_advance,
    parse_deal,
    parse_pipeline,
)

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

slackish_text = st.lists(st.one_of(st.sampled_from(SLACKISH_TOKENS), st.text(max_size=12)), max_size=12).map(" ".join)
any_text = st.one_of(st.text(), slackish_text)

NEW_DEAL_OPTION = re.compile(r"(?:^|\s)(?:value|company|evidence):", re.IGNORECASE)

RESULT_TYPES: dict[Callable[[str], object], tuple[type, ...]] = {
    parse_deal: typing.get_args(DealCommand),
    parse_advance: (Advance,),
    parse_pipeline: typing.get_args(PipelineCommand),
}


def parse_or_refuse(parse: Callable[[str], object], text: str) -> object | None:
    try:
        result = parse(text)
    except CommandError as error:
        assert isinstance(error.message, str)
        assert error.message.strip()
        return None
    assert isinstance(result, RESULT_TYPES[parse])
    return result


def assert_clean_text(text: str | None) -> None:
    if text is not None:
        assert text
        assert text == text.strip()
        assert "  " not in text
        assert "\x00" not in text


def assert_valid_evidence(evidence: tuple[Evidence, ...]) -> None:
    urls = [item.url for item in evidence]
    assert len(urls) == len(set(urls))
    for url in urls:
        assert url.lower().startswith(("http://", "https://"))
        assert len(url) <= 2_000


def assert_valid(result: object) -> None:
    if isinstance(result, NewDeal):
        assert_clean_text(result.name)
        assert_clean_text(result.company)
        assert result.value_cents is None or 0 <= result.value_cents <= 10**13
        assert_valid_evidence(result.evidence)
    if isinstance(result, Advance):
        assert result.deal_number >= 1
        assert_clean_text(result.note)
        assert_valid_evidence(result.evidence)
        assert result.to_key is None or result.to_key == result.to_key.lower()
    if isinstance(result, ShowDeal | MarkLost):
        assert result.deal_number >= 1
    if isinstance(result, MarkLost):
        assert_clean_text(result.reason)
    if isinstance(result, ListDeals):
        assert result.scope in ("mine", "all")
    if isinstance(result, SetSchedule):
        assert (result.weekday is None) == (result.frequency == "daily")


@settings(max_examples=500, deadline=None)
@given(any_text)
def test_parse_deal_returns_a_command_or_refuses(text: str) -> None:
    assert_valid(parse_or_refuse(parse_deal, text))


@settings(max_examples=500, deadline=None)
@given(any_text)
def test_parse_advance_returns_a_command_or_refuses(text: str) -> None:
    assert_valid(parse_or_refuse(parse_advance, text))


@settings(max_examples=500, deadline=None)
@given(any_text)
def test_parse_pipeline_returns_a_command_or_refuses(text: str) -> None:
    assert_valid(parse_or_refuse(parse_pipeline, text))


@settings(max_examples=500, deadline=None)
@given(slackish_text)
def test_every_subcommand_prefix_returns_a_command_or_refuses(text: str) -> None:
    for prefix in ("new ", "show ", "list ", "lost 42 ", "lost 42 reason:"):
        assert_valid(parse_or_refuse(parse_deal, prefix + text))
    assert_valid(parse_or_refuse(parse_advance, "42 " + text))
    for prefix in ("managers add ", "schedule weekly ", "schedule daily "):
        assert_valid(parse_or_refuse(parse_pipeline, prefix + text))


@settings(max_examples=500, deadline=None)
@given(st.integers(min_value=0, max_value=10**13))
def test_formatted_amounts_parse_back(cents: int) -> None:
    assert parse_deal(f"new Acme value:{format_amount(cents)}") == NewDeal(
        name="Acme", value_cents=cents, company=None, evidence=()
    )


@settings(max_examples=500, deadline=None)
@given(
    st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1)
    .filter(str.strip)
    .filter(lambda name: not NEW_DEAL_OPTION.search(name))
)
def test_escaped_names_come_back_unescaped(name: str) -> None:
    escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    result = parse_deal(f"new {escaped}")
    assert isinstance(result, NewDeal)
    assert result.name == " ".join(name.split())
