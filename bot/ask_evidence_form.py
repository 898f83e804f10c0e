"""The Ask for evidence form: a manager's click opens it with the stage's evidence prompt, the manager edits what
the rep is asked, and submitting records the ask with that text and posts it in the deal's thread."""

import json

from slack_sdk.models.blocks import InputBlock, PlainTextInputElement
from slack_sdk.models.views import View

from bot.advance_form import stage_text
from bot.mrkdwn import escape, mention, plain, section
from commands.deals.results import MoveSummary
from commands.errors import CommandError, FieldErrors
from commands.formats import clip, format_deal_id
from commands.i18n.translator import Translator, tr
from commands.pipeline.names import StageName
from commands.text_rules import NOTE_LIMIT, checked_text

ASK_EVIDENCE_VIEW = "move_ask_evidence_prompt"
PROMPT_BLOCK = "prompt"
PROMPT_INPUT = "prompt_input"


def ask_evidence_modal(t: Translator, move: MoveSummary, *, channel_id: str) -> View:
    """Prefilled with what the thread would be told without an edit: the stage's evidence prompt."""
    return View(
        type="modal",
        callback_id=ASK_EVIDENCE_VIEW,
        private_metadata=json.dumps({"move_id": move.id, "channel_id": channel_id, "language": t.language.value}),
        title=plain(t("Ask for evidence"), 24),
        # TRANSLATORS: the Ask for evidence form's submit button (posts the request in the deal's thread)
        submit=plain(t.ctx("button", "Ask"), 24),
        close=plain(t("Cancel"), 24),
        blocks=[
            section(
                t(
                    "Ask {rep} for evidence before deciding the move of *{deal}* to *{stage}*. What you write is"
                    " posted in the deal's thread, after a mention of them.",
                    rep=mention(move.requested_by),
                    deal=format_deal_id(move.deal_number),
                    stage=escape(t.show(StageName(move.to_stage))),
                )
            ),
            InputBlock(
                block_id=PROMPT_BLOCK,
                label=plain(t("What should the rep show you?"), 2000),
                element=PlainTextInputElement(
                    action_id=PROMPT_INPUT,
                    multiline=True,
                    max_length=NOTE_LIMIT,
                    initial_value=clip(stage_text(t, move.to_stage).evidence_prompt, NOTE_LIMIT),
                ),
            ),
        ],
    )


def prompt_from_form(typed: str) -> str:
    """The prompt as stored (line breaks kept), or `FieldErrors` on the prompt's field."""
    try:
        return checked_text(
            typed,
            what=tr("The request"),
            limit=NOTE_LIMIT,
            empty=tr("Say what evidence of the buyer's action the rep should show, like: Show me the buyer's email."),
            hint=tr("Shorten it; link a document for the details."),
            multiline=True,
        )
    except CommandError as error:
        raise FieldErrors({PROMPT_BLOCK: error.text}) from None
