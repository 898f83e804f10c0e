"""Block Kit for reminders and nudges (thread posts), the reminder setting, and snoozes. User text is escaped."""

from slack_sdk.models.blocks import SectionBlock

from bot.blocks import Message, deal_title
from bot.mrkdwn import day, escape, mention, section
from commands.deals.results import Snooze
from commands.deals.snooze import SNOOZE_MAX_DAYS, SnoozeChanged
from commands.formats import clip, duration, format_deal_id, plural
from commands.i18n.translator import Translator
from commands.reminders.results import MoveReminder, StallNudge
from commands.reminders.settings import ReminderSettings
from commands.text_rules import REASON_LIMIT


def move_reminder(t: Translator, reminder: MoveReminder) -> Message:
    move = reminder.move
    who = " ".join(mention(user) for user in reminder.mention)
    still = f" It still needs {plural(move.approvals_missing, 'approval')}." if move.approvals_needed > 1 else ""
    text = (
        f":alarm_clock: {who}: the move of {format_deal_id(move.deal_number)} to *{escape(move.to_stage.name)}*, "
        f"asked by {mention(move.requested_by)}, has waited {duration(reminder.waiting)} for a decision.{still} "
        "Approve or reject it with the buttons on the move above."
    )
    return Message(text=text, blocks=[section(text)])


def stall_nudge(t: Translator, nudge: StallNudge) -> Message:
    head = (
        f":mag: {mention(nudge.owner_id)}: {deal_title(nudge.deal)} has been in *{escape(nudge.stage.name)}* for "
        f"{plural(nudge.days_in_stage, 'day')} (its limit is {plural(nudge.stage.stall_after_days, 'day')})."
    )
    if nudge.next_stage is None:
        ask = "What is the buyer's next step? Note it in this thread."
    else:
        criteria = "\n".join(f"• {escape(item)}" for item in nudge.next_stage.exit_criteria)
        ask = (
            f"What is the buyer's next action? To reach *{escape(nudge.next_stage.name)}* the buyer must have:\n"
            f"{criteria}"
        )
    hint = (
        f"If the buyer needs time, snooze this with a reason: "
        f"`/deal snooze {format_deal_id(nudge.deal.number)} 7d reason:<why>` (at most {SNOOZE_MAX_DAYS} days)."
    )
    text = f"{head}\n{ask}\n{hint}"
    return Message(text=text, blocks=[section(text)])


def reminder_settings(t: Translator, settings: ReminderSettings) -> Message:
    if settings.pending_after_hours is None:
        now = "Reminders of pending moves are *off*."
    else:
        now = (
            f"A move waiting for a manager is reminded in its thread after "
            f"*{_hours(settings.pending_after_hours)}*, then at most once a day, mentioning the managers who may "
            "still decide it, in their working hours (08:00–20:00 on weekdays, their time)."
        )
    head = "Changed. " if settings.changed else ""
    who = f" Set by {mention(settings.changed_by)}." if settings.changed_by and not settings.changed else ""
    change = "A manager changes it with `/pipeline reminders pending 24h` (or `12h`, `2d`, `off`)."
    text = f"{head}{now}{who}\n{change}"
    return Message(text=text, blocks=[section(text)])


def snooze_changed(t: Translator, changed: SnoozeChanged) -> Message:
    deal_id = format_deal_id(changed.deal.number)
    if changed.snooze is None:
        text = f":bell: {deal_id}'s snooze is over: its owner gets stall nudges again."
    else:
        text = (
            f":zzz: {deal_title(changed.deal)}: no stall nudges until {day(changed.snooze.until)}. "
            f"The digest's stalled list shows the snooze and its reason. End it with `/deal snooze {deal_id} off`."
        )
    return Message(text=text, blocks=[section(text)])


def snooze_fact(t: Translator, snooze: Snooze) -> str:
    """The line `/deal show` and the digest show: until when, by whom, why."""
    return (
        f"*Snoozed* until {day(snooze.until)} by {mention(snooze.snoozed_by)}: "
        f"{escape(clip(snooze.reason, REASON_LIMIT))}"
    )


def _hours(hours: int) -> str:
    return plural(hours // 24, "day") if hours % 24 == 0 else plural(hours, "hour")


def with_snooze(t: Translator, detail: Message, snooze: Snooze) -> Message:
    """`/deal show`'s message with the deal's running snooze added to its facts (the second block), so the
    message keeps within Slack's block limit however long its history."""
    facts = detail.blocks[1]
    assert isinstance(facts, SectionBlock) and facts.text is not None
    shown = section(f"{facts.text.text}\n{snooze_fact(t, snooze)}")
    return Message(text=detail.text, blocks=[detail.blocks[0], shown, *detail.blocks[2:]])
