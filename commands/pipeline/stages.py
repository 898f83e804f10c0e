"""The buyer-centric pipeline model: stages named for what the buyer has done.

A stage's exit criteria must be required, factual, inspectable and buyer-centric; the evidence
prompt is what a manager asks to see before a deal may move on. `lost` is not a stage: it is a
terminal state handled elsewhere. Reading a pipeline from a YAML file lives in
`commands.pipeline.loading`.

A stage's texts may be written in several languages. `Stage.name`, `Stage.exit_criteria` and
`Stage.evidence_prompt` are the texts in the pipeline's *source* language (the one its file is written in);
`Stage.texts` holds them per language, source first, and `Stage.text_in` reads them with the source as the
fallback. What a user types where a stage is expected may be its key, or the name (or the slug of the name)
in any of its languages: `Pipeline.resolve`. Stored keys never change with the language: `Pipeline.find`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from commands.i18n.languages import Language

DEFAULT_STALL_AFTER_DAYS = 14
RESERVED_KEYS = ("lost",)
KEY_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
LANGUAGES = tuple(language.value for language in Language)
"""The languages a pipeline's texts may be written in, by ISO 639-1 code."""
SOURCE_LANGUAGE = "en"
"""The language of a pipeline written without saying which."""
LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "sv": "Swedish", "ro": "Romanian"}


class Approval(StrEnum):
    """Who must approve a move into a stage: nobody (it happens at once), one manager, or two different ones."""

    NONE = "none"
    ONE = "one"
    TWO = "two"

    @property
    def needed(self) -> int:
        return {Approval.NONE: 0, Approval.ONE: 1, Approval.TWO: 2}[self]


def slug(text: str) -> str:
    """The text as a stage key would spell it: "Întâlnire programată" -> "intalnire-programata"."""
    return "-".join(re.findall(r"[a-z0-9]+", _plain(text)))


def typed_form(text: str) -> str:
    """How typed text is compared with keys, slugs and names: accents, case and spacing set aside."""
    return " ".join(_plain(text).split())


def typed_names(key: str | None, names: Mapping[str, str]) -> dict[str, str]:
    """What a user may type to mean a stage (in `typed_form`), each with the language it is in ("key" for the
    key itself): the key, and each language's name and the slug of that name."""
    typed = {key: "key"} if key else {}
    for language, name in names.items():
        if name:
            typed.setdefault(slug(name), language)
            typed.setdefault(typed_form(name), language)
    return typed


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


@dataclass(frozen=True)
class StageText:
    """A stage's texts in one language. An empty name, prompt or list of criteria was not written in it: a
    language may be incomplete in a file (`commands.pipeline.lint` reports it); `Stage.text_in` fills the gaps
    from the source language."""

    name: str = ""
    exit_criteria: tuple[str, ...] = ()
    evidence_prompt: str = ""

    def missing(self) -> tuple[str, ...]:
        """The fields not written in this language, as a pipeline file names them."""
        written = {"name": self.name, "exit_criteria": self.exit_criteria, "evidence_prompt": self.evidence_prompt}
        return tuple(name for name, value in written.items() if not value)


class StageTexts(Mapping[str, StageText]):
    """A stage's texts by language code, in the order given (the source language first); immutable and
    hashable, so a stage stays usable as a dictionary key."""

    __slots__ = ("_texts",)

    def __init__(self, texts: Mapping[str, StageText] | Iterable[tuple[str, StageText]] = ()) -> None:
        self._texts = dict(texts)

    def __getitem__(self, language: str) -> StageText:
        return self._texts[language]

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)

    def __hash__(self) -> int:
        return hash(frozenset(self._texts.items()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())

    def __repr__(self) -> str:
        return f"StageTexts({self._texts!r})"


@dataclass(frozen=True)
class Stage:
    """`name`, `exit_criteria` and `evidence_prompt` are in `language`, the pipeline's source language;
    `texts` holds every language's, `language` first (given without it, it is filled in from those fields)."""

    key: str
    name: str
    exit_criteria: tuple[str, ...]
    evidence_prompt: str
    stall_after_days: int = DEFAULT_STALL_AFTER_DAYS
    won: bool = False
    approval: Approval = Approval.ONE
    language: str = SOURCE_LANGUAGE
    texts: Mapping[str, StageText] = field(default_factory=StageTexts)

    def __post_init__(self) -> None:
        if not KEY_PATTERN.fullmatch(self.key) or self.key in RESERVED_KEYS:
            raise ValueError(f"invalid stage key {self.key!r}")
        if not self.name.strip() or not self.evidence_prompt.strip():
            raise ValueError(f"stage {self.key!r} needs a name and an evidence prompt")
        if not self.exit_criteria or not all(criterion.strip() for criterion in self.exit_criteria):
            raise ValueError(f"stage {self.key!r} needs non-empty exit criteria")
        if isinstance(self.stall_after_days, bool) or self.stall_after_days < 1:
            raise ValueError(f"stage {self.key!r}: stall_after_days must be an integer >= 1")
        if unknown := [language for language in (self.language, *self.texts) if language not in LANGUAGES]:
            raise ValueError(f"stage {self.key!r}: unknown language {unknown[0]!r}; languages are {LANGUAGES}")
        source = StageText(self.name, tuple(self.exit_criteria), self.evidence_prompt)
        if self.texts.get(self.language, source) != source:
            raise ValueError(f"stage {self.key!r}: its {self.language} texts differ from its name, criteria and prompt")
        others = ((language, text) for language, text in self.texts.items() if language != self.language)
        object.__setattr__(self, "texts", StageTexts([(self.language, source), *others]))

    def text_in(self, language: str) -> StageText:
        """The stage's texts in `language`, each one not written in it taken from the source language."""
        source = self.texts[self.language]
        text = self.texts.get(language, source)
        return StageText(
            name=text.name or source.name,
            exit_criteria=text.exit_criteria or source.exit_criteria,
            evidence_prompt=text.evidence_prompt or source.evidence_prompt,
        )

    def names_typed(self) -> dict[str, str]:
        """What a user may type to mean this stage: see `typed_names`."""
        return typed_names(self.key, {language: text.name for language, text in self.texts.items()})

    def is_called(self, typed: str) -> bool:
        """Whether `typed` is this stage's key, or its name or the slug of its name in one of its languages."""
        return typed_form(typed) in self.names_typed()


@dataclass(frozen=True)
class Pipeline:
    stages: tuple[Stage, ...]
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.stages:
            raise ValueError("a pipeline needs at least one stage")
        if len(set(self.keys)) != len(self.keys):
            raise ValueError("stage keys must be unique")
        if sum(stage.won for stage in self.stages) != 1:
            raise ValueError("exactly one stage must be the won stage")
        if len({stage.language for stage in self.stages}) != 1:
            raise ValueError("every stage must be written in the same source language")
        if clashes := ambiguous_names(self.stages):
            raise ValueError("; ".join(clash.text() for clash in clashes))

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(stage.key for stage in self.stages)

    @property
    def language(self) -> str:
        """The source language: the one `Stage.name` and the other plain fields are in."""
        return self.stages[0].language

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language a stage has texts in: the source language first, then in the order of `LANGUAGES`."""
        written = {language for stage in self.stages for language in stage.texts}
        return (self.language, *(language for language in LANGUAGES if language in written - {self.language}))

    def find(self, key: str) -> Stage | None:
        """The stage with this key, as stored (typed text goes through `resolve`)."""
        wanted = key.strip().lower()
        return next((stage for stage in self.stages if stage.key == wanted), None)

    def resolve(self, typed: str) -> Stage | None:
        """The stage a user means by `typed`: its key, or its name or the slug of its name in any language,
        compared ignoring case, accents and surrounding spaces. Never more than one: see `ambiguous_names`."""
        wanted = typed_form(typed)
        return next((stage for stage in self.stages if wanted in stage.names_typed()), None)

    def stage(self, key: str) -> Stage:
        found = self.find(key)
        if found is None:
            raise KeyError(f"no stage {key!r}; stages are: {', '.join(self.keys)}")
        return found

    def index(self, key: str) -> int:
        return self.stages.index(self.stage(key))

    def first(self) -> Stage:
        return self.stages[0]

    def next_after(self, key: str) -> Stage | None:
        position = self.index(key) + 1
        return self.stages[position] if position < len(self.stages) else None

    def won_stage(self) -> Stage:
        return next(stage for stage in self.stages if stage.won)

    def between(self, from_key: str, to_key: str) -> tuple[Stage, ...]:
        """Stages strictly after `from_key` up to and including `to_key`: what a move would skip past.

        Empty when `to_key` is not after `from_key`.
        """
        return self.stages[self.index(from_key) + 1 : self.index(to_key) + 1]

    def is_after_win(self, key: str) -> bool:
        return self.index(key) > self.index(self.won_stage().key)

    def approvals_needed(self, from_key: str, to_key: str) -> int:
        """How many managers must approve a forward move: the strictest stage it enters (a skip enters several)."""
        return max((stage.approval.needed for stage in self.between(from_key, to_key)), default=1)


@dataclass(frozen=True)
class NameClash:
    """One text that would mean two stages when typed: `typed` is the key, name or slug (in `typed_form`),
    with the language it is in for each stage ("key" for a key)."""

    typed: str
    first: Stage
    first_language: str
    second: Stage
    second_language: str

    def text(self) -> str:
        return (
            f"'{self.typed}' would mean both stage '{self.first.key}' ({_in_language(self.first_language)}) and "
            f"stage '{self.second.key}' ({_in_language(self.second_language)})"
        )


def _in_language(language: str) -> str:
    return "its key" if language == "key" else f"its name in {LANGUAGE_NAMES.get(language, language)} ({language})"


def ambiguous_names(stages: Iterable[Stage]) -> tuple[NameClash, ...]:
    """Every key, name or slug that two different stages answer to, in stage order; a name and its slug that
    clash for the same two stages in the same languages are one clash."""
    first_by_typed: dict[str, tuple[Stage, str]] = {}
    clashes: dict[tuple[str, str, str, str], NameClash] = {}
    for stage in stages:
        for typed, language in stage.names_typed().items():
            first, first_language = first_by_typed.setdefault(typed, (stage, language))
            if first.key != stage.key:
                clash = NameClash(typed, first, first_language, stage, language)
                clashes.setdefault((first.key, first_language, stage.key, language), clash)
    return tuple(clashes.values())
