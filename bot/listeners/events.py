"""Events: the Home tab shows a person's deals and, for managers, the moves waiting for them."""

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import blocks
from bot.listeners.payload import slack_id
from commands.home import home_overview
from commands.services import Actor, Services

logger = logging.getLogger(__name__)


class HomeTab:
    def __init__(self, services: Services) -> None:
        self._services = services

    def register(self, app: App) -> None:
        app.event("app_home_opened")(self.opened)

    def opened(self, event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        user_id, team_id = slack_id(event.get("user")), slack_id(context.team_id)
        if event.get("tab", "home") != "home" or not user_id or not team_id:
            return
        actor = Actor(team_id=team_id, user_id=user_id)
        mine, waiting = home_overview(self._services, actor)
        try:
            client.views_publish(user_id=actor.user_id, view=blocks.home_view(mine, waiting))
        except (SlackApiError, OSError) as error:
            logger.warning("home tab not published for %s: %r", user_id, error)
