"""Reading interaction payloads defensively: any field may be missing or of another type.

Slack sends well-formed payloads, but a signed request is still input: a listener takes only
strings it can use (ids of the expected shape), and a move id only as a small ASCII number.
"""

import re
from collections.abc import Mapping
from typing import Any

from commands.errors import CommandError
from commands.i18n.translator import N_, tr
from commands.services import Actor

SLACK_ID = re.compile(r"[A-Za-z0-9_]{1,32}")
MAX_MOVE_ID = 2**31 - 1  # the id column is a 32-bit integer on every backend


def at(node: Any, *path: str) -> Any:
    """The value at `path` inside nested dicts, or None where any step is not a dict."""
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def text_at(node: Any, *path: str) -> str:
    value = at(node, *path)
    return value if isinstance(value, str) else ""


def slack_id(*candidates: Any) -> str:
    """The first candidate that looks like a Slack id (user, team, channel), else ""."""
    for candidate in candidates:
        if isinstance(candidate, str) and SLACK_ID.fullmatch(candidate):
            return candidate
    return ""


def actor_of(body: dict[str, Any]) -> Actor | None:
    """Who acted, in which workspace; None when the payload does not say in a usable form."""
    user = body.get("user")
    team = body.get("team")
    user_id = slack_id(at(user, "id"), user)
    team_id = slack_id(at(team, "id"), team, at(user, "team_id"))
    if not user_id or not team_id:
        return None
    return Actor(team_id=team_id, user_id=user_id)


BAD_IDS = N_(
    "Slack sent this without a usable user, workspace or channel id, so nothing was done. Try again; if it"
    " keeps happening, ask your Slack admin to reinstall the app."
)


def slash_ids(command: Mapping[str, Any]) -> tuple[Actor, str]:
    """Who ran a slash command, in which workspace and channel; refused when an id is not of Slack's shape
    (a NUL, an unpaired surrogate or 40 characters would otherwise reach the database)."""
    user_id = slack_id(command.get("user_id"))
    team_id = slack_id(command.get("team_id"))
    channel_id = slack_id(command.get("channel_id"))
    if not (user_id and team_id and channel_id):
        raise CommandError(tr(BAD_IDS))
    return Actor(team_id=team_id, user_id=user_id), channel_id


NO_RESPONSE_URL = N_(
    "Slack sent this command without a usable response URL, where its answer goes, so nothing was done. Run the"
    " command again."
)
RESPONSE_URL = re.compile(r"https?://[!-~]{1,2000}")


def response_url_of(command: Mapping[str, Any]) -> str:
    """Where a command's answer goes (it is answered after its ack); refused when it is not a web address, so a
    command is never done without a word to the person who ran it."""
    url = command.get("response_url")
    if not isinstance(url, str) or not RESPONSE_URL.fullmatch(url):
        raise CommandError(tr(NO_RESPONSE_URL))
    return url


NO_MOVE = N_("That does not name a move. Use the buttons on a move in a deal's thread.")


def move_id(value: Any) -> int:
    """A move id from a button value or form metadata: a positive ASCII integer that fits the column."""
    if isinstance(value, bool):
        raise CommandError(tr(NO_MOVE))
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        value = int(value)
    if not isinstance(value, int) or not 1 <= value <= MAX_MOVE_ID:
        raise CommandError(tr(NO_MOVE))
    return value
