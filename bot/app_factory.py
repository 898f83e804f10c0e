"""Build the bolt App from its dependencies; nothing here reads the environment."""

import json
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.error import BoltUnhandledRequestError
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.listeners.actions import MoveButtons
from bot.listeners.commands import SlashCommands
from bot.listeners.events import HomeTab
from bot.listeners.payload import slack_id
from bot.listeners.views import RejectionModal
from bot.mrkdwn import escape
from bot.request_log import describe
from commands.redelivery import first_delivery
from commands.services import Services

logger = logging.getLogger("salesbot.requests")

RETRIES = 3
LISTENER_THREADS = 16  # bolt's default of 5 queues acks behind slow thread posts under load
EVENT_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def make_client(*, token: str, base_url: str | None = None) -> WebClient:
    """A Web API client that retries rate limits (honouring Retry-After), 5xx and dropped connections."""
    client = WebClient(token=token, base_url=base_url) if base_url else WebClient(token=token)
    client.retry_handlers = [
        ConnectionErrorRetryHandler(max_retry_count=RETRIES),
        RateLimitErrorRetryHandler(max_retry_count=RETRIES),
        ServerErrorRetryHandler(max_retry_count=RETRIES),
    ]
    return client


def create_app(*, services: Services, signing_secret: str, client: WebClient) -> App:
    app = App(
        signing_secret=signing_secret,
        client=client,
        process_before_response=False,
        raise_error_for_unhandled_request=True,  # to `answer_error`, which answers 200 instead of bolt's 404
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS),
    )
    app.use(once_per_event(services))
    app.error(answer_error)
    for listeners in (
        SlashCommands(services),
        MoveButtons(services),
        RejectionModal(services),
        HomeTab(services),
    ):
        listeners.register(app)
    return app


def once_per_event(services: Services) -> Callable[..., BoltResponse]:
    """Middleware: acknowledge a redelivered event (same event_id) without acting on it again."""

    def middleware(body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse:
        event_id = body.get("event_id")
        team_id = slack_id(body.get("team_id"))
        is_event = body.get("type") == "event_callback" and isinstance(event_id, str) and EVENT_ID.fullmatch(event_id)
        if is_event and team_id and not first_delivery(services, team_id=team_id, event_id=str(event_id)):
            logger.info("redelivered event skipped team=%s event_id=%s", team_id, event_id)
            return BoltResponse(status=200, body="")
        return next()

    return middleware


UNKNOWN_COMMAND = "This app has no command {command}. Try `/pipeline help`."
SOMETHING_BROKE = (
    "Something went wrong on our side while answering this. Check with `/deal list` or `/deal show` whether it"
    " was done before trying again."
)


def answer_error(error: Exception, body: dict[str, Any], response: BoltResponse | None) -> BoltResponse | None:
    """Every signed request gets a 200: a request no listener handles (an old button, an unknown command or
    modal) with a short answer and one log line; an error with a message for a command, logged with its stack."""
    kind, team, user, what = describe(json.dumps(body).encode(), "application/json")
    command = body.get("command")
    if isinstance(error, BoltUnhandledRequestError):
        logger.info("no listener kind=%s team=%s user=%s what=%s", kind, team, user, what)
        text = UNKNOWN_COMMAND.format(command=escape(command[:64])) if isinstance(command, str) else ""
    else:
        logger.error("unhandled error kind=%s team=%s user=%s what=%s", kind, team, user, what, exc_info=error)
        text = SOMETHING_BROKE if isinstance(command, str) else ""
    # `response` is None when the listener had acknowledged already: Slack has had its answer.
    return None if response is None else BoltResponse(status=200, body=text)
