"""Events: the Home tab shows a person's deals and, for managers, the moves waiting for them."""

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot import blocks
from commands.home import home_overview
from commands.services import Actor, Services


class HomeTab:
    def __init__(self, services: Services) -> None:
        self._services = services

    def register(self, app: App) -> None:
        app.event("app_home_opened")(self.opened)

    def opened(self, event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        actor = Actor(team_id=context.team_id or "", user_id=event["user"])
        mine, waiting = home_overview(self._services, actor)
        client.views_publish(user_id=actor.user_id, view=blocks.home_view(mine, waiting))
