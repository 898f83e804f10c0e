"""Buttons on a pending move (in its thread or on a manager's Home tab): Approve, Reject (opens a modal for
the reason), Ask for evidence (opens a modal to edit what is asked). Refusals are told by the error boundary.

Each click is acknowledged at once. Approve is decided on the answer threads (`bot.after_ack`); a form is opened
right after the ack on the listener's thread, as the click's trigger id lasts 3 seconds however long the answers'
queue. Both hand a refusal to `ErrorBoundary.after_ack` themselves: raised to bolt after the ack, slack-bolt 1.x
would mishandle it (README, "Known issues").
"""

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot import blocks
from bot.after_ack import AfterAck
from bot.announcer import Announcer
from bot.ask_evidence_form import ask_evidence_modal
from bot.error_boundary import LateError
from bot.listeners.payload import actor_of, at, move_id, slack_id, text_at
from bot.readers import Readers
from commands.deals.moves import check_may_decide, decide_move
from commands.errors import CommandError
from commands.i18n.translator import N_, Text, tr
from commands.services import Actor, Services

logger = logging.getLogger(__name__)

ANY_ACTION = re.compile(".*")
NO_LONGER_AVAILABLE = N_(
    "That button is no longer available. Use the buttons on the latest message in the deal's thread."
)
NO_FORM = N_("Slack did not open the rejection form in time. Click Reject again.")
NO_ASK_FORM = N_("Slack did not open the form to ask for evidence in time. Click Ask for evidence again.")
NO_ACTOR = N_("Slack did not say who clicked, so nothing was done. Click again.")

HomeRefresh = Callable[[Actor, int], None]


class MoveButtons:
    """`refresh_home` republishes the Home tabs a change to a deal concerns (`HomeTab.refresh`): a decision takes
    its buttons away."""

    def __init__(
        self,
        services: Services,
        readers: Readers,
        *,
        refresh_home: HomeRefresh,
        after_ack: AfterAck,
        late_error: LateError,
    ) -> None:
        self._services = services
        self._readers = readers
        self._refresh_home = refresh_home
        self._after_ack = after_ack
        self._late_error = late_error
        self._forms = FormOpener(after_ack, late_error)

    def register(self, app: App) -> None:
        app.action(blocks.APPROVE_ACTION)(self.approve)
        app.action(blocks.REJECT_ACTION)(self.reject)
        app.action(blocks.ASK_EVIDENCE_ACTION)(self.ask_for_evidence)
        app.action(ANY_ACTION)(self.unknown)  # last: bolt runs the first listener that matches

    def approve(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        click = Click.of(body)
        move = click.move_id()
        self._after_ack.refuse_when_full()
        ack()
        self._after_ack.answer("an Approve click", lambda: self._approve(click, move, body, client), person=click.actor)

    def _approve(self, click: "Click", move: int, body: dict[str, Any], client: WebClient) -> None:
        try:
            decision = decide_move(self._services, click.actor, move_id=move, approve=True)
        except Exception as error:
            self._late_error(error, body, click.actor, client=client, respond=None)
            return
        self._after(click, client, decision.deal.number)

    def reject(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        click = Click.of(body)
        move_id = click.move_id()

        def form() -> View:
            move = check_may_decide(self._services, click.actor, move_id=move_id)
            return blocks.reject_modal(self._readers.person(client, click.actor), move, channel_id=click.channel_id)

        self._forms.open(ack, body, click, client, form, what="the rejection form", failed=tr(NO_FORM))

    def ask_for_evidence(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """Opens the form where the manager edits what the rep is asked; the ask is recorded when it is submitted
        (bot/listeners/views.py `EvidenceAskModal`)."""
        click = Click.of(body)
        move_id = click.move_id()

        def form() -> View:
            move = check_may_decide(self._services, click.actor, move_id=move_id)
            t = self._readers.person(client, click.actor)
            return ask_evidence_modal(t, move, channel_id=click.channel_id)

        self._forms.open(ack, body, click, client, form, what="the ask for evidence form", failed=tr(NO_ASK_FORM))

    def unknown(self, body: dict[str, Any]) -> None:
        """A button this app no longer has (an old message, a renamed action): say so instead of an error."""
        click = Click.of(body)
        logger.info("click on an unknown button team=%s user=%s", click.actor.team_id, click.actor.user_id)
        raise CommandError(tr(NO_LONGER_AVAILABLE))

    def _after(self, click: "Click", client: WebClient, deal_number: int) -> None:
        team_id = click.actor.team_id
        self._after_ack.run("a click", lambda: Announcer(self._services, client).deliver_for_deal(team_id, deal_number))
        self._after_ack.run("a click's Home tabs", lambda: self._refresh_home(click.actor, deal_number))


class FormOpener:
    """Opens the form a button asks for right after the button's ack, on the listener's thread, ahead of the
    queued answers (Slack's trigger id to open it with lasts 3 seconds): `form` builds it (reading what it needs,
    refusing what may not be done) and `views.open` shows it, or the clicker is told why not."""

    def __init__(self, after_ack: AfterAck, late_error: LateError) -> None:
        self._after_ack = after_ack
        self._late_error = late_error

    def open(
        self,
        ack: Ack,
        body: dict[str, Any],
        click: "Click",
        client: WebClient,
        form: Callable[[], View],
        *,
        what: str,
        failed: Text,
    ) -> None:
        def open_form() -> None:
            try:
                view = form()
                try:
                    client.views_open(trigger_id=text_at(body, "trigger_id"), view=view)
                except (SlackApiError, OSError) as error:
                    logger.warning("%s did not open: %r", what, error)
                    raise CommandError(failed) from error
            except Exception as error:
                self._late_error(error, body, click.actor, client=client, respond=None)

        ack()
        self._after_ack.now(what, open_form)


class Click:
    """The parts of a block_actions payload these buttons use."""

    def __init__(self, actor: Actor, channel_id: str, value: Any) -> None:
        self.actor = actor
        self.channel_id = channel_id
        self.value = value

    @classmethod
    def of(cls, body: dict[str, Any]) -> "Click":
        actor = actor_of(body)
        if actor is None:
            raise CommandError(tr(NO_ACTOR))
        actions = body.get("actions")
        first = actions[0] if isinstance(actions, list) and actions else None
        return cls(
            actor=actor,
            channel_id=slack_id(at(body, "channel", "id"), at(body, "container", "channel_id")),
            value=at(first, "value"),
        )

    def move_id(self) -> int:
        return move_id(self.value)
