"""Slash commands: ack at once; then, on the answers worker (`bot.after_ack`), parse, run one use case, show the
person its reply on the command's response_url, and post to the deal's thread."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import available_timezones

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import blocks, reminder_blocks, workspace_blocks
from bot.advance_form import Typed, advance_modal
from bot.after_ack import AfterAck
from bot.announcer import Announcer, Delivery
from bot.blocks import Message
from bot.digest_post import own_digest_message, post_digest
from bot.error_boundary import LateError
from bot.listeners.payload import response_url_of, slash_ids
from bot.mrkdwn import escape
from bot.readers import Readers
from bot.slash_grammar import (
    ADVANCE_USAGE,
    DEAL_USAGE,
    NEW_DEAL_USAGE,
    PIPELINE_USAGE,
    AdvanceHelp,
    DealHelp,
    ListManagers,
    NewDealForm,
    PipelineBoard,
    PipelineHelp,
    PipelineLint,
    PipelineStages,
    PostDigest,
    PostOwnDigest,
    ScheduleOff,
    ShowDeal,
    ShowSchedule,
    parse_advance,
    parse_deal,
    parse_pipeline,
)
from bot.threads import NO_ACCESS_ERRORS, tell_privately
from commands.deals.deal import ListDeals, MarkLost, NewDeal, create_deal, list_deals, mark_lost, show_deal
from commands.deals.managers import ChangeManager, change_manager, list_managers
from commands.deals.move_options import move_options
from commands.deals.moves import Advance, missing_evidence, request_move
from commands.deals.results import DealSummary, MovedBack
from commands.deals.snooze import EndSnooze, SnoozeDeal, snooze_deal
from commands.digest.compute import period_ending
from commands.digest.schedules import SetSchedule, schedule_off, set_schedule, show_schedule
from commands.errors import CommandError
from commands.formats import format_deal_id
from commands.i18n.translator import N_, Translator, tr
from commands.inbox.requests import Once
from commands.pipeline.board import pipeline_board
from commands.pipeline.lint import lint_pipeline
from commands.reminders.settings import SetPendingReminders, ShowReminders, reminder_settings, set_pending_reminders
from commands.services import Actor, Services
from commands.workspace.settings import (
    SetCurrency,
    SetLanguage,
    ShowCurrency,
    ShowLanguage,
    set_currency,
    set_language,
    workspace_settings,
)

logger = logging.getLogger(__name__)

NEW_DEAL_FORM_OPENED = N_(
    "Fill in the form to add the deal, or type it: `/deal new <name> value:<amount> company:<name>`."
)
NEW_DEAL_FORM_FAILED = N_("Slack did not open the new deal form in time. Run /deal new again, or type the deal:")
ADVANCE_FORM_OPENED = N_("Fill in the form to move {deal_id}, or type it: `/advance {deal_id} evidence:<link>`.")
ADVANCE_FORM_FAILED = N_(
    "Slack did not open the advance form in time. Run /advance {deal_id} again, or type the evidence:"
)
POSTING_DIGEST = N_("Posting the pipeline digest for the last 7 days in this channel…")
WORKING_OWN_DIGEST = N_("Working out the digest of your own deals for the last 7 days…")


@dataclass(frozen=True)
class After:
    """What the thread work after the ack may use: Slack's client, and the command's response_url, which
    reaches the person even in a channel the bot cannot post in."""

    client: WebClient
    respond: Respond
    bot_user_id: str
    channel_id: str
    user_id: str

    def tell(self, text: str) -> None:
        """An ephemeral note to the person who ran the command (best effort: the ack has gone already)."""
        self.show(Message(text=text))

    def show(self, message: Message) -> None:
        """An ephemeral message to the person who ran the command (`tell_privately`)."""
        tell_privately(self.respond, self.client, channel_id=self.channel_id, user_id=self.user_id, message=message)


FollowUp = Callable[[After], object]


@dataclass(frozen=True)
class Reply:
    """What the person sees (on the response_url), and the thread work to do after it."""

    message: Message
    follow_up: FollowUp | None = None


@dataclass(frozen=True)
class Run:
    """One slash command being answered: who ran it, where, and its replay claim."""

    actor: Actor
    channel_id: str
    once: Once
    text: str
    client: WebClient
    trigger_id: str | None = None


HomeRefresh = Callable[[Actor, int], None]
Answer = Callable[[Run, Translator], Reply]


class SlashCommands:
    """`refresh_home` republishes the Home tabs a change to a deal concerns (`HomeTab.refresh`); `late_error`
    tells the person an error their command met after its ack (`ErrorBoundary.after_ack`)."""

    def __init__(
        self,
        services: Services,
        readers: Readers,
        *,
        after_ack: AfterAck,
        refresh_home: HomeRefresh,
        late_error: LateError,
    ) -> None:
        self._services = services
        self._readers = readers
        self._after_ack = after_ack
        self._refresh_home = refresh_home
        self._late_error = late_error

    def register(self, app: App) -> None:
        app.command("/deal")(self.deal)
        app.command("/advance")(self.advance)
        app.command("/pipeline")(self.pipeline)

    def deal(
        self, ack: Ack, command: dict[str, str], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        self._answer(ack, command, client, respond, context, self._deal)

    def advance(
        self, ack: Ack, command: dict[str, str], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        self._answer(ack, command, client, respond, context, self._advance)

    def pipeline(
        self, ack: Ack, command: dict[str, str], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        self._answer(ack, command, client, respond, context, self._pipeline)

    def _answer(
        self,
        ack: Ack,
        command: dict[str, str],
        client: WebClient,
        respond: Respond,
        context: BoltContext,
        answer: Answer,
    ) -> None:
        """Ack at once, then answer on the answer threads; a command that opens a form is answered on this
        thread right after its ack instead, as Slack's trigger id to open it with lasts 3 seconds however long
        the answers' queue. Refused in the ack (by the error boundary): a payload without usable ids or
        response_url, and any command while the answers' queue is full. What the use case raises is told on
        the response_url."""
        actor, channel_id = slash_ids(command)
        response_url_of(command)
        self._after_ack.refuse_when_full()
        after = After(client, respond, context.bot_user_id or "", channel_id=channel_id, user_id=actor.user_id)
        once = Once(self._services, team_id=actor.team_id, trigger_id=command.get("trigger_id"))
        trigger = command.get("trigger_id")
        text = str(command.get("text", ""))
        run = Run(actor, channel_id, once, text=text, client=client, trigger_id=trigger if trigger else None)
        what, reply = str(command.get("command")), lambda: self._reply(run, command, after, answer)
        ack()
        if run.trigger_id is not None and opens_form(what, text):
            self._after_ack.now(what, reply)
        else:
            self._after_ack.answer(what, reply, person=actor)

    def _reply(self, run: Run, command: dict[str, str], after: After, answer: Answer) -> None:
        """The answer, in the language of the person who ran the command (`Readers.person`)."""
        try:
            reply = answer(run, self._readers.person(run.client, run.actor))
        except Exception as error:
            try:
                run.once.release()
            finally:
                self._late_error(error, command, run.actor, client=after.client, respond=after.respond)
            return
        after.show(reply.message)
        if reply.follow_up is not None:
            reply.follow_up(after)

    def _announce(self, t: Translator, actor: Actor, deal: DealSummary) -> FollowUp:
        """After the ack, on the after-ack worker: deliver what the deal's thread is owed by this change; if the
        bot cannot post in the deal's channel, tell the person at once how to invite it (the posts wait for the
        invite); then refresh the Home tabs the change concerns."""

        def posts(after: After) -> None:
            delivery = Announcer(self._services, after.client).deliver_for_deal(actor.team_id, deal.number)
            if delivery is Delivery.NO_ACCESS:
                after.tell(blocks.cannot_post(t, deal, bot_user_id=after.bot_user_id))

        def follow_up(after: After) -> None:
            self._after_ack.run(f"the posts for deal-{deal.number}", lambda: posts(after))
            self._after_ack.run(f"the Home tabs for deal-{deal.number}", lambda: self._refresh_home(actor, deal.number))

        return follow_up

    def _deal(self, run: Run, t: Translator) -> Reply:
        services, actor = self._services, run.actor
        match parse_deal(run.text):
            case NewDeal() as new:
                deal = create_deal(services, actor, channel_id=run.channel_id, command=new, claim=run.once.key())
                return Reply(blocks.created_confirmation(t, deal), self._announce(t, actor, deal))
            case NewDealForm():
                return self._open_new_deal_form(run, t)
            case ShowDeal(deal_number=number):
                shown = show_deal(services, actor, number=number)
                detail = blocks.deal_detail(t, shown)
                return Reply(reminder_blocks.with_snooze(t, detail, shown.snooze) if shown.snooze else detail)
            case ListDeals() as listing:
                return Reply(blocks.deal_list(t, list_deals(services, actor, listing)))
            case MarkLost() as lost_command:
                lost = mark_lost(services, actor, lost_command, claim=run.once.key())
                return Reply(blocks.lost_confirmation(t, lost), self._announce(t, actor, lost.deal))
            case SnoozeDeal() | EndSnooze() as snooze_command:
                changed = snooze_deal(services, actor, snooze_command, claim=run.once.key())
                return Reply(reminder_blocks.snooze_changed(t, changed))
            case DealHelp():
                return Reply(blocks.help_message(t, DEAL_USAGE))
        raise AssertionError("parse_deal returned an unknown command")

    def _open_new_deal_form(self, run: Run, t: Translator) -> Reply:
        """`/deal new` alone opens the form; where Slack gave no trigger to open it with (the CLI, an old client),
        the typed command's refusal says what to type."""
        if run.trigger_id is None:
            raise CommandError(tr("Give the deal a name, like /deal new Acme renewal."), NEW_DEAL_USAGE)
        try:
            run.client.views_open(trigger_id=run.trigger_id, view=blocks.new_deal_modal(t, channel_id=run.channel_id))
        except (SlackApiError, OSError) as error:
            logger.warning("new deal form did not open: %r", error)
            raise CommandError(tr(NEW_DEAL_FORM_FAILED), NEW_DEAL_USAGE) from error
        return Reply(Message(text=escape(t(NEW_DEAL_FORM_OPENED))))

    def _advance(self, run: Run, t: Translator) -> Reply:
        wanted = parse_advance(run.text)
        if isinstance(wanted, AdvanceHelp):
            return Reply(blocks.help_message(t, ADVANCE_USAGE))
        if not wanted.evidence:
            opened = self._open_advance_form(run, t, wanted)
            if opened is not None:
                return opened
        result = request_move(self._services, run.actor, wanted, claim=run.once.key())
        if isinstance(result, MovedBack):
            return Reply(blocks.moved_back_confirmation(t, result), self._announce(t, run.actor, result.deal))
        return Reply(blocks.move_confirmation(t, result), self._announce(t, run.actor, result.deal))

    def _open_advance_form(self, run: Run, t: Translator, wanted: Advance) -> Reply | None:
        """`/advance deal-42` without evidence opens the advance form, with `to:` chosen and `note:` filled in.
        None when the form has nothing to offer for what was typed (a move back, a stage that is not ahead, or
        no stage left): the typed command answers that. A deal that cannot move is refused as typed, and so is
        a move forward where Slack gave no trigger to open the form with (the CLI, an old client): the refusal
        says which evidence the stage needs."""
        options = move_options(self._services, run.actor, deal_number=wanted.deal_number)
        target = options.target(wanted.to_key)
        if target is None:
            return None
        if run.trigger_id is None:
            refusal = missing_evidence(options.deal_number, options.current, options.entered(target), given=0)
            assert refusal is not None
            raise refusal
        view = advance_modal(t, options, target=target, typed=Typed(note=wanted.note or ""))
        deal_id = format_deal_id(options.deal_number)
        try:
            run.client.views_open(trigger_id=run.trigger_id, view=view)
        except (SlackApiError, OSError) as error:
            logger.warning("advance form did not open: %r", error)
            raise CommandError(tr(ADVANCE_FORM_FAILED, deal_id=deal_id), ADVANCE_USAGE) from error
        return Reply(Message(text=escape(t(ADVANCE_FORM_OPENED, deal_id=deal_id))))

    def _pipeline(self, run: Run, t: Translator) -> Reply:
        services, actor, channel_id, client = self._services, run.actor, run.channel_id, run.client
        match parse_pipeline(run.text):
            case PostDigest():
                run.once.claim()
                return Reply(
                    Message(text=t(POSTING_DIGEST)),
                    lambda after: self._post_digest(t, after, actor, channel_id),
                )
            case PostOwnDigest():
                return Reply(
                    Message(text=t(WORKING_OWN_DIGEST)),
                    lambda after: self._post_own_digest(t, after, actor),
                )
            case ShowSchedule():
                return Reply(blocks.schedule(t, show_schedule(services, actor, channel_id=channel_id)))
            case SetSchedule() as wanted:
                run.once.claim()  # before users.info, so a replay asks Slack nothing
                default_tz = user_time_zone(client, actor.user_id) if wanted.tz is None else "UTC"
                view = set_schedule(services, actor, channel_id=channel_id, command=wanted, default_tz=default_tz)
                return Reply(blocks.schedule(t, view, changed=True))
            case ScheduleOff():
                stopped = schedule_off(services, actor, channel_id=channel_id, claim=run.once.key())
                return Reply(blocks.schedule_stopped(t, stopped))
            case ShowReminders():
                return Reply(reminder_blocks.reminder_settings(t, reminder_settings(services, actor)))
            case SetPendingReminders() as wanted_reminders:
                changed_settings = set_pending_reminders(services, actor, wanted_reminders, claim=run.once.key())
                return Reply(reminder_blocks.reminder_settings(t, changed_settings))
            case PipelineBoard():
                return Reply(blocks.board(t, pipeline_board(services, actor)))
            case PipelineStages():
                return Reply(blocks.stages(t, services.pipeline))
            case PipelineHelp():
                return Reply(blocks.guide(t, DEAL_USAGE, ADVANCE_USAGE, PIPELINE_USAGE))
            case PipelineLint():
                return Reply(blocks.lint_report(t, lint_pipeline(services.pipeline), services.pipeline))
            case ListManagers():
                return Reply(blocks.managers(t, list_managers(services, actor)))
            case ChangeManager() as change:
                changed = change_manager(services, actor, change, claim=run.once.key())
                return Reply(blocks.manager_changed(t, changed))
            case ShowLanguage():
                return Reply(workspace_blocks.language_message(t, workspace_settings(services, actor.team_id)))
            case SetLanguage() as wanted_language:
                settings = set_language(services, actor, wanted_language, claim=run.once.key())
                return Reply(workspace_blocks.language_message(t, settings, changed=True))
            case ShowCurrency():
                return Reply(workspace_blocks.currency_message(t, workspace_settings(services, actor.team_id)))
            case SetCurrency() as wanted_currency:
                currency = set_currency(services, actor, wanted_currency, claim=run.once.key())
                return Reply(workspace_blocks.currency_set(t, currency))
        raise AssertionError("parse_pipeline returned an unknown command")

    def _post_digest(self, t: Translator, after: After, actor: Actor, channel_id: str) -> None:
        client = after.client
        period = period_ending(self._services.clock(), tz=user_time_zone(client, actor.user_id))
        try:
            post_digest(self._services, client, team_id=actor.team_id, channel_id=channel_id, period=period)
        except (SlackApiError, OSError) as error:
            logger.error("digest post failed: channel=%s error=%r", channel_id, error)
            no_access = isinstance(error, SlackApiError) and error.response.get("error") in NO_ACCESS_ERRORS
            note = blocks.digest_not_posted(t, channel_id, no_access=no_access, bot_user_id=after.bot_user_id)
            after.tell(note)

    def _post_own_digest(self, t: Translator, after: After, actor: Actor) -> None:
        """On the response_url, so it reaches the asker alone, in any channel or DM, whether or not the bot
        is in it (chat.postEphemeral would need the bot there)."""
        period = period_ending(self._services.clock(), tz=user_time_zone(after.client, actor.user_id))
        message = own_digest_message(t, self._services, team_id=actor.team_id, owner_id=actor.user_id, period=period)
        after.show(message)


def opens_form(command: str, text: str) -> bool:
    """Whether the command, as typed, opens a form: `/deal new` alone, or `/advance <deal>` without evidence
    (which opens the advance form when there is a stage to move to)."""
    try:
        if command == "/deal":
            return isinstance(parse_deal(text), NewDealForm)
        if command == "/advance":
            wanted = parse_advance(text)
            return isinstance(wanted, Advance) and not wanted.evidence
    except CommandError:
        return False
    return False


def user_time_zone(client: WebClient, user_id: str) -> str:
    """The person's Slack time zone (users.info), or UTC when Slack does not say."""
    try:
        zone = client.users_info(user=user_id)["user"].get("tz")
    except (SlackApiError, OSError, KeyError, TypeError) as error:
        logger.warning("no time zone for %s: %r", user_id, error)
        return "UTC"
    return zone if isinstance(zone, str) and zone in available_timezones() else "UTC"
