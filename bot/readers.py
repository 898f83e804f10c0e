"""Which language each reader gets: a channel post in the workspace's, and a person's own replies, forms and
Home tab in their Slack locale (`commands.i18n.languages.reader_language`).

A person's locale comes from `users.info` with `include_locale`, asked after the ack (never before it: the
ack must not wait on Slack) and kept for `ttl` seconds, so a person's burst of commands asks Slack once.
"""

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from commands.i18n.languages import DEFAULT_LANGUAGE, Language, language_named, reader_language
from commands.i18n.translator import Translator
from commands.services import Actor, Services
from commands.workspace.settings import workspace_settings

logger = logging.getLogger(__name__)

LOCALE_TTL_SECONDS = 3600.0
FAILED_TTL_SECONDS = 60.0
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
        self._last: dict[tuple[str, str], Language] = {}
        self._workspaces: dict[str, Language] = {}

    def channel(self, team_id: str) -> Translator:
        """For a post everybody in a channel reads: the workspace's language."""
        return self._services.translators[self._workspace(team_id)]

    def person(self, client: WebClient, actor: Actor) -> Translator:
        """For what one person reads alone (an ephemeral reply, a form, their Home tab, a DM)."""
        language = reader_language(self.locale(client, actor), self._workspace(actor.team_id))
        with self._lock:
            self._last[(actor.team_id, actor.user_id)] = language
        return self._services.translators[language]

    def known(self, actor: Actor) -> Translator:
        """For a refusal in an ack, which may not wait on Slack or the database: the language the person last read
        in, as long as this process remembers it; else their workspace's, as last read; else English."""
        with self._lock:
            workspace = self._workspaces.get(actor.team_id, DEFAULT_LANGUAGE)
            language = self._last.get((actor.team_id, actor.user_id), workspace)
        return self._services.translators[language]

    def locale(self, client: WebClient, actor: Actor) -> str | None:
        """The person's Slack locale (`es-ES`), or None when Slack does not say or cannot be asked."""
        key = (actor.team_id, actor.user_id)
        now = self._clock()
        with self._lock:
            kept = self._locales.get(key)
            if kept is not None and kept[0] > now:
                return kept[1]
        asked = _asked_locale(client, actor.user_id)
        locale = asked.locale if asked is not None else None
        keep = self._ttl if asked is not None else min(self._ttl, FAILED_TTL_SECONDS)  # Slack may answer soon
        with self._lock:
            self._locales[key] = (now + keep, locale)
            self._locales.move_to_end(key)
            while len(self._locales) > MAX_PEOPLE:
                forgotten, _ = self._locales.popitem(last=False)
                self._last.pop(forgotten, None)
        return locale

    def _workspace(self, team_id: str) -> Language:
        language = workspace_settings(self._services, team_id).language
        with self._lock:
            self._workspaces[team_id] = language
        return language


@dataclass(frozen=True)
class Asked:
    """Slack's answer about a person: their locale, None when Slack says none."""

    locale: str | None


def _asked_locale(client: WebClient, user_id: str) -> Asked | None:
    """Slack's answer, or None when Slack could not be asked (rate limited, down)."""
    try:
        locale = client.users_info(user=user_id, include_locale=True)["user"].get("locale")
    except (SlackApiError, OSError, KeyError, TypeError) as error:
        logger.warning("no locale for %s: %r", user_id, error)
        return None
    return Asked(locale if isinstance(locale, str) and locale else None)


def form_language(view: Any) -> Language | None:
    """The language a form was opened in, which it keeps in its private_metadata (`"language": "es"`), so that
    its submission is answered in it without asking anything before the ack."""
    if not isinstance(view, dict) or not isinstance(view.get("private_metadata"), str):
        return None
    try:
        metadata = json.loads(view["private_metadata"])
    except (ValueError, RecursionError):
        return None
    code = metadata.get("language") if isinstance(metadata, dict) else None
    return language_named(code) if isinstance(code, str) and len(code) <= 8 else None
