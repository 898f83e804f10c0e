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

from babel.numbers import is_currency

from commands.deals.deal import ListDeals, MarkLost, NewDeal
from commands.deals.evidence import Evidence
from commands.deals.managers import ChangeManager
from commands.deals.moves import Advance
from commands.deals.snooze import SNOOZE_MAX_DAYS, SNOOZE_MIN_DAYS, EndSnooze, SnoozeDeal
from commands.digest.schedules import DEFAULT_QUIET, QUIET_CHOICES, SetSchedule
from commands.errors import CommandError, FieldErrors
from commands.formats import clip
from commands.i18n.languages import Language
from commands.i18n.translator import Text, tr
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
    clean_lines,
    clean_text,
    has_credentials,
    is_visible,
    mask_credentials,
    unstorable_character,
)
from commands.workspace.settings import (
    CURRENCY_EXAMPLE,
    LANGUAGE_EXAMPLE,
    SetCurrency,
    SetLanguage,
    ShowCurrency,
    ShowLanguage,
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
    | ShowLanguage
    | SetLanguage
    | ShowCurrency
    | SetCurrency
)

# --- Usage texts ----------------------------------------------------------------------------------
# Each is a `Text`, shown in its reader's language (`t.show(USAGE)`). The grammar's words (`/deal new`,
# `value:`, `list`, `mine`…) stay English in every language; only the explanations and the free text of the
# examples are translated.

NEW_DEAL_USAGE = tr(
    # TRANSLATORS: keep the command, its options (value:, company:, evidence:) and the <…> words as they are;
    # translate the explanation and the example's free text (the deal's name, the company).
    "`/deal new <name> [value:<amount>] [company:<company>] [evidence:<link>]` adds a deal.\n"
    "  Example: `/deal new Acme renewal value:$50k company:Acme Corp evidence:https://example.com/notes`"
)
_DEAL_SHOW_USAGE = tr("`/deal show <deal-id>` shows one deal.\n  Example: `/deal show deal-42`")
_DEAL_LIST_USAGE = tr(
    # TRANSLATORS: `mine`, `all` and `stage:` are words of the command: keep them in English.
    "`/deal list [mine|all] [stage:<stage>]` lists your deals, or everyone's with all.\n"
    "  Example: `/deal list all stage:proposal-received`"
)
_DEAL_LOST_USAGE = tr(
    "`/deal lost <deal-id> reason:<why>` marks a deal lost.\n  Example: `/deal lost deal-42 reason:chose a competitor`"
)
_DEAL_SNOOZE_USAGE = tr(
    # TRANSLATORS: {min}d and {max}d are lengths typed in days (1d, 90d): keep the d; `off` is a command word.
    "`/deal snooze <deal-id> <{min}d…{max}d> reason:<why>` stops a stalled deal's nudges"
    " for that long (the digest shows the snooze and its reason); `/deal snooze <deal-id> off` ends it.\n"
    "  Example: `/deal snooze deal-42 7d reason:waiting for the buyer's budget cycle`",
    min=SNOOZE_MIN_DAYS,
    max=SNOOZE_MAX_DAYS,
)
DEAL_USAGE = tr(
    # TRANSLATORS: the help of /deal. Each {placeholder} is a whole paragraph translated on its own: keep the
    # lines and their order.
    "How to use `/deal`:\n{new}\n{show}\n{list}\n{lost}\n{snooze}\n`/deal help` shows this.",
    new=NEW_DEAL_USAGE,
    show=_DEAL_SHOW_USAGE,
    list=_DEAL_LIST_USAGE,
    lost=_DEAL_LOST_USAGE,
    snooze=_DEAL_SNOOZE_USAGE,
)

ADVANCE_USAGE = tr(
    # TRANSLATORS: keep the commands, evidence:, to:, note: and the stage keys (product-evaluated,
    # needs-confirmed) as they are; translate the explanations and the notes' free text.
    "How to use `/advance`:\n"
    "`/advance <deal-id> evidence:<link> [evidence:<link>…] [to:<stage>] [note:<text>]`"
    " asks a manager to move a deal to its next stage (or to the stage you name), with links to"
    " the evidence of the buyer's action that the stage's exit criteria ask for.\n"
    "  Example: `/advance deal-42 evidence:https://mail.example.com/buyer-reply note:CFO confirmed budget`\n"
    "  Skipping a stage needs one link per stage entered, in order:\n"
    "  Example: `/advance 42 evidence:https://example.com/a evidence:https://example.com/b to:product-evaluated`\n"
    "  Moving back needs a note, not approval: `/advance 42 to:needs-confirmed note:champion left`\n"
    "`/advance help` shows this."
)

_MANAGERS_USAGE = tr(
    # TRANSLATORS: `add`, `remove` and @person are part of the command; @Dana is a person's name.
    "`/pipeline managers` lists the pipeline managers.\n"
    "`/pipeline managers add @person` and `/pipeline managers remove @person` change them"
    " (pick the person from Slack's @-mention menu).\n"
    "  Example: `/pipeline managers add @Dana`"
)
_SCHEDULE_USAGE = tr(
    # TRANSLATORS: keep off, weekly, daily, mon…sun, HH:MM, tz:, quiet:, short, skip and full in English.
    "`/pipeline schedule` shows when the digest is posted; `/pipeline schedule off` stops it.\n"
    "`/pipeline schedule weekly <mon…sun> <HH:MM> [tz:<zone>] [quiet:short|skip|full]` posts it once a week.\n"
    "`/pipeline schedule daily <HH:MM> [tz:<zone>] [quiet:short|skip|full]` posts it every day.\n"
    "  `quiet:` is what a period in which no deal moved, was created or was lost posts: one line (`short`, the "
    "default), nothing (`skip`) or the whole digest (`full`).\n"
    "  Example: `/pipeline schedule weekly mon 09:00 tz:Europe/Berlin quiet:skip`"
)
_REMINDERS_USAGE = tr(
    # TRANSLATORS: keep pending, off, h (hours) and d (days) as they are.
    "`/pipeline reminders` shows when a move waiting for a manager is reminded;"
    " `/pipeline reminders pending <hours>h|<days>d|off` changes it (managers only).\n"
    "  Example: `/pipeline reminders pending 12h`"
)
_LANGUAGE_USAGE = tr(
    # TRANSLATORS: {languages} lists the language codes (en, es, sv, ro).
    "`/pipeline language` shows the language of the bot's posts in this workspace;"
    " `/pipeline language <code>` changes it (managers only; one of {languages}).\n"
    "  Example: `{example}`",
    languages=", ".join(language.value for language in Language),
    example=LANGUAGE_EXAMPLE,
)
_CURRENCY_USAGE = tr(
    "`/pipeline currency` shows the currency of the workspace's deal values;"
    " `/pipeline currency <code>` sets it with its three-letter ISO 4217 code (managers only).\n"
    "  Example: `{example}`",
    example=CURRENCY_EXAMPLE,
)
PIPELINE_USAGE = tr(
    # TRANSLATORS: the help of /pipeline. Each {placeholder} is a whole paragraph translated on its own. Keep
    # the commands and their words (stages, digest, mine, lint, help) in English.
    "How to use `/pipeline`:\n"
    "`/pipeline` shows the board.\n"
    "`/pipeline stages` shows the stages and what each one needs to move on.\n"
    "{managers}\n"
    "`/pipeline digest` posts the digest now; `/pipeline digest mine` shows only you the digest of your own deals.\n"
    "{schedule}\n"
    "{reminders}\n"
    "{language}\n"
    "{currency}\n"
    "`/pipeline lint` checks the stages against the four standards (required, factual, inspectable,"
    " buyer-centric) and suggests a rewrite for each finding.\n"
    "`/pipeline help` shows this.",
    managers=_MANAGERS_USAGE,
    schedule=_SCHEDULE_USAGE,
    reminders=_REMINDERS_USAGE,
    language=_LANGUAGE_USAGE,
    currency=_CURRENCY_USAGE,
)

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
        raise CommandError(tr("Start with the deal's id, like /advance deal-42 evidence:https://…"), usage)
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
    if subcommand == "language":
        return _parse_language(rest)
    if subcommand == "currency":
        return _parse_currency(rest)
    if subcommand == "digest" and rest:
        if [word.lower() for word in rest] == ["mine"]:
            return PostOwnDigest()
        raise CommandError(
            tr(
                "Unexpected '{words}' after /pipeline digest: only `mine` may follow it.",
                words=_shown(_free_text(rest)),
            ),
            PIPELINE_USAGE,
        )
    no_argument_commands: dict[str, PipelineCommand] = {
        "stages": PipelineStages(),
        "digest": PostDigest(),
        "lint": PipelineLint(),
    }
    if subcommand in no_argument_commands:
        _refuse_extra_words(rest, f"/pipeline {subcommand}", PIPELINE_USAGE)
        return no_argument_commands[subcommand]
    known = ("stages", "managers", "digest", "schedule", "reminders", "lint", "help", "language", "currency")
    raise _unknown_word(tokens[0], "/pipeline", known, PIPELINE_USAGE)


# --- /deal subcommands ----------------------------------------------------------------------------


def new_deal_from_form(*, name: str, value: str, company: str, evidence: str) -> NewDeal:
    """The deal typed into the `/deal new` form, checked as the typed command checks it; raises `FieldErrors`
    naming every field that is wrong (`name`, `value`, `company`, `evidence`). The value may have spaces the
    typed command cannot hold (`10 000 kr`, `EUR 10k`): see `parse_amount`."""
    problems: dict[str, Text] = {}

    def checked(field: str, parse: Callable[[], object]) -> object:
        try:
            return parse()
        except CommandError as error:
            problems[field] = error.text
            return None

    checked("name", lambda: _form_name(name))
    amount = checked("value", lambda: parse_amount(_stored(value, "value"), NEW_DEAL_USAGE) if value.strip() else None)
    shown_company = checked("company", lambda: _form_text(company, "company"))
    link = checked(
        "evidence",
        lambda: _parse_evidence(_stored(evidence, "link"), NEW_DEAL_USAGE) if evidence.strip() else None,
    )
    if problems:
        raise FieldErrors(problems)
    return NewDeal(
        name=_free_text([name.strip()]),
        value_cents=amount.cents if isinstance(amount, Amount) else None,
        company=shown_company if isinstance(shown_company, str) else None,
        evidence=(link,) if isinstance(link, Evidence) else (),
        value_currency=amount.currency if isinstance(amount, Amount) else None,
    )


_Stored: TypeAlias = Literal["command", "name", "value", "company", "link", "note"]


def _stored(text: str, what: _Stored, usage: Text | None = None) -> str:
    """The text, trimmed, once it holds nothing the database cannot store."""
    ch = unstorable_character(text)
    if ch is not None:
        raise CommandError(_unstorable(what, _character(ch)), usage)
    return text.strip()


def _character(ch: str) -> Text:
    code = f"U+{ord(ch):04X}"
    if ch == "\x00":
        # TRANSLATORS: a noun phrase, the {character} of "… has {character}, which can't be stored".
        return tr("a NUL character ({code})", code=code)
    if unicodedata.category(ch) == "Cs":
        # TRANSLATORS: a noun phrase, the {character} of "… has {character}, which can't be stored".
        return tr("a broken character (an unpaired surrogate, {code})", code=code)
    # TRANSLATORS: a noun phrase, the {character} of "… has {character}, which can't be stored".
    return tr("a control character ({code})", code=code)


def _unstorable(what: _Stored, character: Text) -> Text:
    if what == "command":
        return tr("The command has {character}, which can't be stored. Type it again without it.", character=character)
    if what == "name":
        return tr(
            "The deal's name has {character}, which can't be stored. Type it again without it.", character=character
        )
    if what == "value":
        return tr("The value has {character}, which can't be stored. Type it again without it.", character=character)
    if what == "company":
        return tr("The company has {character}, which can't be stored. Type it again without it.", character=character)
    if what == "link":
        return tr("The link has {character}, which can't be stored. Paste it again without it.", character=character)
    return tr("The note has {character}, which can't be stored. Type it again without it.", character=character)


def _name_too_long(length: int) -> Text:
    return tr(
        "The deal's name is {length} characters long; the most is {limit}. Use a shorter name.",
        length=length,
        limit=NAME_LIMIT,
    )


def _form_name(name: str) -> str:
    text = _free_text([_stored(name, "name")])
    if not is_visible(text):
        raise CommandError(tr("Give the deal a name, like Acme renewal."))
    if len(text) > NAME_LIMIT:
        raise CommandError(_name_too_long(len(text)))
    return text


def _form_text(text: str, key: str) -> str | None:
    words = _stored(text, "company").split()
    return _text_option({key: [words]} if words else {}, key, NEW_DEAL_USAGE)


def _parse_new(words: list[str]) -> NewDeal | NewDealForm:
    usage = NEW_DEAL_USAGE
    if not words:
        return NewDealForm()
    positional, options = _split_options(words, frozenset({"value", "company", "evidence"}), usage)
    name = _free_text(positional)
    if not is_visible(name):
        raise CommandError(tr("Give the deal a name, like /deal new Acme renewal."), usage)
    if len(name) > NAME_LIMIT:
        raise CommandError(_name_too_long(len(name)), usage)
    value = _one_word_option(options, "value", usage)
    amount = None if value is None else parse_amount(value, usage)
    return NewDeal(
        name=name,
        value_cents=None if amount is None else amount.cents,
        company=_text_option(options, "company", usage),
        evidence=_evidence_option(options, usage),
        value_currency=None if amount is None else amount.currency,
    )


def _parse_show(words: list[str]) -> ShowDeal:
    usage = _DEAL_SHOW_USAGE
    if not words:
        raise CommandError(tr("Say which deal to show, like /deal show deal-42."), usage)
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


def _parse_scope(word: str, usage: Text) -> Literal["mine", "all"]:
    lowered = word.lower()
    if lowered == "mine":
        return "mine"
    if lowered == "all":
        return "all"
    raise CommandError(
        # TRANSLATORS: mine and all are words of the command: keep them in English.
        tr("'{word}' is not a list to show. Use mine or all, like /deal list all.", word=_shown(word)),
        usage,
    )


def _parse_lost(words: list[str]) -> MarkLost:
    usage = _DEAL_LOST_USAGE
    positional, options = _split_options(words, frozenset({"reason"}), usage)
    if not positional:
        raise CommandError(
            tr("Say which deal was lost, like /deal lost deal-42 reason:chose a competitor."),
            usage,
        )
    deal_number = _parse_deal_number(positional[0], usage)
    reason = _text_option(options, "reason", usage)
    if reason is None or len(positional) > 1:
        raise CommandError(
            tr("Say why the deal was lost after reason:, like /deal lost deal-42 reason:chose a competitor."),
            usage,
        )
    return MarkLost(deal_number=deal_number, reason=reason)


def _parse_snooze(words: list[str]) -> SnoozeDeal | EndSnooze:
    usage = _DEAL_SNOOZE_USAGE
    positional, options = _split_options(words, frozenset({"reason"}), usage, _SNOOZE_EXAMPLES)
    if not positional:
        raise CommandError(tr("Say which deal to snooze, like /deal snooze deal-42 7d reason:<why>."), usage)
    deal_number = _parse_deal_number(positional[0], usage)
    if len(positional) < 2:
        raise CommandError(
            tr(
                "Say for how long, from {min}d to {max}d, like /deal snooze deal-42 7d reason:<why>, or end a"
                " snooze with /deal snooze deal-42 off.",
                min=SNOOZE_MIN_DAYS,
                max=SNOOZE_MAX_DAYS,
            ),
            usage,
        )
    if positional[1].lower() == "off":
        _refuse_extra_words(positional[2:], "/deal snooze <deal-id> off", usage)
        if options:
            raise CommandError(tr("Ending a snooze takes no reason: /deal snooze deal-42 off."), usage)
        return EndSnooze(deal_number)
    days = _parse_snooze_days(positional[1], usage)
    _refuse_extra_words(positional[2:], "/deal snooze <deal-id> <days>", usage)
    reason = _text_option(options, "reason", usage, _SNOOZE_EXAMPLES)
    if reason is None:
        raise CommandError(
            tr(
                "Say why after reason:, like /deal snooze deal-42 7d reason:waiting for the buyer's budget cycle."
                " The digest shows it beside the deal."
            ),
            usage,
        )
    return SnoozeDeal(deal_number, days, reason)


def _parse_snooze_days(word: str, usage: Text) -> int:
    duration = _parse_duration(word, usage, example="7d")
    if duration.unit == "h":
        raise CommandError(tr("A snooze is counted in days, like 7d, not '{word}'.", word=_shown(word)), usage)
    days = duration.count * (7 if duration.unit == "w" else 1)
    if not SNOOZE_MIN_DAYS <= days <= SNOOZE_MAX_DAYS:
        raise CommandError(
            tr(
                "A snooze lasts from {min} to {max} days, not {days}. Snooze again when it ends if the buyer"
                " still needs time.",
                min=SNOOZE_MIN_DAYS,
                max=SNOOZE_MAX_DAYS,
                days=days,
            ),
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
        return CommandError(tr("To see a deal, use /deal show {word}.", word=_shown(word)), DEAL_USAGE)
    return _unknown_word(word, "/deal", ("new", "show", "list", "lost", "snooze", "help"), DEAL_USAGE)


def _stray_words_in_advance(words: Sequence[str], usage: Text) -> CommandError:
    stray = _free_text(words)
    if any(_looks_like_link(word) for word in words):
        return CommandError(
            tr(
                "Put evidence: before each link, like {example} (got '{words}').",
                example=_EVIDENCE_EXAMPLE,
                words=_shown(stray),
            ),
            usage,
        )
    return CommandError(
        tr("'{words}' is not part of /advance. Put remarks after note:, like note:CFO signed.", words=_shown(stray)),
        usage,
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
    problems: dict[str, Text] = {}
    evidence: list[Evidence] = []
    for field, typed in links:
        try:
            if not typed.strip():
                raise CommandError(tr("Paste the link to the buyer's evidence for this stage."))
            found = _parse_evidence(_stored(typed, "link"), ADVANCE_USAGE)
        except CommandError as error:
            problems[field] = error.text
            continue
        if any(earlier.url == found.url for earlier in evidence):
            problems[field] = tr("This is the same link as above: each stage the deal enters needs its own evidence.")
        evidence.append(found)
    try:
        checked_note = _form_note(note)
    except CommandError as error:
        problems[ADVANCE_NOTE_FIELD] = error.text
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
    _stored(note, "note")
    cleaned = clean_lines(note)
    if not is_visible(cleaned):
        raise CommandError(tr("The note has nothing visible in it. Write it again, or leave it empty."))
    if len(cleaned) > NOTE_LIMIT:
        raise CommandError(
            tr(
                "The note is {length} characters long; the most is {limit}. Shorten it; link a document for the"
                " details.",
                length=len(cleaned),
                limit=NOTE_LIMIT,
            )
        )
    return cleaned


# --- /pipeline subcommands ------------------------------------------------------------------------


def _parse_managers(words: list[str]) -> ListManagers | ChangeManager:
    usage = _MANAGERS_USAGE
    if not words:
        return ListManagers()
    verb = words[0].lower()
    if verb not in ("add", "remove"):
        raise _unknown_word(words[0], "/pipeline managers", ("add", "remove"), usage)
    if len(words) == 1:
        if verb == "add":
            who = tr("Say who, like /pipeline managers add @Dana (pick them from Slack's @-mention menu).")
        else:
            who = tr("Say who, like /pipeline managers remove @Dana (pick them from Slack's @-mention menu).")
        raise CommandError(who, usage)
    if len(words) > 2:
        if verb == "add":
            one = tr("Add one person at a time, like /pipeline managers add @Dana.")
        else:
            one = tr("Remove one person at a time, like /pipeline managers remove @Dana.")
        raise CommandError(one, usage)
    return ChangeManager(action="add" if verb == "add" else "remove", user_id=_parse_user(words[1], usage))


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
        raise CommandError(tr("Say the day and the time, like /pipeline schedule weekly mon 09:00."), usage)
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
        raise CommandError(tr("Say the time, like /pipeline schedule daily 09:00."), usage)
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
        raise CommandError(tr("Say how long a move may wait, like /pipeline reminders pending 24h (or off)."), usage)
    _refuse_extra_words(words[2:], "/pipeline reminders pending <time>", usage)
    if words[1].lower() == "off":
        return SetPendingReminders(None)
    duration = _parse_duration(words[1], usage, example="24h")
    hours = duration.count * {"h": 1, "d": 24, "w": 7 * 24}[duration.unit]
    if not MIN_PENDING_AFTER_HOURS <= hours <= MAX_PENDING_AFTER_HOURS:
        raise CommandError(
            tr(
                "A move can wait from {min}h to {max}d before its managers are reminded, not {hours}h. Or turn"
                " reminders off: /pipeline reminders pending off.",
                min=MIN_PENDING_AFTER_HOURS,
                max=MAX_PENDING_AFTER_HOURS // 24,
                hours=hours,
            ),
            usage,
        )
    return SetPendingReminders(hours)


# --- /pipeline language and currency --------------------------------------------------------------
# Only the shape is checked here (one word); which codes are accepted is the use case's
# (`commands.workspace.settings`).


def _parse_language(words: list[str]) -> ShowLanguage | SetLanguage:
    usage = _LANGUAGE_USAGE
    if not words:
        return ShowLanguage()
    if len(words) > 1:
        raise CommandError(
            tr(
                "Give one language code after /pipeline language, like `{example}` (got '{words}').",
                example=LANGUAGE_EXAMPLE,
                words=_shown(_free_text(words)),
            ),
            usage,
        )
    return SetLanguage(_free_text(words))


def _parse_currency(words: list[str]) -> ShowCurrency | SetCurrency:
    usage = _CURRENCY_USAGE
    if not words:
        return ShowCurrency()
    if len(words) > 1:
        raise CommandError(
            tr(
                "Give one currency code after /pipeline currency, like `{example}` (got '{words}').",
                example=CURRENCY_EXAMPLE,
                words=_shown(_free_text(words)),
            ),
            usage,
        )
    return SetCurrency(_free_text(words))


@dataclass(frozen=True)
class _Duration:
    count: int
    unit: Literal["h", "d", "w"]


_DURATION = re.compile(r"(?P<count>[0-9]{1,5})\s*(?P<unit>[hdw])", re.IGNORECASE)


def _parse_duration(word: str, usage: Text, *, example: str) -> _Duration:
    match = _DURATION.fullmatch(word)
    if match is None:
        raise CommandError(
            tr(
                # TRANSLATORS: {example} is a length as typed (7d, 24h): h, d and w stay as they are.
                "'{word}' is not a length of time. Use hours, days or weeks, like {example}.",
                word=_shown(_free_text([word])),
                example=example,
            ),
            usage,
        )
    units: dict[str, Literal["h", "d", "w"]] = {"h": "h", "d": "d", "w": "w"}
    return _Duration(int(match["count"]), units[match["unit"].lower()])


# --- Tokens and options ---------------------------------------------------------------------------

# A Slack token (`<https://x|Signed contract PDF>`) stays one word even when its label has spaces.
# A `<` that opens no such token is an ordinary character.
_TOKEN = re.compile(r"(?:<[^\s<>][^<>\n]*>|<|[^\s<])+")
_OPTION = re.compile(r"([A-Za-z]+):(.*)", re.DOTALL)

# How each option is shown in a refusal. The option's word stays English; its free text is translated.
_OPTION_EXAMPLES: dict[str, str | Text] = {
    "value": "value:50k",
    # TRANSLATORS: an example of the company: option; keep company: and translate or adapt the company's name.
    "company": tr("company:Acme Corp"),
    "evidence": "evidence:https://example.com/signed-po.pdf",
    "to": "to:proposal-received",
    "stage": "stage:proposal-received",
    # TRANSLATORS: an example of the note: option; keep note: and translate the note.
    "note": tr("note:CFO signed"),
    # TRANSLATORS: an example of the reason: option (why a deal was lost); keep reason: and translate the reason.
    "reason": tr("reason:chose a competitor"),
    "tz": "tz:Europe/Berlin",
    "quiet": "quiet:skip",
}

_SNOOZE_EXAMPLES = {
    **_OPTION_EXAMPLES,
    # TRANSLATORS: an example of the reason: option (why a deal is snoozed); keep reason: and translate the reason.
    "reason": tr("reason:waiting for the buyer's budget cycle"),
}

_Options: TypeAlias = dict[str, list[list[str]]]


def _tokenize(text: str, usage: Text) -> list[str]:
    """The command's words, once the text as a whole is known to be storable and of a sane size."""
    if len(text) > COMMAND_TEXT_LIMIT:
        raise CommandError(
            tr(
                "The command is {length} characters long; the most is {limit}. A name or company is at most"
                " {name_limit} characters, a note or reason {note_limit}, and each of at most {links} evidence"
                " links {url_limit}.",
                length=len(text),
                limit=COMMAND_TEXT_LIMIT,
                name_limit=NAME_LIMIT,
                note_limit=NOTE_LIMIT,
                links=EVIDENCE_COUNT_LIMIT,
                url_limit=URL_LIMIT,
            ),
            usage,
        )
    _stored(text, "command", usage)
    return _TOKEN.findall(text)


def _split_options(
    tokens: Sequence[str],
    keys: frozenset[str],
    usage: Text,
    examples: Mapping[str, str | Text] = _OPTION_EXAMPLES,
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


def _empty_option(key: str, usage: Text, examples: Mapping[str, str | Text] = _OPTION_EXAMPLES) -> CommandError:
    return CommandError(
        # TRANSLATORS: {key}: is an option of the command (value:, note:…), {example} shows it with a value.
        tr("{key}: is empty. Put the value right after it, like {example}.", key=key, example=examples[key]),
        usage,
    )


def _only_occurrence(options: _Options, key: str, usage: Text) -> list[str] | None:
    occurrences = options.get(key, [])
    if len(occurrences) > 1:
        raise CommandError(
            tr(
                "{key}: is given more than once. Give it once, like {example}.",
                key=key,
                example=_OPTION_EXAMPLES[key],
            ),
            usage,
        )
    return occurrences[0] if occurrences else None


def _single_word(key: str, words: list[str], usage: Text) -> str:
    if len(words) == 1:
        return words[0]
    shown = _shown(_free_text(words))
    if key == "evidence":
        message = tr(
            "evidence: takes a single value, but got '{words}'. For more than one link, repeat evidence: before"
            " each. Example: {example}",
            words=shown,
            example=_OPTION_EXAMPLES[key],
        )
    else:
        message = tr(
            "{key}: takes a single value, but got '{words}'. Put other words before the options. Example: {example}",
            key=key,
            words=shown,
            example=_OPTION_EXAMPLES[key],
        )
    raise CommandError(message, usage)


def _one_word_option(options: _Options, key: str, usage: Text) -> str | None:
    words = _only_occurrence(options, key, usage)
    return None if words is None else _single_word(key, words, usage)


# The longest stored length of each free-text option.
_TEXT_LIMITS = {"company": COMPANY_LIMIT, "note": NOTE_LIMIT, "reason": REASON_LIMIT}


def _too_long_option(key: str, length: int, example: str | Text) -> Text:
    limit = _TEXT_LIMITS[key]
    if key == "company":
        return tr(
            "The company is {length} characters long; the most is {limit}. Shorten it, like {example}.",
            length=length,
            limit=limit,
            example=example,
        )
    if key == "note":
        return tr(
            "The note is {length} characters long; the most is {limit}. Shorten it, like {example}.",
            length=length,
            limit=limit,
            example=example,
        )
    return tr(
        "The reason is {length} characters long; the most is {limit}. Shorten it, like {example}.",
        length=length,
        limit=limit,
        example=example,
    )


def _text_option(
    options: _Options, key: str, usage: Text, examples: Mapping[str, str | Text] = _OPTION_EXAMPLES
) -> str | None:
    words = _only_occurrence(options, key, usage)
    if words is None:
        return None
    text = _free_text(words)
    if not is_visible(text):
        raise _empty_option(key, usage, examples)
    if len(text) > _TEXT_LIMITS[key]:
        raise CommandError(_too_long_option(key, len(text), examples[key]), usage)
    return text


def _stage_option(options: _Options, key: str, usage: Text) -> str | None:
    """A stage as typed: its key, or its name in any of the pipeline's languages, which may hold spaces
    (`to:Propuesta recibida`); the use case finds the stage (`Pipeline.resolve`), or refuses the words."""
    words = _only_occurrence(options, key, usage)
    if words is None:
        return None
    stage_key = _free_text(words).lower()
    if not stage_key:
        raise _empty_option(key, usage)
    if len(stage_key) > _STAGE_KEY_LIMIT:
        raise CommandError(
            tr(
                "'{word}' is not a stage: a stage's key is at most {limit} characters, like {example}."
                " `/pipeline stages` lists them.",
                word=_shown(stage_key),
                limit=_STAGE_KEY_LIMIT,
                example=_OPTION_EXAMPLES[key],
            ),
            usage,
        )
    return stage_key


_STAGE_KEY_LIMIT = 64  # as stored (storage.models.STAGE_KEY_LENGTH)


def _evidence_option(options: _Options, usage: Text) -> tuple[Evidence, ...]:
    unique: dict[str, Evidence] = {}
    for words in options.get("evidence", []):
        evidence = _parse_evidence(_single_word("evidence", words, usage), usage)
        unique.setdefault(evidence.url, evidence)
    if len(unique) > EVIDENCE_COUNT_LIMIT:
        raise CommandError(
            tr(
                "That is {count} evidence links; the most is {limit} at a time. Link the most telling ones, or one"
                " page that gathers the rest.",
                count=len(unique),
                limit=EVIDENCE_COUNT_LIMIT,
            ),
            usage,
        )
    return tuple(unique.values())


def _zone_option(options: _Options, usage: Text) -> str | None:
    word = _one_word_option(options, "tz", usage)
    return None if word is None else _parse_zone(word, usage)


def _quiet_option(options: _Options, usage: Text) -> str:
    word = _one_word_option(options, "quiet", usage)
    if word is None:
        return DEFAULT_QUIET
    choice = word.lower()
    if choice not in QUIET_CHOICES:
        raise CommandError(
            tr(
                # TRANSLATORS: quiet:short, quiet:skip and quiet:full are typed as they are.
                "'{word}' is not a choice for quiet:. Say quiet:short (one line when nothing happened), "
                "quiet:skip (post nothing) or quiet:full (the whole digest).",
                word=_shown(word),
            ),
            usage,
        )
    return choice


def _refuse_extra_words(words: Sequence[str], expected: str, usage: Text) -> None:
    """Refuse words after a command that takes no more; `expected` is the command as typed (grammar only)."""
    if words:
        raise CommandError(
            tr("Unexpected '{words}' after {command}.", words=_shown(_free_text(words)), command=expected), usage
        )


def _unknown_word(word: str, command: str, known: Sequence[str], usage: Text) -> CommandError:
    shown = _shown(_free_text([word]))
    close = _closest(word.lower(), known)
    if close:
        return CommandError(
            tr(
                "'{word}' is not part of {command}. Did you mean `{command} {close}`?",
                word=shown,
                command=command,
                close=close,
            ),
            usage,
        )
    return CommandError(
        tr(
            # TRANSLATORS: {words} lists the command's words (stages, managers…), which stay in English.
            "'{word}' is not part of {command}. Use one of: {words}.",
            word=shown,
            command=command,
            words=", ".join(known),
        ),
        usage,
    )


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


def _parse_deal_number(word: str, usage: Text) -> int:
    match = _DEAL_ID.fullmatch(word)
    number = int(match[1]) if match else 0
    if not 1 <= number <= _MAX_DEAL_NUMBER:
        raise CommandError(
            tr(
                "'{word}' is not a deal id. Use the deal's id, like deal-42 (or just 42).",
                word=_shown(_free_text([word])),
            ),
            usage,
        )
    return number


@dataclass(frozen=True)
class Amount:
    """A deal's value as typed: whole cents, and the ISO 4217 code of the currency it was typed in (None when
    none was typed: the workspace's currency applies)."""

    cents: int
    currency: str | None = None


#: Currency signs and words typed beside an amount; any other currency is typed as its ISO 4217 code.
CURRENCY_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP", "kr": "SEK", "lei": "RON"}

# The amount's parts: what comes before the first digit (a currency, a minus sign), the number (digits and the
# marks that group or separate them), and what follows it (a k/m scale, a currency).
_AMOUNT_PARTS = re.compile(r"(?P<before>[^0-9]*?)(?P<number>[0-9](?:[0-9., ]*[0-9])?)(?P<after>[^0-9]*)", re.DOTALL)
_MINUS = ("-", "−")
_CODE = re.compile(r"[A-Za-z]{3}")
_SCALES = {"": 1, "k": 1_000, "m": 1_000_000}
_MAX_CENTS = 10**13
_MAX_AMOUNT_LENGTH = 40
_GROUPED = {mark: re.compile(rf"[0-9]{{1,3}}(?:{re.escape(mark)}[0-9]{{3}})+") for mark in (".", ",", " ")}


class _NotAnAmount(Exception):
    pass


def parse_amount(word: str, usage: Text | None = None) -> Amount:
    """A deal's value as typed after `value:` (or in the form's value field): a number, then optionally a
    `k` (thousand) or `m` (million) scale, with optionally a currency before or after it, without spaces
    (`€10k`, `10k€`, `$5,000`, `£2.5k`, `10000kr`, `5000lei`, `10kSEK`, `EUR10k`). A currency is one of the
    signs `$` (USD), `€` (EUR), `£` (GBP), `kr` (SEK), `lei` (RON), or any ISO 4217 code, in any case.

    How the number's marks are read:

    - when both `.` and `,` appear, the last one is the decimal mark and the other groups thousands
      (`1.234,50` and `1,234.50` are both 1234.50);
    - when only one of them appears, more than once, it groups thousands (`1.234.567`, `1,234,567`);
    - when only one of them appears, once, after one to three digits (not all zeros) and followed by exactly
      three digits, it groups thousands (`1.234` and `1,234` are 1234), except before a `k`/`m` scale, where it
      is the decimal mark (`2.125m` and `2,125m` are 2,125,000; `0.500` is a half);
    - otherwise it is the decimal mark (`12.5k`, `12,5k`, `50000.50`, `1234,50`); a `,` read so is followed by
      one or two digits unless a `k`/`m` scale follows (`5,0000` is refused: more likely a mistyped 50,000).

    Thousands are grouped in threes after a first group of one to three digits. In the form, where spaces can
    be typed, a space groups thousands too (`10 000 kr`, `1 234,50`), and the one mark left is the decimal mark;
    a space may also separate the currency from the number (`EUR 10k`, `10 000 kr`).

    Refused, naming the value: a negative amount, an unknown currency sign or code, two different currencies,
    a fraction of a cent, more than 100,000,000,000.
    """
    shown = _shown(_free_text([word]))
    parts = _AMOUNT_PARTS.fullmatch(word.strip()) if len(word) <= _MAX_AMOUNT_LENGTH else None
    if parts is not None and any(minus in parts["before"] for minus in _MINUS):
        raise CommandError(
            tr("A deal value can't be negative ('{amount}'). {examples}", amount=shown, examples=_AMOUNT_EXAMPLES),
            usage,
        )
    try:
        if parts is None:
            raise _NotAnAmount
        signs = [CURRENCY_SIGNS[ch] for ch in parts["before"] if ch in CURRENCY_SIGNS]
        if len(signs) > 1:
            raise _two_currencies(shown, signs[0], signs[1], usage)
        before = _currency(parts["before"].strip(), shown, usage)
        scale, after = _scale_and_currency(parts["after"].strip(), shown, usage)
        number = _number(parts["number"], scaled=scale != "")
    except _NotAnAmount:
        raise CommandError(
            tr("'{amount}' is not an amount. {examples}", amount=shown, examples=_AMOUNT_EXAMPLES), usage
        ) from None
    if before and after and before != after:
        raise _two_currencies(shown, before, after, usage)
    cents = number * _SCALES[scale] * 100
    if cents > _MAX_CENTS:
        raise CommandError(
            tr(
                "'{amount}' is too large; the most a deal can be worth is {most}. {examples}",
                amount=shown,
                most=_MAX_CENTS // 100,
                examples=_AMOUNT_EXAMPLES,
            ),
            usage,
        )
    if cents != cents.to_integral_value():
        raise CommandError(
            tr("'{amount}' has a fraction of a cent. {examples}", amount=shown, examples=_AMOUNT_EXAMPLES), usage
        )
    return Amount(int(cents), before or after or None)


def _two_currencies(shown: str, first: str, second: str, usage: Text | None) -> CommandError:
    return CommandError(
        tr(
            "'{amount}' has two currencies, {first} and {second}. Give one, like value:€10k or value:10kSEK.",
            amount=shown,
            first=first,
            second=second,
        ),
        usage,
    )


_AMOUNT_EXAMPLES = tr(
    # TRANSLATORS: amounts as they are typed. Write them the way people in your language type them (1.234,50€,
    # 10 000 kr…); keep 12.5k or the same amount with your decimal mark (12,5k): both are understood.
    "Use a number like 50000, 50,000, $50,000.50, €5000, 12.5k or 1.2m."
)


def _currency(text: str, shown: str, usage: Text | None) -> str:
    """The ISO code of a currency typed beside an amount; "" when there is none; `_NotAnAmount` when the text
    is not a currency at all."""
    if not text:
        return ""
    sign = CURRENCY_SIGNS.get(text.lower())
    if sign is not None:
        return sign
    if _CODE.fullmatch(text):
        code = text.upper()
        if not is_currency(code):
            raise CommandError(
                tr(
                    "'{code}' in '{amount}' is not a currency code. Use the three letters of ISO 4217, like"
                    " value:10kSEK or value:EUR10k, or one of the signs € $ £ kr lei.",
                    code=_shown(text),
                    amount=shown,
                ),
                usage,
            )
        return code
    if len(text) == 1 and unicodedata.category(text) == "Sc":
        raise CommandError(
            tr(
                "The bot does not know which currency '{sign}' is, in '{amount}'. Use one of the signs € $ £ kr lei,"
                " or the currency's three-letter code, like value:JPY500k or value:10kSEK.",
                sign=text,
                amount=shown,
            ),
            usage,
        )
    raise _NotAnAmount


def _scale_and_currency(text: str, shown: str, usage: Text | None) -> tuple[str, str]:
    """The `k`/`m` scale and the currency's code typed after the number. A currency's whole name wins over a
    scale: `10kr` is ten kronor, `10KRW` ten won, while `10kSEK` is ten thousand kronor."""
    if not text:
        return "", ""
    if text.lower() in CURRENCY_SIGNS or (_CODE.fullmatch(text) and is_currency(text.upper())):
        return "", _currency(text, shown, usage)
    if text[0] in "kKmM":
        return text[0].lower(), _currency(text[1:].strip(), shown, usage)
    return "", _currency(text, shown, usage)


def _number(text: str, *, scaled: bool) -> Decimal:
    """The number, its marks read as `parse_amount` says."""
    whole, fraction = text, ""
    if " " in text:
        whole, mark, fraction = _split_last(text, ".,")
        if not _GROUPED[" "].fullmatch(whole) or not fraction.isdigit() and mark:
            raise _NotAnAmount
        whole = whole.replace(" ", "")
    elif "." in text and "," in text:
        decimal = "." if text.rindex(".") > text.rindex(",") else ","
        group = "," if decimal == "." else "."
        whole, _, fraction = text.rpartition(decimal)
        if not _GROUPED[group].fullmatch(whole) or not fraction.isdigit():
            raise _NotAnAmount
        whole = whole.replace(group, "")
    elif "." in text or "," in text:
        mark = "." if "." in text else ","
        head, _, tail = text.partition(mark)
        once_before_a_group = len(tail) == 3 and len(head) <= 3 and head.strip("0") != ""
        groups_thousands = text.count(mark) > 1 or (once_before_a_group and not scaled)
        if groups_thousands:
            if not _GROUPED[mark].fullmatch(text):
                raise _NotAnAmount
            whole = text.replace(mark, "")
        else:
            whole, fraction = head, tail
            if mark == "," and len(fraction) > 2 and not scaled:
                raise _NotAnAmount  # `5,0000` is more likely a mistyped 50,000 than five
    if not whole.isdigit() or (fraction and not fraction.isdigit()):
        raise _NotAnAmount
    return Decimal(f"{whole}.{fraction or '0'}")


def _split_last(text: str, marks: str) -> tuple[str, str, str]:
    """`text` split at the last of `marks` that follows every space: (before, mark, after), or (text, "", "")."""
    last = max(text.rfind(mark) for mark in marks)
    if last < text.rfind(" "):
        return text, "", ""
    return text[:last], text[last], text[last + 1 :]


_HOST = re.compile(r"[\w.-]+|[0-9A-Fa-f:.]+")
_EVIDENCE_EXAMPLE = "evidence:https://example.com/signed-po.pdf"


def _parse_evidence(word: str, usage: Text) -> Evidence:
    if word.startswith("<") and word.endswith(">") and len(word) > 2:
        url, _, label = word[1:-1].partition("|")
        url, label = _decode_entities(url), clean_text(_decode_entities(label))
    else:
        url, label = _decode_entities(word), ""
    shown = _shown(url)
    if len(url) > URL_LIMIT:
        raise CommandError(
            tr(
                "The evidence link '{link}' is {length} characters long; the most is {limit}. Use a shorter link,"
                " like {example}.",
                link=shown,
                length=len(url),
                limit=URL_LIMIT,
                example=_EVIDENCE_EXAMPLE,
            ),
            usage,
        )
    invisible = next((ch for ch in url if unicodedata.category(ch) == "Cf"), None)
    if invisible is not None:
        raise CommandError(
            tr(
                "The evidence link '{link}' has an invisible character ({code}) in it, which can disguise where it"
                " leads. Paste the link again without it.",
                link=shown,
                code=f"U+{ord(invisible):04X}",
            ),
            usage,
        )
    if not _is_web_link(url):
        raise CommandError(
            tr(
                "'{link}' is not a web link. Evidence must be a full http:// or https:// link, like {example}.",
                link=shown,
                example=_EVIDENCE_EXAMPLE,
            ),
            usage,
        )
    if has_credentials(url):
        raise CommandError(
            tr(
                "The evidence link '{link}' has a user name or password in it (the part before @). Everyone in the"
                " deal's channel sees evidence links, so send it without them, like {example}.",
                link=shown,
                example=_EVIDENCE_EXAMPLE,
            ),
            usage,
        )
    if len(label) > LABEL_LIMIT:
        raise CommandError(
            tr(
                "The text shown for the evidence link '{link}' is {length} characters long; the most is {limit}."
                " Paste the link alone, like {example}.",
                link=shown,
                length=len(label),
                limit=LABEL_LIMIT,
                example=_EVIDENCE_EXAMPLE,
            ),
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


def _parse_user(word: str, usage: Text) -> str:
    mention = _MENTION.fullmatch(word)
    if mention:
        return mention["id"]
    if _RAW_USER_ID.fullmatch(word):
        return word
    raise CommandError(_not_a_person(word), usage)


def _not_a_person(word: str) -> Text:
    shown = _shown(_free_text([word]))
    if word.startswith("<!subteam"):
        return tr("'{word}' is a user group. Pick one person from Slack's @-mention menu.", word=shown)
    if word.startswith("<#"):
        return tr("'{word}' is a channel. Pick a person from Slack's @-mention menu.", word=shown)
    if word.startswith("@"):
        return tr(
            "'{word}' arrived as plain text, so the bot can't tell who it is. Type @ and pick the person from"
            " Slack's @-mention menu, so it becomes a real mention.",
            word=shown,
        )
    return tr("'{word}' is not a person. Type @ and pick the person from Slack's @-mention menu.", word=shown)


_TIME = re.compile(r"(?P<hour>[01]?[0-9]|2[0-3]):(?P<minute>[0-5][0-9])")


def _parse_time(word: str, usage: Text) -> datetime.time:
    match = _TIME.fullmatch(word)
    if match is None:
        raise CommandError(
            tr(
                "'{word}' is not a time. Use 24-hour HH:MM, like 09:30 or 17:00.",
                word=_shown(_free_text([word])),
            ),
            usage,
        )
    return datetime.time(int(match["hour"]), int(match["minute"]))


_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAYS = {name: name[:3] for name in _DAY_NAMES} | {name[:3]: name[:3] for name in _DAY_NAMES}


def _parse_weekday(word: str, usage: Text) -> str:
    weekday = _WEEKDAYS.get(word.lower())
    if weekday is None:
        raise CommandError(
            tr(
                # TRANSLATORS: mon…sun are typed in English: keep them.
                "'{word}' is not a day. Use mon, tue, wed, thu, fri, sat or sun.",
                word=_shown(_free_text([word])),
            ),
            usage,
        )
    return weekday


_NOT_ZONES = frozenset({"localtime", "factory", "posixrules"})


@cache
def _zones_by_lowercase_name() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones() if name.lower() not in _NOT_ZONES}


def _parse_zone(word: str, usage: Text) -> str:
    """The zone's canonical spelling, so `europe/berlin` works and stores as `Europe/Berlin`."""
    zone = _zones_by_lowercase_name().get(_free_text([word]).lower())
    if zone is None:
        raise CommandError(
            tr(
                "'{word}' is not a time zone. Use a zone name like tz:Europe/Berlin or tz:America/New_York.",
                word=_shown(_free_text([word])),
            ),
            usage,
        )
    return zone
