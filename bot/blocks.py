"""Pure renderers: use-case results in, Block Kit messages and views out. All user text is escaped."""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from babel.dates import format_datetime
from babel.lists import format_list
from babel.numbers import format_decimal
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.advance_form import ADVANCE_ACTION
from bot.mrkdwn import (
    MESSAGE_BLOCK_LIMIT,
    SECTION_TEXT_LIMIT,
    VIEW_BLOCK_LIMIT,
    clip_mrkdwn,
    context,
    date,
    divider,
    escape,
    header,
    link,
    mention,
    packed_sections,
    plain,
    section,
)
from commands.deals.home import HomeOverview, OpenDeal, StageGroup, TeamStalled, WaitingMove
from commands.deals.moves import AlreadyDecided
from commands.deals.results import (
    ApprovalGiven,
    DealDetail,
    DealList,
    DealSummary,
    Decision,
    EvidenceAsked,
    HistoryEntry,
    ManagerChanged,
    ManagerList,
    MarkedLost,
    MovedBack,
    MoveRequested,
    MoveSummary,
)
from commands.digest.own import OwnSummary
from commands.digest.schedules import ScheduleView
from commands.errors import CommandError
from commands.formats import clip, format_deal_id, span
from commands.i18n.translator import N_, Text, Translator
from commands.pipeline.board import Board
from commands.pipeline.lint import Finding
from commands.pipeline.names import StageName
from commands.pipeline.stages import Approval, Pipeline, Stage
from commands.text_rules import COMPANY_LIMIT, NAME_LIMIT, REASON_LIMIT
from storage.models import EventKind, MoveStatus, QuietDigest

APPROVE_ACTION = "move_approve"
REJECT_ACTION = "move_reject"
ASK_EVIDENCE_ACTION = "move_ask_evidence"
REJECT_VIEW = "move_reject_reason"
NEW_DEAL_VIEW = "deal_new_form"
NEW_DEAL_FIELDS = ("name", "company", "value", "evidence")
"""The new deal form's inputs: each field's block id is its name, as `FieldErrors` names it."""
FIELD_INPUT = "input"
REASON_BLOCK = "reason"
REASON_INPUT = "reason_input"
HOME_MOVES_WITH_BUTTONS = 15


@dataclass(frozen=True)
class Message:
    text: str
    blocks: list[Block] = field(default_factory=list)


def deal_title(deal: DealSummary) -> str:
    return f"{format_deal_id(deal.number)} · {escape(deal.name)}"


def _name(t: Translator, stage: Stage) -> str:
    """The stage's name in the reader's language, escaped for mrkdwn."""
    return escape(t.show(StageName(stage)))


def _criteria(t: Translator, stage: Stage) -> tuple[str, ...]:
    """The stage's exit criteria in the reader's language (the pipeline's own where it has none in it)."""
    return stage.text_in(t.language).exit_criteria


def _prompt(t: Translator, stage: Stage) -> str:
    """The stage's evidence prompt in the reader's language (the pipeline's own where it has none in it)."""
    return stage.text_in(t.language).evidence_prompt


def _value(t: Translator, deal: DealSummary) -> str:
    """A deal's value in the reader's locale; "—" when it has none."""
    return "—" if deal.value_cents is None else t.money(deal.value_cents, deal.value_currency)


def _money(t: Translator, cents: int, currency: str | None) -> str:
    """A total of deals' values in the reader's locale, in the workspace's currency."""
    return t.money(cents, currency)


def _signed(t: Translator, number: int) -> str:
    return ("-" if number < 0 else "+") + t.number(abs(number))


def _signed_money(t: Translator, cents: int, currency: str | None) -> str:
    return ("-" if cents < 0 else "+") + _money(t, abs(cents), currency)


def _one_decimal(t: Translator, value: float) -> str:
    return format_decimal(value, format="#,##0.0", locale=t.locale)


def _deals(t: Translator, count: int) -> str:
    return t.n("{count} deal", "{count} deals", count)


def deal_card(t: Translator, deal: DealSummary, *, evidence_missing: Stage | None = None) -> Message:
    """The deal's own message in the channel; its thread carries every later event."""
    blocks: list[Block] = [
        header(f"{format_deal_id(deal.number)} · {deal.name}"),
        section("\n".join(_facts(t, deal))),
    ]
    if evidence_missing is not None:
        blocks.append(
            context(
                t(
                    ":warning: No evidence yet that the buyer reached *{stage}*. {prompt}",
                    stage=_name(t, evidence_missing),
                    prompt=escape(_prompt(t, evidence_missing)),
                )
            )
        )
    if not deal.is_lost:
        blocks.append(
            context(
                # TRANSLATORS: keep `/advance` and `evidence:` as they are (the command's words); <link> may be
                # translated.
                t(
                    "Move it with `/advance {deal} evidence:<link>` · every move is posted in this thread",
                    deal=format_deal_id(deal.number),
                )
            )
        )
    return Message(text=f"{deal_title(deal)}: {_name(t, deal.stage)}", blocks=blocks)


def _facts(t: Translator, deal: DealSummary) -> list[str]:
    """The deal's facts, as its card and `/deal show` both list them."""
    lost = [t(":x: *Lost:* {reason}", reason=escape(deal.lost_reason or ""))] if deal.is_lost else []
    return [
        *lost,
        t("*Stage:* {stage}", stage=_name(t, deal.stage)),
        t("*Owner:* {owner}", owner=mention(deal.owner_id, t)),
        t("*Value:* {value}", value=_value(t, deal)),
        t("*Company:* {company}", company=escape(deal.company) if deal.company else "—"),
    ]


def created_confirmation(t: Translator, deal: DealSummary) -> Message:
    return Message(
        text=t(
            "Created {deal} at *{stage}*. I'm posting its card in this channel; every move will show in the card's "
            "thread.",
            deal=deal_title(deal),
            stage=_name(t, deal.stage),
        )
    )


def cannot_post(t: Translator, deal: DealSummary, *, bot_user_id: str) -> str:
    """Why a deal has no card or thread: the bot is not in its channel (a private channel, most likely)."""
    number = format_deal_id(deal.number)
    if not bot_user_id:
        return t(
            ":warning: I can't post in <#{channel}>, so {deal} has no card or thread there yet; it is stored, and "
            "nothing is lost. Invite me to <#{channel}> with `/invite` there: I'll post everything {deal} is owed as "
            "soon as I join. Until then, managers can decide its moves on my Home tab.",
            channel=deal.channel_id,
            deal=number,
        )
    return t(
        ":warning: I can't post in <#{channel}>, so {deal} has no card or thread there yet; it is stored, and "
        "nothing is lost. Invite {me} to <#{channel}> with `/invite` there: I'll post everything {deal} is owed as "
        "soon as I join. Until then, managers can decide its moves on my Home tab.",
        channel=deal.channel_id,
        deal=number,
        me=mention(bot_user_id, t),
    )


def digest_not_posted(t: Translator, channel_id: str, *, no_access: bool, bot_user_id: str) -> str:
    if no_access and not bot_user_id:
        return t(
            ":warning: I can't post the digest in <#{channel}>. Invite me to <#{channel}> with `/invite` there, "
            "then ask again.",
            channel=channel_id,
        )
    if no_access:
        return t(
            ":warning: I can't post the digest in <#{channel}>. Invite {me} to <#{channel}> with `/invite` there, "
            "then ask again.",
            channel=channel_id,
            me=mention(bot_user_id, t),
        )
    return t(":warning: Slack did not take the digest just now. Ask again in a minute.")


ADD_MANAGER = N_("Add one with `/pipeline managers add @someone`.")


def move_request(t: Translator, requested: MoveRequested) -> Message:
    """The pending move in the deal's thread, with the managers' buttons."""
    move, deal = requested.move, requested.deal
    blocks = _move_body(t, move, deal)
    target = move.to_stage
    if move.approvals_needed > 1:
        blocks.append(context(_approval_progress(t, move)))
    if requested.managers_to_ask:
        askers = " ".join(mention(user, t) for user in requested.managers_to_ask)
        blocks.append(section(f"{askers} {escape(_prompt(t, target))}{_too_few_managers(t, requested)}"))
    else:
        blocks.append(
            section(
                f"{escape(_prompt(t, target))}\n"
                + t(":warning: No other manager is set up to decide this.")
                + " "
                + t(ADD_MANAGER)
            )
        )
    blocks.append(_decision_buttons(t, move.id, block_id=f"move-{move.id}"))
    return Message(text=_move_text(t, move, deal), blocks=blocks)


def move_outcome(t: Translator, move: MoveSummary, deal: DealSummary) -> Message:
    """The thread message of a move once it is decided: the same facts, the outcome, no buttons."""
    blocks = _move_body(t, move, deal)
    blocks.append(section(_outcome_line(t, move)))
    return Message(text=f"{_move_text(t, move, deal)} {_outcome_line(t, move)}", blocks=blocks)


def approval_reply(t: Translator, given: ApprovalGiven) -> Message:
    """A manager's approval of a move that needs another one: who approved, and what the move still waits for."""
    move = given.move
    text = t(
        ":ballot_box_with_check: {approver} approved the move to *{stage}*.",
        approver=mention(given.approver_id, t),
        stage=_name(t, move.to_stage),
    )
    if move.status == MoveStatus.PENDING:
        text += f" {_approval_progress(t, move)}"
        if given.managers_to_ask:
            text += " " + " ".join(mention(user, t) for user in given.managers_to_ask)
    return Message(text=text, blocks=[section(text)])


def _too_few_managers(t: Translator, requested: MoveRequested) -> str:
    """A warning when fewer managers can still approve the move than it needs, so it could never be approved."""
    missing = requested.move.approvals_missing
    if not requested.managers_to_ask or len(requested.managers_to_ask) >= missing:
        return ""
    warning = t.n(
        ":warning: It needs {missing} more managers' approvals but only {count} other manager can give one.",
        ":warning: It needs {missing} more managers' approvals but only {count} other managers can give one.",
        len(requested.managers_to_ask),
        missing=missing,
    )
    return f"\n{warning} {t(ADD_MANAGER)}"


def _approval_progress(t: Translator, move: MoveSummary) -> str:
    if not move.approved_by:
        if move.approvals_needed == 2:
            return t("Moving to {stage} needs the approval of two different managers.", stage=_name(t, move.to_stage))
        stage = _name(t, move.to_stage)
        return t.n(
            "Moving to {stage} needs the approval of {count} manager.",
            "Moving to {stage} needs the approval of {count} managers.",
            move.approvals_needed,
            stage=stage,
        )
    people = _people(t, move.approved_by)
    # TRANSLATORS: {approved} of {needed} are counts of approvals; {count} is how many approvals are missing.
    return t.n(
        "Approved so far by {people} ({approved} of {needed}); waiting for one more manager's approval.",
        "Approved so far by {people} ({approved} of {needed}); waiting for {count} more.",
        move.approvals_missing,
        people=people,
        approved=len(move.approved_by),
        needed=move.approvals_needed,
    )


def _people(t: Translator, users: tuple[str, ...]) -> str:
    """`<@A>, <@B> and <@C>`, joined the way the reader's language joins a list."""
    return format_list([mention(user, t) for user in users], locale=t.locale) if users else ""


def _approvers(move: MoveSummary) -> tuple[str, ...]:
    """Who approved a decided move; moves decided before approvals were recorded one by one name their decider."""
    return move.approved_by or ((move.decided_by,) if move.decided_by else ())


def move_confirmation(t: Translator, requested: MoveRequested) -> Message:
    move, deal = requested.move, requested.deal
    title, stage = deal_title(deal), _name(t, move.to_stage)
    if move.approved_by_policy:
        return Message(
            text=t.n(
                "Moved {deal} to *{stage}* with {count} evidence link: that stage needs no manager's approval, so "
                "the move is done. The deal's thread says so.",
                "Moved {deal} to *{stage}* with {count} evidence links: that stage needs no manager's approval, so "
                "the move is done. The deal's thread says so.",
                len(move.evidence),
                deal=title,
                stage=stage,
            )
        )
    if not requested.managers_to_ask:
        who_decides = t(
            ":warning: No other manager exists yet to decide it: add one with `/pipeline managers add @someone`."
        )
    elif move.approvals_needed == 2 and deal.thread_ts:
        who_decides = t("Two different managers will decide in the deal's thread.")
    elif move.approvals_needed == 2:
        who_decides = t("Two different managers will decide on my Home tab, or in the deal's thread once it is posted.")
    elif deal.thread_ts:
        who_decides = t("A manager will decide in the deal's thread.")
    else:
        who_decides = t("A manager will decide on my Home tab, or in the deal's thread once it is posted.")
    asked = t.n(
        "Asked to move {deal} to *{stage}* with {count} evidence link.",
        "Asked to move {deal} to *{stage}* with {count} evidence links.",
        len(move.evidence),
        deal=title,
        stage=stage,
    )
    return Message(text=f"{asked} {who_decides}{_too_few_managers(t, requested)}")


def decision_reply(t: Translator, decision: Decision) -> Message:
    move, deal = decision.move, decision.deal
    if move.status == MoveStatus.APPROVED and move.approved_by_policy:
        text = t(
            "{requester} {deal} is now at *{stage}*: approved by the pipeline, as that stage needs no manager's "
            "approval.",
            requester=mention(move.requested_by, t),
            deal=deal_title(deal),
            stage=_name(t, deal.stage),
        )
    elif move.status == MoveStatus.APPROVED:
        text = t(
            "{requester} {approvers} approved your move: {deal} is now at *{stage}*.",
            requester=mention(move.requested_by, t),
            approvers=_people(t, _approvers(move)),
            deal=deal_title(deal),
            stage=_name(t, deal.stage),
        )
    else:
        text = t(
            "{requester} {manager} rejected the move to *{stage}*: {reason}",
            requester=mention(move.requested_by, t),
            manager=mention(move.decided_by or "", t),
            stage=_name(t, move.to_stage),
            reason=escape(move.decision_reason or ""),
        )
    return Message(text=text, blocks=[section(text)])


def evidence_request(t: Translator, asked: EvidenceAsked) -> Message:
    """The manager's request in the thread, after a mention of the rep: what the manager wrote, or the stage's
    evidence prompt for an ask stored without it. A first word like "Show" reads on in lower case ("show"),
    one like "CFO" stays as written."""
    prompt = asked.prompt if asked.prompt is not None else _prompt(t, asked.move.to_stage)
    if prompt[:1].isupper() and prompt[1:2].islower():
        prompt = prompt[:1].lower() + prompt[1:]
    # TRANSLATORS: {prompt} is what the manager asks to see, written by the manager; {manager} mentions them.
    text = t(
        "{requester}, {prompt} (asked by {manager})",
        requester=mention(asked.move.requested_by, t),
        prompt=escape(prompt),
        manager=mention(asked.asked_by, t),
    )
    return Message(text=text, blocks=[section(text)])


def lost_reply(t: Translator, lost: MarkedLost) -> Message:
    text = t(
        ":x: {who} marked {deal} lost: {reason}",
        who=mention(lost.marked_by, t),
        deal=deal_title(lost.deal),
        reason=escape(lost.deal.lost_reason or ""),
    )
    if lost.cancelled_move is not None:
        text += "\n" + t("The pending move to *{stage}* is cancelled.", stage=_name(t, lost.cancelled_move.to_stage))
    return Message(text=text, blocks=[section(text)])


def lost_confirmation(t: Translator, lost: MarkedLost) -> Message:
    return Message(text=t("Marked {deal} lost. The deal's thread says so too.", deal=deal_title(lost.deal)))


def moved_back_reply(t: Translator, moved: MovedBack) -> Message:
    text = t(
        ":arrow_left: {who} moved {deal} back from *{from_stage}* to *{to_stage}*: {note}",
        who=mention(moved.moved_by, t),
        deal=deal_title(moved.deal),
        from_stage=_name(t, moved.from_stage),
        to_stage=_name(t, moved.deal.stage),
        note=escape(moved.note),
    )
    return Message(text=text, blocks=[section(text)])


def moved_back_confirmation(t: Translator, moved: MovedBack) -> Message:
    return Message(
        text=t("Moved {deal} back to *{stage}*.", deal=deal_title(moved.deal), stage=_name(t, moved.deal.stage))
    )


def already_decided(t: Translator, error: AlreadyDecided) -> str:
    move = error.move
    if move.status == MoveStatus.CANCELLED and move.decided_by:
        return t(
            "Nothing changed: {deal} was marked lost by {who}, so this move was cancelled.",
            deal=format_deal_id(move.deal_number),
            who=mention(move.decided_by, t),
        )
    return t("Nothing changed: {outcome}", outcome=_outcome_line(t, move))


def refusal(t: Translator, error: CommandError) -> Message:
    text = f":no_entry_sign: {escape(t.show(error.text))}"
    if error.usage_text is not None:
        text += "\n" + t("*Usage:* {usage}", usage=escape(t.show(error.usage_text)))
    return Message(text=text, blocks=[section(text)])


def deal_detail(t: Translator, detail: DealDetail) -> Message:
    deal = detail.deal
    facts = [*_facts(t, deal), t("*In this stage for:* {time}", time=span(t, detail.time_in_stage))]
    if detail.pending is not None:
        pending = detail.pending
        facts.append(
            t(
                "*Pending move:* to {stage}, asked by {requester} {when}",
                stage=_name(t, pending.to_stage),
                requester=mention(pending.requested_by, t),
                when=date(pending.requested_at),
            )
        )
        if pending.approvals_needed > 1:
            facts.append(_approval_progress(t, pending))
    blocks: list[Block] = [header(f"{format_deal_id(deal.number)} · {deal.name}"), section("\n".join(facts))]
    blocks.append(divider())
    blocks.append(section(t("*History*")))
    history = [_history_line(t, entry) for entry in detail.history]
    blocks.extend(
        packed_sections(
            history,
            max_blocks=MESSAGE_BLOCK_LIMIT - len(blocks),
            more=lambda count: t.n("and {count} more event", "and {count} more events", count),
        )
    )
    return Message(text=t("{deal} — Stage: {stage}", deal=deal_title(deal), stage=_name(t, deal.stage)), blocks=blocks)


CREATE_ONE = N_("None. Create one with `/deal new <name> value:<amount> company:<name>`.")


def deal_list(t: Translator, listing: DealList) -> Message:
    title = _list_title(t, listing)
    if not listing.deals:
        text = f"{title}\n{t(CREATE_ONE)}"
        return Message(text=text, blocks=[section(text)])
    lines = [
        f"*{format_deal_id(deal.number)}* {escape(clip(deal.name, 200))} · {_name(t, deal.stage)} · "
        f"{_value(t, deal)} · {mention(deal.owner_id, t)}"
        for deal in listing.deals
    ]
    hidden = listing.total - len(listing.deals)
    blocks = [section(title), *packed_sections(lines, max_blocks=MESSAGE_BLOCK_LIMIT - 2, t=t)]
    if hidden > 0:
        blocks.append(
            context(
                t.n(
                    "and {count} more; narrow the list with `stage:<key>`",
                    "and {count} more; narrow the list with `stage:<key>`",
                    hidden,
                )
            )
        )
    return Message(text=title, blocks=blocks)


def _list_title(t: Translator, listing: DealList) -> str:
    total = listing.total
    if listing.stage is None:
        if listing.scope == "mine":
            return t("*Your open deals* ({count})", count=total)
        return t("*Open deals* ({count})", count=total)
    stage = _name(t, listing.stage)
    if listing.scope == "mine":
        return t("*Your open deals at {stage}* ({count})", stage=stage, count=total)
    return t("*Open deals at {stage}* ({count})", stage=stage, count=total)


def board(t: Translator, result: Board) -> Message:
    """The pipeline, then the customers, each with its totals, so a large base of customers never hides the
    pipeline's own numbers."""
    pipeline, customers = result.pipeline, result.customers
    parts = []
    for is_pipeline, group in ((True, pipeline), (False, customers)):
        if not group.stages:
            continue
        lines = [_board_row(t, row.stage, row.deals, t.money(row.value_cents, result.currency)) for row in group.stages]
        deals, value = _deals(t, group.deals), _money(t, group.value_cents, result.currency)
        if is_pipeline:
            total = t("*Pipeline*: {deals} · {value}", deals=deals, value=value)
        else:
            total = t("*Customers*: {deals} · {value}", deals=deals, value=value)
        parts.append([total, *lines])
    summary = t(
        "{open_deals} worth {pipeline_value} in the pipeline · {customers} worth {customers_value} · {lost} lost",
        open_deals=t.n("{count} open deal", "{count} open deals", pipeline.deals),
        pipeline_value=_money(t, pipeline.value_cents, result.currency),
        customers=t.n("{count} customer", "{count} customers", customers.deals),
        customers_value=_money(t, customers.value_cents, result.currency),
        lost=result.lost,
    )
    room = (MESSAGE_BLOCK_LIMIT - 2) // max(len(parts), 1)
    sections = [block for lines in parts for block in packed_sections(lines, max_blocks=room, t=t)]
    blocks = [header(t("Pipeline")), *sections, context(summary)]
    return Message(text=t("Pipeline: {summary}", summary=summary), blocks=blocks)


def _board_row(t: Translator, stage: Stage, deals: int, value: str) -> str:
    if stage.won:
        return t("*{stage}* (won): {deals} · {value}", stage=_name(t, stage), deals=_deals(t, deals), value=value)
    return t("*{stage}*: {deals} · {value}", stage=_name(t, stage), deals=_deals(t, deals), value=value)


_APPROVAL = {
    Approval.NONE: N_("Moves here at once, with the evidence; no approval needed."),
    Approval.ONE: N_("A manager approves each move here."),
    Approval.TWO: N_("Two different managers approve each move here."),
}


def stages(t: Translator, pipeline: Pipeline) -> Message:
    lines = []
    # TRANSLATORS: above a stage's exit criteria, each a thing the buyer did.
    reached = t("Reached when the buyer:")
    for number, stage in enumerate(pipeline.stages, start=1):
        criteria = "\n".join(f"    • {escape(item)}" for item in _criteria(t, stage))
        if stage.won:
            name = t("*{number}. {stage}* (won)", number=number, stage=_name(t, stage))
        else:
            name = t("*{number}. {stage}*", number=number, stage=_name(t, stage))
        lines.append(
            f"{name} `{stage.key}`\n  {reached}\n{criteria}\n"
            f"  _{escape(_prompt(t, stage))}_\n  {t(_APPROVAL[stage.approval])}"
        )
    blocks = [
        header(t("Stages")),
        context(t("A stage is named for what the buyer has done. Each needs evidence of the buyer's action.")),
        *packed_sections(lines, max_blocks=MESSAGE_BLOCK_LIMIT - 2, t=t),
    ]
    return Message(text=t("The pipeline's stages and their exit criteria"), blocks=blocks)


def managers(t: Translator, listing: ManagerList) -> Message:
    if not listing.all:
        text = t("No managers yet. Add one with `/pipeline managers add @someone`.")
    else:
        text = t("*Managers:* {people}", people=", ".join(mention(user, t) for user in listing.all))
        if listing.from_settings:
            # TRANSLATORS: SALES_MANAGERS is the name of a server setting; keep it as it is.
            text += "\n" + t(
                "_From SALES_MANAGERS:_ {people}", people=", ".join(mention(user, t) for user in listing.from_settings)
            )
    return Message(text=text, blocks=[section(text)])


def manager_changed(t: Translator, change: ManagerChanged) -> Message:
    who = mention(change.user_id, t)
    if change.action == "add":
        head = t("{who} is now a manager.", who=who) if change.changed else t("{who} was already a manager.", who=who)
    else:
        head = t("{who} is no longer a manager.", who=who) if change.changed else t("{who} was not a manager.", who=who)
    listing = managers(t, change.managers)
    return Message(text=f"{head}\n{listing.text}", blocks=[section(head), *listing.blocks])


def help_message(t: Translator, usage: str | Text) -> Message:
    shown = escape(t.show(usage))
    return Message(text=shown, blocks=[section(shown)])


METHOD = N_(
    "*How this pipeline works*\n"
    "• Every stage is named for what the *buyer* has done, never for what we did.\n"
    "• A deal moves only with evidence of the buyer's action: a link to their reply, the accepted invite, "
    "the signed contract.\n"
    "• A manager approves or rejects every move in the deal's thread, and can ask to see the evidence.\n"
    "• Moving back needs a note; marking lost needs a reason. Nothing is ever erased."
)


def guide(t: Translator, *usages: str | Text) -> Message:
    """`/pipeline help`: the method in a few lines, then every command's usage."""
    return Message(
        text=t("How to run the pipeline from Slack"),
        blocks=[section(t(METHOD)), *(section(escape(t.show(usage))) for usage in usages)],
    )


LINT_STANDARDS = N_(
    "Each stage must be *required* (no repeated exit criteria), *factual* (things the buyer did), *inspectable* "
    "(evidence a manager can open) and *buyer-centric* (named for what the buyer has done)."
)


def lint_report(t: Translator, findings: Sequence[Finding], pipeline: Pipeline) -> Message:
    """`/pipeline lint`: each finding with its rewrite; past Slack's limits, the rest counted in "and N more"."""
    if not findings:
        text = t.n(
            ":white_check_mark: No findings: the pipeline's {count} stage is required, factual, inspectable and "
            "buyer-centric.",
            ":white_check_mark: No findings: the pipeline's {count} stages are required, factual, inspectable and "
            "buyer-centric.",
            len(pipeline.stages),
        )
        return Message(text=text, blocks=[section(text)])
    title = t(
        "Pipeline lint: {findings} in {stages}",
        findings=t.n("{count} finding", "{count} findings", len(findings)),
        stages=t.n("{count} stage", "{count} stages", len(pipeline.stages)),
    )
    lines = [_finding_line(t, finding) for finding in findings]
    blocks = [
        header(title),
        context(t(LINT_STANDARDS)),
        *packed_sections(
            lines,
            max_blocks=MESSAGE_BLOCK_LIMIT - 2,
            # TRANSLATORS: keep `salesbot lint FILE` as it is (a command run on the server).
            more=lambda count: t.n(
                "and {count} more not shown: run `salesbot lint FILE` on the pipeline file to see every finding",
                "and {count} more not shown: run `salesbot lint FILE` on the pipeline file to see every finding",
                count,
            ),
        ),
    ]
    return Message(text=title, blocks=blocks)


def _finding_line(t: Translator, finding: Finding) -> str:
    where = f"*{escape(t.show(finding.where_text))}* ({escape(t.show(finding.standard_text))})"
    return f"• {where}: {escape(t.show(finding.problem_text))}\n    → {escape(t.show(finding.suggestion_text))}"


def _metadata(t: Translator, **values: object) -> str:
    """A form's private metadata: what its submission needs, and the language its refusals are answered in."""
    return json.dumps({**values, "language": t.language.value})


def reject_modal(t: Translator, move: MoveSummary, *, channel_id: str) -> View:
    return View(
        type="modal",
        callback_id=REJECT_VIEW,
        private_metadata=_metadata(t, move_id=move.id, channel_id=channel_id),
        title=plain(t.ctx("modal title", "Reject move"), 24),
        submit=plain(t.ctx("button", "Reject"), 24),
        close=plain(t.ctx("button", "Cancel"), 24),
        blocks=[
            section(
                t(
                    "Reject moving *{deal}* to *{stage}*? The reason is posted in the deal's thread.",
                    deal=format_deal_id(move.deal_number),
                    stage=_name(t, move.to_stage),
                )
            ),
            InputBlock(
                block_id=REASON_BLOCK,
                label=plain(t("Reason"), 2000),
                element=PlainTextInputElement(
                    action_id=REASON_INPUT,
                    multiline=True,
                    max_length=REASON_LIMIT,
                    placeholder=plain(t("What evidence of the buyer's action is missing?"), 150),
                ),
            ),
        ],
    )


def new_deal_modal(t: Translator, *, channel_id: str) -> View:
    """`/deal new` as a form: the same fields as the typed command, checked the same way on submit."""
    return View(
        type="modal",
        callback_id=NEW_DEAL_VIEW,
        private_metadata=_metadata(t, channel_id=channel_id),
        title=plain(t.ctx("modal title", "New deal"), 24),
        submit=plain(t.ctx("button", "Add deal"), 24),
        close=plain(t.ctx("button", "Cancel"), 24),
        blocks=[
            # TRANSLATORS: an example of a deal's name, shown in the empty field.
            _field("name", t("Deal name"), t("Acme renewal"), optional=False, max_length=NAME_LIMIT),
            _field("company", t("Company"), "Acme Corp", optional=True, max_length=COMPANY_LIMIT),
            _field("value", t("Value"), "50000, €5000, 12.5k", optional=True, max_length=40),
            _field("evidence", t("Evidence (a link)"), "https://mail.example.com/buyer-reply", optional=True),
            context(t("The card is posted in this channel; every move of the deal goes in its thread.")),
        ],
    )


def _field(block_id: str, label: str, example: str, *, optional: bool, max_length: int | None = None) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=plain(label, 2000),
        optional=optional,
        element=PlainTextInputElement(action_id=FIELD_INPUT, max_length=max_length, placeholder=plain(example, 150)),
    )


def home_view(t: Translator, overview: HomeOverview, *, notice: str | None = None) -> View:
    """The Home tab: a notice (e.g. why a click was refused); for a manager every waiting move with its buttons
    (so a move whose deal has no thread can still be decided) and the team's stalled deals; then the person's
    stalled deals, their moves waiting for a manager, and their open deals by stage.

    Each part has a fixed share of Slack's 100 blocks (`HOME_BLOCKS`), the deals by stage the rest, so the view
    stays within the limit whatever the pipeline's size; what does not fit is counted in an "and N more".
    """
    blocks: list[Block] = [section(notice), divider()] if notice else []
    if overview.decides:
        blocks += _waiting_moves(t, overview.waiting)
        blocks += _team_stalled(t, overview.team_stalled)
    blocks += [
        header(t("Your pipeline")),
        _your_week(t, overview.week),
        *_your_stalled(t, overview),
        *_your_pending(t, overview),
    ]
    blocks += _your_deals(t, overview, max_blocks=VIEW_BLOCK_LIMIT - len(blocks))
    return View(type="home", blocks=blocks[:VIEW_BLOCK_LIMIT])


HOME_BLOCKS = {"waiting_rest": 3, "team_stalled": 4, "your_week": 1, "your_stalled": 3, "your_pending": 3}
"""Blocks for each part of the Home tab but the deals by stage. With the notice (2), the waiting moves' divider and
title (2) and 15 moves with buttons (30), the team's stalled deals' divider (1) and the header (1), they take 50
blocks at most, and leave the deals by stage 50 or more."""
HOME_DEALS_PER_STAGE = 10
HOME_NAME_LIMIT = 100
HOME_CRITERIA_LIMIT = 600


def _asked(t: Translator, move: MoveSummary) -> str:
    return t("asked by {requester} {when}", requester=mention(move.requested_by, t), when=date(move.requested_at))


def _waiting_moves(t: Translator, waiting: Sequence[WaitingMove]) -> list[Block]:
    if not waiting:
        return []
    blocks: list[Block] = [divider(), section(t("*Moves waiting for a manager* ({count})", count=len(waiting)))]
    for move in waiting[:HOME_MOVES_WITH_BUTTONS]:
        blocks += [section(_waiting_text(t, move)), _decision_buttons(t, move.move.id, block_id=None)]
    rest = [
        t(
            "*{deal}* → {stage}, asked by {requester} {when}",
            deal=format_deal_id(move.move.deal_number),
            stage=_name(t, move.move.to_stage),
            requester=mention(move.move.requested_by, t),
            when=date(move.move.requested_at),
        )
        for move in waiting[HOME_MOVES_WITH_BUTTONS:]
    ]
    if rest:
        blocks.append(context(t("Decide these after the ones above:")))
        blocks.extend(packed_sections(rest, max_blocks=HOME_BLOCKS["waiting_rest"] - 1, t=t))
    return blocks


def _team_stalled(t: Translator, team: TeamStalled | None) -> list[Block]:
    if team is None or not team.total:
        return []
    lines = [
        f"*{format_deal_id(deal.number)}* {escape(clip(deal.name, HOME_NAME_LIMIT))} · {_name(t, deal.stage)} · "
        f"{_days(t, deal.days_in_stage, deal.stage)} · {mention(deal.owner_id, t)}"
        for deal in team.deals
    ]
    title = t(":warning: *Stalled deals in the team* ({count}), longest in stage first", count=team.total)
    return [divider(), *_listing(t, title, lines, total=team.total, max_blocks=HOME_BLOCKS["team_stalled"])]


def _your_week(t: Translator, week: OwnSummary) -> Block:
    """Your own digest in `HOME_BLOCKS["your_week"]` block: the numbers `commands.digest.own` defines."""
    change = week.change
    expected = dict(wins=_one_decimal(t, week.expected_wins), value=_money(t, week.expected_value_cents, week.currency))
    return section(
        "\n".join(
            (
                # TRANSLATORS: keep `/pipeline digest mine` as it is (a command).
                t("*Your week* (your deals; the forecast uses the team's rates; `/pipeline digest mine` for the rest)"),
                t(
                    "Open pipeline: {deals} · {value} ({change_deals} · {change_value} since a week ago)",
                    deals=_deals(t, week.pipeline.deals),
                    value=_money(t, week.pipeline.value_cents, week.currency),
                    change_deals=_signed(t, change.deals),
                    change_value=_signed_money(t, change.value_cents, week.currency),
                ),
                t(
                    "Moved this week: {moved} · won: {won} ({value})",
                    moved=week.moved,
                    won=week.won.deals,
                    value=_money(t, week.won.value_cents, week.currency),
                ),
                t("Expected: about {wins} wins · {value} (a rough guess: few ended stays behind the rates)", **expected)
                if week.rough
                else t("Expected: about {wins} wins · {value}", **expected),
            )
        )
    )


def _your_stalled(t: Translator, overview: HomeOverview) -> list[Block]:
    if not overview.stalled:
        return []
    lines = [
        f"*{format_deal_id(item.deal.number)}* {escape(clip(item.deal.name, HOME_NAME_LIMIT))} · "
        f"{_name(t, item.deal.stage)} · {_days(t, item.days_in_stage, item.deal.stage)}"
        for item in overview.stalled
    ]
    title = t(":warning: *Your stalled deals* ({count}), longest in stage first", count=len(lines))
    return _listing(t, title, lines, total=len(lines), max_blocks=HOME_BLOCKS["your_stalled"])


def _your_pending(t: Translator, overview: HomeOverview) -> list[Block]:
    if not overview.pending:
        return []
    lines = [
        t(
            "*{deal}* {name} → {stage}, asked by {requester} {when}",
            deal=format_deal_id(item.move.deal_number),
            name=escape(clip(item.deal.name, HOME_NAME_LIMIT)),
            stage=_name(t, item.move.to_stage),
            requester=mention(item.move.requested_by, t),
            when=date(item.move.requested_at),
        )
        for item in overview.pending
    ]
    title = t(":hourglass: *Your moves waiting for a manager* ({count})", count=len(lines))
    return _listing(t, title, lines, total=len(lines), max_blocks=HOME_BLOCKS["your_pending"])


def _your_deals(t: Translator, overview: HomeOverview, *, max_blocks: int) -> list[Block]:
    """The person's open deals by stage, in pipeline order: each stage's heading (what the buyer must do next),
    then a section per deal with its Advance… button, at most HOME_DEALS_PER_STAGE a stage.

    Within `max_blocks`: one block is kept for the closing "and N more stages", and a stage is shown only with at
    least one of its deals, so the stages that do not fit are counted rather than cut."""
    title = t("*Your open deals by stage* ({count})", count=overview.total_deals)
    if not overview.stages:
        return [section(f"{title}\n{t(CREATE_ONE)}")]
    blocks: list[Block] = [section(title)]
    budget = max_blocks - 2
    shown = 0
    for group in overview.stages:
        part = _stage_part(t, group, budget)
        if not part:
            break
        blocks += part
        budget -= len(part)
        shown += 1
    more = _more_deals(t, overview.stages[shown:], overview.total_deals - overview.listed_deals)
    if more:
        blocks.append(context(more))
    return blocks


def _more_deals(t: Translator, rest: Sequence[StageGroup], unread: int) -> str | None:
    """The closing line of the deals by stage: the stages and deals left out, and where to see them."""
    hidden = sum(len(group.deals) for group in rest)
    deals, more = _deals(t, hidden), t.n("{count} more deal", "{count} more deals", unread)
    if rest and unread > 0:
        return t.n(
            "and {count} more stage ({deals}); and {more}; see them with `/deal list`",
            "and {count} more stages ({deals}); and {more}; see them with `/deal list`",
            len(rest),
            deals=deals,
            more=more,
        )
    if rest:
        return t.n(
            "and {count} more stage ({deals}); see them with `/deal list`",
            "and {count} more stages ({deals}); see them with `/deal list`",
            len(rest),
            deals=deals,
        )
    if unread > 0:
        return t.n(
            "and {count} more deal; see them with `/deal list`",
            "and {count} more deals; see them with `/deal list`",
            unread,
        )
    return None


def _stage_part(t: Translator, group: StageGroup, budget: int) -> list[Block]:
    """The stage's heading and as many of its deals as `budget` blocks hold (with an "and N more" when some are
    left out); nothing when not even one deal fits."""
    fit = min(len(group.deals), HOME_DEALS_PER_STAGE, budget - 1)
    if fit < len(group.deals) and fit + 2 > budget:
        fit = budget - 2
    if fit < 1:
        return []
    blocks: list[Block] = [section(_stage_heading(t, group))]
    blocks += [_home_deal(t, item, can_advance=group.next_stage is not None) for item in group.deals[:fit]]
    hidden = len(group.deals) - fit
    if hidden > 0:
        blocks.append(
            context(
                t.n(
                    "• and {count} more at this stage; see them with `/deal list stage:{key}`",
                    "• and {count} more at this stage; see them with `/deal list stage:{key}`",
                    hidden,
                    key=escape(group.stage.key),
                )
            )
        )
    return blocks


def _stage_heading(t: Translator, group: StageGroup) -> str:
    """A stage's name and deal count, under what the buyer must do to reach the next stage."""
    lines = [f"*{_name(t, group.stage)}* ({t.number(len(group.deals))})"]
    if group.next_stage is not None:
        criteria = clip("; ".join(_criteria(t, group.next_stage)), HOME_CRITERIA_LIMIT)
        lines.append(
            t(
                "Next, *{stage}*, once the buyer: {criteria}",
                stage=_name(t, group.next_stage),
                criteria=escape(criteria),
            )
        )
    return "\n".join(lines)


def _home_deal(t: Translator, item: OpenDeal, *, can_advance: bool) -> SectionBlock:
    """A deal's line, with the Advance… button (the advance form) unless a move of it is waiting already or
    there is no stage after its own."""
    parts = [
        t.n(
            "• *{deal}* {name} · {count} day in stage",
            "• *{deal}* {name} · {count} days in stage",
            item.days_in_stage,
            deal=format_deal_id(item.deal.number),
            name=escape(clip(item.deal.name, HOME_NAME_LIMIT)),
        )
    ]
    if item.stalled:
        parts.append(t(":warning: stalled"))
    if item.move_pending:
        parts.append(t(":hourglass: its move waits for a manager"))
    button = (
        ButtonElement(
            text=plain(t.ctx("button", "Advance…"), 75), action_id=ADVANCE_ACTION, value=str(item.deal.number)
        )
        if can_advance and not item.move_pending
        else None
    )
    text = " · ".join(parts)
    return SectionBlock(text=MarkdownTextObject(text=clip_mrkdwn(text, SECTION_TEXT_LIMIT)), accessory=button)


def _days(t: Translator, days: int, stage: Stage) -> str:
    return t.n(
        "{count} day in stage (stalls after {limit})",
        "{count} days in stage (stalls after {limit})",
        days,
        limit=stage.stall_after_days,
    )


def _listing(t: Translator, title: str, lines: list[str], *, total: int, max_blocks: int) -> list[Block]:
    """`title` then `lines`, packed within `max_blocks`; `total` counts lines not given too."""
    unlisted = total - len(lines)
    blocks = packed_sections([title, *lines], max_blocks=max_blocks - bool(unlisted), t=t)
    if unlisted > 0:
        blocks.append(context(t.n("and {count} more not listed here", "and {count} more not listed here", unlisted)))
    return blocks


NONE_LINK = N_("• (none)")


def _waiting_text(t: Translator, waiting: WaitingMove) -> str:
    move, deal = waiting.move, waiting.deal
    evidence = "\n".join(f"• {link(item)}" for item in move.evidence) or t(NONE_LINK)
    if deal.thread_ts:
        where = t("In the deal's thread in <#{channel}>.", channel=deal.channel_id)
    else:
        where = t(
            ":warning: Its card is not in <#{channel}> yet: if that channel is private, invite me there.",
            channel=deal.channel_id,
        )
    progress = f"\n{_approval_progress(t, move)}" if move.approvals_needed > 1 else ""
    asked = t(
        "*{deal}* → *{stage}*, asked by {requester} {when}",
        deal=deal_title(deal),
        stage=_name(t, move.to_stage),
        requester=mention(move.requested_by, t),
        when=date(move.requested_at),
    )
    return f"{asked}\n{evidence}\n{where}{progress}"


def _decision_buttons(t: Translator, move_id: int, *, block_id: str | None) -> ActionsBlock:
    """Approve, Reject and Ask for evidence: the same actions in a thread and on the Home tab."""
    return ActionsBlock(
        block_id=block_id,
        elements=[
            _button(t.ctx("button", "Approve"), APPROVE_ACTION, move_id, style="primary"),
            _button(t.ctx("button", "Reject"), REJECT_ACTION, move_id, style="danger"),
            _button(t.ctx("button", "Ask for evidence"), ASK_EVIDENCE_ACTION, move_id),
        ],
    )


def _button(text: str, action_id: str, move_id: int, *, style: str | None = None) -> ButtonElement:
    return ButtonElement(text=plain(text, 75), action_id=action_id, value=str(move_id), style=style)


def _move_text(t: Translator, move: MoveSummary, deal: DealSummary) -> str:
    return t(
        "{requester} asks to move {deal} from {from_stage} to {to_stage}.",
        requester=mention(move.requested_by, t),
        deal=deal_title(deal),
        from_stage=_name(t, move.from_stage),
        to_stage=_name(t, move.to_stage),
    )


def _move_body(t: Translator, move: MoveSummary, deal: DealSummary) -> list[Block]:
    blocks: list[Block] = [
        section(
            t(
                "{requester} asks to move *{deal}* from *{from_stage}* → *{to_stage}*",
                requester=mention(move.requested_by, t),
                deal=deal_title(deal),
                from_stage=_name(t, move.from_stage),
                to_stage=_name(t, move.to_stage),
            )
        )
    ]
    for entry in move.evidence_by_stage:
        checklist = "\n".join(f"☐ {escape(item)}" for item in _criteria(t, entry.stage))
        links = "\n".join(f"• {link(item)}" for item in entry.evidence) or t(NONE_LINK)
        # TRANSLATORS: the heading of a stage's exit criteria, each a thing the buyer did ("the buyer… accepted").
        reached = t("*{stage}*: the buyer…", stage=_name(t, entry.stage))
        evidence = t("*Evidence*")
        blocks.append(section(f"{reached}\n{checklist}\n{evidence}\n{links}"))
    if move.note:
        blocks.append(context(t("Note: {note}", note=escape(move.note))))
    return blocks[: MESSAGE_BLOCK_LIMIT - 3]


def _outcome_line(t: Translator, move: MoveSummary) -> str:
    when = date(move.decided_at) if move.decided_at else ""
    # TRANSLATORS: who decided a move, when the record does not say.
    who = mention(move.decided_by, t) if move.decided_by else t("someone")
    if move.status == MoveStatus.APPROVED and move.approved_by_policy:
        return t(
            ":white_check_mark: Approved by the pipeline {when}: {stage} needs no manager's approval",
            when=when,
            stage=_name(t, move.to_stage),
        )
    if move.status == MoveStatus.APPROVED:
        return t(":white_check_mark: Approved by {who} {when}", who=_people(t, _approvers(move)) or who, when=when)
    reason = escape(move.decision_reason or "")
    if move.status == MoveStatus.REJECTED:
        return t(":x: Rejected by {who} {when}: {reason}", who=who, when=when, reason=reason)
    if move.status == MoveStatus.CANCELLED:
        return t(":heavy_multiplication_x: Cancelled by {who} {when}: {reason}", who=who, when=when, reason=reason)
    if move.approvals_needed > 1:
        return f":hourglass: {_approval_progress(t, move)}"
    return t(":hourglass: Waiting for a manager")


def _history_line(t: Translator, entry: HistoryEntry) -> str:
    names = [_name(t, stage) for stage in (entry.from_stage, entry.to_stage) if stage]
    stages = " → ".join(names)
    when, who = date(entry.at), mention(entry.actor_id, t)
    if entry.by_pipeline:
        line = t(
            "{when} the pipeline approved the move {stages} (no manager's approval needed)", when=when, stages=stages
        )
    else:
        line = _event_line(t, entry.kind, when=when, who=who, stages=stages)
    if entry.evidence:
        line += "\n    " + t("evidence: {links}", links=", ".join(link(item) for item in entry.evidence))
    if entry.note and not entry.by_pipeline:  # the pipeline's own note (stored in English) says what the line says
        line += "\n    " + t("note: {note}", note=escape(entry.note))
    return line


def _event_line(t: Translator, kind: str, *, when: str, who: str, stages: str) -> str:
    """One event of a deal's history: when, who, what they did, and the stages it concerns (none, one or two)."""
    params = {"when": when, "who": who, "stages": stages}
    if kind == EventKind.CREATED:
        line = t("{when} {who} created it at {stages}", **params)
    elif kind == EventKind.REQUESTED:
        line = t("{when} {who} asked to move it {stages}", **params)
    elif kind == EventKind.APPROVAL_GIVEN:
        line = t("{when} {who} approved the move (it waited for another manager's approval) {stages}", **params)
    elif kind == EventKind.APPROVED:
        line = t("{when} {who} approved the move {stages}", **params)
    elif kind == EventKind.REJECTED:
        line = t("{when} {who} rejected the move {stages}", **params)
    elif kind == EventKind.EVIDENCE_ASKED:
        line = t("{when} {who} asked for evidence for the move {stages}", **params)
    elif kind == EventKind.LOST:
        line = t("{when} {who} marked it lost at {stages}", **params)
    elif kind == EventKind.MOVED_BACK:
        line = t("{when} {who} moved it back {stages}", **params)
    elif kind == "edited":
        line = t("{when} {who} edited it {stages}", **params)
    else:
        line = f"{when} {who} {kind} {stages}"
    return line.rstrip()


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _weekday(t: Translator, key: str | None) -> str:
    """A schedule's weekday (`mon`) as the reader's language names it (`Monday`, `lunes`, `måndag`)."""
    if key not in WEEKDAYS:
        return key or ""
    return str(t.locale.days["format"]["wide"][WEEKDAYS.index(key)])


def schedule(t: Translator, view: ScheduleView | None, *, changed: bool = False) -> Message:
    if view is None:
        # TRANSLATORS: keep the command `/pipeline schedule weekly mon 09:00` and `tz:Europe/Berlin` as they are.
        text = t(
            "No digest is scheduled for this channel. Set one with "
            "`/pipeline schedule weekly mon 09:00` (add `tz:Europe/Berlin` for another zone)."
        )
        return Message(text=text, blocks=[section(text)])
    params = {"channel": view.channel_id, "time": f"{view.at:%H:%M}", "zone": escape(view.tz)}
    if view.frequency == "weekly":
        weekday = _weekday(t, view.weekday)
        if changed:
            posted = t(
                "Scheduled: the pipeline digest is posted in <#{channel}> every {weekday} at {time} ({zone}).",
                weekday=weekday,
                **params,
            )
        else:
            posted = t(
                "The pipeline digest is posted in <#{channel}> every {weekday} at {time} ({zone}).",
                weekday=weekday,
                **params,
            )
    elif changed:
        posted = t("Scheduled: the pipeline digest is posted in <#{channel}> every day at {time} ({zone}).", **params)
    else:
        posted = t("The pipeline digest is posted in <#{channel}> every day at {time} ({zone}).", **params)
    when = format_datetime(view.next_run, "EEE dd MMM yyyy HH:mm", locale=t.locale)
    upcoming = t("Next: {when} {zone}.", when=when, zone=escape(view.tz))
    text = f"{posted} {upcoming} {t(QUIET_PERIODS[QuietDigest(view.quiet)])}"
    return Message(text=text, blocks=[section(text)])


QUIET_PERIODS = {
    QuietDigest.SHORT: N_("A period in which no deal moved, was created or was lost gets one line (`quiet:short`)."),
    QuietDigest.SKIP: N_("A period in which no deal moved, was created or was lost posts nothing (`quiet:skip`)."),
    QuietDigest.FULL: N_("Every period gets the whole digest, quiet or not (`quiet:full`)."),
}


def schedule_stopped(t: Translator, stopped: bool) -> Message:
    text = t("The digest schedule for this channel is off.") if stopped else t("This channel had no digest schedule.")
    return Message(text=text, blocks=[section(text)])
