"""Reading a pipeline from a YAML file: validation that reports every problem, and seller-action warnings."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from commands.pipeline import DEFAULT_STALL_AFTER_DAYS, KEY_PATTERN, RESERVED_KEYS, Pipeline, Stage

TOP_LEVEL_FIELDS = ("stages",)
STAGE_FIELDS = ("key", "name", "exit_criteria", "evidence_prompt", "stall_after_days", "won")

# Each group pairs seller-action words with the buyer-centric stage name to suggest instead.
_SELLER_ACTIONS_WITH_SUGGESTION: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Product evaluated",
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
    (
        "Proposal received",
        ("send", "sending", "sent", "submit", "submitting", "submitted", "deliver", "delivering", "delivered"),
    ),
    (
        "Next meeting booked",
        (
            "follow up",
            "following up",
            "followed up",
            "followup",
            "follow-up",
            "chase",
            "chasing",
            "chased",
            "nurture",
            "nurturing",
            "nurtured",
        ),
    ),
    (
        "Meeting booked",
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
    ("Needs confirmed", ("qualify", "qualifying", "qualified", "qualification")),
    (
        "Terms agreed",
        ("negotiate", "negotiating", "negotiated", "negotiation", "negotiations"),
    ),
)

SELLER_ACTION_WORDS: tuple[str, ...] = tuple(word for _, words in _SELLER_ACTIONS_WITH_SUGGESTION for word in words)

# A seller word next to one of these is the buyer's doing: "Demo attended", "Call booked".
_BUYER_ACTION_VERBS = frozenset(
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
        "purchased",
        "received",
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
_BUYER_SUBJECTS = frozenset({"buyer", "buyers", "customer", "customers", "client", "clients", "champion"})
_SELLER_SUBJECTS = frozenset({"we", "i", "our", "rep", "reps", "seller", "sellers", "ae", "sdr", "sales"})

_TAG_NULL = "tag:yaml.org,2002:null"
_TAG_INT = "tag:yaml.org,2002:int"
_TAG_BOOL = "tag:yaml.org,2002:bool"
_SCALARS = SafeConstructor()

_FORMAT_HINT = (
    "A pipeline file is a mapping with one field, 'stages', holding a list of stages, each with "
    "key, name, exit_criteria, evidence_prompt and optionally stall_after_days and won."
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
    text = resources.files("commands").joinpath("default_pipeline.yaml").read_text(encoding="utf-8")
    return parse_pipeline(text, source="commands/default_pipeline.yaml")


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
    report = _Report(source)
    stages_node = _stages_node(_compose(text, report), report)
    drafts = [_read_stage(node, position, report) for position, node in enumerate(stages_node.value, start=1)]
    if drafts:
        _check_unique(drafts, report)
        _check_one_won(drafts, stages_node, report)
    if report.errors:
        raise PipelineFileError(source, report.errors)
    return Pipeline(
        stages=tuple(draft.to_stage() for draft in drafts),
        warnings=tuple(_seller_action_warnings(drafts)),
    )


@dataclass
class _Report:
    source: str
    _entries: list[tuple[int, str]] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [message for _, message in sorted(self._entries, key=lambda entry: entry[0])]

    def add(self, node: Node | None, problem: str, *, stage: str | None = None) -> None:
        self.add_at_line(_line(node), problem, stage=stage)

    def add_at_line(self, line: int, problem: str, *, stage: str | None = None) -> None:
        where = f"{self.source}, line {line}"
        if stage is not None:
            where += f", stage {stage}"
        self._entries.append((line, f"{where}: {problem}"))


@dataclass
class _StageDraft:
    position: int
    node: Node
    key: str | None = None
    key_node: Node | None = None
    name: str | None = None
    name_node: Node | None = None
    exit_criteria: list[tuple[str, Node]] = field(default_factory=list)
    evidence_prompt: str | None = None
    stall_after_days: int = DEFAULT_STALL_AFTER_DAYS
    won: bool = False
    won_node: Node | None = None
    raw_key: str | None = None

    @property
    def label(self) -> str:
        """How messages name this stage: its key if it has one, else its name, else its position."""
        if self.raw_key:
            return f"'{self.raw_key}'"
        if self.name:
            return f"'{self.name}'"
        return f"#{self.position}"

    def to_stage(self) -> Stage:
        if self.key is None or self.name is None or self.evidence_prompt is None:
            raise AssertionError("to_stage() called on a stage that failed validation")
        return Stage(
            key=self.key,
            name=self.name,
            exit_criteria=tuple(text for text, _ in self.exit_criteria),
            evidence_prompt=self.evidence_prompt,
            stall_after_days=self.stall_after_days,
            won=self.won,
        )


def _line(node: Node | None) -> int:
    mark = node.start_mark if node is not None else None
    return mark.line + 1 if mark is not None else 1


def _compose(text: str, report: _Report) -> Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = error.problem or error.context or "invalid YAML"
        report.add_at_line(
            line,
            f"YAML syntax error: {problem}. Check the indentation, colons and quotes on or just before this line.",
        )
    except yaml.YAMLError as error:
        report.add_at_line(1, f"YAML syntax error: {error}. Check that the file is valid YAML.")
    return None


def _stages_node(root: Node | None, report: _Report) -> SequenceNode:
    empty = SequenceNode(tag="tag:yaml.org,2002:seq", value=[])  # stand-in when there is no usable list
    if report.errors:
        return empty
    if root is None or _is_null(root):
        report.add_at_line(1, f"the file is empty. {_FORMAT_HINT}")
        return empty
    if not isinstance(root, MappingNode):
        report.add(root, f"the file must be a mapping, not {_describe(root)}. {_FORMAT_HINT}")
        return empty
    fields = _read_fields(root, TOP_LEVEL_FIELDS, report, stage=None)
    if "stages" not in fields:
        report.add(root, f"missing 'stages'. {_FORMAT_HINT}")
        return empty
    stages = fields["stages"]
    if not isinstance(stages, SequenceNode):
        report.add(stages, f"'stages' must be a list of stages, not {_describe(stages)}. {_FORMAT_HINT}")
        return empty
    if not stages.value:
        report.add(stages, f"'stages' is empty; a pipeline needs at least one stage. {_FORMAT_HINT}")
    return stages


def _read_fields(
    mapping: MappingNode, allowed: Sequence[str], report: _Report, *, stage: str | None
) -> dict[str, Node]:
    fields: dict[str, Node] = {}
    first_name_nodes: dict[str, Node] = {}
    for name_node, value_node in mapping.value:
        name = name_node.value if isinstance(name_node, ScalarNode) else None
        if not isinstance(name, str) or name not in allowed:
            report.add(name_node, _unknown_field_message(name_node, allowed), stage=stage)
        elif name in fields:
            report.add(
                name_node,
                f"'{name}' is given twice (first on line {_line(first_name_nodes[name])}). Keep one of them.",
                stage=stage,
            )
        else:
            fields[name] = value_node
            first_name_nodes[name] = name_node
    return fields


def _unknown_field_message(name_node: Node, allowed: Sequence[str]) -> str:
    allowed_list = ", ".join(allowed)
    if not isinstance(name_node, ScalarNode):
        return f"field names must be plain text. Allowed fields: {allowed_list}."
    close = difflib.get_close_matches(str(name_node.value), allowed, n=1)
    did_you_mean = f" Did you mean '{close[0]}'?" if close else ""
    return f"unknown field '{name_node.value}'.{did_you_mean} Allowed fields: {allowed_list}."


def _read_stage(node: Node, position: int, report: _Report) -> _StageDraft:
    draft = _StageDraft(position=position, node=node)
    if not isinstance(node, MappingNode):
        report.add(
            node,
            f"each stage must be a mapping with {', '.join(STAGE_FIELDS[:4])}, not {_describe(node)}. {_FORMAT_HINT}",
            stage=draft.label,
        )
        return draft
    fields = _mapping_fields_by_name(node)
    draft.raw_key = _plain_text(fields.get("key"))
    draft.name = _plain_text(fields.get("name"))
    fields = _read_fields(node, STAGE_FIELDS, report, stage=draft.label)
    _read_key(draft, fields, report)
    _read_name(draft, fields, report)
    _read_exit_criteria(draft, fields, report)
    draft.evidence_prompt = _read_required_text(draft, fields, "evidence_prompt", report)
    _read_stall_after_days(draft, fields, report)
    _read_won(draft, fields, report)
    return draft


def _mapping_fields_by_name(mapping: MappingNode) -> dict[str, Node]:
    """First value per field name, before validation, so messages can name the stage early."""
    fields: dict[str, Node] = {}
    for name_node, value_node in mapping.value:
        if isinstance(name_node, ScalarNode):
            fields.setdefault(str(name_node.value), value_node)
    return fields


def _read_key(draft: _StageDraft, fields: dict[str, Node], report: _Report) -> None:
    raw_key = _read_required_text(draft, fields, "key", report)
    if raw_key is None:
        return
    node = fields["key"]
    if raw_key.lower() in RESERVED_KEYS:
        report.add(
            node,
            f"'{raw_key}' is reserved: a lost deal is a terminal state, not a stage. Remove this stage; "
            "the bot records lost deals on its own.",
            stage=draft.label,
        )
    elif not KEY_PATTERN.fullmatch(raw_key):
        report.add(node, f"key '{raw_key}' is not valid. {_key_fix(raw_key)}", stage=draft.label)
    else:
        draft.key = raw_key
        draft.key_node = node


def _key_fix(raw_key: str) -> str:
    suggestion = _slug(raw_key)
    rule = "Use lowercase letters, digits and single hyphens, with no spaces"
    if suggestion and suggestion not in RESERVED_KEYS:
        return f"{rule}, e.g. 'key: {suggestion}'."
    return f"{rule}, e.g. 'key: product-evaluated'."


def _slug(text: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", text.lower()))


def _read_name(draft: _StageDraft, fields: dict[str, Node], report: _Report) -> None:
    draft.name = _read_required_text(draft, fields, "name", report)
    draft.name_node = fields.get("name")


def _read_required_text(draft: _StageDraft, fields: dict[str, Node], name: str, report: _Report) -> str | None:
    node = fields.get(name)
    if node is None:
        report.add(draft.node, f"missing '{name}'. {_missing_hint(draft, name)}", stage=draft.label)
        return None
    if not isinstance(node, ScalarNode):
        problem = f"'{name}' must be text, not {_describe(node)}. {_FIELD_HINTS[name]}"
        report.add(node, problem, stage=draft.label)
        return None
    text = _plain_text(node)
    if text is None:
        report.add(node, f"'{name}' is empty. {_missing_hint(draft, name)}", stage=draft.label)
    return text


def _missing_hint(draft: _StageDraft, field_name: str) -> str:
    suggestion = _slug(draft.name) if draft.name else ""
    if field_name == "key" and suggestion and suggestion not in RESERVED_KEYS:
        return f"Add 'key: {suggestion}' (lowercase letters, digits and hyphens)."
    return _FIELD_HINTS[field_name]


def _read_exit_criteria(draft: _StageDraft, fields: dict[str, Node], report: _Report) -> None:
    node = fields.get("exit_criteria")
    hint = _FIELD_HINTS["exit_criteria"]
    if node is None:
        report.add(draft.node, f"missing 'exit_criteria'. {hint}", stage=draft.label)
        return
    if not isinstance(node, SequenceNode):
        report.add(node, f"'exit_criteria' must be a list, not {_describe(node)}. {hint}", stage=draft.label)
        return
    if not node.value:
        report.add(
            node, f"'exit_criteria' is empty; a stage needs at least one buyer action. {hint}", stage=draft.label
        )
    for number, item in enumerate(node.value, start=1):
        text = _plain_text(item) if isinstance(item, ScalarNode) else None
        if text is None:
            report.add(
                item,
                f"exit criterion {number} must be a non-empty sentence, not {_describe(item)}. {hint}",
                stage=draft.label,
            )
        else:
            draft.exit_criteria.append((text, item))


def _read_stall_after_days(draft: _StageDraft, fields: dict[str, Node], report: _Report) -> None:
    node = fields.get("stall_after_days")
    if node is None:
        return
    # booleans have their own tag, so `true` is not taken for 1
    days = _SCALARS.construct_yaml_int(node) if isinstance(node, ScalarNode) and node.tag == _TAG_INT else None
    if days is None or days < 1:
        report.add(
            node,
            f"'stall_after_days' must be a whole number of days, 1 or more; got {_describe(node)}. "
            f"Write e.g. 'stall_after_days: {DEFAULT_STALL_AFTER_DAYS}', or leave it out for "
            f"{DEFAULT_STALL_AFTER_DAYS} days.",
            stage=draft.label,
        )
        return
    draft.stall_after_days = days


def _read_won(draft: _StageDraft, fields: dict[str, Node], report: _Report) -> None:
    node = fields.get("won")
    if node is None:
        return
    if not (isinstance(node, ScalarNode) and node.tag == _TAG_BOOL):
        report.add(
            node,
            f"'won' must be true or false; got {_describe(node)}. Write 'won: true' (no quotes) on the stage "
            "where the deal is won, and leave it out elsewhere.",
            stage=draft.label,
        )
        return
    draft.won = bool(_SCALARS.construct_yaml_bool(node))
    draft.won_node = node


def _check_unique(drafts: Sequence[_StageDraft], report: _Report) -> None:
    first_by_key: dict[str, _StageDraft] = {}
    first_by_name: dict[str, _StageDraft] = {}
    for draft in drafts:
        if draft.key is not None:
            earlier = first_by_key.setdefault(draft.key, draft)
            if earlier is not draft:
                report.add(
                    draft.key_node,
                    f"key '{draft.key}' is already used by the stage on line {_line(earlier.node)}. "
                    "Give each stage its own key.",
                    stage=draft.label,
                )
        if draft.name is not None:
            earlier = first_by_name.setdefault(draft.name.casefold(), draft)
            if earlier is not draft:
                report.add(
                    draft.name_node,
                    f"name '{draft.name}' is already used by the stage on line {_line(earlier.node)} "
                    "(names are compared ignoring case). Give each stage its own name.",
                    stage=draft.label,
                )


def _check_one_won(drafts: Sequence[_StageDraft], stages_node: SequenceNode, report: _Report) -> None:
    won = [draft for draft in drafts if draft.won]
    if not won:
        report.add(
            stages_node,
            "no stage is marked 'won: true'. Add 'won: true' to exactly one stage, the one where the "
            "buyer has signed (e.g. 'Contract signed').",
        )
    for extra in won[1:]:
        report.add(
            extra.won_node,
            f"only one stage may be marked 'won: true', but stage {won[0].label} on line "
            f"{_line(won[0].won_node)} is too. Keep 'won: true' on the stage where the buyer has signed.",
            stage=extra.label,
        )


def _plain_text(node: Node | None) -> str | None:
    """A scalar's text, stripped; None if absent, null or blank.

    Any scalar counts as text, so a name like `No` or `2024` is not turned into a boolean or number.
    """
    if not isinstance(node, ScalarNode) or _is_null(node):
        return None
    text = str(node.value).strip()
    return text or None


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _TAG_NULL


def _describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if _is_null(node):
        return "nothing"
    return f"'{node.value}'"


def _seller_action_warnings(drafts: Iterable[_StageDraft]) -> Iterable[str]:
    for draft in drafts:
        if draft.name is not None and (suggestion := _seller_action_suggestion(draft.name)):
            yield (
                f"Stage '{draft.name}' (line {_line(draft.name_node)}) describes what the seller does. "
                f"Name stages for what the buyer has done, e.g. '{suggestion}' instead of '{draft.name}' — "
                "a stage must be required, factual, inspectable and buyer-centric."
            )
        for criterion, node in draft.exit_criteria:
            if _criterion_is_seller_action(criterion):
                yield (
                    f"Exit criterion '{criterion}' of stage '{draft.key}' (line {_line(node)}) describes "
                    "what the seller does. Write exit criteria as what the buyer has done, e.g. 'Buyer "
                    "replied to the recap email confirming next steps' — a criterion must be required, "
                    "factual, inspectable and buyer-centric."
                )


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _seller_action_suggestion(text: str) -> str | None:
    """The buyer-centric name to suggest if `text` names a seller action, else None."""
    words = _words(text)
    if _BUYER_ACTION_VERBS.intersection(words):
        return None
    padded = f" {' '.join(words)} "
    for suggestion, seller_words in _SELLER_ACTIONS_WITH_SUGGESTION:
        if any(f" {' '.join(_words(seller_word))} " in padded for seller_word in seller_words):
            return suggestion
    return None


def _criterion_is_seller_action(criterion: str) -> bool:
    words = _words(criterion)
    if not words:
        return False
    if words[0] in _SELLER_SUBJECTS:
        return True
    return words[0] not in _BUYER_SUBJECTS and _seller_action_suggestion(criterion) is not None
