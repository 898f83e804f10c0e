"""Pure renderers: use-case results in, Block Kit messages and views out. All user text is escaped."""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

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
    amount,
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
from commands.formats import clip, duration, format_deal_id, plural
from commands.i18n.translator import N_, Text, Translator
from commands.pipeline.board import Board
from commands.pipeline.lint import Finding
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


def deal_card(t: Translator, deal: DealSummary, *, evidence_missing: Stage | None = None) -> Message:
    """The deal's own message in the channel; its thread carries every later event."""
    blocks: list[Block] = [header(f"{format_deal_id(deal.number)} · {deal.name}"), section("\n".join(_facts(deal)))]
    if evidence_missing is not None:
        blocks.append(
            context(
                f":warning: No evidence yet that the buyer reached *{escape(evidence_missing.name)}*. "
                f"{escape(evidence_missing.evidence_prompt)}"
            )
        )
    if not deal.is_lost:
        blocks.append(
            context(
                f"Move it with `/advance {format_deal_id(deal.number)} evidence:<link>` · "
                "every move is posted in this thread"
            )
        )
    return Message(text=f"{deal_title(deal)}: {escape(deal.stage.name)}", blocks=blocks)


def _facts(deal: DealSummary) -> list[str]:
    """The deal's facts, as its card and `/deal show` both list them."""
    lost = [f":x: *Lost:* {escape(deal.lost_reason or '')}"] if deal.is_lost else []
    return [
        *lost,
        f"*Stage:* {escape(deal.stage.name)}",
        f"*Owner:* {mention(deal.owner_id)}",
        f"*Value:* {amount(deal.value_cents)}",
        f"*Company:* {escape(deal.company) if deal.company else '—'}",
    ]


def created_confirmation(t: Translator, deal: DealSummary) -> Message:
    return Message(
        text=f"Created {deal_title(deal)} at *{escape(deal.stage.name)}*. I'm posting its card in this "
        f"channel; every move will show in the card's thread."
    )


def _invite(channel_id: str, bot_user_id: str) -> str:
    me = mention(bot_user_id) if bot_user_id else "me"
    return f"Invite {me} to <#{channel_id}> with `/invite` there"


def cannot_post(t: Translator, deal: DealSummary, *, bot_user_id: str) -> str:
    """Why a deal has no card or thread: the bot is not in its channel (a private channel, most likely)."""
    number = format_deal_id(deal.number)
    return (
        f":warning: I can't post in <#{deal.channel_id}>, so {number} has no card or thread there yet; it is "
        f"stored, and nothing is lost. {_invite(deal.channel_id, bot_user_id)}: I'll post everything {number} "
        "is owed as soon as I join. Until then, managers can decide its moves on my Home tab."
    )


def digest_not_posted(t: Translator, channel_id: str, *, no_access: bool, bot_user_id: str) -> str:
    if no_access:
        return (
            f":warning: I can't post the digest in <#{channel_id}>. {_invite(channel_id, bot_user_id)}, then ask again."
        )
    return ":warning: Slack did not take the digest just now. Ask again in a minute."


def move_request(t: Translator, requested: MoveRequested) -> Message:
    """The pending move in the deal's thread, with the managers' buttons."""
    move, deal = requested.move, requested.deal
    blocks = _move_body(move, deal)
    target = move.to_stage
    if move.approvals_needed > 1:
        blocks.append(context(_approval_progress(move)))
    if requested.managers_to_ask:
        askers = " ".join(mention(user) for user in requested.managers_to_ask)
        blocks.append(section(f"{askers} {escape(target.evidence_prompt)}{_too_few_managers(requested)}"))
    else:
        blocks.append(
            section(
                f"{escape(target.evidence_prompt)}\n:warning: No other manager is set up to decide this. "
                "Add one with `/pipeline managers add @someone`."
            )
        )
    blocks.append(_decision_buttons(move.id, block_id=f"move-{move.id}"))
    return Message(text=_move_text(move, deal), blocks=blocks)


def move_outcome(t: Translator, move: MoveSummary, deal: DealSummary) -> Message:
    """The thread message of a move once it is decided: the same facts, the outcome, no buttons."""
    blocks = _move_body(move, deal)
    blocks.append(section(_outcome_line(move)))
    return Message(text=f"{_move_text(move, deal)} {_outcome_line(move)}", blocks=blocks)


def approval_reply(t: Translator, given: ApprovalGiven) -> Message:
    """A manager's approval of a move that needs another one: who approved, and what the move still waits for."""
    move = given.move
    text = f":ballot_box_with_check: {mention(given.approver_id)} approved the move to *{escape(move.to_stage.name)}*."
    if move.status == MoveStatus.PENDING:
        text += f" {_approval_progress(move)}"
        if given.managers_to_ask:
            text += " " + " ".join(mention(user) for user in given.managers_to_ask)
    return Message(text=text, blocks=[section(text)])


def _too_few_managers(requested: MoveRequested) -> str:
    """A warning when fewer managers can still approve the move than it needs, so it could never be approved."""
    missing = requested.move.approvals_missing
    if not requested.managers_to_ask or len(requested.managers_to_ask) >= missing:
        return ""
    return (
        f"\n:warning: It needs {missing} more managers' approvals but only {len(requested.managers_to_ask)} other "
        "manager can give one. Add one with `/pipeline managers add @someone`."
    )


def _approval_progress(move: MoveSummary) -> str:
    needed = "two different managers" if move.approvals_needed == 2 else f"{move.approvals_needed} managers"
    if not move.approved_by:
        return f"Moving to {escape(move.to_stage.name)} needs the approval of {needed}."
    missing = "one more manager's approval" if move.approvals_missing == 1 else f"{move.approvals_missing} more"
    return (
        f"Approved so far by {_people(move.approved_by)} ({len(move.approved_by)} of {move.approvals_needed}); "
        f"waiting for {missing}."
    )


def _people(users: tuple[str, ...]) -> str:
    mentions = [mention(user) for user in users]
    return " and ".join(mentions) if len(mentions) <= 2 else ", ".join(mentions[:-1]) + f" and {mentions[-1]}"


def _approvers(move: MoveSummary) -> tuple[str, ...]:
    """Who approved a decided move; moves decided before approvals were recorded one by one name their decider."""
    return move.approved_by or ((move.decided_by,) if move.decided_by else ())


def move_confirmation(t: Translator, requested: MoveRequested) -> Message:
    move = requested.move
    if move.approved_by_policy:
        return Message(
            text=f"Moved {deal_title(requested.deal)} to *{escape(move.to_stage.name)}* "
            f"with {plural(len(move.evidence), 'evidence link')}: that stage needs no manager's approval, so the "
            "move is done. The deal's thread says so."
        )
    where = (
        "in the deal's thread"
        if requested.deal.thread_ts
        else "on my Home tab, or in the deal's thread once it is posted"
    )
    deciders = "Two different managers" if move.approvals_needed == 2 else "A manager"
    who_decides = (
        f"{deciders} will decide {where}.{_too_few_managers(requested)}"
        if requested.managers_to_ask
        else ":warning: No other manager exists yet to decide it: add one with `/pipeline managers add @someone`."
    )
    return Message(
        text=f"Asked to move {deal_title(requested.deal)} to *{escape(move.to_stage.name)}* "
        f"with {plural(len(move.evidence), 'evidence link')}. {who_decides}"
    )


def decision_reply(t: Translator, decision: Decision) -> Message:
    move, deal = decision.move, decision.deal
    if move.status == MoveStatus.APPROVED and move.approved_by_policy:
        text = (
            f"{mention(move.requested_by)} {deal_title(deal)} is now at *{escape(deal.stage.name)}*: "
            "approved by the pipeline, as that stage needs no manager's approval."
        )
    elif move.status == MoveStatus.APPROVED:
        text = (
            f"{mention(move.requested_by)} {_people(_approvers(move))} approved your move: "
            f"{deal_title(deal)} is now at *{escape(deal.stage.name)}*."
        )
    else:
        text = (
            f"{mention(move.requested_by)} {mention(move.decided_by or '')} rejected the move to "
            f"*{escape(move.to_stage.name)}*: {escape(move.decision_reason or '')}"
        )
    return Message(text=text, blocks=[section(text)])


def evidence_request(t: Translator, asked: EvidenceAsked) -> Message:
    """The manager's request in the thread, after a mention of the rep: what the manager wrote, or the stage's
    evidence prompt for an ask stored without it. A first word like "Show" reads on in lower case ("show"),
    one like "CFO" stays as written."""
    prompt = asked.prompt if asked.prompt is not None else asked.move.to_stage.evidence_prompt
    if prompt[:1].isupper() and prompt[1:2].islower():
        prompt = prompt[:1].lower() + prompt[1:]
    text = f"{mention(asked.move.requested_by)}, {escape(prompt)} (asked by {mention(asked.asked_by)})"
    return Message(text=text, blocks=[section(text)])


def lost_reply(t: Translator, lost: MarkedLost) -> Message:
    text = f":x: {mention(lost.marked_by)} marked {deal_title(lost.deal)} lost: {escape(lost.deal.lost_reason or '')}"
    if lost.cancelled_move is not None:
        text += f"\nThe pending move to *{escape(lost.cancelled_move.to_stage.name)}* is cancelled."
    return Message(text=text, blocks=[section(text)])


def lost_confirmation(t: Translator, lost: MarkedLost) -> Message:
    return Message(text=f"Marked {deal_title(lost.deal)} lost. The deal's thread says so too.")


def moved_back_reply(t: Translator, moved: MovedBack) -> Message:
    text = (
        f":arrow_left: {mention(moved.moved_by)} moved {deal_title(moved.deal)} back from "
        f"*{escape(moved.from_stage.name)}* to *{escape(moved.deal.stage.name)}*: {escape(moved.note)}"
    )
    return Message(text=text, blocks=[section(text)])


def moved_back_confirmation(t: Translator, moved: MovedBack) -> Message:
    return Message(text=f"Moved {deal_title(moved.deal)} back to *{escape(moved.deal.stage.name)}*.")


def already_decided(t: Translator, error: AlreadyDecided) -> str:
    move = error.move
    if move.status == MoveStatus.CANCELLED and move.decided_by:
        return (
            f"Nothing changed: {format_deal_id(move.deal_number)} was marked lost by {mention(move.decided_by)}, "
            "so this move was cancelled."
        )
    return f"Nothing changed: {_outcome_line(move)}"


def refusal(t: Translator, error: CommandError) -> Message:
    text = f":no_entry_sign: {escape(t.show(error.text))}"
    if error.usage_text is not None:
        text += "\n" + t("*Usage:* {usage}", usage=escape(t.show(error.usage_text)))
    return Message(text=text, blocks=[section(text)])


def deal_detail(t: Translator, detail: DealDetail) -> Message:
    deal = detail.deal
    facts = [*_facts(deal), f"*In this stage for:* {duration(detail.time_in_stage)}"]
    if detail.pending is not None:
        pending = detail.pending
        facts.append(
            f"*Pending move:* to {escape(pending.to_stage.name)}, asked by {mention(pending.requested_by)} "
            f"{date(pending.requested_at)}"
        )
        if pending.approvals_needed > 1:
            facts.append(_approval_progress(pending))
    blocks: list[Block] = [header(f"{format_deal_id(deal.number)} · {deal.name}"), section("\n".join(facts))]
    blocks.append(divider())
    blocks.append(section("*History*"))
    history = [_history_line(entry) for entry in detail.history]
    blocks.extend(packed_sections(history, max_blocks=MESSAGE_BLOCK_LIMIT - len(blocks), more="and {n} more events"))
    return Message(text=f"{deal_title(deal)} — Stage: {escape(deal.stage.name)}", blocks=blocks)


def deal_list(t: Translator, listing: DealList) -> Message:
    whose = "Your open deals" if listing.scope == "mine" else "Open deals"
    where = f" at {escape(listing.stage.name)}" if listing.stage else ""
    title = f"*{whose}{where}* ({listing.total})"
    if not listing.deals:
        hint = "Create one with `/deal new <name> value:<amount> company:<name>`."
        return Message(text=f"{title}\nNone. {hint}", blocks=[section(f"{title}\nNone. {hint}")])
    lines = [
        f"*{format_deal_id(deal.number)}* {escape(clip(deal.name, 200))} · {escape(deal.stage.name)} · "
        f"{amount(deal.value_cents)} · {mention(deal.owner_id)}"
        for deal in listing.deals
    ]
    hidden = listing.total - len(listing.deals)
    blocks = [section(title), *packed_sections(lines, max_blocks=MESSAGE_BLOCK_LIMIT - 2)]
    if hidden > 0:
        blocks.append(context(f"and {hidden} more; narrow the list with `stage:<key>`"))
    return Message(text=title, blocks=blocks)


def board(t: Translator, result: Board) -> Message:
    """The pipeline, then the customers, each with its totals, so a large base of customers never hides the
    pipeline's own numbers."""
    pipeline, customers = result.pipeline, result.customers
    parts = []
    for title, group in (("Pipeline", pipeline), ("Customers", customers)):
        if not group.stages:
            continue
        lines = [
            f"*{escape(row.stage.name)}*{' (won)' if row.stage.won else ''}: {plural(row.deals, 'deal')} · "
            f"{amount(row.value_cents)}"
            for row in group.stages
        ]
        total = f"*{title}*: {plural(group.deals, 'deal')} · {amount(group.value_cents)}"
        parts.append([total, *lines])
    summary = (
        f"{plural(pipeline.deals, 'open deal')} worth {amount(pipeline.value_cents)} in the pipeline · "
        f"{plural(customers.deals, 'customer')} worth {amount(customers.value_cents)} · {result.lost} lost"
    )
    room = (MESSAGE_BLOCK_LIMIT - 2) // max(len(parts), 1)
    sections = [block for lines in parts for block in packed_sections(lines, max_blocks=room)]
    blocks = [header("Pipeline"), *sections, context(summary)]
    return Message(text=f"Pipeline: {summary}", blocks=blocks)


_APPROVAL = {
    Approval.NONE: "Moves here at once, with the evidence; no approval needed.",
    Approval.ONE: "A manager approves each move here.",
    Approval.TWO: "Two different managers approve each move here.",
}


def stages(t: Translator, pipeline: Pipeline) -> Message:
    lines = []
    for number, stage in enumerate(pipeline.stages, start=1):
        criteria = "\n".join(f"    • {escape(item)}" for item in stage.exit_criteria)
        lines.append(
            f"*{number}. {escape(stage.name)}*{' (won)' if stage.won else ''} `{stage.key}`\n"
            f"  Reached when the buyer:\n{criteria}\n  _{escape(stage.evidence_prompt)}_\n  {_APPROVAL[stage.approval]}"
        )
    blocks = [
        header("Stages"),
        context("A stage is named for what the buyer has done. Each needs evidence of the buyer's action."),
        *packed_sections(lines, max_blocks=MESSAGE_BLOCK_LIMIT - 2),
    ]
    return Message(text="The pipeline's stages and their exit criteria", blocks=blocks)


def managers(t: Translator, listing: ManagerList) -> Message:
    if not listing.all:
        text = "No managers yet. Add one with `/pipeline managers add @someone`."
    else:
        text = "*Managers:* " + ", ".join(mention(user) for user in listing.all)
        if listing.from_settings:
            text += "\n_From SALES_MANAGERS:_ " + ", ".join(mention(user) for user in listing.from_settings)
    return Message(text=text, blocks=[section(text)])


def manager_changed(t: Translator, change: ManagerChanged) -> Message:
    who = mention(change.user_id)
    if change.action == "add":
        head = f"{who} is now a manager." if change.changed else f"{who} was already a manager."
    else:
        head = f"{who} is no longer a manager." if change.changed else f"{who} was not a manager."
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


LINT_STANDARDS = (
    "Each stage must be *required* (no repeated exit criteria), *factual* (things the buyer did), *inspectable* "
    "(evidence a manager can open) and *buyer-centric* (named for what the buyer has done)."
)


def lint_report(t: Translator, findings: Sequence[Finding], pipeline: Pipeline) -> Message:
    """`/pipeline lint`: each finding with its rewrite; past Slack's limits, the rest counted in "and N more"."""
    stages_count = plural(len(pipeline.stages), "stage")
    if not findings:
        text = (
            f":white_check_mark: No findings: the pipeline's {stages_count} are required, factual, inspectable "
            "and buyer-centric."
        )
        return Message(text=text, blocks=[section(text)])
    title = f"Pipeline lint: {plural(len(findings), 'finding')} in {stages_count}"
    lines = [_finding_line(finding) for finding in findings]
    more = "and {n} more not shown: run `salesbot lint FILE` on the pipeline file to see every finding"
    blocks = [
        header(title),
        context(LINT_STANDARDS),
        *packed_sections(lines, max_blocks=MESSAGE_BLOCK_LIMIT - 2, more=more),
    ]
    return Message(text=title, blocks=blocks)


def _finding_line(finding: Finding) -> str:
    where = f"*{escape(finding.where)}* ({finding.standard})"
    return f"• {where}: {escape(finding.problem)}\n    → {escape(finding.suggestion)}"


def reject_modal(t: Translator, move: MoveSummary, *, channel_id: str) -> View:
    return View(
        type="modal",
        callback_id=REJECT_VIEW,
        private_metadata=json.dumps({"move_id": move.id, "channel_id": channel_id}),
        title=plain("Reject move", 24),
        submit=plain("Reject", 24),
        close=plain("Cancel", 24),
        blocks=[
            section(
                f"Reject moving *{format_deal_id(move.deal_number)}* to *{escape(move.to_stage.name)}*? "
                "The reason is posted in the deal's thread."
            ),
            InputBlock(
                block_id=REASON_BLOCK,
                label=plain("Reason", 2000),
                element=PlainTextInputElement(
                    action_id=REASON_INPUT,
                    multiline=True,
                    max_length=REASON_LIMIT,
                    placeholder=plain("What evidence of the buyer's action is missing?", 150),
                ),
            ),
        ],
    )


def new_deal_modal(t: Translator, *, channel_id: str) -> View:
    """`/deal new` as a form: the same fields as the typed command, checked the same way on submit."""
    return View(
        type="modal",
        callback_id=NEW_DEAL_VIEW,
        private_metadata=json.dumps({"channel_id": channel_id}),
        title=plain("New deal", 24),
        submit=plain("Add deal", 24),
        close=plain("Cancel", 24),
        blocks=[
            _field("name", "Deal name", "Acme renewal", optional=False, max_length=NAME_LIMIT),
            _field("company", "Company", "Acme Corp", optional=True, max_length=COMPANY_LIMIT),
            _field("value", "Value", "50000, €5000, 12.5k", optional=True, max_length=40),
            _field("evidence", "Evidence (a link)", "https://mail.example.com/buyer-reply", optional=True),
            context("The card is posted in this channel; every move of the deal goes in its thread."),
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
        blocks += _waiting_moves(overview.waiting)
        blocks += _team_stalled(overview.team_stalled)
    blocks += [header("Your pipeline"), _your_week(overview.week), *_your_stalled(overview), *_your_pending(overview)]
    blocks += _your_deals(overview, max_blocks=VIEW_BLOCK_LIMIT - len(blocks))
    return View(type="home", blocks=blocks[:VIEW_BLOCK_LIMIT])


HOME_BLOCKS = {"waiting_rest": 3, "team_stalled": 4, "your_week": 1, "your_stalled": 3, "your_pending": 3}
"""Blocks for each part of the Home tab but the deals by stage. With the notice (2), the waiting moves' divider and
title (2) and 15 moves with buttons (30), the team's stalled deals' divider (1) and the header (1), they take 50
blocks at most, and leave the deals by stage 50 or more."""
HOME_DEALS_PER_STAGE = 10
HOME_NAME_LIMIT = 100
HOME_CRITERIA_LIMIT = 600


def _waiting_moves(waiting: Sequence[WaitingMove]) -> list[Block]:
    if not waiting:
        return []
    blocks: list[Block] = [divider(), section(f"*Moves waiting for a manager* ({len(waiting)})")]
    for move in waiting[:HOME_MOVES_WITH_BUTTONS]:
        blocks += [section(_waiting_text(move)), _decision_buttons(move.move.id, block_id=None)]
    rest = [
        f"*{format_deal_id(move.move.deal_number)}* → {escape(move.move.to_stage.name)}, "
        f"asked by {mention(move.move.requested_by)} {date(move.move.requested_at)}"
        for move in waiting[HOME_MOVES_WITH_BUTTONS:]
    ]
    if rest:
        blocks.append(context("Decide these after the ones above:"))
        blocks.extend(packed_sections(rest, max_blocks=HOME_BLOCKS["waiting_rest"] - 1))
    return blocks


def _team_stalled(team: TeamStalled | None) -> list[Block]:
    if team is None or not team.total:
        return []
    lines = [
        f"*{format_deal_id(deal.number)}* {escape(clip(deal.name, HOME_NAME_LIMIT))} · {escape(deal.stage.name)} · "
        f"{_days(deal.days_in_stage, deal.stage)} · {mention(deal.owner_id)}"
        for deal in team.deals
    ]
    title = f":warning: *Stalled deals in the team* ({team.total}), longest in stage first"
    return [divider(), *_listing(title, lines, total=team.total, max_blocks=HOME_BLOCKS["team_stalled"])]


def _your_week(week: OwnSummary) -> Block:
    """Your own digest in `HOME_BLOCKS["your_week"]` block: the numbers `commands.digest.own` defines."""
    change = week.change
    return section(
        "\n".join(
            (
                "*Your week* (your deals; the forecast uses the team's rates; `/pipeline digest mine` for the rest)",
                f"Open pipeline: {plural(week.pipeline.deals, 'deal')} · {amount(week.pipeline.value_cents)} "
                f"({change.deals:+d} · {_signed_amount(change.value_cents)} since a week ago)",
                f"Moved this week: {week.moved} · won: {week.won.deals} ({amount(week.won.value_cents)})",
                f"Expected: about {week.expected_wins:.1f} wins · {amount(week.expected_value_cents)}"
                + (" (a rough guess: few ended stays behind the rates)" if week.rough else ""),
            )
        )
    )


def _signed_amount(cents: int) -> str:
    return ("-" if cents < 0 else "+") + amount(abs(cents))


def _your_stalled(overview: HomeOverview) -> list[Block]:
    if not overview.stalled:
        return []
    lines = [
        f"*{format_deal_id(item.deal.number)}* {escape(clip(item.deal.name, HOME_NAME_LIMIT))} · "
        f"{escape(item.deal.stage.name)} · {_days(item.days_in_stage, item.deal.stage)}"
        for item in overview.stalled
    ]
    title = f":warning: *Your stalled deals* ({len(lines)}), longest in stage first"
    return _listing(title, lines, total=len(lines), max_blocks=HOME_BLOCKS["your_stalled"])


def _your_pending(overview: HomeOverview) -> list[Block]:
    if not overview.pending:
        return []
    lines = [
        f"*{format_deal_id(item.move.deal_number)}* {escape(clip(item.deal.name, HOME_NAME_LIMIT))} → "
        f"{escape(item.move.to_stage.name)}, asked by {mention(item.move.requested_by)} {date(item.move.requested_at)}"
        for item in overview.pending
    ]
    title = f":hourglass: *Your moves waiting for a manager* ({len(lines)})"
    return _listing(title, lines, total=len(lines), max_blocks=HOME_BLOCKS["your_pending"])


def _your_deals(overview: HomeOverview, *, max_blocks: int) -> list[Block]:
    """The person's open deals by stage, in pipeline order: each stage's heading (what the buyer must do next),
    then a section per deal with its Advance… button, at most HOME_DEALS_PER_STAGE a stage.

    Within `max_blocks`: one block is kept for the closing "and N more stages", and a stage is shown only with at
    least one of its deals, so the stages that do not fit are counted rather than cut."""
    title = f"*Your open deals by stage* ({overview.total_deals})"
    if not overview.stages:
        return [section(f"{title}\nNone. Create one with `/deal new <name> value:<amount> company:<name>`.")]
    blocks: list[Block] = [section(title)]
    budget = max_blocks - 2
    shown = 0
    for group in overview.stages:
        part = _stage_part(group, budget)
        if not part:
            break
        blocks += part
        budget -= len(part)
        shown += 1
    rest = overview.stages[shown:]
    unread = overview.total_deals - overview.listed_deals
    more = (
        [f"and {plural(len(rest), 'more stage')} ({plural(sum(len(g.deals) for g in rest), 'deal')})"] if rest else []
    )
    more += [f"and {unread} more deals"] if unread > 0 else []
    if more:
        blocks.append(context("; ".join(more) + "; see them with `/deal list`"))
    return blocks


def _stage_part(group: StageGroup, budget: int) -> list[Block]:
    """The stage's heading and as many of its deals as `budget` blocks hold (with an "and N more" when some are
    left out); nothing when not even one deal fits."""
    fit = min(len(group.deals), HOME_DEALS_PER_STAGE, budget - 1)
    if fit < len(group.deals) and fit + 2 > budget:
        fit = budget - 2
    if fit < 1:
        return []
    blocks: list[Block] = [section(_stage_heading(group))]
    blocks += [_home_deal(item, can_advance=group.next_stage is not None) for item in group.deals[:fit]]
    hidden = len(group.deals) - fit
    if hidden > 0:
        blocks.append(
            context(f"• and {hidden} more at this stage; see them with `/deal list stage:{escape(group.stage.key)}`")
        )
    return blocks


def _stage_heading(group: StageGroup) -> str:
    """A stage's name and deal count, under what the buyer must do to reach the next stage."""
    lines = [f"*{escape(group.stage.name)}* ({len(group.deals)})"]
    if group.next_stage is not None:
        criteria = clip("; ".join(group.next_stage.exit_criteria), HOME_CRITERIA_LIMIT)
        lines.append(f"Next, *{escape(group.next_stage.name)}*, once the buyer: {escape(criteria)}")
    return "\n".join(lines)


def _home_deal(item: OpenDeal, *, can_advance: bool) -> SectionBlock:
    """A deal's line, with the Advance… button (the advance form) unless a move of it is waiting already or
    there is no stage after its own."""
    stalled = " · :warning: stalled" if item.stalled else ""
    waiting = " · :hourglass: its move waits for a manager" if item.move_pending else ""
    text = (
        f"• *{format_deal_id(item.deal.number)}* {escape(clip(item.deal.name, HOME_NAME_LIMIT))} · "
        f"{plural(item.days_in_stage, 'day')} in stage{stalled}{waiting}"
    )
    button = (
        ButtonElement(text=plain("Advance…", 75), action_id=ADVANCE_ACTION, value=str(item.deal.number))
        if can_advance and not item.move_pending
        else None
    )
    return SectionBlock(text=MarkdownTextObject(text=clip_mrkdwn(text, SECTION_TEXT_LIMIT)), accessory=button)


def _days(days: int, stage: Stage) -> str:
    return f"{plural(days, 'day')} in stage (stalls after {stage.stall_after_days})"


def _listing(title: str, lines: list[str], *, total: int, max_blocks: int) -> list[Block]:
    """`title` then `lines`, packed within `max_blocks`; `total` counts lines not given too."""
    unlisted = total - len(lines)
    blocks = packed_sections([title, *lines], max_blocks=max_blocks - bool(unlisted))
    if unlisted > 0:
        blocks.append(context(f"and {unlisted} more not listed here"))
    return blocks


def _waiting_text(waiting: WaitingMove) -> str:
    move, deal = waiting.move, waiting.deal
    evidence = "\n".join(f"• {link(item)}" for item in move.evidence) or "• (none)"
    where = (
        f"In the deal's thread in <#{deal.channel_id}>."
        if deal.thread_ts
        else f":warning: Its card is not in <#{deal.channel_id}> yet: if that channel is private, invite me there."
    )
    progress = f"\n{_approval_progress(move)}" if move.approvals_needed > 1 else ""
    return (
        f"*{deal_title(deal)}* → *{escape(move.to_stage.name)}*, asked by {mention(move.requested_by)} "
        f"{date(move.requested_at)}\n{evidence}\n{where}{progress}"
    )


def _decision_buttons(move_id: int, *, block_id: str | None) -> ActionsBlock:
    """Approve, Reject and Ask for evidence: the same actions in a thread and on the Home tab."""
    return ActionsBlock(
        block_id=block_id,
        elements=[
            _button("Approve", APPROVE_ACTION, move_id, style="primary"),
            _button("Reject", REJECT_ACTION, move_id, style="danger"),
            _button("Ask for evidence", ASK_EVIDENCE_ACTION, move_id),
        ],
    )


def _button(text: str, action_id: str, move_id: int, *, style: str | None = None) -> ButtonElement:
    return ButtonElement(text=plain(text, 75), action_id=action_id, value=str(move_id), style=style)


def _move_text(move: MoveSummary, deal: DealSummary) -> str:
    return (
        f"{mention(move.requested_by)} asks to move {deal_title(deal)} from "
        f"{escape(move.from_stage.name)} to {escape(move.to_stage.name)}."
    )


def _move_body(move: MoveSummary, deal: DealSummary) -> list[Block]:
    blocks: list[Block] = [
        section(
            f"{mention(move.requested_by)} asks to move *{deal_title(deal)}* from "
            f"*{escape(move.from_stage.name)}* → *{escape(move.to_stage.name)}*"
        )
    ]
    for entry in move.evidence_by_stage:
        checklist = "\n".join(f"☐ {escape(item)}" for item in entry.stage.exit_criteria)
        links = "\n".join(f"• {link(item)}" for item in entry.evidence) or "• (none)"
        blocks.append(section(f"*{escape(entry.stage.name)}*: the buyer…\n{checklist}\n*Evidence*\n{links}"))
    if move.note:
        blocks.append(context(f"Note: {escape(move.note)}"))
    return blocks[: MESSAGE_BLOCK_LIMIT - 3]


def _outcome_line(move: MoveSummary) -> str:
    when = date(move.decided_at) if move.decided_at else ""
    who = mention(move.decided_by) if move.decided_by else "someone"
    if move.status == MoveStatus.APPROVED and move.approved_by_policy:
        target = escape(move.to_stage.name)
        return f":white_check_mark: Approved by the pipeline {when}: {target} needs no manager's approval"
    if move.status == MoveStatus.APPROVED:
        return f":white_check_mark: Approved by {_people(_approvers(move)) or who} {when}"
    if move.status == MoveStatus.REJECTED:
        return f":x: Rejected by {who} {when}: {escape(move.decision_reason or '')}"
    if move.status == MoveStatus.CANCELLED:
        return f":heavy_multiplication_x: Cancelled by {who} {when}: {escape(move.decision_reason or '')}"
    if move.approvals_needed > 1:
        return f":hourglass: {_approval_progress(move)}"
    return ":hourglass: Waiting for a manager"


_EVENT_VERBS = {
    EventKind.CREATED: "created it at",
    EventKind.REQUESTED: "asked to move it",
    EventKind.APPROVAL_GIVEN: "approved the move (it waited for another manager's approval)",
    EventKind.APPROVED: "approved the move",
    EventKind.REJECTED: "rejected the move",
    EventKind.EVIDENCE_ASKED: "asked for evidence for the move",
    EventKind.LOST: "marked it lost at",
    EventKind.MOVED_BACK: "moved it back",
    "edited": "edited it",
}


def _history_line(entry: HistoryEntry) -> str:
    verb = _EVENT_VERBS.get(entry.kind, entry.kind)
    stages = ""
    if entry.from_stage and entry.to_stage:
        stages = f" {escape(entry.from_stage.name)} → {escape(entry.to_stage.name)}"
    elif entry.to_stage:
        stages = f" {escape(entry.to_stage.name)}"
    elif entry.from_stage:
        stages = f" {escape(entry.from_stage.name)}"
    line = f"{date(entry.at)} {mention(entry.actor_id)} {verb}{stages}"
    if entry.by_pipeline:
        line = f"{date(entry.at)} the pipeline approved the move{stages} (no manager's approval needed)"
    if entry.evidence:
        line += "\n    evidence: " + ", ".join(link(item) for item in entry.evidence)
    if entry.note:
        line += f"\n    note: {escape(entry.note)}"
    return line


WEEKDAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}


def schedule(t: Translator, view: ScheduleView | None, *, changed: bool = False) -> Message:
    if view is None:
        text = (
            "No digest is scheduled for this channel. Set one with "
            "`/pipeline schedule weekly mon 09:00` (add `tz:Europe/Berlin` for another zone)."
        )
        return Message(text=text, blocks=[section(text)])
    when = f"every {WEEKDAY_NAMES.get(view.weekday or '', view.weekday)}" if view.frequency == "weekly" else "every day"
    head = "Scheduled: the" if changed else "The"
    text = (
        f"{head} pipeline digest is posted in <#{view.channel_id}> {when} at {view.at:%H:%M} "
        f"({escape(view.tz)}). Next: {view.next_run:%a %d %b %Y %H:%M} {escape(view.tz)}. "
        f"{QUIET_PERIODS[QuietDigest(view.quiet)]}"
    )
    return Message(text=text, blocks=[section(text)])


QUIET_PERIODS = {
    QuietDigest.SHORT: "A period in which no deal moved, was created or was lost gets one line (`quiet:short`).",
    QuietDigest.SKIP: "A period in which no deal moved, was created or was lost posts nothing (`quiet:skip`).",
    QuietDigest.FULL: "Every period gets the whole digest, quiet or not (`quiet:full`).",
}


def schedule_stopped(t: Translator, stopped: bool) -> Message:
    text = "The digest schedule for this channel is off." if stopped else "This channel had no digest schedule."
    return Message(text=text, blocks=[section(text)])
