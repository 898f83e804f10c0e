"""Linting a pipeline: does every stage meet the four standards of a buyer-centric stage?

A stage is entered when the buyer has done everything in its exit criteria, and a manager checks the evidence
its prompt asks for. The linter reads the stages (not the file), so it checks the pipeline the app runs with as
well as any file. Text is compared as its *words*: lowercased runs of letters and digits ("Follow-up" is the
words "follow up", "buyer's" is "buyer s"). A *phrase* of a list below matches when its words appear together,
in order, as whole words. The rules, one finding each:

required
    No exit criterion repeats another, in its own stage or an earlier one. Two criteria are the same when their
    *gists* are equal: the set of their words once "customer", "client" and their plurals are read as "buyer",
    the words of `FILLER` (articles, forms of "be" and "have", "by", "and", the "s" of "buyer's") are set aside, and
    a final "s" is dropped from words of more than three letters. So "Buyer signed the contract" and "The
    contract was signed by the customer" are the same. A criterion repeated from an earlier stage was proven
    when the deal entered that stage, so it proves nothing here. When every criterion of a stage repeats an
    earlier stage's, the stage asks for nothing new: one finding for the stage instead of one per criterion.

factual
    An exit criterion holding a phrase of `OPINIONS` (a feeling or a guess: "interested", "seems", "ready")
    and none of `BUYER_ACTION_VERBS` is an opinion, not something the buyer did. "Buyer replied that they are
    interested" holds "replied": the reply is the fact.

inspectable
    A stage's evidence prompt names something a manager can open: one of the phrases of `ARTEFACTS` (email,
    reply, message, invite, signed contract, PO, invoice, notes, link...), a word also counting in its plural.

buyer-centric
    A stage name holding a phrase of `SELLER_ACTIONS` ("Demo", "Proposal sent") names what the seller does,
    unless it also holds one of `BUYER_ACTION_VERBS` ("Demo attended", "Call booked"). A stage name must also
    read as done: at least one word in the past tense (ending in "-ed", but not of `NOT_PAST`; or one of
    `IRREGULAR_PAST`, like "paid") or of `BUYER_STATES` ("Live"). An exit criterion is the seller's when its
    first word is one of `SELLER_SUBJECTS` ("We emailed the recap"), or when it does not start with one of
    `BUYER_SUBJECTS` and holds a seller action as a stage name would ("Send the proposal").

complete
    A pipeline written in several languages has each stage's name, exit criteria and evidence prompt in every
    language any stage has a text in (`Pipeline.languages`), and as many exit criteria in each as in the
    source language. A text left out shows in the source language instead, which is rarely what a team meant.

The first four rules read English: they check the English texts only (those of a stage whose English texts are
complete), and a pipeline with no English is checked for completeness only. Their findings name a field as
above, followed by " in en" when English is not the pipeline's source language; so does a completeness finding,
with the language it is about ("name in es").

An exit criterion found to be an opinion is not also checked for the seller's actions. Findings come stage by
stage in pipeline order; within a stage: the name, the whole exit criteria, each criterion, the evidence prompt,
then what is missing in each language, in the order of `Pipeline.languages`.

The loader's warnings (`commands.pipeline.loading`) use the same buyer-centric rules through
`seller_action_suggestion` and `criterion_is_seller_action`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from commands.formats import clip
from commands.pipeline.stages import LANGUAGE_NAMES, Pipeline, Stage, StageText

Standard = Literal["required", "factual", "inspectable", "buyer-centric", "complete"]


@dataclass(frozen=True)
class Rewrite:
    """Phrases that describe one kind of thing, with the buyer-centric stage name and exit criterion to write."""

    name: str
    criterion: str
    phrases: tuple[str, ...]


SENDING = Rewrite(
    "Proposal received",
    "Buyer received the proposal and acknowledged it in writing",
    ("send", "sending", "sent", "submit", "submitting", "submitted", "deliver", "delivering", "delivered"),
)
SELLER_ACTIONS: tuple[Rewrite, ...] = (
    Rewrite(
        "Product evaluated",
        "Buyer attended the demo and got answers to their questions",
        (
            "demo",
            "demos",
            "demoing",
            "demoed",
            "demonstrate",
            "demonstrated",
            "demonstration",
            "pitch",
            "pitching",
            "pitched",
            "present",
            "presenting",
            "presented",
            "presentation",
        ),
    ),
    SENDING,
    Rewrite(
        "Next meeting booked",
        "Buyer booked the next meeting",
        (
            "follow up",
            "following up",
            "followed up",
            "followup",
            "chase",
            "chasing",
            "chased",
            "nurture",
            "nurturing",
            "nurtured",
        ),
    ),
    Rewrite(
        "Meeting booked",
        "Buyer accepted the meeting invite",
        (
            "call",
            "calls",
            "calling",
            "called",
            "cold call",
            "email",
            "emails",
            "emailing",
            "emailed",
            "contact",
            "contacting",
            "contacted",
            "prospect",
            "prospects",
            "prospecting",
            "prospected",
            "outreach",
            "reach out",
            "reaching out",
            "reached out",
        ),
    ),
    Rewrite(
        "Needs confirmed",
        "Buyer confirmed the problem, the budget, who decides and the timing",
        ("qualify", "qualifying", "qualified", "qualification"),
    ),
    Rewrite(
        "Terms agreed",
        "Buyer agreed to the terms in writing",
        ("negotiate", "negotiating", "negotiated", "negotiation", "negotiations"),
    ),
)

SELLER_ACTION_WORDS: tuple[str, ...] = tuple(phrase for group in SELLER_ACTIONS for phrase in group.phrases)

OPINIONS: tuple[Rewrite, ...] = (
    Rewrite(
        "Next meeting booked",
        "Buyer booked the next meeting",
        (
            "interested",
            "interest",
            "keen",
            "eager",
            "excited",
            "enthusiastic",
            "engaged",
            "curious",
            "warm",
            "hot",
            "open to",
        ),
    ),
    Rewrite(
        "Timing confirmed",
        "Buyer confirmed the budget and the timing in writing",
        ("ready", "likely", "probably", "serious", "motivated", "intends", "intent", "wants", "considering"),
    ),
    Rewrite(
        "Product evaluated",
        "Buyer replied confirming the product meets their needs",
        ("likes", "liked", "love", "loves", "loved", "happy", "pleased", "impressed", "satisfied", "positive"),
    ),
    Rewrite(
        "Next steps confirmed",
        "Buyer replied to the recap email confirming next steps",
        (
            "seems",
            "seemed",
            "appears",
            "feel",
            "feels",
            "felt",
            "think",
            "thinks",
            "believe",
            "believes",
            "hopefully",
            "maybe",
            "good fit",
            "good feeling",
            "vibe",
            "vibes",
            "gut",
        ),
    ),
)

# A seller word next to one of these is the buyer's doing: "Demo attended", "Call booked".
BUYER_ACTION_VERBS = frozenset(
    {
        "accepted",
        "acknowledged",
        "agreed",
        "approved",
        "asked",
        "attended",
        "booked",
        "bought",
        "chose",
        "committed",
        "confirmed",
        "evaluated",
        "invited",
        "joined",
        "paid",
        "provided",
        "purchased",
        "received",
        "returned",
        "issued",
        "introduced",
        "shared",
        "submitted",
        "said",
        "wrote",
        "replied",
        "requested",
        "responded",
        "reviewed",
        "scheduled",
        "selected",
        "signed",
        "started",
        "tested",
        "trialed",
        "trialled",
    }
)
BUYER_SUBJECTS = frozenset(
    {
        "buyer",
        "buyers",
        "customer",
        "customers",
        "client",
        "clients",
        "champion",
        "cfo",
        "ceo",
        "cto",
        "procurement",
        "legal",
        "purchasing",
        "finance",
        "economic",
        "decision",
        "prospect",
        "they",
    }
)
LEADING_ARTICLES = frozenset({"the", "their", "a", "an", "its"})
SELLER_SUBJECTS = frozenset({"we", "i", "our", "rep", "reps", "seller", "sellers", "ae", "sdr", "sales"})

ARTEFACTS: tuple[str, ...] = (
    "email",
    "e mail",
    "mail",
    "reply",
    "replies",
    "message",
    "thread",
    "letter",
    "invite",
    "invitation",
    "calendar",
    "confirmation",
    "acknowledgement",
    "acknowledgment",
    "contract",
    "agreement",
    "signature",
    "po",
    "purchase order",
    "nda",
    "sow",
    "msa",
    "redline",
    "redlines",
    "questionnaire",
    "deck",
    "slides",
    "spreadsheet",
    "minutes",
    "statement",
    "remittance",
    "order",
    "invoice",
    "receipt",
    "quote",
    "proposal",
    "form",
    "note",
    "notes",
    "transcript",
    "recording",
    "report",
    "document",
    "doc",
    "file",
    "pdf",
    "screenshot",
    "link",
    "ticket",
)

NOT_PAST = frozenset({"need", "seed", "speed", "feed", "hundred", "bed", "red", "shed", "embed", "proceed", "exceed"})
IRREGULAR_PAST = frozenset(
    {
        "begun",
        "bought",
        "built",
        "chose",
        "chosen",
        "done",
        "given",
        "held",
        "kept",
        "made",
        "met",
        "paid",
        "read",
        "run",
        "seen",
        "set",
        "shown",
        "signed",
        "spent",
        "taken",
        "told",
        "won",
        "written",
    }
)
BUYER_STATES = frozenset({"live", "active"})

# Stage names often written as a seller's phase, and what the buyer has done by then.
_PHASE_NAMES = {
    "discovery": "Needs confirmed",
    "evaluation": "Product evaluated",
    "trial": "Trial started",
    "pilot": "Pilot started",
    "proposal": "Proposal received",
    "quote": "Quote received",
    "closing": "Contract signed",
    "close": "Contract signed",
    "contract": "Contract signed",
    "onboarding": "Implementation started",
    "implementation": "Implementation started",
    "kickoff": "Kickoff attended",
    "renewal": "Renewal signed",
    "commit": "Verbal commitment given",
    "commitment": "Verbal commitment given",
    "procurement": "Purchase order issued",
}

FILLER = frozenset({"a", "an", "the", "is", "are", "was", "were", "be", "been", "has", "have", "had", "by", "and", "s"})
_AS_BUYER = {"customer": "buyer", "customers": "buyer", "client": "buyer", "clients": "buyer", "buyers": "buyer"}
_QUOTED_LIMIT = 80


@dataclass(frozen=True)
class Finding:
    """One way a stage falls short of a standard: where, what is wrong (one line), and a rewrite.

    `field` is "name", "exit_criteria" (the stage's criteria as a whole), "exit criterion N" (from 1) or
    "evidence_prompt", followed by " in xx" when the text is in language xx and that is not the pipeline's
    source language. Its texts are plain: a renderer escapes them.
    """

    stage_key: str
    field: str
    standard: Standard
    problem: str
    suggestion: str

    @property
    def where(self) -> str:
        return f"stage '{self.stage_key}', {self.field}"

    def text(self) -> str:
        """The finding as two lines of plain text: where and what is wrong, then the suggestion."""
        return f"{self.where}: {self.problem} [{self.standard}]\n  Suggestion: {self.suggestion}"


def lint_pipeline(pipeline: Pipeline) -> tuple[Finding, ...]:
    """Every finding, stage by stage in pipeline order; within a stage: name, exit criteria, evidence prompt,
    then the texts missing in each language."""
    english = {stage.key: in_english for stage in pipeline.stages if (in_english := _in_english(stage))}
    repeats = _repeats(tuple(english.values()))
    found: list[Finding] = []
    for stage in pipeline.stages:
        if stage.key in english:
            for finding in _stage_findings(english[stage.key], repeats):
                found.append(finding if pipeline.language == "en" else replace(finding, field=f"{finding.field} in en"))
        found += (finding for language in pipeline.languages[1:] for finding in _missing_texts(stage, language))
    return tuple(found)


def _in_english(stage: Stage) -> Stage | None:
    """The stage as its English texts say, for the rules that read English; None without all of them."""
    if stage.language == "en":
        return stage
    text = stage.texts.get("en")
    if text is None or text.missing():
        return None
    return Stage(stage.key, text.name, text.exit_criteria, text.evidence_prompt, language="en")


# --- complete ------------------------------------------------------------------------------------


def _missing_texts(stage: Stage, language: str) -> Iterator[Finding]:
    """What the stage leaves out in `language` (not its source language): each field, and criteria that do not
    match the source's one for one."""
    source, text = stage.texts[stage.language], stage.texts.get(language, StageText())
    in_language, in_source = _language_name(language), _language_name(stage.language)
    examples = {
        "name": f"'{language}: …' under 'name', next to '{stage.language}: {_quoted(source.name)}'",
        "exit_criteria": (
            f"'{language}:' under 'exit_criteria', with the {len(source.exit_criteria)} criteria of "
            f"{in_source} in the same order"
        ),
        "evidence_prompt": (
            f"'{language}: …' under 'evidence_prompt', next to '{stage.language}: {_quoted(source.evidence_prompt)}'"
        ),
    }
    for field_name in text.missing():
        yield Finding(
            stage.key,
            f"{field_name} in {language}",
            "complete",
            f"no {field_name.replace('_', ' ')} in {in_language}, though the pipeline has texts in it: "
            f"a user reading {in_language} sees the {in_source} one.",
            f"Add {examples[field_name]}.",
        )
    if text.exit_criteria and len(text.exit_criteria) != len(source.exit_criteria):
        yield Finding(
            stage.key,
            f"exit_criteria in {language}",
            "complete",
            f"{len(text.exit_criteria)} exit criteria in {in_language} but {len(source.exit_criteria)} in {in_source}.",
            f"Translate each {in_source} criterion once, in the same order.",
        )


def _language_name(language: str) -> str:
    return f"{LANGUAGE_NAMES.get(language, language)} ({language})"


def _stage_findings(stage: Stage, repeats: dict[tuple[str, int], tuple[Stage, int]]) -> Iterator[Finding]:
    yield from _name_findings(stage)
    repeated = {
        number: repeats[(stage.key, number)]
        for number in range(len(stage.exit_criteria))
        if (stage.key, number) in repeats
    }
    earlier = {first.key for first, _ in repeated.values() if first.key != stage.key}
    whole_stage_repeats = len(repeated) == len(stage.exit_criteria) and len(earlier) == 1
    if whole_stage_repeats:
        yield _stage_asks_nothing_new(stage, next(first for first, _ in repeated.values()))
    for number, criterion in enumerate(stage.exit_criteria):
        if number in repeated and not whole_stage_repeats:
            yield _repeated_criterion(stage, number, *repeated[number])
        yield from _criterion_findings(stage, number, criterion)
    if not is_inspectable(stage.evidence_prompt):
        yield _not_inspectable(stage)


# --- required ------------------------------------------------------------------------------------


def gist(criterion: str) -> frozenset[str]:
    """What a criterion says, for comparing: see "required" in the module's docstring."""
    words = (_AS_BUYER.get(word, word) for word in words_of(criterion))
    return frozenset(word[:-1] if len(word) > 3 and word.endswith("s") else word for word in words) - FILLER


def _repeats(stages: Sequence[Stage]) -> dict[tuple[str, int], tuple[Stage, int]]:
    """For each criterion (stage key, position) that repeats an earlier one: the stage and position of the first."""
    first_by_gist: dict[frozenset[str], tuple[Stage, int]] = {}
    repeats: dict[tuple[str, int], tuple[Stage, int]] = {}
    for stage in stages:
        for number, criterion in enumerate(stage.exit_criteria):
            said = gist(criterion)
            if not said:
                continue
            first = first_by_gist.setdefault(said, (stage, number))
            if first != (stage, number):
                repeats[(stage.key, number)] = first
    return repeats


def _stage_asks_nothing_new(stage: Stage, earlier: Stage) -> Finding:
    return Finding(
        stage.key,
        "exit_criteria",
        "required",
        f"every exit criterion repeats stage '{earlier.key}', so reaching '{_quoted(stage.name)}' "
        "asks nothing new of the buyer.",
        f"Merge it into '{earlier.key}', or list the buyer action that sets it apart, e.g. '{_next_action(stage)}'.",
    )


def _repeated_criterion(stage: Stage, number: int, first: Stage, first_number: int) -> Finding:
    if first.key == stage.key:
        problem = f"'{_quoted(stage.exit_criteria[number])}' says exit criterion {first_number + 1} again."
        suggestion = "Remove it, or replace it with another action the buyer must have done."
    else:
        problem = (
            f"'{_quoted(stage.exit_criteria[number])}' repeats exit criterion {first_number + 1} of stage "
            f"'{first.key}', which the buyer did to get there."
        )
        suggestion = f"Remove it, or replace it with what the buyer did after '{_quoted(first.name)}'."
    return Finding(stage.key, f"exit criterion {number + 1}", "required", problem, suggestion)


def _next_action(stage: Stage) -> str:
    """A buyer action to suggest for a stage, from its name when that names one."""
    words = words_of(stage.name)
    verb = next((word for word in reversed(words) if word in BUYER_ACTION_VERBS), None)
    if verb is None:
        return "Buyer replied to the recap email confirming next steps"
    thing = " ".join(word for word in words if word != verb) or "it"
    return f"Buyer {verb} the {thing}"


# --- factual -------------------------------------------------------------------------------------


def opinion_in(criterion: str) -> tuple[str, Rewrite] | None:
    """The opinion phrase a criterion rests on and its rewrite, when it states no buyer action."""
    words = words_of(criterion)
    if BUYER_ACTION_VERBS.intersection(words):
        return None
    return _first_phrase(words, OPINIONS)


def _criterion_findings(stage: Stage, number: int, criterion: str) -> Iterator[Finding]:
    field = f"exit criterion {number + 1}"
    if (opinion := opinion_in(criterion)) is not None:
        phrase, rewrite = opinion
        yield Finding(
            stage.key,
            field,
            "factual",
            f"'{_quoted(criterion)}' is an opinion ('{phrase}'), not something the buyer did.",
            f"Write the buyer action that shows it, e.g. '{rewrite.criterion}'.",
        )
    elif criterion_is_seller_action(criterion):
        yield Finding(
            stage.key,
            field,
            "buyer-centric",
            f"'{_quoted(criterion)}' is what the seller does, not what the buyer did.",
            f"Write what the buyer did, e.g. '{_buyer_rewrite(criterion)}'.",
        )


# --- inspectable ---------------------------------------------------------------------------------


def is_inspectable(evidence_prompt: str) -> bool:
    """Whether the prompt names a document or message a manager can open (see "inspectable" above)."""
    words = [word[:-1] if word.endswith("s") and word[:-1] in ARTEFACTS else word for word in words_of(evidence_prompt)]
    return _first_phrase(words, (Rewrite("", "", ARTEFACTS),)) is not None


def _not_inspectable(stage: Stage) -> Finding:
    return Finding(
        stage.key,
        "evidence_prompt",
        "inspectable",
        f"'{_quoted(stage.evidence_prompt)}' names nothing a manager can open (an email, invite, document...).",
        f"Name the document or message, e.g. '{_prompt_for(stage)}'",
    )


# --- buyer-centric -------------------------------------------------------------------------------


def seller_action_suggestion(text: str) -> str | None:
    """The buyer-centric stage name to suggest when `text` names a seller action, else None."""
    words = words_of(text)
    if BUYER_ACTION_VERBS.intersection(words):
        return None
    found = _first_phrase(words, SELLER_ACTIONS)
    if found is None:
        return None
    phrase, rewrite = found
    if rewrite is SENDING and len(words) > 1 and words[-1] == phrase:
        # "Contract sent", "Quote submitted": what was sent, as the buyer has it.
        return f"{text.strip().rsplit(maxsplit=1)[0]} received"
    return rewrite.name


def criterion_is_seller_action(criterion: str) -> bool:
    words = words_of(criterion)
    while words and words[0] in LEADING_ARTICLES:
        words = words[1:]
    if not words:
        return False
    if words[0] in SELLER_SUBJECTS:
        return True
    return words[0] not in BUYER_SUBJECTS and seller_action_suggestion(criterion) is not None


def reads_as_done(name: str) -> bool:
    """Whether a stage name has a word in the past tense or names a buyer's state (see "buyer-centric")."""
    return any(
        (word.endswith("ed") and word not in NOT_PAST) or word in IRREGULAR_PAST or word in BUYER_STATES
        for word in words_of(name)
    )


def _name_findings(stage: Stage) -> Iterator[Finding]:
    if (suggestion := seller_action_suggestion(stage.name)) is not None:
        problem = f"'{_quoted(stage.name)}' names what the seller does, not what the buyer has done."
    elif not reads_as_done(stage.name):
        suggestion = _done_name(stage.name)
        problem = f"'{_quoted(stage.name)}' does not say what the buyer has done (no verb in the past tense)."
    else:
        return
    yield Finding(stage.key, "name", "buyer-centric", problem, f"Rename it '{suggestion}'.")


def _done_name(name: str) -> str:
    phase = next((_PHASE_NAMES[word] for word in words_of(name) if word in _PHASE_NAMES), None)
    return phase or f"{_quoted(name)} completed"


def _buyer_rewrite(criterion: str) -> str:
    """The criterion with the buyer as its subject, or the buyer action its seller action leads to."""
    first, _, rest = criterion.strip().partition(" ")
    if first.lower() in SELLER_SUBJECTS and BUYER_ACTION_VERBS.intersection(words_of(rest)):
        return f"Buyer {rest.strip()}"
    found = _first_phrase(words_of(criterion), SELLER_ACTIONS)
    return found[1].criterion if found else "Buyer replied to the recap email confirming next steps"


# --- words ---------------------------------------------------------------------------------------


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _first_phrase(words: Iterable[str], groups: Sequence[Rewrite]) -> tuple[str, Rewrite] | None:
    """The first group (in order) with a phrase among `words`, and that phrase."""
    padded = f" {' '.join(words)} "
    for group in groups:
        for phrase in group.phrases:
            if f" {' '.join(words_of(phrase))} " in padded:
                return phrase, group
    return None


def _quoted(text: str) -> str:
    return clip(" ".join(text.split()), _QUOTED_LIMIT)


def _prompt_for(stage: Stage) -> str:
    """An evidence prompt naming a message, about the stage's first criterion that is a buyer action."""
    action = next(filter(_is_buyer_action, stage.exit_criteria), None)
    if action is None:
        return "Show me the buyer's reply to the recap email."
    return f"Show me the buyer's email confirming that {_lowered(action)}."


def _is_buyer_action(criterion: str) -> bool:
    return opinion_in(criterion) is None and not criterion_is_seller_action(criterion)


def _lowered(criterion: str) -> str:
    text = _quoted(criterion).rstrip(".")
    text = text[:1].lower() + text[1:]
    return f"the {text}" if words_of(text)[:1] == ["buyer"] else text
