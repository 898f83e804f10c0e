"""The advance form's listeners: the Home tab's Advance… button opens it, choosing another stage rebuilds it, and
submitting asks for the move exactly as `/advance … evidence:<link>` does, once per submission.

`/advance deal-42` without evidence opens the same form from bot/listeners/slash.py.
"""

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError
from slack_sdk.models.views import View

from bot import blocks
from bot.advance_form import (
    ADVANCE_ACTION,
    ADVANCE_VIEW,
    LOST_TRACK,
    TARGET_ACTION,
    Typed,
    advance_done,
    advance_from_view,
    advance_modal,
    chosen_target,
    form_options,
)
from bot.after_ack import AfterAck
from bot.announcer import Announcer
from bot.error_boundary import LateError
from bot.listeners.actions import Click, FormOpener
from bot.listeners.payload import actor_of, at, text_at
from bot.readers import Readers, form_language
from commands.deals.move_options import move_options, require_target
from commands.deals.moves import request_move
from commands.deals.results import MovedBack
from commands.errors import CommandError
from commands.i18n.translator import ENGLISH, N_, Translator, tr
from commands.inbox.requests import Once, Replayed
from commands.services import Actor, Services

logger = logging.getLogger(__name__)

FORM_FAILED = N_("Slack did not open the advance form in time. Click Advance… again.")
NO_ACTOR = N_("Slack did not say who sent this form. Close it and run /advance again.")
NOT_A_DEAL = N_("That button does not name a deal. Open the Home tab again and use the buttons there.")
MAX_DEAL_NUMBER = 2**31 - 1

HomeRefresh = Callable[[Actor, int], None]


class AdvanceForm:
    """Registered before the move buttons' catch-all for unknown buttons (bolt runs the first listener that
    matches)."""

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
        self._forms = FormOpener(after_ack, late_error)

    def register(self, app: App) -> None:
        app.action(ADVANCE_ACTION)(self.open_from_home)
        app.action(TARGET_ACTION)(self.target_chosen)
        app.view(ADVANCE_VIEW)(self.submit)

    def open_from_home(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        click = Click.of(body)
        deal_number = _deal_number(click.value)

        def form() -> View:
            options = move_options(self._services, click.actor, deal_number=deal_number)
            require_target(options)
            return advance_modal(self._readers.person(client, click.actor), options, target=options.targets[0])

        self._forms.open(ack, body, click, client, form, what="the advance form", failed=tr(FORM_FAILED))

    def target_chosen(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """Rebuild the form for the stage chosen, keeping what was typed; the view's hash makes Slack refuse an
        update built from a form that changed meanwhile (a later choice's update wins)."""
        view = body.get("view")
        options = form_options(view, self._services.pipeline)
        view_id = text_at(view, "id")
        if not view_id:
            raise CommandError(tr(LOST_TRACK))
        actions = body.get("actions")
        first = actions[0] if isinstance(actions, list) and actions else None
        target = chosen_target(options, at(first, "selected_option", "value")) or options.targets[0]
        rebuilt = advance_modal(self._form_translator(view), options, target=target, typed=Typed.of(view))
        ack()
        try:
            client.views_update(view_id=view_id, hash=text_at(view, "hash") or None, view=rebuilt)
        except (SlackClientError, OSError) as error:  # after the ack: logged, never raised (README, Known issues)
            logger.info("advance form not rebuilt: %r", error)

    def submit(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        actor = actor_of(body)
        if actor is None:
            raise CommandError(tr(NO_ACTOR))
        view = body.get("view")
        options = form_options(view, self._services.pipeline)
        wanted = advance_from_view(view, options)
        once = Once(self._services, team_id=actor.team_id, trigger_id=body.get("trigger_id"))
        try:
            result = request_move(self._services, actor, wanted, claim=once.key())
        except Replayed:  # the same submission again: the first one did it
            ack()
            return
        assert not isinstance(result, MovedBack)  # the form moves forward only
        t = self._form_translator(view)
        ack(response_action="update", view=advance_done(t, options, blocks.move_confirmation(t, result).text))
        announcer = Announcer(self._services, client)
        number = result.deal.number
        self._after_ack.run(f"the posts for deal-{number}", lambda: announcer.deliver_for_deal(actor.team_id, number))
        self._after_ack.run(f"the Home tabs for deal-{number}", lambda: self._refresh_home(actor, number))

    def _form_translator(self, view: Any) -> Translator:
        """The form's own language, as it was opened in (answered in the ack, so nothing is asked)."""
        language = form_language(view)
        return self._services.translators[language] if language is not None else ENGLISH


def _deal_number(value: Any) -> int:
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        number = int(value)
        if 1 <= number <= MAX_DEAL_NUMBER:
            return number
    raise CommandError(tr(NOT_A_DEAL))
