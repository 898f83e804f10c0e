"""Which language each reader gets: a channel post in the workspace's, and a person's own replies, forms and
Home tab in their Slack locale (`commands.i18n.languages.reader_language`).

A person's locale comes from `users.info` with `include_locale`, asked after the ack (never before it: the
ack must not wait on Slack) and kept for `ttl` seconds, so a person's burst of commands asks Slack once.
"""

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from commands.i18n.languages import reader_language
from commands.i18n.translator import Translator
from commands.services import Actor, Services
from commands.workspace.settings import workspace_settings, workspace_translator

logger = logging.getLogger(__name__)

LOCALE_TTL_SECONDS = 3600.0
MAX_PEOPLE = 10_000


class Readers:
    """The translator for a reader or a channel. One per app; safe to share between threads."""

    def __init__(
        self, services: Services, *, ttl: float = LOCALE_TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._services = services
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._locales: OrderedDict[tuple[str, str], tuple[float, str | None]] = OrderedDict()

    def channel(self, team_id: str) -> Translator:
        """For a post everybody in a channel reads: the workspace's language."""
        return workspace_translator(self._services, team_id)

    def person(self, client: WebClient, actor: Actor) -> Translator:
        """For what one person reads alone (an ephemeral reply, a form, their Home tab, a DM)."""
        workspace = workspace_settings(self._services, actor.team_id).language
        return self._services.translators[reader_language(self.locale(client, actor), workspace)]

    def locale(self, client: WebClient, actor: Actor) -> str | None:
        """The person's Slack locale (`es-ES`), or None when Slack does not say or cannot be asked."""
        key = (actor.team_id, actor.user_id)
        now = self._clock()
        with self._lock:
            kept = self._locales.get(key)
            if kept is not None and kept[0] > now:
                return kept[1]
        locale = _asked_locale(client, actor.user_id)
        with self._lock:
            self._locales[key] = (now + self._ttl, locale)
            self._locales.move_to_end(key)
            while len(self._locales) > MAX_PEOPLE:
                self._locales.popitem(last=False)
        return locale


def _asked_locale(client: WebClient, user_id: str) -> str | None:
    try:
        locale = client.users_info(user=user_id, include_locale=True)["user"].get("locale")
    except (SlackApiError, OSError, KeyError, TypeError) as error:
        logger.warning("no locale for %s: %r", user_id, error)
        return None
    return locale if isinstance(locale, str) and locale else None
