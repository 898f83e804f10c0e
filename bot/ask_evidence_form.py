"""The Ask for evidence form: a manager's click opens it with the stage's evidence prompt, the manager edits what
the rep is asked, and submitting records the ask with that text and posts it in the deal's thread."""

import json

from slack_sdk.models.blocks import InputBlock, PlainTextInputElement
from slack_sdk.models.views import View

from bot.mrkdwn import escape, mention, plain, section
from commands.deals.results import MoveSummary
from commands.errors import CommandError, FieldErrors
from commands.formats import clip, format_deal_id
from commands.i18n.translator import Translator
from commands.text_rules import NOTE_LIMIT, checked_text

ASK_EVIDENCE_VIEW = "move_ask_evidence_prompt"
PROMPT_BLOCK = "prompt"
PROMPT_INPUT = "prompt_input"


def ask_evidence_modal(t: Translator, move: MoveSummary, *, channel_id: str) -> View:
    """Prefilled with what the thread would be told without an edit: the stage's evidence prompt."""
    return View(
        type="modal",
        callback_id=ASK_EVIDENCE_VIEW,
        private_metadata=json.dumps({"move_id": move.id, "channel_id": channel_id}),
        title=plain("Ask for evidence", 24),
        submit=plain("Ask", 24),
        close=plain("Cancel", 24),
        blocks=[
            section(
                f"Ask {mention(move.requested_by)} for evidence before deciding the move of "
                f"*{format_deal_id(move.deal_number)}* to *{escape(move.to_stage.name)}*. What you write is posted "
                "in the deal's thread, after a mention of them."
            ),
            InputBlock(
                block_id=PROMPT_BLOCK,
                label=plain("What should the rep show you?", 2000),
                element=PlainTextInputElement(
                    action_id=PROMPT_INPUT,
                    multiline=True,
                    max_length=NOTE_LIMIT,
                    initial_value=clip(move.to_stage.evidence_prompt, NOTE_LIMIT),
                ),
            ),
        ],
    )


def prompt_from_form(typed: str) -> str:
    """The prompt as stored (line breaks kept), or `FieldErrors` on the prompt's field."""
    try:
        return checked_text(
            typed,
            what="The request",
            limit=NOTE_LIMIT,
            empty="Say what evidence of the buyer's action the rep should show, like: Show me the buyer's email.",
            hint="Shorten it; link a document for the details.",
            multiline=True,
        )
    except CommandError as error:
        raise FieldErrors({PROMPT_BLOCK: error.message}) from None
