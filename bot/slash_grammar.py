"""Turn the text typed after a slash command into typed command objects.

Slack sends that text entity-escaped (`&amp;`, `&lt;`, `&gt;`) and, with `should_escape: true`, wraps
links and mentions as `<https://x|label>` and `<@U123|name>`. The CLI, tests and a manifest without
`should_escape` send the text as typed. Both forms are accepted. Free text is returned unescaped:
renderers escape it again. What text may hold, and how long it may be, is `commands/text_rules.py`.
"""

import datetime
import difflib
import re
import unicodedata
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Literal, TypeAlias
from urllib.parse import urlsplit

from commands.deals.deal import ListDeals, MarkLost, NewDeal
from commands.deals.evidence import Evidence
from commands.deals.managers import ChangeManager
from commands.deals.moves import Advance
from commands.deals.snooze import SNOOZE_MAX_DAYS, SNOOZE_MIN_DAYS, EndSnooze, SnoozeDeal
from commands.digest.schedules import DEFAULT_QUIET, QUIET_CHOICES, SetSchedule
from commands.errors import CommandError, FieldErrors
from commands.formats import clip, format_amount
from commands.reminders.settings import (
    MAX_PENDING_AFTER_HOURS,
    MIN_PENDING_AFTER_HOURS,
    SetPendingReminders,
    ShowReminders,
)
from commands.text_rules import (
    COMMAND_TEXT_LIMIT,
    COMPANY_LIMIT,
    EVIDENCE_COUNT_LIMIT,
    LABEL_LIMIT,
    NAME_LIMIT,
    NOTE_LIMIT,
    REASON_LIMIT,
    URL_LIMIT,
    ascii_host,
    checked_text,
    clean_text,
    has_credentials,
    is_visible,
    mask_credentials,
    refuse_unstorable,
    too_long,
)

# --- Command objects ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewDealForm:
    """`/deal new` with nothing after it: the form asks for the deal instead of the grammar."""


@dataclass(frozen=True)
class ShowDeal:
    deal_number: int


@dataclass(frozen=True)
class DealHelp:
    pass


@dataclass(frozen=True)
class PipelineBoard:
    pass


@dataclass(frozen=True)
class PipelineStages:
    pass


@dataclass(frozen=True)
class PipelineHelp:
    pass


@dataclass(frozen=True)
class PipelineLint:
    pass


@dataclass(frozen=True)
class AdvanceHelp:
    pass


@dataclass(frozen=True)
class ListManagers:
    pass


@dataclass(frozen=True)
class PostDigest:
    pass


@dataclass(frozen=True)
class PostOwnDigest:
    """`/pipeline digest mine`: the digest of the asker's own deals, for the asker alone."""


@dataclass(frozen=True)
class ShowSchedule:
    pass


@dataclass(frozen=True)
class ScheduleOff:
    pass


DealCommand: TypeAlias = NewDeal | NewDealForm | ShowDeal | ListDeals | MarkLost | SnoozeDeal | EndSnooze | DealHelp
AdvanceCommand: TypeAlias = Advance | AdvanceHelp
PipelineCommand: TypeAlias = (
    PipelineBoard
    | PipelineStages
    | PipelineHelp
    | PipelineLint
    | ListManagers
    | ChangeManager
    | PostDigest
    | PostOwnDigest
    | ShowSchedule
    | ScheduleOff
    | SetSchedule
    | ShowReminders
    | SetPendingReminders
)

# --- Usage texts ----------------------------------------------------------------------------------

NEW_DEAL_USAGE = (
    "`/deal new <name> [value:<amount>] [company:<company>] [evidence:<link>]` adds a deal.\n"
    "  Example: `/deal new Acme renewal value:$50k company:Acme Corp evidence:https://example.com/notes`"
)
_DEAL_SHOW_USAGE = "`/deal show <deal-id>` shows one deal.\n  Example: `/deal show deal-42`"
_DEAL_LIST_USAGE = (
    "`/deal list [mine|all] [stage:<stage>]` lists your deals, or everyone's with all.\n"
    "  Example: `/deal list all stage:proposal-received`"
)
_DEAL_LOST_USAGE = (
    "`/deal lost <deal-id> reason:<why>` marks a deal lost.\n  Example: `/deal lost deal-42 reason:chose a competitor`"
)
_DEAL_SNOOZE_USAGE = (
    f"`/deal snooze <deal-id> <{SNOOZE_MIN_DAYS}d…{SNOOZE_MAX_DAYS}d> reason:<why>` stops a stalled deal's nudges"
    " for that long (the digest shows the snooze and its reason); `/deal snooze <deal-id> off` ends it.\n"
    "  Example: `/deal snooze deal-42 7d reason:waiting for the buyer's budget cycle`"
)
DEAL_USAGE = "\n".join(
    (
        "How to use `/deal`:",
        NEW_DEAL_USAGE,
        _DEAL_SHOW_USAGE,
        _DEAL_LIST_USAGE,
        _DEAL_LOST_USAGE,
        _DEAL_SNOOZE_USAGE,
        "`/deal help` shows this.",
    )
)

ADVANCE_USAGE = "\n".join(
    (
        "How to use `/advance`:",
        "`/advance <deal-id> evidence:<link> [evidence:<link>…] [to:<stage>] [note:<text>]`"
        " asks a manager to move a deal to its next stage (or to the stage you name), with links to"
        " the evidence of the buyer's action that the stage's exit criteria ask for.",
        "  Example: `/advance deal-42 evidence:https://mail.example.com/buyer-reply note:CFO confirmed budget`",
        "  Skipping a stage needs one link per stage entered, in order:",
        "  Example: `/advance 42 evidence:https://example.com/a evidence:https://example.com/b to:product-evaluated`",
        "  Moving back needs a note, not approval: `/advance 42 to:needs-confirmed note:champion left`",
        "`/advance help` shows this.",
    )
)

_MANAGERS_USAGE = (
    "`/pipeline managers` lists the pipeline managers.\n"
    "`/pipeline managers add @person` and `/pipeline managers remove @person` change them"
    " (pick the person from Slack's @-mention menu).\n"
    "  Example: `/pipeline managers add @Dana`"
)
_SCHEDULE_USAGE = (
    "`/pipeline schedule` shows when the digest is posted; `/pipeline schedule off` stops it.\n"
    "`/pipeline schedule weekly <mon…sun> <HH:MM> [tz:<zone>] [quiet:short|skip|full]` posts it once a week.\n"
    "`/pipeline schedule daily <HH:MM> [tz:<zone>] [quiet:short|skip|full]` posts it every day.\n"
    "  `quiet:` is what a period in which no deal moved, was created or was lost posts: one line (`short`, the "
    "default), nothing (`skip`) or the whole digest (`full`).\n"
    "  Example: `/pipeline schedule weekly mon 09:00 tz:Europe/Berlin quiet:skip`"
)
_REMINDERS_USAGE = (
    "`/pipeline reminders` shows when a move waiting for a manager is reminded;"
    " `/pipeline reminders pending <hours>h|<days>d|off` changes it (managers only).\n"
    "  Example: `/pipeline reminders pending 12h`"
)
PIPELINE_USAGE = "\n".join(
    (
        "How to use `/pipeline`:",
        "`/pipeline` shows the board.",
        "`/pipeline stages` shows the stages and what each one needs to move on.",
        _MANAGERS_USAGE,
        "`/pipeline digest` posts the digest now; `/pipeline digest mine` shows only you the digest of your own deals.",
        _SCHEDULE_USAGE,
        _REMINDERS_USAGE,
        "`/pipeline lint` checks the stages against the four standards (required, factual, inspectable,"
        " buyer-centric) and suggests a rewrite for each finding.",
        "`/pipeline help` shows this.",
    )
)

# --- Formatting -----------------------------------------------------------------------------------


# --- Entry points ---------------------------------------------------------------------------------


def parse_deal(text: str) -> DealCommand:
    tokens = _tokenize(text, DEAL_USAGE)
    if not tokens or tokens[0].lower() == "help":
        return DealHelp()
    subcommand, rest = tokens[0].lower(), tokens[1:]
    parser = _DEAL_PARSERS.get(subcommand)
    if parser is None:
        raise _unknown_deal_subcommand(tokens[0])
    return parser(rest)


def parse_advance(text: str) -> AdvanceCommand:
    usage = ADVANCE_USAGE
    tokens = _tokenize(text, usage)
    if tokens and tokens[0].lower() == "help":
        return AdvanceHelp()
    positional, options = _split_options(tokens, frozenset({"evidence", "to", "note"}), usage)
    if not positional:
        raise CommandError("Start with the deal's id, like /advance deal-42 evidence:https://…", usage)
    if not _DEAL_ID.fullmatch(positional[0]) and difflib.get_close_matches(positional[0].lower(), ("help",), n=1):
        raise _unknown_word(positional[0], "/advance", ("help",), usage)
    deal_number = _parse_deal_number(positional[0], usage)
    if len(positional) > 1:
        raise _stray_words_in_advance(positional[1:], usage)
    return Advance(
        deal_number=deal_number,
        evidence=_evidence_option(options, usage),
        to_key=_stage_option(options, "to", usage),
        note=_text_option(options, "note", usage),
    )


def parse_pipeline(text: str) -> PipelineCommand:
    tokens = _tokenize(text, PIPELINE_USAGE)
    if not tokens:
        return PipelineBoard()
    subcommand, rest = tokens[0].lower(), tokens[1:]
    if subcommand == "help":
        return PipelineHelp()
    if subcommand == "managers":
        return _parse_managers(rest)
    if subcommand == "schedule":
        return _parse_schedule(rest)
    if subcommand == "reminders":
        return _parse_reminders(rest)
    if subcommand == "digest" and rest:
        if [word.lower() for word in rest] == ["mine"]:
            return PostOwnDigest()
        _refuse_extra_words(rest, "/pipeline digest (only `mine` may follow it)", PIPELINE_USAGE)
    no_argument_commands: dict[str, PipelineCommand] = {
        "stages": PipelineStages(),
        "digest": PostDigest(),
        "lint": PipelineLint(),
    }
    if subcommand in no_argument_commands:
        _refuse_extra_words(rest, f"/pipeline {subcommand}", PIPELINE_USAGE)
        return no_argument_commands[subcommand]
    known = ("stages", "managers", "digest", "schedule", "reminders", "lint", "help")
    raise _unknown_word(tokens[0], "/pipeline", known, PIPELINE_USAGE)


# --- /deal subcommands ----------------------------------------------------------------------------


def new_deal_from_form(*, name: str, value: str, company: str, evidence: str) -> NewDeal:
    """The deal typed into the `/deal new` form, checked as the typed command checks it; raises `FieldErrors`
    naming every field that is wrong (`name`, `value`, `company`, `evidence`)."""
    problems: dict[str, str] = {}

    def checked(field: str, parse: Callable[[], object]) -> object:
        try:
            return parse()
        except CommandError as error:
            problems[field] = error.message
            return None

    checked("name", lambda: _form_name(name))
    cents = checked(
        "value", lambda: _parse_amount(_stored(value, "The value"), NEW_DEAL_USAGE) if value.strip() else None
    )
    shown_company = checked("company", lambda: _form_text(company, "company"))
    link = checked(
        "evidence",
        lambda: _parse_evidence(_stored(evidence, "The link"), NEW_DEAL_USAGE) if evidence.strip() else None,
    )
    if problems:
        raise FieldErrors(problems)
    return NewDeal(
        name=_free_text([name.strip()]),
        value_cents=cents if isinstance(cents, int) else None,
        company=shown_company if isinstance(shown_company, str) else None,
        evidence=(link,) if isinstance(link, Evidence) else (),
    )


def _stored(text: str, what: str) -> str:
    """The field's text, trimmed, once it holds nothing the database cannot store."""
    refuse_unstorable(text, what)
    return text.strip()


def _form_optional(text: str, what: str, parse: Callable[[str, str], object]) -> object:
    return parse(_stored(text, what), NEW_DEAL_USAGE) if text.strip() else None


def _form_name(name: str) -> str:
    text = _free_text([_stored(name, "The deal's name")])
    if not is_visible(text):
        raise CommandError("Give the deal a name, like Acme renewal.")
    if len(text) > NAME_LIMIT:
        raise CommandError(too_long("The deal's name", len(text), NAME_LIMIT, "Use a shorter name."))
    return text


def _form_text(text: str, key: str) -> str | None:
    words = _stored(text, "The company").split()
    return _text_option({key: [words]} if words else {}, key, NEW_DEAL_USAGE)


def _parse_new(words: list[str]) -> NewDeal | NewDealForm:
    usage = NEW_DEAL_USAGE
    if not words:
        return NewDealForm()
    positional, options = _split_options(words, frozenset({"value", "company", "evidence"}), usage)
    name = _free_text(positional)
    if not is_visible(name):
        raise CommandError("Give the deal a name, like /deal new Acme renewal.", usage)
    if len(name) > NAME_LIMIT:
        raise CommandError(too_long("The deal's name", len(name), NAME_LIMIT, "Use a shorter name."), usage)
    value = _one_word_option(options, "value", usage)
    return NewDeal(
        name=name,
        value_cents=None if value is None else _parse_amount(value, usage),
        company=_text_option(options, "company", usage),
        evidence=_evidence_option(options, usage),
    )


def _parse_show(words: list[str]) -> ShowDeal:
    usage = _DEAL_SHOW_USAGE
    if not words:
        raise CommandError("Say which deal to show, like /deal show deal-42.", usage)
    deal_number = _parse_deal_number(words[0], usage)
    _refuse_extra_words(words[1:], "/deal show <deal-id>", usage)
    return ShowDeal(deal_number=deal_number)


def _parse_list(words: list[str]) -> ListDeals:
    usage = _DEAL_LIST_USAGE
    positional, options = _split_options(words, frozenset({"stage"}), usage)
    scope: Literal["mine", "all"] = "mine"
    if positional:
        scope = _parse_scope(positional[0], usage)
        _refuse_extra_words(positional[1:], f"/deal list {scope}", usage)
    return ListDeals(scope=scope, stage_key=_stage_option(options, "stage", usage))


def _parse_scope(word: str, usage: str) -> Literal["mine", "all"]:
    lowered = word.lower()
    if lowered == "mine":
        return "mine"
    if lowered == "all":
        return "all"
    raise CommandError(f"'{_shown(word)}' is not a list to show. Use mine or all, like /deal list all.", usage)


def _parse_lost(words: list[str]) -> MarkLost:
    usage = _DEAL_LOST_USAGE
    positional, options = _split_options(words, frozenset({"reason"}), usage)
    if not positional:
        raise CommandError("Say which deal was lost, like /deal lost deal-42 reason:chose a competitor.", usage)
    deal_number = _parse_deal_number(positional[0], usage)
    reason = _text_option(options, "reason", usage)
    if reason is None or len(positional) > 1:
        raise CommandError(
            "Say why the deal was lost after reason:, like /deal lost deal-42 reason:chose a competitor.",
            usage,
        )
    return MarkLost(deal_number=deal_number, reason=reason)


def _parse_snooze(words: list[str]) -> SnoozeDeal | EndSnooze:
    usage = _DEAL_SNOOZE_USAGE
    positional, options = _split_options(words, frozenset({"reason"}), usage, _SNOOZE_EXAMPLES)
    if not positional:
        raise CommandError("Say which deal to snooze, like /deal snooze deal-42 7d reason:<why>.", usage)
    deal_number = _parse_deal_number(positional[0], usage)
    if len(positional) < 2:
        raise CommandError(
            f"Say for how long, from {SNOOZE_MIN_DAYS}d to {SNOOZE_MAX_DAYS}d, like /deal snooze deal-42 7d"
            " reason:<why>, or end a snooze with /deal snooze deal-42 off.",
            usage,
        )
    if positional[1].lower() == "off":
        _refuse_extra_words(positional[2:], "/deal snooze <deal-id> off", usage)
        if options:
            raise CommandError("Ending a snooze takes no reason: /deal snooze deal-42 off.", usage)
        return EndSnooze(deal_number)
    days = _parse_snooze_days(positional[1], usage)
    _refuse_extra_words(positional[2:], "/deal snooze <deal-id> <days>", usage)
    reason = _text_option(options, "reason", usage, _SNOOZE_EXAMPLES)
    if reason is None:
        raise CommandError(
            "Say why after reason:, like /deal snooze deal-42 7d reason:waiting for the buyer's budget cycle."
            " The digest shows it beside the deal.",
            usage,
        )
    return SnoozeDeal(deal_number, days, reason)


def _parse_snooze_days(word: str, usage: str) -> int:
    duration = _parse_duration(word, usage, example="7d")
    if duration.unit == "h":
        raise CommandError(f"A snooze is counted in days, like 7d, not '{_shown(word)}'.", usage)
    days = duration.count * (7 if duration.unit == "w" else 1)
    if not SNOOZE_MIN_DAYS <= days <= SNOOZE_MAX_DAYS:
        raise CommandError(
            f"A snooze lasts from {SNOOZE_MIN_DAYS} to {SNOOZE_MAX_DAYS} days, not {days}. Snooze again when"
            " it ends if the buyer still needs time.",
            usage,
        )
    return days


_DEAL_PARSERS: dict[str, Callable[[list[str]], DealCommand]] = {
    "new": _parse_new,
    "show": _parse_show,
    "list": _parse_list,
    "lost": _parse_lost,
    "snooze": _parse_snooze,
}


def _unknown_deal_subcommand(word: str) -> CommandError:
    if _DEAL_ID.fullmatch(word):
        return CommandError(f"To see a deal, use /deal show {_shown(word)}.", DEAL_USAGE)
    return _unknown_word(word, "/deal", ("new", "show", "list", "lost", "snooze", "help"), DEAL_USAGE)


def _stray_words_in_advance(words: Sequence[str], usage: str) -> CommandError:
    stray = _free_text(words)
    if any(_looks_like_link(word) for word in words):
        return CommandError(
            f"Put evidence: before each link, like {_EVIDENCE_EXAMPLE} (got '{_shown(stray)}').",
            usage,
        )
    return CommandError(
        f"'{_shown(stray)}' is not part of /advance. Put remarks after note:, like note:CFO signed.", usage
    )


def _looks_like_link(word: str) -> bool:
    return word.startswith("<") or "://" in word


def advance_from_form(
    *, deal_number: int, from_key: str, to_key: str, links: Sequence[tuple[str, str]], note: str
) -> Advance:
    """The move asked for in the advance form, checked as the typed command checks it. `links` holds, for each
    stage the move enters in order, the form field's name and the link typed there. Raises `FieldErrors` naming
    every field that is wrong: a link missing, not a web link or given twice (each stage needs its own evidence),
    a note that is too long."""
    problems: dict[str, str] = {}
    evidence: list[Evidence] = []
    for field, typed in links:
        try:
            if not typed.strip():
                raise CommandError("Paste the link to the buyer's evidence for this stage.")
            found = _parse_evidence(_stored(typed, "The link"), ADVANCE_USAGE)
        except CommandError as error:
            problems[field] = error.message
            continue
        if any(earlier.url == found.url for earlier in evidence):
            problems[field] = "This is the same link as above: each stage the deal enters needs its own evidence."
        evidence.append(found)
    try:
        checked_note = _form_note(note)
    except CommandError as error:
        problems[ADVANCE_NOTE_FIELD] = error.message
    if problems:
        raise FieldErrors(problems)
    return Advance(
        deal_number=deal_number, evidence=tuple(evidence), to_key=to_key, note=checked_note, from_key=from_key
    )


ADVANCE_NOTE_FIELD = "note"
"""The advance form's note field, as `FieldErrors` names it."""


def _form_note(note: str) -> str | None:
    """The form's optional note as stored (line breaks kept), None when nothing was written."""
    if not note.strip():
        return None
    return checked_text(
        note,
        what="The note",
        limit=NOTE_LIMIT,
        empty="The note has nothing visible in it. Write it again, or leave it empty.",
        hint="Shorten it; link a document for the details.",
        multiline=True,
    )


# --- /pipeline subcommands ------------------------------------------------------------------------


def _parse_managers(words: list[str]) -> ListManagers | ChangeManager:
    usage = _MANAGERS_USAGE
    if not words:
        return ListManagers()
    verb = words[0].lower()
    if verb not in ("add", "remove"):
        raise _unknown_word(words[0], "/pipeline managers", ("add", "remove"), usage)
    action: Literal["add", "remove"] = "add" if verb == "add" else "remove"
    if len(words) == 1:
        raise CommandError(
            f"Say who, like /pipeline managers {action} @Dana (pick them from Slack's @-mention menu).", usage
        )
    if len(words) > 2:
        raise CommandError(
            f"{action.capitalize()} one person at a time, like /pipeline managers {action} @Dana.", usage
        )
    return ChangeManager(action=action, user_id=_parse_user(words[1], usage))


def _parse_schedule(words: list[str]) -> PipelineCommand:
    usage = _SCHEDULE_USAGE
    if not words:
        return ShowSchedule()
    mode, rest = words[0].lower(), words[1:]
    if mode == "off":
        _refuse_extra_words(rest, "/pipeline schedule off", usage)
        return ScheduleOff()
    if mode == "weekly":
        return _parse_weekly(rest)
    if mode == "daily":
        return _parse_daily(rest)
    raise _unknown_word(words[0], "/pipeline schedule", ("off", "weekly", "daily"), usage)


def _parse_weekly(words: list[str]) -> SetSchedule:
    usage = _SCHEDULE_USAGE
    positional, options = _split_options(words, frozenset({"tz", "quiet"}), usage)
    if len(positional) < 2:
        raise CommandError("Say the day and the time, like /pipeline schedule weekly mon 09:00.", usage)
    weekday = _parse_weekday(positional[0], usage)
    at = _parse_time(positional[1], usage)
    _refuse_extra_words(positional[2:], "/pipeline schedule weekly <day> <HH:MM>", usage)
    return SetSchedule(
        frequency="weekly",
        weekday=weekday,
        at=at,
        tz=_zone_option(options, usage),
        quiet=_quiet_option(options, usage),
    )


def _parse_daily(words: list[str]) -> SetSchedule:
    usage = _SCHEDULE_USAGE
    positional, options = _split_options(words, frozenset({"tz", "quiet"}), usage)
    if not positional:
        raise CommandError("Say the time, like /pipeline schedule daily 09:00.", usage)
    at = _parse_time(positional[0], usage)
    _refuse_extra_words(positional[1:], "/pipeline schedule daily <HH:MM>", usage)
    return SetSchedule(
        frequency="daily", weekday=None, at=at, tz=_zone_option(options, usage), quiet=_quiet_option(options, usage)
    )


# --- /pipeline reminders -------------------------------------------------------------------------


def _parse_reminders(words: list[str]) -> ShowReminders | SetPendingReminders:
    usage = _REMINDERS_USAGE
    if not words:
        return ShowReminders()
    if words[0].lower() != "pending":
        raise _unknown_word(words[0], "/pipeline reminders", ("pending",), usage)
    if len(words) < 2:
        raise CommandError("Say how long a move may wait, like /pipeline reminders pending 24h (or off).", usage)
    _refuse_extra_words(words[2:], "/pipeline reminders pending <time>", usage)
    if words[1].lower() == "off":
        return SetPendingReminders(None)
    duration = _parse_duration(words[1], usage, example="24h")
    hours = duration.count * {"h": 1, "d": 24, "w": 7 * 24}[duration.unit]
    if not MIN_PENDING_AFTER_HOURS <= hours <= MAX_PENDING_AFTER_HOURS:
        raise CommandError(
            f"A move can wait from {MIN_PENDING_AFTER_HOURS}h to {MAX_PENDING_AFTER_HOURS // 24}d before its"
            f" managers are reminded, not {hours}h. Or turn reminders off: /pipeline reminders pending off.",
            usage,
        )
    return SetPendingReminders(hours)


@dataclass(frozen=True)
class _Duration:
    count: int
    unit: Literal["h", "d", "w"]


_DURATION = re.compile(r"(?P<count>[0-9]{1,5})\s*(?P<unit>[hdw])", re.IGNORECASE)


def _parse_duration(word: str, usage: str, *, example: str) -> _Duration:
    match = _DURATION.fullmatch(word)
    if match is None:
        raise CommandError(
            f"'{_shown(_free_text([word]))}' is not a length of time. Use hours, days or weeks, like {example}.",
            usage,
        )
    units: dict[str, Literal["h", "d", "w"]] = {"h": "h", "d": "d", "w": "w"}
    return _Duration(int(match["count"]), units[match["unit"].lower()])


# --- Tokens and options ---------------------------------------------------------------------------

# A Slack token (`<https://x|Signed contract PDF>`) stays one word even when its label has spaces.
# A `<` that opens no such token is an ordinary character.
_TOKEN = re.compile(r"(?:<[^\s<>][^<>\n]*>|<|[^\s<])+")
_OPTION = re.compile(r"([A-Za-z]+):(.*)", re.DOTALL)

_OPTION_EXAMPLES = {
    "value": "value:50k",
    "company": "company:Acme Corp",
    "evidence": "evidence:https://example.com/signed-po.pdf",
    "to": "to:proposal-received",
    "stage": "stage:proposal-received",
    "note": "note:CFO signed",
    "reason": "reason:chose a competitor",
    "tz": "tz:Europe/Berlin",
    "quiet": "quiet:skip",
}

_SNOOZE_EXAMPLES = {**_OPTION_EXAMPLES, "reason": "reason:waiting for the buyer's budget cycle"}

_Options: TypeAlias = dict[str, list[list[str]]]


def _tokenize(text: str, usage: str) -> list[str]:
    """The command's words, once the text as a whole is known to be storable and of a sane size."""
    if len(text) > COMMAND_TEXT_LIMIT:
        raise CommandError(
            too_long(
                "The command",
                len(text),
                COMMAND_TEXT_LIMIT,
                f"A name or company is at most {NAME_LIMIT:,} characters, a note or reason {NOTE_LIMIT:,},"
                f" and each of at most {EVIDENCE_COUNT_LIMIT} evidence links {URL_LIMIT:,}.",
            ),
            usage,
        )
    refuse_unstorable(text, "The command", usage)
    return _TOKEN.findall(text)


def _split_options(
    tokens: Sequence[str], keys: frozenset[str], usage: str, examples: Mapping[str, str] = _OPTION_EXAMPLES
) -> tuple[list[str], _Options]:
    """Split into the words before the first option and each option's words, in order.

    Only `keys` are options; any other `word:` is text. An option's words run until the next option. `examples`:
    how each option is shown in a refusal, where the command's own example reads better than the common one.
    """
    positional: list[str] = []
    options: _Options = {}
    current = positional
    for token in tokens:
        match = _OPTION.fullmatch(token)
        if match is None or match[1].lower() not in keys:
            current.append(token)
            continue
        current = [match[2]] if match[2] else []
        options.setdefault(match[1].lower(), []).append(current)
    for key, occurrences in options.items():
        if any(not words for words in occurrences):
            raise _empty_option(key, usage, examples)
    return positional, options


def _empty_option(key: str, usage: str, examples: Mapping[str, str] = _OPTION_EXAMPLES) -> CommandError:
    return CommandError(f"{key}: is empty. Put the value right after it, like {examples[key]}.", usage)


def _only_occurrence(options: _Options, key: str, usage: str) -> list[str] | None:
    occurrences = options.get(key, [])
    if len(occurrences) > 1:
        raise CommandError(f"{key}: is given more than once. Give it once, like {_OPTION_EXAMPLES[key]}.", usage)
    return occurrences[0] if occurrences else None


def _single_word(key: str, words: list[str], usage: str) -> str:
    if len(words) == 1:
        return words[0]
    hint = (
        "For more than one link, repeat evidence: before each."
        if key == "evidence"
        else "Put other words before the options."
    )
    raise CommandError(
        f"{key}: takes a single value, but got '{_shown(_free_text(words))}'. {hint} Example: {_OPTION_EXAMPLES[key]}",
        usage,
    )


def _one_word_option(options: _Options, key: str, usage: str) -> str | None:
    words = _only_occurrence(options, key, usage)
    return None if words is None else _single_word(key, words, usage)


# What each free-text option is called in messages, and its longest stored length.
_TEXT_OPTIONS = {
    "company": ("The company", COMPANY_LIMIT),
    "note": ("The note", NOTE_LIMIT),
    "reason": ("The reason", REASON_LIMIT),
}


def _text_option(options: _Options, key: str, usage: str, examples: Mapping[str, str] = _OPTION_EXAMPLES) -> str | None:
    words = _only_occurrence(options, key, usage)
    if words is None:
        return None
    text = _free_text(words)
    if not is_visible(text):
        raise _empty_option(key, usage, examples)
    what, limit = _TEXT_OPTIONS[key]
    if len(text) > limit:
        raise CommandError(too_long(what, len(text), limit, f"Shorten it, like {examples[key]}."), usage)
    return text


def _stage_option(options: _Options, key: str, usage: str) -> str | None:
    word = _one_word_option(options, key, usage)
    if word is None:
        return None
    stage_key = _free_text([word]).lower()
    if not stage_key:
        raise _empty_option(key, usage)
    if len(stage_key) > _STAGE_KEY_LIMIT:
        raise CommandError(
            f"'{_shown(stage_key)}' is not a stage: a stage's key is at most {_STAGE_KEY_LIMIT} characters,"
            f" like {_OPTION_EXAMPLES[key]}. `/pipeline stages` lists them.",
            usage,
        )
    return stage_key


_STAGE_KEY_LIMIT = 64  # as stored (storage.models.STAGE_KEY_LENGTH)


def _evidence_option(options: _Options, usage: str) -> tuple[Evidence, ...]:
    unique: dict[str, Evidence] = {}
    for words in options.get("evidence", []):
        evidence = _parse_evidence(_single_word("evidence", words, usage), usage)
        unique.setdefault(evidence.url, evidence)
    if len(unique) > EVIDENCE_COUNT_LIMIT:
        raise CommandError(
            f"That is {len(unique)} evidence links; the most is {EVIDENCE_COUNT_LIMIT} at a time. Link the"
            " most telling ones, or one page that gathers the rest.",
            usage,
        )
    return tuple(unique.values())


def _zone_option(options: _Options, usage: str) -> str | None:
    word = _one_word_option(options, "tz", usage)
    return None if word is None else _parse_zone(word, usage)


def _quiet_option(options: _Options, usage: str) -> str:
    word = _one_word_option(options, "quiet", usage)
    if word is None:
        return DEFAULT_QUIET
    choice = word.lower()
    if choice not in QUIET_CHOICES:
        raise CommandError(
            f"'{_shown(word)}' is not a choice for quiet:. Say quiet:short (one line when nothing happened), "
            "quiet:skip (post nothing) or quiet:full (the whole digest).",
            usage,
        )
    return choice


def _refuse_extra_words(words: Sequence[str], expected: str, usage: str) -> None:
    if words:
        raise CommandError(f"Unexpected '{_shown(_free_text(words))}' after {expected}.", usage)


def _unknown_word(word: str, command: str, known: Sequence[str], usage: str) -> CommandError:
    shown = _shown(_free_text([word]))
    close = _closest(word.lower(), known)
    if close:
        return CommandError(f"'{shown}' is not part of {command}. Did you mean `{command} {close}`?", usage)
    return CommandError(f"'{shown}' is not part of {command}. Use one of: {', '.join(known)}.", usage)


def _closest(word: str, known: Sequence[str]) -> str | None:
    """The known word `word` was likely meant as: the same letters in another order ("lsit" is "list", not
    "lost"), else difflib's closest match."""
    swapped = next((candidate for candidate in known if sorted(candidate) == sorted(word)), None)
    return swapped or next(iter(difflib.get_close_matches(word, known, n=1)), None)


# --- Free text ------------------------------------------------------------------------------------

_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
_ENTITY = re.compile(r"&(amp|lt|gt);")
# Slack-escaped links (`<https://x>`, `<https://x|label>`, `<mailto:a@b|a@b>`) and entities, decoded in
# one pass so that `&amp;lt;` becomes `&lt;`, never `<`. Mentions (`<@U1>`, `<!channel>`) stay literal.
_ESCAPED = re.compile(
    r"<(?P<url>(?:[A-Za-z][A-Za-z0-9+.\-]*://|mailto:|tel:)[^|<>]*)(?:\|(?P<label>[^<>]*))?>"
    r"|&(?P<entity>amp|lt|gt);"
)
_SCHEME_PREFIX = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.\-]*://|mailto:|tel:)")
_SHOWN_LIMIT = 60


def _decode_entities(text: str) -> str:
    return _ENTITY.sub(lambda match: _ENTITIES[match[1]], text)


def _readable_link(url: str, label: str | None) -> str:
    """What the user typed: Slack turns a typed `acme.com` into `<http://acme.com|acme.com>`."""
    if not label or label in (url, _SCHEME_PREFIX.sub("", url)):
        return label or url
    return f"{label} ({url})"


def _decode_escaped(match: re.Match[str]) -> str:
    if match["entity"]:
        return _ENTITIES[match["entity"]]
    label = match["label"]
    return _readable_link(_decode_entities(match["url"]), None if label is None else _decode_entities(label))


def _free_text(words: Sequence[str]) -> str:
    return clean_text(_ESCAPED.sub(_decode_escaped, " ".join(words)))


def _shown(text: str) -> str:
    """A user's value, short enough to quote in a message, and without any password it holds."""
    return clip(mask_credentials(text), _SHOWN_LIMIT)


# --- Values ---------------------------------------------------------------------------------------

_DEAL_ID = re.compile(r"(?:deal-|#)?([0-9]{1,10})", re.IGNORECASE)
_MAX_DEAL_NUMBER = 2**31 - 1  # the id column is a 32-bit integer


def _parse_deal_number(word: str, usage: str) -> int:
    match = _DEAL_ID.fullmatch(word)
    number = int(match[1]) if match else 0
    if not 1 <= number <= _MAX_DEAL_NUMBER:
        raise CommandError(
            f"'{_shown(_free_text([word]))}' is not a deal id. Use the deal's id, like deal-42 (or just 42).",
            usage,
        )
    return number


_AMOUNT = re.compile(r"[$€£]?(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<fraction>[0-9]+))?(?P<suffix>[kKmM])?")
_MULTIPLIERS = {"": 1, "k": 1_000, "m": 1_000_000}
_MAX_CENTS = 10**13
_MAX_AMOUNT_LENGTH = 40
_AMOUNT_EXAMPLES = "Use a number like 50000, 50,000, $50,000.50, €5000, 12.5k or 1.2m."


def _parse_amount(word: str, usage: str) -> int:
    shown = _shown(_free_text([word]))
    if word.lstrip("$€£").startswith(("-", "−")):
        raise CommandError(f"A deal value can't be negative ('{shown}'). {_AMOUNT_EXAMPLES}", usage)
    match = _AMOUNT.fullmatch(word) if len(word) <= _MAX_AMOUNT_LENGTH else None
    if match is None:
        raise CommandError(f"'{shown}' is not an amount. {_AMOUNT_EXAMPLES}", usage)
    number = Decimal(f"{match['whole'].replace(',', '')}.{match['fraction'] or '0'}")
    cents = number * _MULTIPLIERS[(match["suffix"] or "").lower()] * 100
    if cents > _MAX_CENTS:
        raise CommandError(
            f"'{shown}' is too large; the most a deal can be worth is {format_amount(_MAX_CENTS)}. {_AMOUNT_EXAMPLES}",
            usage,
        )
    if cents != cents.to_integral_value():
        raise CommandError(f"'{shown}' has a fraction of a cent. {_AMOUNT_EXAMPLES}", usage)
    return int(cents)


_HOST = re.compile(r"[\w.-]+|[0-9A-Fa-f:.]+")
_EVIDENCE_EXAMPLE = "evidence:https://example.com/signed-po.pdf"


def _parse_evidence(word: str, usage: str) -> Evidence:
    if word.startswith("<") and word.endswith(">") and len(word) > 2:
        url, _, label = word[1:-1].partition("|")
        url, label = _decode_entities(url), clean_text(_decode_entities(label))
    else:
        url, label = _decode_entities(word), ""
    shown = _shown(url)
    if len(url) > URL_LIMIT:
        raise CommandError(
            f"{too_long(f'The evidence link {shown!r}', len(url), URL_LIMIT, 'Use a shorter link,')}"
            f" like {_EVIDENCE_EXAMPLE}.",
            usage,
        )
    invisible = next((ch for ch in url if unicodedata.category(ch) == "Cf"), None)
    if invisible is not None:
        raise CommandError(
            f"The evidence link '{shown}' has an invisible character (U+{ord(invisible):04X}) in it, which can"
            " disguise where it leads. Paste the link again without it.",
            usage,
        )
    if not _is_web_link(url):
        raise CommandError(
            f"'{shown}' is not a web link. Evidence must be a full http:// or https:// link, like {_EVIDENCE_EXAMPLE}.",
            usage,
        )
    if has_credentials(url):
        raise CommandError(
            f"The evidence link '{shown}' has a user name or password in it (the part before @). Everyone in"
            f" the deal's channel sees evidence links, so send it without them, like {_EVIDENCE_EXAMPLE}.",
            usage,
        )
    if len(label) > LABEL_LIMIT:
        raise CommandError(
            f"The text shown for the evidence link '{shown}' is {len(label):,} characters long; the most is"
            f" {LABEL_LIMIT:,}. Paste the link alone, like {_EVIDENCE_EXAMPLE}.",
            usage,
        )
    return Evidence(url=url, label=label if is_visible(label) and label != url else None)


def _is_web_link(url: str) -> bool:
    if any(ch.isspace() for ch in url):
        return False
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError:
        return False
    host = parts.hostname or ""
    has_host = _HOST.fullmatch(host) is not None and any(ch.isalnum() for ch in host)
    return parts.scheme.lower() in ("http", "https") and has_host and ascii_host(host) is not None


_MENTION = re.compile(r"<@(?P<id>[UW][A-Z0-9]+)(?:\|[^<>]*)?>")
_RAW_USER_ID = re.compile(r"[UW](?=[A-Z0-9]*[0-9])[A-Z0-9]{5,20}")


def _parse_user(word: str, usage: str) -> str:
    mention = _MENTION.fullmatch(word)
    if mention:
        return mention["id"]
    if _RAW_USER_ID.fullmatch(word):
        return word
    raise CommandError(_not_a_person(word), usage)


def _not_a_person(word: str) -> str:
    shown = _shown(_free_text([word]))
    if word.startswith("<!subteam"):
        return f"'{shown}' is a user group. Pick one person from Slack's @-mention menu."
    if word.startswith("<#"):
        return f"'{shown}' is a channel. Pick a person from Slack's @-mention menu."
    if word.startswith("@"):
        return (
            f"'{shown}' arrived as plain text, so the bot can't tell who it is. Type @ and pick the person"
            " from Slack's @-mention menu, so it becomes a real mention."
        )
    return f"'{shown}' is not a person. Type @ and pick the person from Slack's @-mention menu."


_TIME = re.compile(r"(?P<hour>[01]?[0-9]|2[0-3]):(?P<minute>[0-5][0-9])")


def _parse_time(word: str, usage: str) -> datetime.time:
    match = _TIME.fullmatch(word)
    if match is None:
        raise CommandError(
            f"'{_shown(_free_text([word]))}' is not a time. Use 24-hour HH:MM, like 09:30 or 17:00.", usage
        )
    return datetime.time(int(match["hour"]), int(match["minute"]))


_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAYS = {name: name[:3] for name in _DAY_NAMES} | {name[:3]: name[:3] for name in _DAY_NAMES}


def _parse_weekday(word: str, usage: str) -> str:
    weekday = _WEEKDAYS.get(word.lower())
    if weekday is None:
        raise CommandError(
            f"'{_shown(_free_text([word]))}' is not a day. Use mon, tue, wed, thu, fri, sat or sun.", usage
        )
    return weekday


_NOT_ZONES = frozenset({"localtime", "factory", "posixrules"})


@cache
def _zones_by_lowercase_name() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones() if name.lower() not in _NOT_ZONES}


def _parse_zone(word: str, usage: str) -> str:
    """The zone's canonical spelling, so `europe/berlin` works and stores as `Europe/Berlin`."""
    zone = _zones_by_lowercase_name().get(_free_text([word]).lower())
    if zone is None:
        raise CommandError(
            f"'{_shown(_free_text([word]))}' is not a time zone. Use a zone name like tz:Europe/Berlin"
            " or tz:America/New_York.",
            usage,
        )
    return zone
