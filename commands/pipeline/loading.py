"""Reading a pipeline from a YAML file: validation that reports every problem, and seller-action warnings
(their rules are `commands.pipeline.lint`'s buyer-centric rules).

The YAML is composed into nodes (for line numbers), turned into plain data, and validated by the pydantic
models below; each of pydantic's errors is then told back to the team in its own words, at its line.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Self

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
    RESERVED_KEYS,
    Approval,
    Pipeline,
    Stage,
)

_TAG_NULL = "tag:yaml.org,2002:null"
_TAG_INT = "tag:yaml.org,2002:int"
_TAG_BOOL = "tag:yaml.org,2002:bool"

_FORMAT_HINT = (
    "A pipeline file is a mapping with one field, 'stages', holding a list of stages, each with "
    "key, name, exit_criteria, evidence_prompt and optionally stall_after_days, won and approval."
)
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


class StageSpec(BaseModel):
    """One stage as written in the file."""

    model_config = ConfigDict(extra="forbid", strict=True)

    key: Key
    name: Text
    exit_criteria: Annotated[list[Text], Field(min_length=1)]
    evidence_prompt: Text
    stall_after_days: Days = DEFAULT_STALL_AFTER_DAYS
    won: Won = False
    approval: ApprovalPolicy = Approval.ONE

    def to_stage(self) -> Stage:
        return Stage(**self.model_dump(exclude={"exit_criteria"}), exit_criteria=tuple(self.exit_criteria))


class PipelineSpec(BaseModel):
    """The whole file: at least one stage, unique keys and names, exactly one won stage."""

    model_config = ConfigDict(extra="forbid", strict=True)

    stages: Annotated[list[StageSpec], Field(min_length=1)]

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
            errors += _across_stages(stages)
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


def _across_stages(stages: list[Any]) -> list[InitErrorDetails]:
    errors: list[InitErrorDetails] = []
    first_by_key: dict[str, int] = {}
    first_by_name: dict[str, int] = {}
    won: list[int] = []
    for position, stage in enumerate(stages):
        if not isinstance(stage, dict):
            continue
        if (key := _valid(_KEY, stage, "key")) and first_by_key.setdefault(key, position) != position:
            errors.append(_error("duplicate_key", ("stages", position, "key"), key, first=first_by_key[key]))
        name = _valid(_NAME, stage, "name")
        if name and first_by_name.setdefault(name.casefold(), position) != position:
            errors.append(
                _error("duplicate_name", ("stages", position, "name"), name, first=first_by_name[name.casefold()])
            )
        if _valid(_WON, stage, "won"):
            won.append(position)
    if not won:
        errors.append(_error("no_won_stage", ("stages",), stages))
    errors += [_error("second_won_stage", ("stages", extra, "won"), True, first=won[0]) for extra in won[1:]]
    return errors


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
        spec = PipelineSpec.model_validate(document.data)
    except ValidationError as error:
        raise PipelineFileError(source, document.messages([*document.problems, *error.errors()])) from None
    if document.problems:
        raise PipelineFileError(source, document.messages(document.problems))
    return Pipeline(
        stages=tuple(stage.to_stage() for stage in spec.stages),
        warnings=tuple(_seller_action_warnings(spec, document)),
    )


class FieldLines:
    """Where each stage's fields are written in a pipeline file, for findings that name a stage and a field
    (`commands.pipeline.lint.Finding`)."""

    def __init__(self, text: str, *, source: str = "<pipeline>") -> None:
        self._document = _Document.read(text, source)

    def of(self, stage_key: str, field_name: str) -> int:
        """The line of the field as a finding names it ("name", "exit_criteria", "exit criterion N" from 1,
        "evidence_prompt"); the stage's own line for a field left to its default; 1 for a stage not in the file."""
        stages = self._document.data.get("stages") if isinstance(self._document.data, dict) else None
        for position, stage in enumerate(stages if isinstance(stages, list) else []):
            if isinstance(stage, dict) and str(stage.get("key", "")).strip() == stage_key:
                return self._document.line(("stages", position, *_field_loc(field_name)))
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
        if len(loc) > 3:  # deeper than any field of the file: only the kind of value matters (and no alias loops)
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
        loc, kind, context = tuple(error["loc"]), error["type"], error.get("ctx") or {}
        value = self.written_at(loc, error["input"])
        values: dict[str, Any] = {"value": _describe(value), "text": str(value).strip(), "format": _FORMAT_HINT}
        if kind in _FIELD_NAME_PROBLEMS:
            place, line = "fields", context.get("line") or self.name_lines[loc]
            if (allowed := _fields_allowed_at(loc[:-1])) is None:
                return None  # a mapping where no mapping belongs: reported as a wrong value
            if kind == "field_given_twice" and loc[-1] not in allowed:
                kind = "extra_forbidden"
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            values |= {"name": loc[-1], "allowed": ", ".join(allowed), **context}
            values["did_you_mean"] = f" Did you mean '{close[0]}'?" if close else ""
        else:
            place = {0: "file", 1: "stages", 2: "stage", 4: "exit_criterion"}.get(len(loc)) or str(loc[2])
            line = self.line(loc[:-1] if kind == "missing" else loc)
            if len(loc) > 2:
                stage, field_name = self.data["stages"][loc[1]], str(loc[2])
                values |= {"field": field_name, "hint": _FIELD_HINTS.get(field_name, "")}
                values |= {"missing_hint": _missing_hint(stage, field_name), "key_fix": _key_fix(values["text"])}
                values["number"] = int(loc[3]) + 1 if len(loc) > 3 else 0
            if (first := context.get("first")) is not None:  # the other stage with the same key, name or won
                values |= {"first_line": self.line(("stages", first)), "first_label": self.stage_label(first)}
                values["first_won_line"] = self.line(("stages", first, "won"))
        if kind == "string_too_short" or (value is None and kind in ("model_type", "string_type")):
            kind = "empty"
        where = f"{self.source}, line {line}"
        if len(loc) > 1 and loc[0] == "stages":
            where += f", stage {self.stage_label(int(loc[1]))}"
        lookups = ((place, kind), (place, "*"), ("*", kind), ("*", "*"))
        template = next(_MESSAGES[entry] for entry in lookups if entry in _MESSAGES)
        return line, place != "fields", f"{where}: {template.format(**values)}"


def _fields_allowed_at(loc: Loc) -> tuple[str, ...] | None:
    if loc == ():
        return TOP_LEVEL_FIELDS
    if len(loc) == 2 and loc[0] == "stages" and isinstance(loc[1], int):
        return STAGE_FIELDS
    return None


_FIELD_NAME_PROBLEMS = ("extra_forbidden", "field_given_twice", "field_name_not_text")

# What went wrong and how to put it right, by place in the file and kind of error ("*" for any).
_MESSAGES = {
    ("fields", "extra_forbidden"): "unknown field '{name}'.{did_you_mean} Allowed fields: {allowed}.",
    ("fields", "field_given_twice"): "'{name}' is given twice (first on line {first_line}). Keep one of them.",
    ("fields", "field_name_not_text"): "field names must be plain text. Allowed fields: {allowed}.",
    ("file", "empty"): "the file is empty. {format}",
    ("file", "*"): "the file must be a mapping, not {value}. {format}",
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
    ("*", "missing"): "missing '{field}'. {missing_hint}",
    ("*", "empty"): "'{field}' is empty. {missing_hint}",
    ("*", "*"): "'{field}' must be text, not {value}. {hint}",
}


def _missing_hint(stage: dict[str, Any], field_name: str) -> str:
    name = stage.get("name")
    suggestion = _slug(name) if isinstance(name, str) else ""
    if field_name == "key" and suggestion and suggestion not in RESERVED_KEYS:
        return f"Add 'key: {suggestion}' (lowercase letters, digits and hyphens)."
    return _FIELD_HINTS.get(field_name, "")


def _key_fix(raw_key: str) -> str:
    suggestion = _slug(raw_key)
    rule = "Use lowercase letters, digits and single hyphens, with no spaces"
    if suggestion and suggestion not in RESERVED_KEYS:
        return f"{rule}, e.g. 'key: {suggestion}'."
    return f"{rule}, e.g. 'key: product-evaluated'."


def _slug(text: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", text.lower()))


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
    for position, stage in enumerate(spec.stages):
        if suggestion := seller_action_suggestion(stage.name):
            yield (
                f"Stage '{stage.name}' (line {document.line(('stages', position, 'name'))}) describes what the "
                f"seller does. Name stages for what the buyer has done, e.g. '{suggestion}' instead of "
                f"'{stage.name}' — a stage must be required, factual, inspectable and buyer-centric."
            )
        for number, criterion in enumerate(stage.exit_criteria):
            if criterion_is_seller_action(criterion):
                yield (
                    f"Exit criterion '{criterion}' of stage '{stage.key}' "
                    f"(line {document.line(('stages', position, 'exit_criteria', number))}) describes "
                    "what the seller does. Write exit criteria as what the buyer has done, e.g. 'Buyer "
                    "replied to the recap email confirming next steps' — a criterion must be required, "
                    "factual, inspectable and buyer-centric."
                )
