"""Posting to a deal's thread. The database is already written when these run; what a post must remember
(the card's ts, a move message's ts) is returned, and stored when the announcement is marked delivered.

Posts that carry the record (the card, a move, a decision, a loss) raise `PostFailed` when Slack
refuses them after the client's retries, so the announcement stays owed and is delivered later.
Edits that only refresh what is already there (the card's stage, a move's buttons) are best effort.
"""

import logging
from functools import cached_property
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import blocks, reminder_blocks
from bot.blocks import Message
from bot.mrkdwn import section
from commands.deals.results import (
    ApprovalGiven,
    DealSummary,
    Decision,
    EvidenceAsked,
    MarkedLost,
    MovedBack,
    MoveRequested,
    MoveSummary,
)
from commands.i18n.translator import Translator
from commands.outbox.announcements import CardOwed, Posted, Subject
from commands.pipeline.stages import Stage
from commands.reminders.results import MoveReminder, StallNudge
from commands.services import Services
from commands.workspace.settings import workspace_translator
from storage.models import MoveStatus

logger = logging.getLogger(__name__)


NO_ACCESS_ERRORS = frozenset({"not_in_channel", "channel_not_found"})


class PostFailed(Exception):
    """Slack did not take a post that the thread needs; the announcement stays owed.

    `no_access` is true when Slack refused because the bot cannot see the channel (a private channel it
    was not invited to): retrying does not help until someone invites it.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.no_access = reason in NO_ACCESS_ERRORS


class DealThreads:
    """A workspace's deal threads, written in the workspace's language (everybody in the channel reads them)."""

    def __init__(self, services: Services, client: WebClient, team_id: str) -> None:
        self._services = services
        self._client = client
        self._team_id = team_id

    @cached_property
    def _t(self) -> Translator:
        return workspace_translator(self._services, self._team_id)

    def announce(self, subject: Subject) -> Posted:
        match subject:
            case CardOwed(deal=deal, evidence_missing=missing):
                return Posted(card_ts=self.post_card(deal, evidence_missing=missing))
            case MoveRequested() as requested:
                return Posted(move_message_ts=self.post_move(requested))
            case Decision() as decision:
                self.show_decision(decision)
            case ApprovalGiven() as given:
                self.show_approval(given)
            case EvidenceAsked() as asked:
                self.reply(asked.deal, blocks.evidence_request(self._t, asked))
            case MarkedLost() as lost:
                if lost.cancelled_move is not None:
                    self.show_outcome(lost.cancelled_move, lost.deal)
                self.reply(lost.deal, blocks.lost_reply(self._t, lost))
                self.refresh_card(lost.deal)
            case MovedBack() as moved:
                self.reply(moved.deal, blocks.moved_back_reply(self._t, moved))
                self.refresh_card(moved.deal)
            case MoveReminder() as reminder if reminder.still_waiting:
                self.reply(reminder.deal, reminder_blocks.move_reminder(self._t, reminder))
            case StallNudge() as nudge if nudge.still_stalled:
                self.reply(nudge.deal, reminder_blocks.stall_nudge(self._t, nudge))
        return Posted()

    def post_card(self, deal: DealSummary, *, evidence_missing: Stage | None = None) -> str | None:
        """The new card's ts; None when the deal already has its thread."""
        if deal.thread_ts is not None:
            return None
        message = blocks.deal_card(self._t, deal, evidence_missing=evidence_missing)
        response = self._post(channel=deal.channel_id, text=message.text, blocks=message.blocks)
        return str(response["ts"])

    def refresh_card(self, deal: DealSummary) -> None:
        if deal.thread_ts is None:
            return
        message = blocks.deal_card(self._t, deal)
        self._edit(channel=deal.channel_id, ts=deal.thread_ts, text=message.text, blocks=message.blocks)

    def reply(self, deal: DealSummary, message: Message) -> str:
        if deal.thread_ts is None:
            raise PostFailed(f"deal-{deal.number} has no thread yet: its card was not posted")
        response = self._post(
            channel=deal.channel_id, thread_ts=deal.thread_ts, text=message.text, blocks=message.blocks
        )
        return str(response["ts"])

    def post_move(self, requested: MoveRequested) -> str | None:
        """The move with its buttons, or, if it was decided before it could be posted, its outcome: the new
        message's ts; None when the move's message was posted before."""
        move = requested.move
        if move.message_ts is not None:
            return None
        if move.status == MoveStatus.PENDING:
            return self.reply(requested.deal, blocks.move_request(self._t, requested))
        return self.reply(requested.deal, blocks.move_outcome(self._t, move, requested.deal))

    def show_outcome(self, move: MoveSummary, deal: DealSummary) -> None:
        """Replace the move's buttons with its outcome, posting the message if it never was."""
        message = blocks.move_outcome(self._t, move, deal)
        if move.message_ts is None:
            self.reply(deal, message)
            return
        self._edit(channel=deal.channel_id, ts=move.message_ts, text=message.text, blocks=message.blocks)

    def show_decision(self, decision: Decision) -> None:
        self.show_outcome(decision.move, decision.deal)
        self.reply(decision.deal, blocks.decision_reply(self._t, decision))
        if decision.move.status == MoveStatus.APPROVED:
            self.refresh_card(decision.deal)

    def show_approval(self, given: ApprovalGiven) -> None:
        """Show who has approved so far on the move's message, keeping its buttons while it waits, and say so."""
        move, deal = given.move, given.deal
        if move.status == MoveStatus.PENDING and move.message_ts is not None:
            message = blocks.move_request(self._t, MoveRequested(deal, move, given.managers_to_ask))
            self._edit(channel=deal.channel_id, ts=move.message_ts, text=message.text, blocks=message.blocks)
        elif move.status != MoveStatus.PENDING:
            self.show_outcome(move, deal)
        self.reply(deal, blocks.approval_reply(self._t, given))

    def tell(self, *, channel_id: str, user_id: str, text: str, thread_ts: str | None = None) -> None:
        """An ephemeral note to one person, e.g. a refusal after a button click (best effort)."""
        arguments: dict[str, Any] = {"channel": channel_id, "user": user_id, "text": text}
        if thread_ts:
            arguments["thread_ts"] = thread_ts
        try:
            self._client.chat_postEphemeral(blocks=[section(text)], **arguments)
        except (SlackApiError, OSError) as error:
            logger.warning("ephemeral note failed: channel=%s error=%s", channel_id, _reason(error))

    def _post(self, **arguments: Any) -> Any:
        try:
            return self._client.chat_postMessage(**arguments)
        except (SlackApiError, OSError) as error:
            failed = PostFailed(_reason(error))
            log = logger.warning if failed.no_access else logger.error
            log("slack post failed: channel=%s error=%s", arguments.get("channel"), failed.reason)
            raise failed from error

    def _edit(self, **arguments: Any) -> None:
        try:
            self._client.chat_update(**arguments)
        except (SlackApiError, OSError) as error:
            logger.warning("slack edit failed: channel=%s error=%s", arguments.get("channel"), _reason(error))


def tell_privately(
    respond: Respond | None, client: WebClient, *, channel_id: str, user_id: str, message: Message
) -> None:
    """An ephemeral message to the person who ran a command, after its ack: on the command's response_url, which
    reaches them even where the bot cannot post; where Slack refuses that (the URL expired or was used five
    times) or cannot be reached, chat.postEphemeral in the channel. Best effort: a warning when neither works."""
    refused = "no response_url"
    if respond is not None:
        try:
            answer = respond(
                text=message.text, blocks=message.blocks or None, response_type="ephemeral", replace_original=False
            )
            if answer.status_code == 200:
                return
            refused = f"{answer.status_code} {str(answer.body)[:100]}"
        except Exception as error:  # noqa: BLE001 -- unreachable or malformed: try the channel instead
            refused = repr(error)
    logger.warning("response_url refused a reply (%s); trying the channel %s", refused, channel_id)
    try:
        client.chat_postEphemeral(
            channel=channel_id, user=user_id, text=message.text, blocks=message.blocks or [section(message.text)]
        )
    except (SlackApiError, OSError) as error:
        logger.warning("reply lost: neither the response_url nor channel=%s took it: %s", channel_id, _reason(error))


def _reason(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error"))
    return repr(error)
