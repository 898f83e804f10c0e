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
from bot.mrkdwn import clip
from commands.errors import CommandError
from commands.moves import AlreadyDecided, decide_move
from commands.results import Decision
from commands.services import Actor, Services

logger = logging.getLogger(__name__)

ERROR_TEXT_LIMIT = 150


class RejectionModal:
    def __init__(self, services: Services) -> None:
        self._services = services

    def register(self, app: App) -> None:
        app.view(blocks.REJECT_VIEW)(self.submit)

    def submit(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        user = body.get("user") or {}
        team_id = (body.get("team") or {}).get("id") or user.get("team_id") or ""
        actor = Actor(team_id=team_id, user_id=user.get("id", ""))
        view = body.get("view") or {}
        try:
            decision = self._decide(actor, view)
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

    def _decide(self, actor: Actor, view: dict[str, Any]) -> Decision:
        move_id = _move_id(view.get("private_metadata", ""))
        values = (view.get("state") or {}).get("values") or {}
        reason = ((values.get(blocks.REASON_BLOCK) or {}).get(blocks.REASON_INPUT) or {}).get("value") or ""
        if not reason.strip():
            raise CommandError("Say why the move is rejected, so the rep knows what evidence to bring.")
        return decide_move(self._services, actor, move_id=move_id, approve=False, reason=reason)


def _move_id(private_metadata: str) -> int:
    try:
        move_id = json.loads(private_metadata)["move_id"]
    except (ValueError, KeyError, TypeError):
        raise CommandError("This form lost track of its move. Click Reject on the move again.") from None
    if not isinstance(move_id, int):
        raise CommandError("This form lost track of its move. Click Reject on the move again.")
    return move_id
