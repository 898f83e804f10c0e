"""The English the four standards of `commands.pipeline.lint` read and write: the word lists its heuristics match
a stage's English texts against, and the English rewrites they suggest.

These are the pipeline's own language, not the bot's: a suggested stage name or exit criterion is English text
for the pipeline file, quoted unchanged in a finding whatever language the finding is shown in. The rules and
how words and phrases are matched are described in `commands.pipeline.lint`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from commands.formats import clip
from commands.pipeline.stages import Stage


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


def gist(criterion: str) -> frozenset[str]:
    """What a criterion says, for comparing: see "required" in `commands.pipeline.lint`."""
    words = (_AS_BUYER.get(word, word) for word in words_of(criterion))
    return frozenset(word[:-1] if len(word) > 3 and word.endswith("s") else word for word in words) - FILLER


def next_action(stage: Stage) -> str:
    """A buyer action to suggest for a stage, from its name when that names one."""
    words = words_of(stage.name)
    verb = next((word for word in reversed(words) if word in BUYER_ACTION_VERBS), None)
    if verb is None:
        return "Buyer replied to the recap email confirming next steps"
    thing = " ".join(word for word in words if word != verb) or "it"
    return f"Buyer {verb} the {thing}"


def opinion_in(criterion: str) -> tuple[str, Rewrite] | None:
    """The opinion phrase a criterion rests on and its rewrite, when it states no buyer action."""
    words = words_of(criterion)
    if BUYER_ACTION_VERBS.intersection(words):
        return None
    return _first_phrase(words, OPINIONS)


def is_inspectable(evidence_prompt: str) -> bool:
    """Whether the prompt names a document or message a manager can open (see "inspectable" in
    `commands.pipeline.lint`)."""
    words = [word[:-1] if word.endswith("s") and word[:-1] in ARTEFACTS else word for word in words_of(evidence_prompt)]
    return _first_phrase(words, (Rewrite("", "", ARTEFACTS),)) is not None


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
    """Whether a stage name has a word in the past tense or names a buyer's state (see "buyer-centric" in
    `commands.pipeline.lint`)."""
    return any(
        (word.endswith("ed") and word not in NOT_PAST) or word in IRREGULAR_PAST or word in BUYER_STATES
        for word in words_of(name)
    )


def done_name(name: str) -> str:
    """A stage name that reads as done, for a name that does not."""
    phase = next((_PHASE_NAMES[word] for word in words_of(name) if word in _PHASE_NAMES), None)
    return phase or f"{quoted(name)} completed"


def buyer_rewrite(criterion: str) -> str:
    """The criterion with the buyer as its subject, or the buyer action its seller action leads to."""
    first, _, rest = criterion.strip().partition(" ")
    if first.lower() in SELLER_SUBJECTS and BUYER_ACTION_VERBS.intersection(words_of(rest)):
        return f"Buyer {rest.strip()}"
    found = _first_phrase(words_of(criterion), SELLER_ACTIONS)
    return found[1].criterion if found else "Buyer replied to the recap email confirming next steps"


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


def quoted(text: str) -> str:
    """A text of the pipeline on one line, shortened to be quoted in a finding."""
    return clip(" ".join(text.split()), _QUOTED_LIMIT)


def prompt_for(stage: Stage) -> str:
    """An evidence prompt naming a message, about the stage's first criterion that is a buyer action."""
    action = next(filter(_is_buyer_action, stage.exit_criteria), None)
    if action is None:
        return "Show me the buyer's reply to the recap email."
    return f"Show me the buyer's email confirming that {_lowered(action)}."


def _is_buyer_action(criterion: str) -> bool:
    return opinion_in(criterion) is None and not criterion_is_seller_action(criterion)


def _lowered(criterion: str) -> str:
    text = quoted(criterion).rstrip(".")
    text = text[:1].lower() + text[1:]
    return f"the {text}" if words_of(text)[:1] == ["buyer"] else text
