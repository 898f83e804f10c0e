"""The advance form: `/advance deal-42` typed without evidence, or a deal's Advance… button on the Home tab.

The rep picks the stage to move to (the next one by default; a skip enters several), ticks each exit criterion
of every stage entered, pastes one evidence link per stage entered, and may add a note. Choosing another stage
rebuilds the form (`views.update`) with that skip's fields; a field with the same block id keeps what was typed
in it (Slack keeps it, and the rebuilt field says it again). Submitting is read into the typed command's
`Advance` and checked as the typed command is (`slash_grammar.advance_from_form`).
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UrlInputElement,
)
from slack_sdk.models.views import View

from bot.listeners.payload import at, text_at
from bot.mrkdwn import VIEW_BLOCK_LIMIT, escape, plain, section
from bot.slash_grammar import ADVANCE_NOTE_FIELD, advance_from_form
from commands.deals.move_options import MoveOptions, options_at
from commands.deals.moves import Advance
from commands.errors import CommandError, FieldErrors
from commands.formats import clip, format_deal_id
from commands.i18n.translator import N_, Text, Translator, tr
from commands.pipeline.names import StageName
from commands.pipeline.stages import Pipeline, Stage
from commands.text_rules import NOTE_LIMIT, URL_LIMIT

ADVANCE_VIEW = "deal_advance_form"
ADVANCE_ACTION = "deal_advance"
"""The Home tab's Advance… button; its value is the deal's number."""
TARGET_BLOCK = "target"
TARGET_ACTION = "target_chosen"
CRITERIA_ACTION = "ticked"
EVIDENCE_ACTION = "link"
NOTE_INPUT = "note_input"
OPTIONS_PER_CHECKLIST = 10  # Block Kit's most options in one checkboxes element
OPTION_TEXT_LIMIT = 75
SELECT_OPTIONS_LIMIT = 100
FIELD_LABEL_LIMIT = 2000
LOST_TRACK = N_("This form lost track of its deal. Close it and run /advance again.")
STILL_CHANGING = N_("The form was still changing to this stage. Check the fields below, then submit again.")
NO_TARGET = N_("Choose the stage to move the deal to.")
# TRANSLATORS: under a checklist of the advance form; {criteria} lists the unticked ones, like "2. Buyer confirmed…"
UNTICKED = N_("Tick each once the buyer has done it. Not ticked: {criteria}")


@dataclass(frozen=True)
class Typed:
    """What the person had typed and ticked, by block id, to keep when the form is rebuilt."""

    links: Mapping[str, str] = field(default_factory=dict)
    ticked: Mapping[str, frozenset[str]] = field(default_factory=dict)
    note: str = ""

    @classmethod
    def of(cls, view: Any) -> "Typed":
        values = at(view, "state", "values")
        blocks = values if isinstance(values, dict) else {}
        return cls(
            links={block: text_at(blocks, block, EVIDENCE_ACTION, "value") for block in blocks},
            ticked={block: _ticked(blocks, block) for block in blocks},
            note=text_at(blocks, ADVANCE_NOTE_FIELD, NOTE_INPUT, "value"),
        )


@dataclass(frozen=True)
class StageText:
    """What a stage asks for, in one language: its evidence prompt and its exit criteria."""

    evidence_prompt: str
    exit_criteria: tuple[str, ...]


def stage_text(t: Translator, stage: Stage) -> StageText:
    """The stage's evidence prompt and exit criteria in `t`'s language (the pipeline's own where it has none in
    it)."""
    text = stage.text_in(t.language)
    return StageText(text.evidence_prompt, text.exit_criteria)


@dataclass(frozen=True)
class FormDeal:
    """The deal a form was opened for, as its private_metadata keeps it."""

    number: int
    name: str
    from_key: str


def advance_modal(t: Translator, options: MoveOptions, *, target: Stage, typed: Typed | None = None) -> View:
    """The form for moving the deal to `target` (its select offers every target whose form fits in a view)."""
    typed = typed or Typed()
    targets = [stage for stage in options.targets if _block_count(options.entered(stage)) <= VIEW_BLOCK_LIMIT]
    targets = targets[:SELECT_OPTIONS_LIMIT]
    if target not in targets:
        target = targets[0]
    deal_id = format_deal_id(options.deal_number)
    blocks: list[Block] = [
        section(
            t(
                "*{deal} · {name}* is at *{stage}*. For each stage it enters, tick what the buyer has done and link"
                " the evidence; the move is posted in the deal's thread.",
                deal=deal_id,
                name=escape(options.deal_name),
                stage=escape(t.show(StageName(options.current))),
            )
        ),
        InputBlock(
            block_id=TARGET_BLOCK,
            label=plain(t("Move to"), FIELD_LABEL_LIMIT),
            dispatch_action=True,
            element=StaticSelectElement(
                action_id=TARGET_ACTION,
                options=[_target_option(t, stage, skipped) for skipped, stage in enumerate(targets)],
                initial_option=_target_option(t, target, targets.index(target)),
            ),
        ),
    ]
    entered = options.entered(target)
    for stage in entered:
        blocks += _checklists(t, stage, typed)
        blocks.append(_evidence_input(t, stage, typed, several=len(entered) > 1))
    blocks.append(
        InputBlock(
            block_id=ADVANCE_NOTE_FIELD,
            label=plain(t("Note for the manager"), FIELD_LABEL_LIMIT),
            optional=True,
            element=PlainTextInputElement(
                action_id=NOTE_INPUT,
                multiline=True,
                max_length=NOTE_LIMIT,
                initial_value=typed.note or None,
                placeholder=plain(t("What the buyer said, what happens next"), 150),
            ),
        )
    )
    metadata = {
        "deal": options.deal_number,
        "name": options.deal_name,
        "from": options.current.key,
        "language": t.language.value,
    }
    return View(
        type="modal",
        callback_id=ADVANCE_VIEW,
        private_metadata=json.dumps(metadata),
        title=plain(_title(t, deal_id), 24),
        submit=plain(t("Ask to move"), 24),
        close=plain(t("Cancel"), 24),
        blocks=blocks,
    )


def advance_done(t: Translator, options: MoveOptions, confirmation: str) -> View:
    """What the form shows once the move is asked for: the typed command's confirmation (mrkdwn, escaped)."""
    return View(
        type="modal",
        private_metadata=json.dumps({"language": t.language.value}),
        title=plain(_title(t, format_deal_id(options.deal_number)), 24),
        close=plain(t("Done"), 24),
        blocks=[section(confirmation)],
    )


def _title(t: Translator, deal_id: str) -> str:
    # TRANSLATORS: the advance form's title, at most 24 characters with the deal's id (like deal-1234)
    return t("Advance {deal}", deal=deal_id)


def form_options(view: Any, pipeline: Pipeline) -> MoveOptions:
    """What the form offered, from its private_metadata (input, like the rest of the payload) and the pipeline."""
    deal = _form_deal(view)
    return options_at(pipeline, deal_number=deal.number, deal_name=deal.name, from_key=deal.from_key)


def _form_deal(view: Any) -> FormDeal:
    try:
        metadata = json.loads(text_at(view, "private_metadata"))
    except (ValueError, RecursionError):
        metadata = None
    number, name, from_key = at(metadata, "deal"), at(metadata, "name"), at(metadata, "from")
    if isinstance(number, bool) or not isinstance(number, int) or not isinstance(name, str):
        raise CommandError(tr(LOST_TRACK))
    if not isinstance(from_key, str):
        raise CommandError(tr(LOST_TRACK))
    return FormDeal(number, name, from_key)


def chosen_target(options: MoveOptions, key: Any) -> Stage | None:
    return options.target(key) if isinstance(key, str) else None


def advance_from_view(view: Any, options: MoveOptions) -> Advance:
    """The submitted form as the typed command's `Advance`; raises `FieldErrors` naming each wrong field: the
    target, a checklist with criteria left unticked, a link, the note."""
    values = at(view, "state", "values")
    target = chosen_target(options, at(values, TARGET_BLOCK, TARGET_ACTION, "selected_option", "value"))
    if target is None:
        raise FieldErrors({TARGET_BLOCK: tr(NO_TARGET)})
    entered = options.entered(target)
    problems: dict[str, Text] = {}
    for stage in entered:
        for block_id, chunk in _chunks(stage):
            if not isinstance(at(values, block_id), dict):
                problems[TARGET_BLOCK] = tr(STILL_CHANGING)
                continue
            ticked = _ticked(values, block_id)
            unticked = tuple(number for number, _ in chunk if str(number) not in ticked)
            if unticked:
                problems[block_id] = tr(UNTICKED, criteria=Unticked(stage, unticked))
    links = []
    for stage in entered:
        if not isinstance(at(values, _evidence_block(stage)), dict):
            problems[TARGET_BLOCK] = tr(STILL_CHANGING)
        links.append((_evidence_block(stage), text_at(values, _evidence_block(stage), EVIDENCE_ACTION, "value")))
    try:
        wanted = advance_from_form(
            deal_number=options.deal_number,
            from_key=options.current.key,
            to_key=target.key,
            links=links,
            note=text_at(values, ADVANCE_NOTE_FIELD, NOTE_INPUT, "value"),
        )
    except FieldErrors as errors:
        problems |= errors.field_texts
    if problems:
        raise FieldErrors(problems)
    return wanted


@dataclass(frozen=True)
class Unticked:
    """`Localized`: the criteria of `stage` numbered `numbers` as a refusal lists them, in the reader's language."""

    stage: Stage
    numbers: tuple[int, ...]

    def in_language(self, t: Translator) -> str:
        criteria = stage_text(t, self.stage).exit_criteria
        return "; ".join(f"{number}. {clip(criteria[number - 1], 40)}" for number in self.numbers)


def _target_option(t: Translator, stage: Stage, skipped: int) -> Option:
    """The stage as the select offers it, with how many stages the move skips; its name is cut to fit."""
    name = t.show(StageName(stage))
    if not skipped:
        return Option(value=stage.key, text=plain(name, OPTION_TEXT_LIMIT))

    def shown(stage_name: str) -> str:
        # TRANSLATORS: a stage offered in the advance form's select; {count} is how many stages the move skips
        return t.n("{stage} (skips {count})", "{stage} (skips {count})", skipped, stage=stage_name)

    room = OPTION_TEXT_LIMIT - (len(shown(name)) - len(name))
    return Option(value=stage.key, text=plain(shown(clip(name, room)), OPTION_TEXT_LIMIT))


def _chunks(stage: Stage) -> list[tuple[str, list[tuple[int, str]]]]:
    """The stage's exit criteria, numbered from 1, in checklists of at most OPTIONS_PER_CHECKLIST, by block id."""
    numbered = list(enumerate(stage.exit_criteria, start=1))
    return [
        (f"criteria-{stage.key}" + (f"/{start // OPTIONS_PER_CHECKLIST + 1}" if start else ""), numbered[start:end])
        for start in range(0, len(numbered), OPTIONS_PER_CHECKLIST)
        for end in [start + OPTIONS_PER_CHECKLIST]
    ]


def _checklists(t: Translator, stage: Stage, typed: Typed) -> list[Block]:
    blocks: list[Block] = []
    criteria = stage_text(t, stage).exit_criteria
    for index, (block_id, numbered) in enumerate(_chunks(stage)):
        chunk = [(number, criteria[number - 1]) for number, _ in numbered]
        options = [
            Option(value=str(number), text=plain(f"{number}. {item}", OPTION_TEXT_LIMIT)) for number, item in chunk
        ]
        ticked = typed.ticked.get(block_id, frozenset())
        clipped = any(len(f"{number}. {item}") > OPTION_TEXT_LIMIT for number, item in chunk)
        full = "\n".join(f"{number}. {item}" for number, item in chunk)
        name = StageName(stage)
        # TRANSLATORS: the label above a stage's exit criteria, ticked by the rep (each one says what the buyer did)
        label = t("{stage}: the buyer has…", stage=name) if index == 0 else t("{stage} (continued)", stage=name)
        blocks.append(
            InputBlock(
                block_id=block_id,
                label=plain(label, FIELD_LABEL_LIMIT),
                hint=plain(full, FIELD_LABEL_LIMIT) if clipped else None,
                element=CheckboxesElement(
                    action_id=CRITERIA_ACTION,
                    options=options,
                    initial_options=[option for option in options if option.value in ticked] or None,
                ),
            )
        )
    return blocks


def _evidence_block(stage: Stage) -> str:
    return f"evidence-{stage.key}"


def _evidence_input(t: Translator, stage: Stage, typed: Typed, *, several: bool) -> InputBlock:
    block_id = _evidence_block(stage)
    hint = t("The evidence that the buyer reached {stage}.", stage=StageName(stage))
    return InputBlock(
        block_id=block_id,
        label=plain(stage_text(t, stage).evidence_prompt, FIELD_LABEL_LIMIT),
        hint=plain(hint, FIELD_LABEL_LIMIT) if several else None,
        element=UrlInputElement(
            action_id=EVIDENCE_ACTION,
            initial_value=_link_to_keep(typed.links.get(block_id, "")),
            placeholder=plain("https://mail.example.com/buyer-reply", 150),
        ),
    )


def _link_to_keep(typed: str) -> str | None:
    """A typed link said again in the rebuilt field: only what looks like a web link goes into a URL field's
    initial value (Slack keeps the field's typed state for the same block id anyway)."""
    link = typed.strip()
    return link if link.lower().startswith(("http://", "https://")) and len(link) <= URL_LIMIT else None


def _block_count(entered: tuple[Stage, ...]) -> int:
    """The form's blocks for a move entering `entered`: the intro, the select, the note, and for each stage its
    checklists and its link."""
    return 3 + sum(len(_chunks(stage)) + 1 for stage in entered)


def _ticked(values: Any, block_id: str) -> frozenset[str]:
    selected = at(values, block_id, CRITERIA_ACTION, "selected_options")
    items = selected if isinstance(selected, list) else []
    return frozenset(value for item in items if isinstance(value := at(item, "value"), str))
