"""The one place where an error becomes what the person sees, by the kind of request that met it.

Listeners do not catch errors: a use case raises a `SalesbotError` (a refusal, a decision someone
else already made, a database that did not answer) and bolt hands it to `ErrorBoundary.answer`, or, for a use
case run after the ack (`bot.after_ack`), the listener's answer hands it to `ErrorBoundary.after_ack`:

- a slash command: the command's reply, with the usage when there is one; in the ack when the error came
  before it, on the response_url (`after_ack`) when it came from the use case, which runs after it;
- a button click: an ephemeral note in the message's thread, or, on the Home tab, the tab republished with the
  note at its top;
- a modal submission: a plain-text error under the form's first input (modals show no markup);
- an event: a log line only, nobody asked.

Anything else is a bug: logged with its stack, and the person is told something broke on our side.
"""

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from slack_bolt import BoltResponse, Respond
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block

from bot import blocks
from bot.blocks import Message
from bot.listeners.payload import actor_of, at, slack_id, text_at
from bot.mrkdwn import escape
from bot.readers import Readers, form_language
from bot.request_log import describe, describe_bolt
from bot.threads import DealThreads, tell_privately
from commands.deals.moves import AlreadyDecided
from commands.errors import CommandError, FieldErrors, SalesbotError, explained
from commands.formats import clip
from commands.i18n.translator import ENGLISH, N_, Translator
from commands.services import Actor, Services

logger = logging.getLogger("salesbot.requests")

UNKNOWN_COMMAND = N_("This app has no command {command}. Try `/pipeline help`.")
SOMETHING_BROKE = N_(
    "Something went wrong on our side while answering this. Check with `/deal list` or `/deal show` whether it"
    " was done before trying again."
)
MODAL_ERROR_LIMIT = 150
MARKUP = str.maketrans("", "", "`*_~")

HomeNotice = Callable[[Actor, str], None]


class LateError(Protocol):
    """`ErrorBoundary.after_ack`, as the listeners that answer after their ack are given it."""

    def __call__(
        self, error: Exception, body: dict[str, Any], actor: Actor, *, client: WebClient, respond: Respond | None
    ) -> None: ...


class ErrorBoundary:
    """Bolt's error handler (`app.error`). `show_home` republishes a person's Home tab with a notice."""

    def __init__(self, services: Services, readers: Readers, *, show_home: HomeNotice) -> None:
        self._services = services
        self._readers = readers
        self._show_home = show_home

    def answer(
        self,
        error: Exception,
        body: dict[str, Any],
        request: BoltRequest,
        response: BoltResponse | None,
        client: WebClient,
    ) -> BoltResponse | None:
        described = describe_bolt(request)
        t = self._in_ack(body)
        if isinstance(error, BoltUnhandledRequestError):
            logger.info("no listener kind=%s team=%s user=%s what=%s", *described)
            command = body.get("command")
            text = t(UNKNOWN_COMMAND, command=escape(command[:64])) if isinstance(command, str) else ""
            return _reply(response, text)
        told = _logged(error, described)
        if "command" in body:
            if isinstance(told, CommandError):
                refusal = blocks.refusal(t, told)
                return _reply(response, refusal.text, refusal.blocks)
            return _reply(response, mrkdwn_of(t, told))
        if body.get("type") == "view_submission":
            return _modal_error(t, response, body, told)
        if body.get("type") == "block_actions":
            self._tell_clicker(t, body, client, told)
        return _reply(response, "")

    def _reader(self, client: WebClient, actor: Actor) -> Translator:
        """The person's language; where finding it fails too (the database that failed the use case is down), the
        one they last read in, so the error is still told."""
        try:
            return self._readers.person(client, actor)
        except Exception as error:
            logger.warning("no language for %s: %r", actor.user_id, error)
            return self._readers.known(actor)

    def _in_ack(self, body: dict[str, Any]) -> Translator:
        """The language of a refusal in the ack, found without asking Slack or the database: a form's own (kept in
        its private_metadata when it was opened), else the one the person last read in."""
        language = form_language(at(body, "view"))
        if language is not None:
            return self._services.translators[language]
        actor = actor_of(body) or _command_actor(body)
        return self._readers.known(actor) if actor is not None else ENGLISH

    def after_ack(
        self, error: Exception, body: dict[str, Any], actor: Actor, *, client: WebClient, respond: Respond | None
    ) -> None:
        """An error met after the ack, where the use case runs: told as `answer` tells it, a slash command's on
        its response_url (ephemeral), a click's to the clicker. Telling is best effort: nobody waits."""
        described = describe(body, team_id=actor.team_id, user_id=actor.user_id)
        told = _logged(error, described)
        if told is not None:  # the request's own line went out with its ack, and says "ok"; no typed text here
            outcome = "refused" if isinstance(told, CommandError) else "error"
            name = type(told).__name__
            logger.info("answer kind=%s team=%s user=%s what=%s outcome=%s error=%s", *described, outcome, name)
        t = self._reader(client, actor)
        if "command" not in body:
            self._tell_clicker(t, body, client, told)
            return
        message = blocks.refusal(t, told) if isinstance(told, CommandError) else Message(text=mrkdwn_of(t, told))
        channel_id = slack_id(body.get("channel_id"))
        tell_privately(respond, client, channel_id=channel_id, user_id=actor.user_id, message=message)

    def _tell_clicker(self, t: Translator, body: dict[str, Any], client: WebClient, told: SalesbotError | None) -> None:
        actor = actor_of(body)
        if actor is None:
            return
        text = mrkdwn_of(t, told)
        if text_at(body, "container", "type") == "view" or at(body, "view", "type") == "home":
            self._show_home(actor, text)
            return
        channel_id = slack_id(at(body, "channel", "id"), at(body, "container", "channel_id"))
        thread_ts = text_at(body, "container", "thread_ts") or text_at(body, "container", "message_ts") or None
        if channel_id:
            DealThreads(self._services, client, actor.team_id).tell(
                channel_id=channel_id, user_id=actor.user_id, text=text, thread_ts=thread_ts
            )


def _logged(error: Exception, described: tuple[str, str, str, str]) -> SalesbotError | None:
    """The error as the person is told it (None: a bug, logged with its stack)."""
    told = explained(error)
    if told is None:
        logger.error("unhandled error kind=%s team=%s user=%s what=%s", *described, exc_info=error)
    else:
        logger.log(told.log_level, "%s kind=%s team=%s user=%s what=%s: %r", type(told).__name__, *described, error)
    return told


def mrkdwn_of(t: Translator, told: SalesbotError | None) -> str:
    """The note for a person in a message (mrkdwn, escaped), in their language."""
    if told is None:
        return t(SOMETHING_BROKE)
    if isinstance(told, AlreadyDecided):
        return blocks.already_decided(t, told)
    if isinstance(told, CommandError):
        return blocks.refusal(t, told).text
    return escape(t.show(told.text))


def plain_of(t: Translator, told: SalesbotError | None) -> str:
    """The note as a modal shows it: plain text, no markup, within Slack's length for a field error."""
    text = t.show(told.text) if told is not None else t(SOMETHING_BROKE)
    return clip(text.translate(MARKUP), MODAL_ERROR_LIMIT)


def _modal_error(
    t: Translator, response: BoltResponse | None, body: dict[str, Any], told: SalesbotError | None
) -> BoltResponse | None:
    if isinstance(told, FieldErrors):
        errors = {
            field: clip(t.show(text).translate(MARKUP), MODAL_ERROR_LIMIT) for field, text in told.field_texts.items()
        }
    else:
        errors = {_first_input(at(body, "view", "blocks")) or blocks.REASON_BLOCK: plain_of(t, told)}
    answer = {"response_action": "errors", "errors": errors}
    return _reply(response, json.dumps(answer), json_body=True)


def _first_input(view_blocks: Any) -> str | None:
    """The block id of the form's first input block: where Slack can show a field error."""
    for block in view_blocks if isinstance(view_blocks, list) else []:
        if isinstance(block, dict) and block.get("type") == "input" and isinstance(block.get("block_id"), str):
            return str(block["block_id"])
    return None


def _reply(
    response: BoltResponse | None, text: str, message_blocks: Sequence[Block] | None = None, *, json_body: bool = False
) -> BoltResponse | None:
    """A 200 answer to Slack, or None when the listener had acknowledged already (Slack has its answer)."""
    if response is None:
        return None
    if json_body:
        return BoltResponse(status=200, body=text, headers={"content-type": "application/json;charset=utf-8"})
    if message_blocks:
        body = json.dumps({"text": text, "blocks": [block.to_dict() for block in message_blocks]})
        return BoltResponse(status=200, body=body, headers={"content-type": "application/json;charset=utf-8"})
    return BoltResponse(status=200, body=text)


def _command_actor(body: dict[str, Any]) -> Actor | None:
    team_id, user_id = slack_id(body.get("team_id")), slack_id(body.get("user_id"))
    return Actor(team_id=team_id, user_id=user_id) if team_id and user_id else None
