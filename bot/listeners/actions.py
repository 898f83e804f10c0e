"""Buttons on a pending move: Approve, Reject (opens a modal for the reason), Ask for evidence."""

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy.exc import SQLAlchemyError

from bot import blocks
from bot.announcer import Announcer
from bot.listeners.commands import DATABASE_DOWN
from bot.threads import DealThreads
from commands.errors import CommandError
from commands.moves import AlreadyDecided, ask_for_evidence, check_may_decide, decide_move
from commands.services import Actor, Services

logger = logging.getLogger(__name__)


class MoveButtons:
    def __init__(self, services: Services) -> None:
        self._services = services

    def register(self, app: App) -> None:
        app.action(blocks.APPROVE_ACTION)(self.approve)
        app.action(blocks.REJECT_ACTION)(self.reject)
        app.action(blocks.ASK_EVIDENCE_ACTION)(self.ask_for_evidence)

    def approve(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        click = Click.of(body)
        try:
            decision = decide_move(self._services, click.actor, move_id=click.move_id(), approve=True)
        except (CommandError, SQLAlchemyError) as error:
            click.refuse(DealThreads(self._services, client, click.actor.team_id), error)
            return
        Announcer(self._services, client).deliver_for_deal(click.actor.team_id, decision.deal.number)

    def reject(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        click = Click.of(body)
        try:
            move = check_may_decide(self._services, click.actor, move_id=click.move_id())
        except (CommandError, SQLAlchemyError) as error:
            click.refuse(DealThreads(self._services, client, click.actor.team_id), error)
            return
        client.views_open(trigger_id=body["trigger_id"], view=blocks.reject_modal(move, channel_id=click.channel_id))

    def ask_for_evidence(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        click = Click.of(body)
        try:
            asked = ask_for_evidence(self._services, click.actor, move_id=click.move_id())
        except (CommandError, SQLAlchemyError) as error:
            click.refuse(DealThreads(self._services, client, click.actor.team_id), error)
            return
        Announcer(self._services, client).deliver_for_deal(click.actor.team_id, asked.deal.number)


class Click:
    """The parts of a block_actions payload these buttons use."""

    def __init__(self, actor: Actor, channel_id: str, thread_ts: str | None, value: str) -> None:
        self.actor = actor
        self.channel_id = channel_id
        self.thread_ts = thread_ts
        self.value = value

    @classmethod
    def of(cls, body: dict[str, Any]) -> "Click":
        user = body.get("user") or {}
        team_id = (body.get("team") or {}).get("id") or user.get("team_id") or ""
        container = body.get("container") or {}
        actions = body.get("actions") or [{}]
        return cls(
            actor=Actor(team_id=team_id, user_id=user.get("id", "")),
            channel_id=(body.get("channel") or {}).get("id") or container.get("channel_id", ""),
            thread_ts=container.get("thread_ts") or container.get("message_ts"),
            value=str(actions[0].get("value", "")),
        )

    def move_id(self) -> int:
        if not self.value.isdigit():
            raise CommandError("That button does not name a move. Use the buttons on a move in a deal's thread.")
        return int(self.value)

    def refuse(self, threads: DealThreads, error: CommandError | SQLAlchemyError) -> None:
        if isinstance(error, AlreadyDecided):
            text = blocks.already_decided(error)
        elif isinstance(error, CommandError):
            text = blocks.refusal(error).text
        else:
            logger.error("database error on a button click: %r", error)
            text = DATABASE_DOWN
        threads.tell(channel_id=self.channel_id, user_id=self.actor.user_id, text=text, thread_ts=self.thread_ts)
