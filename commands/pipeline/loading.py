"""Reading a pipeline from a YAML file: validation that reports every problem, and seller-action warnings
(their rules are `commands.pipeline.lint`'s buyer-centric rules).

The YAML is composed into nodes (for line numbers), turned into plain data, and validated by the pydantic
models below; each of pydantic's errors is then told back to the team in its own words, at its line.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from commands.pipeline.lint import SELLER_ACTION_WORDS as SELLER_ACTION_WORDS
from commands.pipeline.lint import criterion_is_seller_action, seller_action_suggestion
from commands.pipeline.stages import (
    DEFAULT_STALL_AFTER_DAYS,
    KEY_PATTERN,
    LANGUAGE_NAMES,
    LANGUAGES,
    RESERVED_KEYS,
    SOURCE_LANGUAGE,
    Approval,
    Pipeline,
    Stage,
    StageText,
    slug,
    typed_names,
)

_TAG_NULL = "tag:yaml.org,2002:null"
_TAG_INT = "tag:yaml.org,2002:int"
_TAG_BOOL = "tag:yaml.org,2002:bool"

_FORMAT_HINT = (
    "A pipeline file is a mapping with 'stages', holding a list of stages, each with "
    "key, name, exit_criteria, evidence_prompt and optionally stall_after_days, won and approval "
    "(and optionally 'language', the language of its plain texts)."
)
_ALLOWED_LANGUAGES = ", ".join(LANGUAGES)
TEXT_FIELDS = ("name", "exit_criteria", "evidence_prompt")
_FIELD_HINTS = {
    "key": "Give the stage a key of lowercase letters, digits and hyphens, e.g. 'key: product-evaluated'.",
    "name": "Name the stage for what the buyer has done, e.g. 'name: Product evaluated'.",
    "exit_criteria": (
        "List the buyer actions that prove the stage, one per line starting with '- ', "
        "e.g. '- Buyer replied to the recap email confirming next steps'."
    ),
    "evidence_prompt": (
        'Write what a manager asks to see, e.g. "evidence_prompt: Show me the buyer\'s confirmation email."'
    ),
}

Loc = tuple[int | str, ...]


class _Scalar(str):
    """A YAML scalar's text, remembering its tag: any scalar is text, so a name like `No` or `2024` stays as
    written, while only an unquoted number or true/false gets through as a number or boolean."""

    tag: str

    def __new__(cls, node: ScalarNode) -> Self:
        scalar = super().__new__(cls, node.value)
        scalar.tag = node.tag
        return scalar


def _yaml_typed(tag: str) -> BeforeValidator:
    """Construct a scalar written with `tag` (e.g. an unquoted 14 or true) as YAML does; leave the rest as text."""

    def construct(value: Any) -> Any:
        if isinstance(value, _Scalar) and value.tag == tag:
            return SafeConstructor.yaml_constructors[tag](SafeConstructor(), ScalarNode(tag, str(value)))
        return value

    return BeforeValidator(construct)


def _not_reserved(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in RESERVED_KEYS:
        raise PydanticCustomError("reserved_key", "a lost deal is a terminal state, not a stage")
    return value


Text = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1)]
Key = Annotated[Text, StringConstraints(pattern=f"^(?:{KEY_PATTERN.pattern})$"), BeforeValidator(_not_reserved)]
Days = Annotated[int, Field(strict=True, ge=1), _yaml_typed(_TAG_INT)]
Won = Annotated[bool, Field(strict=True), _yaml_typed(_TAG_BOOL)]


def _approval(value: Any) -> Any:
    """Strict models take only members of the enum: the text as written becomes one, anything else stays wrong."""
    return Approval(str(value)) if isinstance(value, str) and str(value) in tuple(Approval) else value


ApprovalPolicy = Annotated[Approval, BeforeValidator(_approval)]
Language = Literal["en", "es", "sv", "ro"]


def _source_language(info: ValidationInfo) -> str:
    """The language of the file's plain texts, as `parse_pipeline` read it from the top-level 'language'."""
    return str((info.context or {}).get("language", SOURCE_LANGUAGE))


def _by_language(value: Any, info: ValidationInfo) -> Any:
    """A text written plain is in the file's source language; a mapping gives it per language."""
    return value if isinstance(value, dict) else {_source_language(info): value}


ByLanguage = BeforeValidator(_by_language)
Names = Annotated[dict[Language, Text], Field(min_length=1), ByLanguage]
Criteria = Annotated[dict[Language, Annotated[list[Text], Field(min_length=1)]], Field(min_length=1), ByLanguage]


class StageSpec(BaseModel):
    """One stage as written in the file, its texts by language (a plain text is in the source language)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    key: Key
    name: Names
    exit_criteria: Criteria
    evidence_prompt: Names
    stall_after_days: Days = DEFAULT_STALL_AFTER_DAYS
    won: Won = False
    approval: ApprovalPolicy = Approval.ONE

    def to_stage(self, language: str) -> Stage:
        """The stage, its plain fields in `language` (which `PipelineSpec` checked every stage has)."""
        names = {str(other): text for other, text in self.name.items()}
        prompts = {str(other): text for other, text in self.evidence_prompt.items()}
        criteria = {str(other): texts for other, texts in self.exit_criteria.items()}
        written = {*names, *criteria, *prompts}
        languages = [language, *(other for other in LANGUAGES if other in written and other != language)]
        texts = {
            other: StageText(names.get(other, ""), tuple(criteria.get(other, ())), prompts.get(other, ""))
            for other in languages
        }
        source = texts[language]
        return Stage(
            key=self.key,
            name=source.name,
            exit_criteria=source.exit_criteria,
            evidence_prompt=source.evidence_prompt,
            stall_after_days=self.stall_after_days,
            won=self.won,
            approval=self.approval,
            language=language,
            texts=texts,
        )


class PipelineSpec(BaseModel):
    """The whole file: at least one stage, unique keys and names, exactly one won stage, and no text that would
    mean two stages when typed."""

    model_config = ConfigDict(extra="forbid", strict=True)

    stages: Annotated[list[StageSpec], Field(min_length=1)]
    language: Language = "en"

    @model_validator(mode="wrap")
    @classmethod
    def _unique_and_one_won(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        """Checked across the stages even when some of them are invalid, so one pass reports every problem."""
        try:
            spec, errors = handler(data), []
        except ValidationError as error:
            spec, errors = None, [_again(detail) for detail in error.errors()]
        stages = data.get("stages") if isinstance(data, dict) else None
        if isinstance(stages, list) and stages:
            errors += _across_stages(stages, _written_language(data))
        if errors or spec is None:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return spec


TOP_LEVEL_FIELDS = tuple(PipelineSpec.model_fields)
STAGE_FIELDS = tuple(StageSpec.model_fields)
_KEY: TypeAdapter[str] = TypeAdapter(Key)
_NAME: TypeAdapter[str] = TypeAdapter(Text)
_WON: TypeAdapter[bool] = TypeAdapter(Won)


def _valid(adapter: TypeAdapter[Any], stage: dict[str, Any], name: str) -> Any:
    try:
        return adapter.validate_python(stage[name])
    except (KeyError, ValidationError):
        return None


def _written_language(data: Any) -> str:
    """The file's source language as written, or the default when it is left out or not one we know (the
    model reports that)."""
    language = data.get("language") if isinstance(data, dict) else None
    return str(language) if isinstance(language, str) and language in LANGUAGES else SOURCE_LANGUAGE


def _names_by_language(stage: dict[str, Any], language: str) -> dict[str, str]:
    """The stage's valid names by language, as written (plain: in the source `language`)."""
    written = stage.get("name")
    names = written if isinstance(written, dict) else {language: written}
    valid = {str(other): _valid(_NAME, names, other) for other in names if other in LANGUAGES}
    return {other: name for other, name in valid.items() if name}


def _across_stages(stages: list[Any], language: str) -> list[InitErrorDetails]:
    errors: list[InitErrorDetails] = []
    first_by_key: dict[str, int] = {}
    first_by_name: dict[str, int] = {}
    won: list[int] = []
    for position, stage in enumerate(stages):
        if not isinstance(stage, dict):
            continue
        if (key := _valid(_KEY, stage, "key")) and first_by_key.setdefault(key, position) != position:
            errors.append(_error("duplicate_key", ("stages", position, "key"), key, first=first_by_key[key]))
        name = _names_by_language(stage, language).get(language)
        if name and first_by_name.setdefault(name.casefold(), position) != position:
            errors.append(
                _error(
                    "duplicate_name",
                    _text_loc(stage, position, "name", language),
                    name,
                    first=first_by_name[name.casefold()],
                )
            )
        errors += _source_text_missing(stage, position, language)
        if _valid(_WON, stage, "won"):
            won.append(position)
    if not won:
        errors.append(_error("no_won_stage", ("stages",), stages))
    errors += [_error("second_won_stage", ("stages", extra, "won"), True, first=won[0]) for extra in won[1:]]
    return errors + _ambiguous(stages, language)


def _text_loc(stage: dict[str, Any], position: int, field_name: str, language: str) -> Loc:
    """Where a text in `language` is written: under the field when it is written per language."""
    if isinstance(stage.get(field_name), dict):
        return ("stages", position, field_name, language)
    return ("stages", position, field_name)


def _source_text_missing(stage: dict[str, Any], position: int, language: str) -> list[InitErrorDetails]:
    """A text written per language must be written in the source language: the app's own texts are in it. (A
    mapping with no language in it is reported as the wrong kind of value.)"""
    return [
        _error("no_source_text", ("stages", position, field_name), stage[field_name], language=language)
        for field_name in TEXT_FIELDS
        if isinstance(written := stage.get(field_name), dict)
        and set(written).intersection(LANGUAGES)
        and language not in written
    ]


def _ambiguous(stages: list[Any], language: str) -> list[InitErrorDetails]:
    """Each key, name or name's slug that would mean a second stage when typed (`Pipeline.resolve`), reported
    at the second; a key or a source-language name given twice is reported once, as a duplicate."""
    errors: list[InitErrorDetails] = []
    first_by_typed: dict[str, tuple[int, str]] = {}
    told: set[tuple[int, int, str]] = set()  # one clash for two stages in a language
    duplicates: set[tuple[int, int]] = set()  # stages with the same key or source name: reported as such
    compared: dict[int, dict[str, Any]] = {}  # each stage's key and source name, as the duplicate checks compare
    for position, stage in enumerate(stages):
        if not isinstance(stage, dict):
            continue
        names = _names_by_language(stage, language)
        same = compared[position] = {"key": _valid(_KEY, stage, "key"), language: names.get(language, "").casefold()}
        for typed, written_in in typed_names(same["key"], names).items():
            first, first_in = first_by_typed.setdefault(typed, (position, written_in))
            if first_in == written_in and written_in in same and compared[first][written_in] == same[written_in]:
                duplicates.add((first, position))
        for typed, written_in in typed_names(same["key"], names).items():
            first, first_in = first_by_typed[typed]
            if first == position or (first, position) in duplicates or (first, position, written_in) in told:
                continue
            told.add((first, position, written_in))
            loc = ("stages", position, "key") if written_in == "key" else _text_loc(stage, position, "name", written_in)
            errors.append(
                _error(
                    "ambiguous_name",
                    loc,
                    typed,
                    first=first,
                    typed=typed,
                    this_in=_as_typed(written_in),
                    first_in=_as_typed(first_in),
                )
            )
    return errors


def _as_typed(written_in: str) -> str:
    return "its key" if written_in == "key" else f"its name in {_language_name(written_in)}"


def _language_name(language: str) -> str:
    return f"{LANGUAGE_NAMES[language]} ({language})"


def _error(kind: str, loc: Loc, value: Any, **context: Any) -> InitErrorDetails:
    return {"type": PydanticCustomError(kind, kind.replace("_", " "), context or None), "loc": loc, "input": value}


def _again(detail: ErrorDetails) -> InitErrorDetails:
    """One of pydantic's errors, to be raised again alongside others."""
    kind = PydanticCustomError(detail["type"], detail["msg"], detail.get("ctx"))
    return {"type": kind, "loc": detail["loc"], "input": detail["input"]}


class PipelineFileError(Exception):
    """A pipeline file that cannot be used; `errors` holds one self-contained message per problem."""

    def __init__(self, source: str, errors: Sequence[str]) -> None:
        self.source = source
        self.errors = tuple(errors)
        if len(self.errors) == 1:
            message = self.errors[0]
        else:
            message = "\n".join([f"{source} has {len(self.errors)} problems:", *self.errors])
        super().__init__(message)


@cache
def default_pipeline() -> Pipeline:
    text = resources.files("commands.pipeline").joinpath("default_pipeline.yaml").read_text(encoding="utf-8")
    return parse_pipeline(text, source="commands/pipeline/default_pipeline.yaml")


def load_pipeline(path: str | Path) -> Pipeline:
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise PipelineFileError(
            source, [f"{source}: pipeline file not found. Check the path, or use the default pipeline."]
        ) from error
    except (OSError, UnicodeDecodeError) as error:
        raise PipelineFileError(
            source, [f"{source}: cannot read the pipeline file ({error}). Save it as readable UTF-8 text."]
        ) from error
    return parse_pipeline(text, source=source)


def parse_pipeline(text: str, *, source: str = "<pipeline>") -> Pipeline:
    """Validate the whole file and report every problem at once, so a team fixes it in one pass."""
    document = _Document.read(text, source)
    try:
        spec = PipelineSpec.model_validate(document.data, context={"language": _written_language(document.data)})
    except ValidationError as error:
        raise PipelineFileError(source, document.messages([*document.problems, *error.errors()])) from None
    if document.problems:
        raise PipelineFileError(source, document.messages(document.problems))
    return Pipeline(
        stages=tuple(stage.to_stage(spec.language) for stage in spec.stages),
        warnings=tuple(_seller_action_warnings(spec, document)),
    )


class FieldLines:
    """Where each stage's fields are written in a pipeline file, for findings that name a stage and a field
    (`commands.pipeline.lint.Finding`)."""

    def __init__(self, text: str, *, source: str = "<pipeline>") -> None:
        self._document = _Document.read(text, source)

    def of(self, stage_key: str, field_name: str) -> int:
        """The line of the field as a finding names it ("name", "exit_criteria", "exit criterion N" from 1,
        "evidence_prompt", each maybe followed by " in xx" for a language other than the source); the field's
        own line for a language not written in it; the stage's own line for a field left to its default; 1 for
        a stage not in the file."""
        field_name, _, language = field_name.partition(" in ")
        data = self._document.data
        stages = data.get("stages") if isinstance(data, dict) else None
        for position, stage in enumerate(stages if isinstance(stages, list) else []):
            if isinstance(stage, dict) and str(stage.get("key", "")).strip() == stage_key:
                loc = ("stages", position, *_field_loc(field_name))
                return self._document.line(self._document.in_language(loc, language or _written_language(data)))
        return 1


def _field_loc(field_name: str) -> Loc:
    number = field_name.removeprefix("exit criterion ")
    if number != field_name and number.isdigit():
        return ("exit_criteria", int(number) - 1)
    return (field_name,)


@dataclass
class _Document:
    """The file as plain data for the models, with the line of every value and field name in it."""

    source: str
    data: Any = None
    lines: dict[Loc, int] = field(default_factory=dict)  # of the value at each place in `data`
    name_lines: dict[Loc, int] = field(default_factory=dict)  # of the field name of each value in a mapping
    problems: list[ErrorDetails] = field(default_factory=list)  # field names given twice or not as text

    @classmethod
    def read(cls, text: str, source: str) -> _Document:
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            problem = error.problem or error.context or "invalid YAML"
            message = (
                f"{source}, line {mark.line + 1 if mark else 1}: YAML syntax error: {problem}. "
                "Check the indentation, colons and quotes on or just before this line."
            )
            raise PipelineFileError(source, [message]) from None
        except yaml.YAMLError as error:
            message = f"{source}, line 1: YAML syntax error: {error}. Check that the file is valid YAML."
            raise PipelineFileError(source, [message]) from None
        document = cls(source)
        document.data = document._value(root, ()) if root is not None else None
        return document

    def _value(self, node: Node, loc: Loc) -> Any:
        self.lines[loc] = _line(node)
        if isinstance(node, ScalarNode):
            return None if node.tag == _TAG_NULL else _Scalar(node)
        if len(loc) > 4:  # deeper than any field of the file: only the kind of value matters (and no alias loops)
            return {} if isinstance(node, MappingNode) else []
        if isinstance(node, SequenceNode):
            return [self._value(item, (*loc, number)) for number, item in enumerate(node.value)]
        fields: dict[str, Any] = {}
        for name_node, value_node in node.value:
            if not isinstance(name_node, ScalarNode):
                self._problem("field_name_not_text", (*loc, ""), name_node)
            elif (name := str(name_node.value)) in fields:
                self._problem("field_given_twice", (*loc, name), name_node, first_line=self.name_lines[(*loc, name)])
            else:
                self.name_lines[(*loc, name)] = _line(name_node)
                fields[name] = self._value(value_node, (*loc, name))
        return fields

    def _problem(self, kind: str, loc: Loc, name_node: Node, **context: Any) -> None:
        context["line"] = _line(name_node)
        self.problems.append({"type": kind, "loc": loc, "msg": kind, "input": None, "ctx": context})

    def written_at(self, loc: Loc, default: Any) -> Any:
        """The value at `loc` as written in the file (pydantic reports some after converting them)."""
        value = self.data
        for step in loc:
            try:
                value = value[step]
            except (KeyError, IndexError, TypeError):
                return default
        return value

    def in_language(self, loc: Loc, language: str) -> Loc:
        """The place of a stage's text in `language`: under its field when the field is written per language."""
        if len(loc) > 2 and isinstance(self.written_at(loc[:3], None), dict):
            return (*loc[:3], language, *loc[3:])
        return loc

    def line(self, loc: Loc) -> int:
        """The line of the value at `loc`, or of the nearest thing around it."""
        while loc not in self.lines and loc:
            loc = loc[:-1]
        return self.lines.get(loc, 1)

    def stage_label(self, position: int) -> str:
        """How messages name a stage: its key if it has one, else its name, else its position."""
        stage = self.data["stages"][position]
        for name in ("key", "name"):
            if isinstance(stage, dict) and isinstance(stage.get(name), str) and stage[name].strip():
                return f"'{stage[name].strip()}'"
        return f"#{position + 1}"

    def messages(self, errors: Iterable[ErrorDetails]) -> list[str]:
        """Each error in the team's words, with its line and stage, in line order (field names first)."""
        told = sorted(filter(None, map(self._message, errors)), key=lambda entry: entry[:2])
        return [message for *_, message in told]

    def _message(self, error: ErrorDetails) -> tuple[int, bool, str] | None:
        at, kind, context = tuple(error["loc"]), error["type"], error.get("ctx") or {}
        if at[-1:] == ("[key]",):  # a language code pydantic does not know, in a text written per language
            at, kind = at[:-1], "unknown_language"
        at, loc, language = self._language_of(at)
        if language not in (None, *LANGUAGES) and kind != "unknown_language":
            return None  # a text under an unknown language code: the code is reported
        value = self.written_at(at, error["input"])
        values: dict[str, Any] = {"value": _describe(value), "text": str(value).strip(), "format": _FORMAT_HINT}
        if kind == "unknown_language" and not set(self.written_at(at[:-1], {})).intersection(LANGUAGES):
            if at[-1] != next(iter(self.written_at(at[:-1], {}))):
                return None  # a mapping with no language in it is one wrong value, reported at its first field
            at, language = at[:-1], None
            kind = "list_type" if at[2] == "exit_criteria" else "string_type"
            value = self.written_at(at, None)
            values |= {"value": _describe(value), "text": str(value).strip()}
        if kind == "unknown_language":
            values["text"], language = language, None
        if kind in _FIELD_NAME_PROBLEMS:
            place, line = "fields", context.get("line") or self.name_lines[at]
            if (allowed := _fields_allowed_at(at[:-1])) is None:
                return None  # a mapping where no mapping belongs: reported as a wrong value
            if kind == "field_given_twice" and loc[-1] not in allowed:
                kind = "extra_forbidden"
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            values |= {"name": loc[-1], "allowed": ", ".join(allowed), **context}
            values["did_you_mean"] = f" Did you mean '{close[0]}'?" if close else ""
        else:
            place = {0: "file", 1: "stages", 2: "stage", 4: "exit_criterion"}.get(len(loc)) or str(loc[2])
            place = "language" if loc == ("language",) else place
            line = self.line(at[:-1] if kind == "missing" else at)
            if len(loc) > 2:
                stage, field_name = self.data["stages"][loc[1]], str(loc[2])
                values |= {"field": field_name, "hint": _FIELD_HINTS.get(field_name, "")}
                values |= {"missing_hint": _missing_hint(stage, field_name), "key_fix": _key_fix(values["text"])}
                values["number"] = int(loc[3]) + 1 if len(loc) > 3 else 0
            if (first := context.get("first")) is not None:  # the other stage with the same key, name or won
                values |= {"first_line": self.line(("stages", first)), "first_label": self.stage_label(first)}
                values["first_won_line"] = self.line(("stages", first, "won"))
            values |= {name: context[name] for name in ("typed", "this_in", "first_in") if name in context}
            if source := context.get("language"):
                values |= {"source": source, "source_name": _language_name(source)}
        if kind == "string_too_short" or (value is None and kind in ("model_type", "string_type")):
            kind = "empty"
        if kind == "too_short" and isinstance(value, dict):
            kind = "empty"
        where = f"{self.source}, line {line}"
        if len(loc) > 1 and loc[0] == "stages":
            where += f", stage {self.stage_label(int(loc[1]))}"
        if language is not None:
            where += f", in {_language_name(language)}"
        lookups = ((place, kind), (place, "*"), ("*", kind), ("*", "*"))
        template = next(_MESSAGES[entry] for entry in lookups if entry in _MESSAGES)
        return line, place != "fields", f"{where}: {template.format(**values)}"

    def _language_of(self, at: Loc) -> tuple[Loc, Loc, str | None]:
        """Where an error is in the data, where it is in a stage with one language (the place its message is
        chosen by), and the language when the text is written per language (None when written plain)."""
        if len(at) < 4 or at[0] != "stages" or at[2] not in TEXT_FIELDS or not isinstance(at[3], str):
            return at, at, None
        loc = (*at[:3], *at[4:])
        if isinstance(self.written_at(at[:3], None), dict):
            return at, loc, at[3]
        return loc, loc, None  # written plain: the loader filled in the source language


def _fields_allowed_at(loc: Loc) -> tuple[str, ...] | None:
    if loc == ():
        return TOP_LEVEL_FIELDS
    if len(loc) == 2 and loc[0] == "stages" and isinstance(loc[1], int):
        return STAGE_FIELDS
    if len(loc) == 3 and loc[0] == "stages" and loc[2] in TEXT_FIELDS:
        return LANGUAGES
    return None


_FIELD_NAME_PROBLEMS = ("extra_forbidden", "field_given_twice", "field_name_not_text")

# What went wrong and how to put it right, by place in the file and kind of error ("*" for any).
_MESSAGES = {
    ("fields", "extra_forbidden"): "unknown field '{name}'.{did_you_mean} Allowed fields: {allowed}.",
    ("fields", "field_given_twice"): "'{name}' is given twice (first on line {first_line}). Keep one of them.",
    ("fields", "field_name_not_text"): "field names must be plain text. Allowed fields: {allowed}.",
    ("file", "empty"): "the file is empty. {format}",
    ("file", "*"): "the file must be a mapping, not {value}. {format}",
    ("language", "*"): (
        f"'language' names the language of the file's plain texts and must be one of {_ALLOWED_LANGUAGES}; "
        "got {value}. Write e.g. 'language: sv', or leave it out for English."
    ),
    ("stages", "missing"): "missing 'stages'. {format}",
    ("stages", "too_short"): "'stages' is empty; a pipeline needs at least one stage. {format}",
    ("stages", "no_won_stage"): (
        "no stage is marked 'won: true'. Add 'won: true' to exactly one stage, the one where the "
        "buyer has signed (e.g. 'Contract signed')."
    ),
    ("stages", "*"): "'stages' must be a list of stages, not {value}. {format}",
    ("stage", "*"): (
        "each stage must be a mapping with key, name, exit_criteria, evidence_prompt, not {value}. {format}"
    ),
    ("key", "reserved_key"): (
        "'{text}' is reserved: a lost deal is a terminal state, not a stage. Remove this stage; "
        "the bot records lost deals on its own."
    ),
    ("key", "string_pattern_mismatch"): "key '{text}' is not valid. {key_fix}",
    ("key", "duplicate_key"): (
        "key '{text}' is already used by the stage on line {first_line}. Give each stage its own key."
    ),
    ("name", "duplicate_name"): (
        "name '{text}' is already used by the stage on line {first_line} "
        "(names are compared ignoring case). Give each stage its own name."
    ),
    ("exit_criteria", "list_type"): "'exit_criteria' must be a list, not {value}. {hint}",
    ("exit_criteria", "too_short"): "'exit_criteria' is empty; a stage needs at least one buyer action. {hint}",
    ("exit_criterion", "*"): "exit criterion {number} must be a non-empty sentence, not {value}. {hint}",
    ("stall_after_days", "*"): (
        f"'stall_after_days' must be a whole number of days, 1 or more; got {{value}}. "
        f"Write e.g. 'stall_after_days: {DEFAULT_STALL_AFTER_DAYS}', or leave it out for "
        f"{DEFAULT_STALL_AFTER_DAYS} days."
    ),
    ("won", "second_won_stage"): (
        "only one stage may be marked 'won: true', but stage {first_label} on line {first_won_line} is too. "
        "Keep 'won: true' on the stage where the buyer has signed."
    ),
    ("won", "*"): (
        "'won' must be true or false; got {value}. Write 'won: true' (no quotes) on the stage "
        "where the deal is won, and leave it out elsewhere."
    ),
    ("approval", "*"): (
        "'approval' must be none, one or two; got {value}. Write 'approval: two' where two different managers "
        "must approve a move into the stage, 'approval: none' where the move happens at once (evidence is "
        "still required), or leave it out for one manager."
    ),
    ("*", "unknown_language"): (
        f"'{{text}}' under '{{field}}' is not a language a pipeline can be written in. Write the {{field}} "
        f"per language under one of: {_ALLOWED_LANGUAGES} (e.g. 'es: …')."
    ),
    ("*", "no_source_text"): (
        "'{field}' is written per language but not in {source_name}, the language of the file's plain texts. "
        "Add '{source}: …' under it, or name the file's language at its top, e.g. 'language: sv'."
    ),
    ("*", "ambiguous_name"): (
        "'{typed}' would mean two stages when typed: this one ({this_in}) and stage {first_label} on line "
        "{first_line} ({first_in}). Give each stage its own name in every language."
    ),
    ("*", "missing"): "missing '{field}'. {missing_hint}",
    ("*", "empty"): "'{field}' is empty. {missing_hint}",
    ("*", "*"): "'{field}' must be text, not {value}. {hint}",
}


def _missing_hint(stage: dict[str, Any], field_name: str) -> str:
    name = stage.get("name")
    if isinstance(name, dict):
        name = next((text for text in name.values() if isinstance(text, str)), None)
    suggestion = slug(name) if isinstance(name, str) else ""
    if field_name == "key" and suggestion and suggestion not in RESERVED_KEYS:
        return f"Add 'key: {suggestion}' (lowercase letters, digits and hyphens)."
    return _FIELD_HINTS.get(field_name, "")


def _key_fix(raw_key: str) -> str:
    suggestion = slug(raw_key)
    rule = "Use lowercase letters, digits and single hyphens, with no spaces"
    if suggestion and suggestion not in RESERVED_KEYS:
        return f"{rule}, e.g. 'key: {suggestion}'."
    return f"{rule}, e.g. 'key: product-evaluated'."


def _line(node: Node) -> int:
    return node.start_mark.line + 1 if node.start_mark is not None else 1


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return f"'{value}'"


def _seller_action_warnings(spec: PipelineSpec, document: _Document) -> Iterable[str]:
    """The buyer-centric rules are English: they read the English texts only."""
    for position, stage in enumerate(spec.stages):
        name, line = stage.name.get("en"), document.line(document.in_language(("stages", position, "name"), "en"))
        if name and (suggestion := seller_action_suggestion(name)):
            yield (
                f"Stage '{name}' (line {line}) describes what the "
                f"seller does. Name stages for what the buyer has done, e.g. '{suggestion}' instead of "
                f"'{name}' — a stage must be required, factual, inspectable and buyer-centric."
            )
        for number, criterion in enumerate(stage.exit_criteria.get("en", [])):
            if criterion_is_seller_action(criterion):
                loc = document.in_language(("stages", position, "exit_criteria", number), "en")
                yield (
                    f"Exit criterion '{criterion}' of stage '{stage.key}' "
                    f"(line {document.line(loc)}) describes "
                    "what the seller does. Write exit criteria as what the buyer has done, e.g. 'Buyer "
                    "replied to the recap email confirming next steps' — a criterion must be required, "
                    "factual, inspectable and buyer-centric."
                )
