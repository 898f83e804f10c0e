"""Block Kit for reminders and nudges (thread posts), the reminder setting, and snoozes. User text is escaped."""

from datetime import datetime

from slack_sdk.models.blocks import SectionBlock

from bot.advance_form import stage_text
from bot.blocks import Message, deal_title
from bot.mrkdwn import escape, mention, section
from commands.deals.results import Snooze
from commands.deals.snooze import SNOOZE_MAX_DAYS, SnoozeChanged
from commands.formats import clip, format_deal_id, span
from commands.i18n.translator import Translator
from commands.pipeline.names import StageName
from commands.pipeline.stages import Stage
from commands.reminders.results import MoveReminder, StallNudge
from commands.reminders.settings import ReminderSettings
from commands.text_rules import REASON_LIMIT


def move_reminder(t: Translator, reminder: MoveReminder) -> Message:
    move = reminder.move
    params = {
        "who": " ".join(mention(user) for user in reminder.mention),
        "deal": format_deal_id(move.deal_number),
        "stage": _stage(t, move.to_stage),
        "rep": mention(move.requested_by),
        "waited": span(t, reminder.waiting),
    }
    if move.approvals_needed > 1:
        text = t.n(
            ":alarm_clock: {who}: the move of {deal} to *{stage}*, asked by {rep}, has waited {waited} for a decision."
            " It still needs {count} approval. Approve or reject it with the buttons on the move above.",
            ":alarm_clock: {who}: the move of {deal} to *{stage}*, asked by {rep}, has waited {waited} for a decision."
            " It still needs {count} approvals. Approve or reject it with the buttons on the move above.",
            move.approvals_missing,
            **params,
        )
    else:
        text = t(
            ":alarm_clock: {who}: the move of {deal} to *{stage}*, asked by {rep}, has waited {waited} for a decision."
            " Approve or reject it with the buttons on the move above.",
            **params,
        )
    return Message(text=text, blocks=[section(text)])


def stall_nudge(t: Translator, nudge: StallNudge) -> Message:
    head = t(
        ":mag: {owner}: {deal} has been in *{stage}* for {days} (its limit is {limit}).",
        owner=mention(nudge.owner_id),
        deal=deal_title(nudge.deal),
        stage=_stage(t, nudge.stage),
        days=_days(t, nudge.days_in_stage),
        limit=_days(t, nudge.stage.stall_after_days),
    )
    if nudge.next_stage is None:
        ask = t("What is the buyer's next step? Note it in this thread.")
    else:
        criteria = "\n".join(f"• {escape(item)}" for item in stage_text(t, nudge.next_stage).exit_criteria)
        ask = t(
            "What is the buyer's next action? To reach *{stage}* the buyer must have:\n{criteria}",
            stage=_stage(t, nudge.next_stage),
            criteria=criteria,
        )
    # TRANSLATORS: keep `/deal snooze`, the deal's id, `7d` and `reason:` as they are (the command's words);
    # translate only <why>
    hint = t.n(
        "If the buyer needs time, snooze this with a reason: `/deal snooze {deal} 7d reason:<why>` (at most {count}"
        " day).",
        "If the buyer needs time, snooze this with a reason: `/deal snooze {deal} 7d reason:<why>` (at most {count}"
        " days).",
        SNOOZE_MAX_DAYS,
        deal=format_deal_id(nudge.deal.number),
    )
    text = f"{head}\n{ask}\n{hint}"
    return Message(text=text, blocks=[section(text)])


def reminder_settings(t: Translator, settings: ReminderSettings) -> Message:
    if settings.pending_after_hours is None:
        now = t("Reminders of pending moves are *off*.")
    else:
        now = t(
            "A move waiting for a manager is reminded in its thread after *{wait}*, then at most once a day,"
            " mentioning the managers who may still decide it, in their working hours (08:00–20:00 on weekdays,"
            " their time).",
            wait=_hours(t, settings.pending_after_hours),
        )
    sentences = [now]
    if settings.changed:
        # TRANSLATORS: the reminder setting was just changed; the setting follows in the next sentence
        sentences.insert(0, t("Changed."))
    elif settings.changed_by:
        sentences.append(t("Set by {user}.", user=mention(settings.changed_by)))
    # TRANSLATORS: keep the command and its values (`24h`, `12h`, `2d`, `off`) as they are
    change = t("A manager changes it with `/pipeline reminders pending 24h` (or `12h`, `2d`, `off`).")
    text = " ".join(sentences) + "\n" + change
    return Message(text=text, blocks=[section(text)])


def snooze_changed(t: Translator, changed: SnoozeChanged) -> Message:
    deal_id = format_deal_id(changed.deal.number)
    if changed.snooze is None:
        text = t(":bell: {deal}'s snooze is over: its owner gets stall nudges again.", deal=deal_id)
    else:
        text = t(
            ":zzz: {deal}: no stall nudges until {until}. The digest's stalled list shows the snooze and its reason."
            " End it with `/deal snooze {deal_id} off`.",
            deal=deal_title(changed.deal),
            until=_day(t, changed.snooze.until),
            deal_id=deal_id,
        )
    return Message(text=text, blocks=[section(text)])


def snooze_fact(t: Translator, snooze: Snooze) -> str:
    """The line `/deal show` and the digest show: until when, by whom, why."""
    return t(
        "*Snoozed* until {until} by {user}: {reason}",
        until=_day(t, snooze.until),
        user=mention(snooze.snoozed_by),
        reason=escape(clip(snooze.reason, REASON_LIMIT)),
    )


def with_snooze(t: Translator, detail: Message, snooze: Snooze) -> Message:
    """`/deal show`'s message with the deal's running snooze added to its facts (the second block), so the
    message keeps within Slack's block limit however long its history."""
    facts = detail.blocks[1]
    assert isinstance(facts, SectionBlock) and facts.text is not None
    shown = section(f"{facts.text.text}\n{snooze_fact(t, snooze)}")
    return Message(text=detail.text, blocks=[detail.blocks[0], shown, *detail.blocks[2:]])


def _stage(t: Translator, stage: Stage) -> str:
    """The stage's name in the reader's language, escaped for mrkdwn."""
    return escape(t.show(StageName(stage)))


def _days(t: Translator, days: int) -> str:
    return t.n("{count} day", "{count} days", days)


def _hours(t: Translator, hours: int) -> str:
    return _days(t, hours // 24) if hours % 24 == 0 else t.n("{count} hour", "{count} hours", hours)


def _day(t: Translator, moment: datetime) -> str:
    """The day of `moment` as Slack shows it in each reader's own time zone; the fallback (a client that cannot)
    is the UTC day in the reader's language."""
    fallback = t.day(moment.date())
    return f"<!date^{int(moment.timestamp())}^{{date_short}}|{fallback} UTC>"
