"""Events: the Home tab (a person's deals and, for managers, the moves waiting for them), and the bot's
invitation to a channel."""

import logging
import threading
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import blocks
from bot.after_ack import AfterAck
from bot.announcer import Announcer
from bot.listeners.payload import slack_id
from bot.readers import Readers
from commands.deals.home import concerned, home_overview
from commands.digest.own import TeamRates
from commands.services import Actor, Services
from storage.db import is_outage

logger = logging.getLogger(__name__)


class HomeTab:
    """The Home tab. Refreshes after changes are coalesced: each marks the people concerned, and one republish
    per person is queued on the after-ack worker however many changes come in before it runs (a manager's tab is
    read from every waiting move of the workspace, and each change concerns every manager)."""

    def __init__(self, services: Services, readers: Readers, client: WebClient, *, after_ack: AfterAck) -> None:
        self._services = services
        self._readers = readers
        self._client = client
        self._after_ack = after_ack
        self._lock = threading.Lock()
        self._stale: dict[Actor, None] = {}
        self._republish_queued = False

    def register(self, app: App) -> None:
        app.event("app_home_opened")(self.opened)

    def opened(self, event: dict[str, Any], context: BoltContext) -> None:
        user_id, team_id = slack_id(event.get("user")), slack_id(context.team_id)
        if event.get("tab", "home") != "home" or not user_id or not team_id:
            return
        self.show(Actor(team_id=team_id, user_id=user_id))

    def refresh(self, actor: Actor, deal_number: int) -> None:
        """After a change to the deal (never before the ack): queue the republishing of the Home tab of everyone it
        concerns, its owner and the managers, and of `actor`, who made it."""
        try:
            people = concerned(self._services, team_id=actor.team_id, deal_number=deal_number)
        except Exception as error:  # the next opening of the tab shows the change
            logger.warning("home tabs not refreshed for deal-%s: %r", deal_number, error)
            return
        with self._lock:
            self._stale.update(dict.fromkeys(Actor(actor.team_id, user_id) for user_id in [*people, actor.user_id]))
            if self._republish_queued:
                return
            self._republish_queued = True
        self._after_ack.run("the Home tabs", self._republish)

    def _republish(self) -> None:
        with self._lock:
            stale, self._stale = self._stale, {}
            self._republish_queued = False
        rates = TeamRates(self._services)
        for person in stale:
            self.show(person, rates=rates)

    def show(self, actor: Actor, notice: str | None = None, *, rates: TeamRates | None = None) -> None:
        """Publish the person's Home tab, with `notice` (mrkdwn, escaped) at its top when given (best effort);
        `rates`: the team's, shared by the tabs republished together."""
        try:
            overview = home_overview(self._services, actor, rates=rates)
            t = self._readers.person(self._client, actor)
        except Exception as error:  # after an ack nobody waits for an answer: the next opening shows the tab
            if not is_outage(error):
                logger.exception("home tab not built for %s", actor.user_id)
            else:
                logger.warning("home tab not built for %s: %r", actor.user_id, error)
            return
        try:
            self._client.views_publish(user_id=actor.user_id, view=blocks.home_view(t, overview, notice=notice))
        except (SlackApiError, OSError) as error:
            logger.warning("home tab not published for %s: %r", actor.user_id, error)


class ChannelInvites:
    """When the bot is invited to a channel, post everything its deals' threads were owed while it could not
    (cards, moves, decisions of deals created in a private channel before the invite)."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def register(self, app: App) -> None:
        app.event("member_joined_channel")(self.joined)

    def joined(self, event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        user_id, channel_id, team_id = (
            slack_id(event.get("user")),
            slack_id(event.get("channel")),
            slack_id(context.team_id),
        )
        if not user_id or user_id != context.bot_user_id or not channel_id or not team_id:
            return
        Announcer(self._services, client).invited(team_id, channel_id)
