"""Linting a pipeline: does every stage meet the four standards of a buyer-centric stage?

A stage is entered when the buyer has done everything in its exit criteria, and a manager checks the evidence
its prompt asks for. The linter reads the stages (not the file), so it checks the pipeline the app runs with as
well as any file. Text is compared as its *words*: lowercased runs of letters and digits ("Follow-up" is the
words "follow up", "buyer's" is "buyer s"). A *phrase* of a list below (in `commands.pipeline.english_rules`)
matches when its words appear together, in order, as whole words. The rules, one finding each:

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

The findings' sentences are messages (`tr`), shown in the reader's language; the pipeline's own words in them
(its criteria, names and keys, and the English rewrites suggested) are quoted unchanged.

The loader's warnings (`commands.pipeline.loading`) use the same buyer-centric rules through
`seller_action_suggestion` and `criterion_is_seller_action`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from babel import Locale, UnknownLocaleError

from commands.i18n.translator import Text, Translator, tr, tr_n
from commands.pipeline.english_rules import SELLER_ACTION_WORDS as SELLER_ACTION_WORDS
from commands.pipeline.english_rules import (
    buyer_rewrite,
    done_name,
    next_action,
    prompt_for,
    quoted,
    reads_as_done,
)
from commands.pipeline.english_rules import criterion_is_seller_action as criterion_is_seller_action
from commands.pipeline.english_rules import gist as gist
from commands.pipeline.english_rules import is_inspectable as is_inspectable
from commands.pipeline.english_rules import opinion_in as opinion_in
from commands.pipeline.english_rules import seller_action_suggestion as seller_action_suggestion
from commands.pipeline.stages import Pipeline, Stage, StageText

Standard = Literal["required", "factual", "inspectable", "buyer-centric", "complete"]
#: The texts of a stage a finding can be about: its name, its exit criteria as a whole, one exit criterion
#: (`Finding.number`), its evidence prompt.
Part = Literal["name", "exit_criteria", "criterion", "evidence_prompt"]
_TEXT_PARTS: tuple[Part, ...] = ("name", "exit_criteria", "evidence_prompt")

STANDARD_NAMES: dict[Standard, Text] = {
    # TRANSLATORS: the name of one of the standards a pipeline's stages are linted against, shown after a
    # finding in parentheses: "(required)". As in the lint's explanation: no repeated exit criteria.
    "required": tr("required"),
    # TRANSLATORS: a lint standard's name, shown as "(factual)": things the buyer did, not opinions.
    "factual": tr("factual"),
    # TRANSLATORS: a lint standard's name, shown as "(inspectable)": evidence a manager can open.
    "inspectable": tr("inspectable"),
    # TRANSLATORS: a lint standard's name, shown as "(buyer-centric)": named for what the buyer has done.
    "buyer-centric": tr("buyer-centric"),
    # TRANSLATORS: a lint standard's name, shown as "(complete)": every text written in every language.
    "complete": tr("complete"),
}


@dataclass(frozen=True)
class LanguageName:
    """`Localized`: a language of a pipeline's texts by its name in the reader's language and its code,
    "Spanish (es)", "español (es)"."""

    code: str

    def in_language(self, t: Translator) -> str:
        try:
            name = Locale.parse(self.code).get_display_name(t.locale) or self.code
        except (ValueError, UnknownLocaleError):
            name = self.code
        return f"{name} ({self.code})"


@dataclass(frozen=True)
class Finding:
    """One way a stage falls short of a standard: where, what is wrong (one line), and a rewrite.

    `problem_text` and `suggestion_text` are translated for their reader (`commands.i18n.translator.Text`);
    `problem`, `suggestion`, `where` and `text()` are their English, for the command line. The pipeline's own
    words (a criterion, a stage's name or key, a suggested English rewrite) are quoted unchanged in every
    language. The texts are plain: a renderer escapes them.
    """

    stage_key: str
    part: Part
    standard: Standard
    problem_text: Text
    suggestion_text: Text
    number: int = 0
    """The exit criterion's, from 1, when `part` is one criterion."""
    language: str = ""
    """The language of the text the finding is about, when it is not the pipeline's source language."""

    @property
    def field(self) -> str:
        """The field as the pipeline file names it: "name", "exit_criteria", "exit criterion N" (from 1) or
        "evidence_prompt", followed by " in xx" when the text is in language xx and that is not the pipeline's
        source language (`commands.pipeline.loading.FieldLines` finds its line)."""
        return str(self.field_text)

    @property
    def field_text(self) -> Text:
        if self.language:
            return {
                # TRANSLATORS: where in a stage a lint finding is: the stage's name (the pipeline file's field
                # 'name') in a language other than the file's own; {language} is a code like "es".
                "name": tr("name in {language}", language=self.language),
                # TRANSLATORS: the stage's exit criteria (the file's field 'exit_criteria') in language {language}.
                "exit_criteria": tr("exit_criteria in {language}", language=self.language),
                # TRANSLATORS: the stage's exit criterion number {number} in language {language} ("es").
                "criterion": tr("exit criterion {number} in {language}", number=self.number, language=self.language),
                # TRANSLATORS: the stage's evidence prompt (the file's field 'evidence_prompt') in {language}.
                "evidence_prompt": tr("evidence_prompt in {language}", language=self.language),
            }[self.part]
        return {
            # TRANSLATORS: where in a stage a lint finding is: the stage's name (the pipeline file's field 'name').
            "name": tr("name"),
            # TRANSLATORS: where in a stage a lint finding is: its exit criteria as a whole ('exit_criteria').
            "exit_criteria": tr("exit_criteria"),
            # TRANSLATORS: where in a stage a lint finding is: its exit criterion number {number}.
            "criterion": tr("exit criterion {number}", number=self.number),
            # TRANSLATORS: where in a stage a lint finding is: its evidence prompt ('evidence_prompt').
            "evidence_prompt": tr("evidence_prompt"),
        }[self.part]

    @property
    def where_text(self) -> Text:
        # TRANSLATORS: where a lint finding is: {stage} is the stage's key, {field} one of its fields ("name",
        # "exit criterion 2").
        return tr("stage '{stage}', {field}", stage=self.stage_key, field=self.field_text)

    @property
    def standard_text(self) -> Text:
        return STANDARD_NAMES[self.standard]

    @property
    def where(self) -> str:
        return str(self.where_text)

    @property
    def problem(self) -> str:
        return str(self.problem_text)

    @property
    def suggestion(self) -> str:
        return str(self.suggestion_text)

    def text(self) -> str:
        """The finding as two lines of English plain text: where and what is wrong, then the suggestion."""
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
                found.append(finding if pipeline.language == "en" else replace(finding, language="en"))
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
    in_language, in_source = LanguageName(language), LanguageName(stage.language)
    missing = text.missing()
    for part in _TEXT_PARTS:
        if part not in missing:
            continue
        yield Finding(
            stage.key,
            part,
            "complete",
            _missing_problem(part, in_language, in_source),
            _missing_suggestion(part, language, stage.language, source),
            language=language,
        )
    if text.exit_criteria and len(text.exit_criteria) != len(source.exit_criteria):
        yield Finding(
            stage.key,
            "exit_criteria",
            "complete",
            # TRANSLATORS: {language} and {source} are languages with their codes: "Spanish (es)".
            tr_n(
                "{count} exit criteria in {language} but {source_count} in {source}.",
                "{count} exit criteria in {language} but {source_count} in {source}.",
                len(text.exit_criteria),
                language=in_language,
                source_count=len(source.exit_criteria),
                source=in_source,
            ),
            tr("Translate each {source} criterion once, in the same order.", source=in_source),
            language=language,
        )


def _missing_problem(part: str, in_language: LanguageName, in_source: LanguageName) -> Text:
    if part == "name":
        # TRANSLATORS: {language} and {source} are languages with their codes: "Spanish (es)".
        return tr(
            "no name in {language}, though the pipeline has texts in it: a user reading {language} sees the "
            "{source} one.",
            language=in_language,
            source=in_source,
        )
    if part == "exit_criteria":
        # TRANSLATORS: {language} and {source} are languages with their codes: "Spanish (es)".
        return tr(
            "no exit criteria in {language}, though the pipeline has texts in it: a user reading {language} sees "
            "the {source} one.",
            language=in_language,
            source=in_source,
        )
    # TRANSLATORS: {language} and {source} are languages with their codes: "Spanish (es)".
    return tr(
        "no evidence prompt in {language}, though the pipeline has texts in it: a user reading {language} sees "
        "the {source} one.",
        language=in_language,
        source=in_source,
    )


def _missing_suggestion(part: str, language: str, source_language: str, source: StageText) -> Text:
    if part == "name":
        # TRANSLATORS: {language} and {source_language} are codes ("es") written in the pipeline file, {name} the
        # stage's name; keep the file's field 'name' and the quotes as they are.
        return tr(
            "Add '{language}: …' under 'name', next to '{source_language}: {name}'.",
            language=language,
            source_language=source_language,
            name=quoted(source.name),
        )
    if part == "exit_criteria":
        # TRANSLATORS: {language} is a code ("es") written in the pipeline file, {source} a language with its code:
        # "English (en)"; keep the file's field 'exit_criteria' and the quotes as they are.
        return tr_n(
            "Add '{language}:' under 'exit_criteria', with the {count} criteria of {source} in the same order.",
            "Add '{language}:' under 'exit_criteria', with the {count} criteria of {source} in the same order.",
            len(source.exit_criteria),
            language=language,
            source=LanguageName(source_language),
        )
    # TRANSLATORS: {language} and {source_language} are codes ("es") written in the pipeline file, {prompt} the
    # stage's evidence prompt; keep the file's field 'evidence_prompt' and the quotes as they are.
    return tr(
        "Add '{language}: …' under 'evidence_prompt', next to '{source_language}: {prompt}'.",
        language=language,
        source_language=source_language,
        prompt=quoted(source.evidence_prompt),
    )


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
        # TRANSLATORS: {earlier} is a stage's key, {name} this stage's name: the pipeline's own words.
        tr(
            "every exit criterion repeats stage '{earlier}', so reaching '{name}' asks nothing new of the buyer.",
            earlier=earlier.key,
            name=quoted(stage.name),
        ),
        # TRANSLATORS: {example} is an exit criterion suggested in the pipeline's language (English).
        tr(
            "Merge it into '{earlier}', or list the buyer action that sets it apart, e.g. '{example}'.",
            earlier=earlier.key,
            example=next_action(stage),
        ),
    )


def _repeated_criterion(stage: Stage, number: int, first: Stage, first_number: int) -> Finding:
    criterion = quoted(stage.exit_criteria[number])
    if first.key == stage.key:
        problem = tr("'{criterion}' says exit criterion {number} again.", criterion=criterion, number=first_number + 1)
        suggestion = tr("Remove it, or replace it with another action the buyer must have done.")
    else:
        problem = tr(
            "'{criterion}' repeats exit criterion {number} of stage '{earlier}', which the buyer did to get there.",
            criterion=criterion,
            number=first_number + 1,
            earlier=first.key,
        )
        suggestion = tr("Remove it, or replace it with what the buyer did after '{name}'.", name=quoted(first.name))
    return Finding(stage.key, "criterion", "required", problem, suggestion, number=number + 1)


# --- factual and buyer-centric criteria ----------------------------------------------------------


def _criterion_findings(stage: Stage, number: int, criterion: str) -> Iterator[Finding]:
    if (opinion := opinion_in(criterion)) is not None:
        phrase, rewrite = opinion
        yield Finding(
            stage.key,
            "criterion",
            "factual",
            # TRANSLATORS: {phrase} is the English word of the criterion that reads as an opinion.
            tr(
                "'{criterion}' is an opinion ('{phrase}'), not something the buyer did.",
                criterion=quoted(criterion),
                phrase=phrase,
            ),
            tr("Write the buyer action that shows it, e.g. '{example}'.", example=rewrite.criterion),
            number=number + 1,
        )
    elif criterion_is_seller_action(criterion):
        yield Finding(
            stage.key,
            "criterion",
            "buyer-centric",
            tr("'{criterion}' is what the seller does, not what the buyer did.", criterion=quoted(criterion)),
            tr("Write what the buyer did, e.g. '{example}'.", example=buyer_rewrite(criterion)),
            number=number + 1,
        )


# --- inspectable ---------------------------------------------------------------------------------


def _not_inspectable(stage: Stage) -> Finding:
    return Finding(
        stage.key,
        "evidence_prompt",
        "inspectable",
        tr(
            "'{prompt}' names nothing a manager can open (an email, invite, document...).",
            prompt=quoted(stage.evidence_prompt),
        ),
        # TRANSLATORS: {example} is an evidence prompt suggested in the pipeline's language (English).
        tr("Name the document or message, e.g. '{example}'", example=prompt_for(stage)),
    )


# --- buyer-centric names -------------------------------------------------------------------------


def _name_findings(stage: Stage) -> Iterator[Finding]:
    name = quoted(stage.name)
    if (suggestion := seller_action_suggestion(stage.name)) is not None:
        problem = tr("'{name}' names what the seller does, not what the buyer has done.", name=name)
    elif not reads_as_done(stage.name):
        suggestion = done_name(stage.name)
        problem = tr("'{name}' does not say what the buyer has done (no verb in the past tense).", name=name)
    else:
        return
    # TRANSLATORS: {name} is a stage name suggested in the pipeline's language (English).
    yield Finding(stage.key, "name", "buyer-centric", problem, tr("Rename it '{name}'.", name=suggestion))
