"""Slash commands: parse, run one use case, ack with what the user sees, then post to threads."""

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import available_timezones

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError

from bot import blocks
from bot.announcer import Announcer
from bot.blocks import Message
from bot.digest_post import post_digest
from bot.listeners.payload import slash_ids
from bot.threads import DealThreads
from commands.board import pipeline_board
from commands.deals import create_deal, list_deals, mark_lost, show_deal
from commands.digest import period_ending
from commands.errors import CommandError
from commands.managers import change_manager, list_managers
from commands.moves import request_move
from commands.parsing import (
    ADVANCE_USAGE,
    DEAL_USAGE,
    PIPELINE_USAGE,
    ChangeManager,
    DealHelp,
    ListDeals,
    ListManagers,
    MarkLost,
    NewDeal,
    PipelineBoard,
    PipelineHelp,
    PipelineStages,
    PostDigest,
    ScheduleOff,
    SetSchedule,
    ShowDeal,
    ShowSchedule,
    parse_advance,
    parse_deal,
    parse_pipeline,
)
from commands.requests import first_time, forget
from commands.results import MovedBack
from commands.schedules import schedule_off, set_schedule, show_schedule
from commands.services import Actor, Services

logger = logging.getLogger(__name__)

FollowUp = Callable[[WebClient], object]

DATABASE_DOWN = "The pipeline's database did not answer, so nothing was changed. Please try again in a minute."
ALREADY_RECEIVED = "This command was already received; nothing was done twice."
NO_TRIGGER = (
    "Slack sent this command without a usable trigger id, so nothing was done (a change is done once per"
    " trigger id). Run the command again."
)
TRIGGER_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")  # Slack's look like 13345224609.738474920.8088930838d88f008e0


@dataclass(frozen=True)
class Reply:
    """What the user sees at once (the ack), and the thread work to do after it."""

    message: Message
    follow_up: FollowUp | None = None


class Replayed(Exception):
    """The command's trigger_id was claimed before: Slack's request, sent again."""


class Once:
    """A changing command is done once per trigger_id: the claim is taken before the change runs, and given back
    when the change does not happen (refused, or the database failed), so the same request may be tried again."""

    def __init__(self, services: Services, *, team_id: str, trigger_id: object) -> None:
        self._services = services
        self._team_id = team_id
        self._trigger_id = trigger_id
        self._taken: str | None = None

    def claim(self) -> None:
        key = self._trigger_id
        if not isinstance(key, str) or not TRIGGER_ID.fullmatch(key):
            raise CommandError(NO_TRIGGER)
        if not first_time(self._services, team_id=self._team_id, key=key):
            raise Replayed
        self._taken = key

    def release(self) -> None:
        key, self._taken = self._taken, None
        if key is None:
            return
        try:
            forget(self._services, team_id=self._team_id, key=key)
        except SQLAlchemyError as error:
            logger.warning("replay claim not released team=%s: %r", self._team_id, error)


@dataclass(frozen=True)
class Run:
    """One slash command being answered: who ran it, where, and its replay claim."""

    actor: Actor
    channel_id: str
    once: Once


class SlashCommands:
    def __init__(self, services: Services) -> None:
        self._services = services

    def register(self, app: App) -> None:
        app.command("/deal")(self.deal)
        app.command("/advance")(self.advance)
        app.command("/pipeline")(self.pipeline)

    def deal(self, ack: Ack, command: dict[str, str], client: WebClient) -> None:
        self._answer(ack, command, client, lambda run: self._deal(run, command.get("text", "")))

    def advance(self, ack: Ack, command: dict[str, str], client: WebClient) -> None:
        self._answer(ack, command, client, lambda run: self._advance(run, command.get("text", "")))

    def pipeline(self, ack: Ack, command: dict[str, str], client: WebClient) -> None:
        self._answer(ack, command, client, lambda run: self._pipeline(run, command.get("text", ""), client))

    def _answer(self, ack: Ack, command: dict[str, str], client: WebClient, answer: Callable[[Run], Reply]) -> None:
        run: Run | None = None
        reply: Reply | None = None
        try:
            actor, channel_id = slash_ids(command)
            once = Once(self._services, team_id=actor.team_id, trigger_id=command.get("trigger_id"))
            run = Run(actor, channel_id, once)
            reply = answer(run)
        except Replayed:
            logger.info("replayed command skipped team=%s what=%s", command.get("team_id"), command.get("command"))
            ack(text=ALREADY_RECEIVED)
            return
        except CommandError as error:
            refusal = blocks.refusal(error)
            ack(text=refusal.text, blocks=refusal.blocks)
            return
        except SQLAlchemyError:
            logger.exception("database error on %s", command.get("command"))
            ack(text=DATABASE_DOWN)
            return
        finally:
            if reply is None and run is not None:
                run.once.release()
        ack(text=reply.message.text, blocks=reply.message.blocks or None)
        if reply.follow_up is not None:
            reply.follow_up(client)

    def _announce(self, actor: Actor, deal_number: int) -> FollowUp:
        """After the ack: deliver what the deal's thread is owed by this change."""
        return lambda client: Announcer(self._services, client).deliver_for_deal(actor.team_id, deal_number)

    def _deal(self, run: Run, text: str) -> Reply:
        services, actor = self._services, run.actor
        match parse_deal(text):
            case NewDeal() as new:
                run.once.claim()
                deal = create_deal(services, actor, channel_id=run.channel_id, command=new)
                return Reply(blocks.created_confirmation(deal), self._announce(actor, deal.number))
            case ShowDeal(deal_number=number):
                return Reply(blocks.deal_detail(show_deal(services, actor, number=number)))
            case ListDeals() as listing:
                return Reply(blocks.deal_list(list_deals(services, actor, listing)))
            case MarkLost() as lost_command:
                run.once.claim()
                lost = mark_lost(services, actor, lost_command)
                return Reply(blocks.lost_confirmation(lost), self._announce(actor, lost.deal.number))
            case DealHelp():
                return Reply(blocks.help_message(DEAL_USAGE))
        raise AssertionError("parse_deal returned an unknown command")

    def _advance(self, run: Run, text: str) -> Reply:
        wanted = parse_advance(text)
        run.once.claim()
        result = request_move(self._services, run.actor, wanted)
        if isinstance(result, MovedBack):
            return Reply(blocks.moved_back_confirmation(result), self._announce(run.actor, result.deal.number))
        return Reply(blocks.move_confirmation(result), self._announce(run.actor, result.deal.number))

    def _pipeline(self, run: Run, text: str, client: WebClient) -> Reply:
        services, actor, channel_id = self._services, run.actor, run.channel_id
        match parse_pipeline(text):
            case PostDigest():
                run.once.claim()
                return Reply(
                    Message(text="Posting the pipeline digest for the last 7 days in this channel…"),
                    lambda client: self._post_digest(client, actor, channel_id),
                )
            case ShowSchedule():
                return Reply(blocks.schedule(show_schedule(services, actor, channel_id=channel_id)))
            case SetSchedule() as wanted:
                run.once.claim()
                default_tz = user_time_zone(client, actor.user_id) if wanted.tz is None else "UTC"
                view = set_schedule(services, actor, channel_id=channel_id, command=wanted, default_tz=default_tz)
                return Reply(blocks.schedule(view, changed=True))
            case ScheduleOff():
                run.once.claim()
                stopped = schedule_off(services, actor, channel_id=channel_id)
                return Reply(blocks.schedule_stopped(stopped))
            case PipelineBoard():
                return Reply(blocks.board(pipeline_board(services, actor)))
            case PipelineStages():
                return Reply(blocks.stages(services.pipeline))
            case PipelineHelp():
                return Reply(blocks.guide(DEAL_USAGE, ADVANCE_USAGE, PIPELINE_USAGE))
            case ListManagers():
                return Reply(blocks.managers(list_managers(services, actor)))
            case ChangeManager() as change:
                run.once.claim()
                return Reply(blocks.manager_changed(change_manager(services, actor, change)))
        raise AssertionError("parse_pipeline returned an unknown command")

    def _post_digest(self, client: WebClient, actor: Actor, channel_id: str) -> None:
        period = period_ending(self._services.clock(), tz=user_time_zone(client, actor.user_id))
        try:
            post_digest(self._services, client, team_id=actor.team_id, channel_id=channel_id, period=period)
        except (SlackApiError, OSError) as error:
            logger.error("digest post failed: channel=%s error=%r", channel_id, error)
            DealThreads(self._services, client, actor.team_id).tell(
                channel_id=channel_id,
                user_id=actor.user_id,
                text="The digest could not be posted here. If this is a private channel, invite the app first.",
            )


def user_time_zone(client: WebClient, user_id: str) -> str:
    """The person's Slack time zone (users.info), or UTC when Slack does not say."""
    try:
        zone = client.users_info(user=user_id)["user"].get("tz")
    except (SlackApiError, OSError, KeyError, TypeError) as error:
        logger.warning("no time zone for %s: %r", user_id, error)
        return "UTC"
    return zone if isinstance(zone, str) and zone in available_timezones() else "UTC"
