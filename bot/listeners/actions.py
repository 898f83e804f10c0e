"""Buttons on a pending move: Approve, Reject (opens a modal for the reason), Ask for evidence."""

import logging
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError

from bot import blocks
from bot.announcer import Announcer
from bot.listeners.commands import DATABASE_DOWN
from bot.listeners.payload import actor_of, at, move_id, slack_id, text_at
from bot.threads import DealThreads
from commands.errors import CommandError
from commands.moves import AlreadyDecided, ask_for_evidence, check_may_decide, decide_move
from commands.services import Actor, Services

logger = logging.getLogger(__name__)

ANY_ACTION = re.compile(".*")
NO_LONGER_AVAILABLE = "That button is no longer available. Use the buttons on the latest message in the deal's thread."


class MoveButtons:
    def __init__(self, services: Services) -> None:
        self._services = services

    def register(self, app: App) -> None:
        app.action(blocks.APPROVE_ACTION)(self.approve)
        app.action(blocks.REJECT_ACTION)(self.reject)
        app.action(blocks.ASK_EVIDENCE_ACTION)(self.ask_for_evidence)
        app.action(ANY_ACTION)(self.unknown)  # last: bolt runs the first listener that matches

    def approve(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        click = Click.of(body)
        if click is None:
            return
        try:
            decision = decide_move(self._services, click.actor, move_id=click.move_id(), approve=True)
        except (CommandError, SQLAlchemyError) as error:
            click.refuse(DealThreads(self._services, client, click.actor.team_id), error)
            return
        Announcer(self._services, client).deliver_for_deal(click.actor.team_id, decision.deal.number)

    def reject(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        click = Click.of(body)
        if click is None:
            return
        try:
            move = check_may_decide(self._services, click.actor, move_id=click.move_id())
        except (CommandError, SQLAlchemyError) as error:
            click.refuse(DealThreads(self._services, client, click.actor.team_id), error)
            return
        trigger_id = text_at(body, "trigger_id")
        try:
            client.views_open(trigger_id=trigger_id, view=blocks.reject_modal(move, channel_id=click.channel_id))
        except (SlackApiError, OSError) as error:
            logger.warning("rejection form did not open: %r", error)
            click.refuse(
                DealThreads(self._services, client, click.actor.team_id),
                CommandError("Slack did not open the rejection form in time. Click Reject again."),
            )

    def ask_for_evidence(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        click = Click.of(body)
        if click is None:
            return
        try:
            asked = ask_for_evidence(self._services, click.actor, move_id=click.move_id())
        except (CommandError, SQLAlchemyError) as error:
            click.refuse(DealThreads(self._services, client, click.actor.team_id), error)
            return
        Announcer(self._services, client).deliver_for_deal(click.actor.team_id, asked.deal.number)

    def unknown(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """A button this app no longer has (an old message, a renamed action): say so instead of an error."""
        ack()
        click = Click.of(body)
        if click is None:
            return
        logger.info("click on an unknown button team=%s user=%s", click.actor.team_id, click.actor.user_id)
        click.refuse(DealThreads(self._services, client, click.actor.team_id), CommandError(NO_LONGER_AVAILABLE))


class Click:
    """The parts of a block_actions payload these buttons use."""

    def __init__(self, actor: Actor, channel_id: str, thread_ts: str | None, value: Any) -> None:
        self.actor = actor
        self.channel_id = channel_id
        self.thread_ts = thread_ts
        self.value = value

    @classmethod
    def of(cls, body: dict[str, Any]) -> "Click | None":
        actor = actor_of(body)
        if actor is None:
            logger.warning("a button click without a usable user or team was ignored")
            return None
        actions = body.get("actions")
        first = actions[0] if isinstance(actions, list) and actions else None
        return cls(
            actor=actor,
            channel_id=slack_id(at(body, "channel", "id"), at(body, "container", "channel_id")),
            thread_ts=text_at(body, "container", "thread_ts") or text_at(body, "container", "message_ts") or None,
            value=at(first, "value"),
        )

    def move_id(self) -> int:
        return move_id(self.value)

    def refuse(self, threads: DealThreads, error: CommandError | SQLAlchemyError) -> None:
        if isinstance(error, AlreadyDecided):
            text = blocks.already_decided(error)
        elif isinstance(error, CommandError):
            text = blocks.refusal(error).text
        else:
            logger.error("database error on a button click: %r", error)
            text = DATABASE_DOWN
        if self.channel_id:
            threads.tell(channel_id=self.channel_id, user_id=self.actor.user_id, text=text, thread_ts=self.thread_ts)
