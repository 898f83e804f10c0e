"""The rejection modal: the reason is required, and the decision is stored before the modal closes."""

import json
import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy.exc import SQLAlchemyError

from bot import blocks
from bot.announcer import Announcer
from bot.listeners.commands import DATABASE_DOWN
from bot.listeners.payload import actor_of, at, move_id, text_at
from bot.mrkdwn import clip
from commands.errors import CommandError
from commands.moves import AlreadyDecided, decide_move
from commands.results import Decision
from commands.services import Actor, Services
from commands.text_rules import REASON_LIMIT, checked_text

logger = logging.getLogger(__name__)

ERROR_TEXT_LIMIT = 150


class RejectionModal:
    def __init__(self, services: Services) -> None:
        self._services = services

    def register(self, app: App) -> None:
        app.view(blocks.REJECT_VIEW)(self.submit)

    def submit(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        actor = actor_of(body)
        try:
            if actor is None:
                raise CommandError("Slack did not say who sent this form. Close it and click Reject again.")
            decision = self._decide(actor, body.get("view"))
        except AlreadyDecided as error:
            ack(
                response_action="errors",
                errors={blocks.REASON_BLOCK: clip(blocks.already_decided(error), ERROR_TEXT_LIMIT)},
            )
            return
        except CommandError as error:
            ack(response_action="errors", errors={blocks.REASON_BLOCK: clip(error.message, ERROR_TEXT_LIMIT)})
            return
        except SQLAlchemyError:
            logger.exception("database error on a rejection")
            ack(response_action="errors", errors={blocks.REASON_BLOCK: clip(DATABASE_DOWN, ERROR_TEXT_LIMIT)})
            return
        ack()
        Announcer(self._services, client).deliver_for_deal(actor.team_id, decision.deal.number)

    def _decide(self, actor: Actor, view: Any) -> Decision:
        move = _move_id(text_at(view, "private_metadata"))
        typed = text_at(view, "state", "values", blocks.REASON_BLOCK, blocks.REASON_INPUT, "value")
        reason = checked_text(
            typed,
            what="The reason",
            limit=REASON_LIMIT,
            empty="Say why the move is rejected, so the rep knows what evidence to bring.",
            hint="Shorten it; link a document for the details.",
            multiline=True,
        )
        return decide_move(self._services, actor, move_id=move, approve=False, reason=reason)


LOST_TRACK = "This form lost track of its move. Click Reject on the move again."


def _move_id(private_metadata: str) -> int:
    try:
        return move_id(at(json.loads(private_metadata), "move_id"))
    except (ValueError, CommandError):
        raise CommandError(LOST_TRACK) from None
