"""Forms: the rejection modal (the reason is required), the Ask for evidence modal (the request, editable) and
the new deal form. What a form asks for is stored
before it closes; a refusal (a field that is wrong, a move decided meanwhile) is raised and shown under its field
by the error boundary."""

import json
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import blocks
from bot.after_ack import AfterAck
from bot.announcer import Announcer
from bot.ask_evidence_form import ASK_EVIDENCE_VIEW, PROMPT_BLOCK, PROMPT_INPUT, prompt_from_form
from bot.listeners.payload import actor_of, at, move_id, text_at
from bot.slash_grammar import new_deal_from_form
from commands.deals.deal import CurrencyRefused, create_deal
from commands.deals.moves import ask_for_evidence, decide_move
from commands.deals.results import Decision
from commands.errors import CommandError, FieldErrors
from commands.i18n.translator import N_, tr
from commands.inbox.requests import Once, Replayed
from commands.services import Actor, Services
from commands.text_rules import REASON_LIMIT, checked_text

NO_ACTOR = N_("Slack did not say who sent this form. Close it and click Reject again.")
LOST_TRACK = N_("This form lost track of its move. Click Reject on the move again.")
NO_ACTOR_NEW_DEAL = N_("Slack did not say who sent this form. Close it and run /deal new again.")
NO_ACTOR_ASK = N_("Slack did not say who sent this form. Close it and click Ask for evidence again.")
LOST_TRACK_ASK = N_("This form lost track of its move. Click Ask for evidence on the move again.")
LOST_CHANNEL = N_("This form lost track of its channel. Close it and run /deal new again in the deal's channel.")

HomeRefresh = Callable[[Actor, int], None]


class RejectionModal:
    def __init__(self, services: Services, *, refresh_home: HomeRefresh, after_ack: AfterAck) -> None:
        self._services = services
        self._refresh_home = refresh_home
        self._after_ack = after_ack

    def register(self, app: App) -> None:
        app.view(blocks.REJECT_VIEW)(self.submit)

    def submit(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        actor = actor_of(body)
        if actor is None:
            raise CommandError(tr(NO_ACTOR))
        view = body.get("view")
        decision = self._decide(actor, view)
        ack()
        number = decision.deal.number
        self._after_ack.run(
            "a rejection", lambda: Announcer(self._services, client).deliver_for_deal(actor.team_id, number)
        )
        self._after_ack.run("a rejection's Home tabs", lambda: self._refresh_home(actor, number))

    def _decide(self, actor: Actor, view: Any) -> Decision:
        move = _move_id(view)
        typed = text_at(view, "state", "values", blocks.REASON_BLOCK, blocks.REASON_INPUT, "value")
        reason = checked_text(
            typed,
            what=tr("The reason"),
            limit=REASON_LIMIT,
            empty=tr("Say why the move is rejected, so the rep knows what evidence to bring."),
            hint=tr("Shorten it; link a document for the details."),
            multiline=True,
        )
        return decide_move(self._services, actor, move_id=move, approve=False, reason=reason)


class EvidenceAskModal:
    """Ask for evidence opens this form (bot/listeners/actions.py); submitting records the ask with what the manager
    wrote and posts it in the deal's thread, once per submission. Same rules as any decision: only a manager who may
    decide it, and a move decided meanwhile is refused."""

    def __init__(self, services: Services, *, refresh_home: HomeRefresh, after_ack: AfterAck) -> None:
        self._services = services
        self._refresh_home = refresh_home
        self._after_ack = after_ack

    def register(self, app: App) -> None:
        app.view(ASK_EVIDENCE_VIEW)(self.submit)

    def submit(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        actor = actor_of(body)
        if actor is None:
            raise CommandError(tr(NO_ACTOR_ASK))
        view = body.get("view")
        move = _move_id(view, LOST_TRACK_ASK)
        prompt = prompt_from_form(text_at(view, "state", "values", PROMPT_BLOCK, PROMPT_INPUT, "value"))
        claim = Once(self._services, team_id=actor.team_id, trigger_id=body.get("trigger_id")).key()
        try:
            asked = ask_for_evidence(self._services, actor, move_id=move, prompt=prompt, claim=claim)
        except Replayed:  # the same submission again: the first one asked
            ack()
            return
        ack()
        number = asked.deal.number
        self._after_ack.run(
            "an ask for evidence", lambda: Announcer(self._services, client).deliver_for_deal(actor.team_id, number)
        )
        self._after_ack.run("an ask for evidence's Home tabs", lambda: self._refresh_home(actor, number))


class NewDealModal:
    """`/deal new` alone opens this form (bot/listeners/slash.py); submitting it creates the deal exactly as the
    typed command does, once per submission."""

    def __init__(self, services: Services, *, refresh_home: HomeRefresh, after_ack: AfterAck) -> None:
        self._services = services
        self._refresh_home = refresh_home
        self._after_ack = after_ack

    def register(self, app: App) -> None:
        app.view(blocks.NEW_DEAL_VIEW)(self.submit)

    def submit(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        actor = actor_of(body)
        if actor is None:
            raise CommandError(tr(NO_ACTOR_NEW_DEAL))
        view = body.get("view")
        channel_id = _channel_of(view)
        if not channel_id:
            raise CommandError(tr(LOST_CHANNEL))
        typed = {
            field: text_at(view, "state", "values", field, blocks.FIELD_INPUT, "value")
            for field in blocks.NEW_DEAL_FIELDS
        }
        wanted = new_deal_from_form(**typed)
        once = Once(self._services, team_id=actor.team_id, trigger_id=body.get("trigger_id"))
        try:
            deal = create_deal(self._services, actor, channel_id=channel_id, command=wanted, claim=once.key())
        except CurrencyRefused as refused:  # under the value's field, where it was typed
            raise FieldErrors({"value": refused.in_form}) from refused
        ack()
        announcer = Announcer(self._services, client)
        self._after_ack.run(
            f"the posts for deal-{deal.number}", lambda: announcer.deliver_for_deal(actor.team_id, deal.number)
        )
        self._after_ack.run(f"the Home tabs for deal-{deal.number}", lambda: self._refresh_home(actor, deal.number))


def _metadata(view: Any) -> Any:
    """The form's private_metadata as JSON, or None when it is not (it is input, like the rest of the payload)."""
    try:
        return json.loads(text_at(view, "private_metadata"))
    except (ValueError, RecursionError):
        return None


def _channel_of(view: Any) -> str:
    """The channel the form was opened in; "" when it does not say."""
    channel = at(_metadata(view), "channel_id")
    return channel if isinstance(channel, str) else ""


def _move_id(view: Any, lost_track: str = LOST_TRACK) -> int:
    try:
        return move_id(at(_metadata(view), "move_id"))
    except CommandError:
        raise CommandError(tr(lost_track)) from None
