"""Posting to a deal's thread, after the ack. The database is already written when these run.

A failed post is logged and never undoes what was stored: a card that could not be posted
is posted with the deal's next event, and a move's message is posted on the next decision.
"""

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import blocks
from bot.blocks import Message
from bot.mrkdwn import section
from commands.deals import record_deal_thread
from commands.moves import record_move_message
from commands.pipeline import Stage
from commands.results import DealSummary, Decision, MoveRequested, MoveSummary
from commands.services import Services

logger = logging.getLogger(__name__)


class DealThreads:
    def __init__(self, services: Services, client: WebClient, team_id: str) -> None:
        self._services = services
        self._client = client
        self._team_id = team_id

    def post_card(self, deal: DealSummary, *, evidence_missing: Stage | None = None) -> str | None:
        message = blocks.deal_card(deal, evidence_missing=evidence_missing)
        response = self._call("chat_postMessage", channel=deal.channel_id, text=message.text, blocks=message.blocks)
        if response is None:
            return None
        thread_ts = str(response["ts"])
        record_deal_thread(self._services, team_id=self._team_id, number=deal.number, thread_ts=thread_ts)
        return thread_ts

    def refresh_card(self, deal: DealSummary) -> None:
        if deal.thread_ts is None:
            return
        message = blocks.deal_card(deal)
        self._call("chat_update", channel=deal.channel_id, ts=deal.thread_ts, text=message.text, blocks=message.blocks)

    def reply(self, deal: DealSummary, message: Message) -> str | None:
        thread_ts = deal.thread_ts or self.post_card(deal)
        if thread_ts is None:
            return None
        response = self._call(
            "chat_postMessage", channel=deal.channel_id, thread_ts=thread_ts, text=message.text, blocks=message.blocks
        )
        return str(response["ts"]) if response is not None else None

    def post_move(self, requested: MoveRequested) -> None:
        message_ts = self.reply(requested.deal, blocks.move_request(requested))
        if message_ts is not None:
            record_move_message(self._services, team_id=self._team_id, move_id=requested.move.id, message_ts=message_ts)

    def show_outcome(self, move: MoveSummary, deal: DealSummary) -> None:
        """Replace the move's buttons with its outcome, posting the message if it never was."""
        message = blocks.move_outcome(move, deal)
        if move.message_ts is None:
            self.reply(deal, message)
            return
        self._call("chat_update", channel=deal.channel_id, ts=move.message_ts, text=message.text, blocks=message.blocks)

    def show_decision(self, decision: Decision) -> None:
        self.show_outcome(decision.move, decision.deal)
        self.reply(decision.deal, blocks.decision_reply(decision))
        if decision.move.status == "approved":
            self.refresh_card(decision.deal)

    def tell(self, *, channel_id: str, user_id: str, text: str, thread_ts: str | None = None) -> None:
        """An ephemeral note to one person, e.g. a refusal after a button click."""
        arguments: dict[str, Any] = {"channel": channel_id, "user": user_id, "text": text}
        if thread_ts:
            arguments["thread_ts"] = thread_ts
        self._call("chat_postEphemeral", blocks=[section(text)], **arguments)

    def _call(self, method: str, **arguments: Any) -> Any:
        try:
            return getattr(self._client, method)(**arguments)
        except SlackApiError as error:
            logger.error(
                "slack call failed: method=%s error=%s channel=%s",
                method,
                error.response.get("error"),
                arguments.get("channel"),
            )
        except OSError as error:  # the connection failed even after the client's retries
            logger.error("slack call failed: method=%s error=%r channel=%s", method, error, arguments.get("channel"))
        return None
