"""A stage's name as each reader reads it, for messages that name a stage before their reader is known."""

from dataclasses import dataclass

from commands.i18n.translator import Translator
from commands.pipeline.stages import Stage


@dataclass(frozen=True)
class StageName:
    """`Localized`: the stage's name in the reader's language (a message parameter: `stage=StageName(stage)`)."""

    stage: Stage

    def in_language(self, t: Translator) -> str:
        return self.stage.text_in(t.language).name


@dataclass(frozen=True)
class StagePrompt:
    """`Localized`: the stage's evidence prompt in the reader's language."""

    stage: Stage

    def in_language(self, t: Translator) -> str:
        return self.stage.text_in(t.language).evidence_prompt


@dataclass(frozen=True)
class StageCriteria:
    """`Localized`: the stage's exit criteria in the reader's language, one after another (`A; B`)."""

    stage: Stage

    def in_language(self, t: Translator) -> str:
        return "; ".join(self.stage.text_in(t.language).exit_criteria)
