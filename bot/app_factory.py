"""Build the bolt App from its dependencies; nothing here reads the environment."""

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.after_ack import ANSWER_THREADS, AfterAck, ListenerPool
from bot.error_boundary import ErrorBoundary
from bot.listeners.actions import MoveButtons
from bot.listeners.advance_form import AdvanceForm
from bot.listeners.events import ChannelInvites, HomeTab
from bot.listeners.payload import slack_id
from bot.listeners.slash import SlashCommands
from bot.listeners.views import EvidenceAskModal, NewDealModal, RejectionModal
from bot.readers import Readers
from commands.inbox.events import first_delivery
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


def create_app(
    *, services: Services, signing_secret: str, client: WebClient, answer_threads: int = ANSWER_THREADS
) -> App:
    after_ack = AfterAck(answer_threads=answer_threads)
    app = App(
        signing_secret=signing_secret,
        client=client,
        process_before_response=False,
        raise_error_for_unhandled_request=True,  # to the error boundary, which answers 200 instead of bolt's 404
        listener_executor=ListenerPool(LISTENER_THREADS, after_ack),
    )
    app.use(once_per_event(services))
    readers = Readers(services)
    home = HomeTab(services, readers, client, after_ack=after_ack)
    boundary = ErrorBoundary(services, readers, show_home=home.show)
    app.error(boundary.answer)
    for listeners in (
        SlashCommands(services, readers, after_ack=after_ack, refresh_home=home.refresh, late_error=boundary.after_ack),
        AdvanceForm(  # before MoveButtons' catch-all
            services, readers, refresh_home=home.refresh, after_ack=after_ack, late_error=boundary.after_ack
        ),
        MoveButtons(services, readers, refresh_home=home.refresh, after_ack=after_ack, late_error=boundary.after_ack),
        RejectionModal(services, refresh_home=home.refresh, after_ack=after_ack),
        NewDealModal(services, refresh_home=home.refresh, after_ack=after_ack),
        EvidenceAskModal(services, refresh_home=home.refresh, after_ack=after_ack),
        home,
        ChannelInvites(services),
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
