"""The digest as a Slack message. Every list is cut with "and N more" so the message stays within
Block Kit's limits (50 blocks, 3,000 characters a section) whatever the pipeline's size."""

from collections.abc import Mapping

from slack_sdk.models.blocks import Block

from bot.blocks import Message
from bot.mrkdwn import (
    MESSAGE_BLOCK_LIMIT,
    SECTION_TEXT_LIMIT,
    amount,
    context,
    date,
    escape,
    header,
    link,
    mention,
    packed_sections,
    section,
)
from commands.deals.evidence import Evidence
from commands.digest.estimators import THIN_SPELLS
from commands.digest.report import Digest, Listing, MoveLine, OwnerStalls, SnoozeNote, StageGroup, StalledLine
from commands.digest.text import (
    CUSTOMERS_TITLE,
    PIPELINE_TITLE,
    forecast_change_words,
    median_words,
    notable_why,
    stage_line,
    transition_label,
    with_change,
)
from commands.formats import clip, duration, format_deal_id, period_label, plural, rate

NAME_LIMIT = 80
PermalinkKey = tuple[str, str]  # (channel, message ts)


def digest_message(digest: Digest, *, permalinks: Mapping[PermalinkKey, str] | None = None) -> Message:
    permalinks = permalinks or {}
    parts: list[list[Block]] = [
        [
            header("Pipeline digest" if digest.owner_id is None else "Your pipeline digest"),
            context(
                _whose(digest) + f"{escape(period_label(digest.period, with_zone=True))} · "
                f"conversion over {plural(digest.window_days, 'day')}"
            ),
        ],
        _by_stage(digest),
        _movement(digest),
        _pending(digest, permalinks),
        _stalled(digest),
        _conversion(digest),
        _forecast(digest),
    ]
    blocks = [block for part in parts for block in part]
    if len(blocks) > MESSAGE_BLOCK_LIMIT:
        blocks = [*blocks[: MESSAGE_BLOCK_LIMIT - 1], context("The digest was cut to fit one Slack message.")]
    return Message(text=_summary(digest), blocks=blocks)


def _whose(digest: Digest) -> str:
    """Says whose deals a narrowed digest counts, and that its rates are still the team's."""
    if digest.owner_id is None:
        return ""
    return f"Only <@{digest.owner_id}>'s deals; conversion rates and the forecast's chances are the team's · "


def _summary(digest: Digest) -> str:
    pipeline, customers = digest.pipeline, digest.customers
    title = "Pipeline digest" if digest.owner_id is None else f"Pipeline digest of <@{digest.owner_id}>'s deals"
    return (
        f"{title}, {period_label(digest.period, with_zone=True)}: "
        f"{plural(pipeline.deals, 'open deal')} worth {amount(pipeline.value_cents)} in the pipeline, "
        f"{plural(customers.deals, 'customer')} worth {amount(customers.value_cents)}; "
        f"{plural(digest.approved.total, 'move')} approved, {digest.won_in_period.deals} won, "
        f"{digest.lost_in_period.deals} lost, {digest.stalled.total} stalled."
    )


def quiet_line(digest: Digest) -> str:
    """The one line a quiet period's scheduled digest posts instead of the whole digest."""
    pipeline, customers = digest.pipeline, digest.customers
    return (
        f"Pipeline digest, {period_label(digest.period, with_zone=True)}: a quiet period. No deal moved, "
        f"was created or was lost. Pipeline: {plural(pipeline.deals, 'open deal')} · {amount(pipeline.value_cents)}; "
        f"customers: {plural(customers.deals, 'deal')} · {amount(customers.value_cents)}; "
        f"{digest.stalled.total} stalled. `/pipeline digest` posts the whole digest."
    )


def _deal(number: int, name: str) -> str:
    return f"*{format_deal_id(number)}* {escape(clip(name, NAME_LIMIT))}"


def _listing(title: str, lines: list[str], more: int, *, empty: str, more_noun: str | None = None) -> list[Block]:
    """One section: the title, as many lines as fit, then "and N more" for the rest."""
    if not lines:
        return [section(f"{title}\n_{empty}_")]
    kept: list[str] = []
    budget = SECTION_TEXT_LIMIT - len(title) - 40
    for line in lines:
        line = clip(line, 600)
        if sum(len(item) + 1 for item in kept) + len(line) > budget:
            break
        kept.append(line)
    hidden = more + len(lines) - len(kept)
    rest = f"{plural(hidden, 'more ' + more_noun)}" if more_noun else f"{hidden} more"
    text = "\n".join([title, *kept] + ([f"_and {rest}_"] if hidden else []))
    return [section(text)]


def _group(title: str, group: StageGroup) -> list[str]:
    count, value = with_change(group.deals, group.value_cents, group.change, money=amount)
    lines = [f"*{title}*: {count} · {value}"]
    for total in group.stages:
        name, numbers = stage_line(total, money=amount, separator=" · ")
        lines.append(f"{escape(name)}{' (won)' if total.stage.won else ''}: {numbers}")
    return lines


def _by_stage(digest: Digest) -> list[Block]:
    since = date(digest.week_earlier)
    won, lost = digest.won_in_period, digest.lost_in_period
    outcome = (
        f":trophy: Won this period: {won.deals} · {amount(won.value_cents)}    "
        f":x: Lost this period: {lost.deals} · {amount(lost.value_cents)}"
    )
    return [
        *packed_sections([f"*Where deals are* (in brackets: the change since {since})"], max_blocks=1),
        *packed_sections(_group(PIPELINE_TITLE, digest.pipeline), max_blocks=3),
        *packed_sections(_group(CUSTOMERS_TITLE, digest.customers), max_blocks=3),
        section(outcome),
    ]


def _evidence(evidence: tuple[Evidence, ...]) -> str:
    return ", ".join(link(item) for item in evidence[:3]) + (f" (+{len(evidence) - 3})" if len(evidence) > 3 else "")


def _approved_by(move: MoveLine) -> str:
    if not move.approved_by:
        return "approved by the pipeline (no approval needed)"
    return "approved by " + " and ".join(mention(user) for user in move.approved_by)


def _moved(digest: Digest) -> list[Block]:
    """Moves per transition, then the few worth a look, with who asked, who approved and the evidence."""
    counts = [escape(transition_label(t, arrow="→")) for t in digest.transitions]
    total = sum(t.moves for t in digest.transitions)
    blocks = _listing(f"*Moved* ({total}), per transition", counts, 0, empty="No deal moved.")
    if digest.notable_moves:
        notable = [
            f"{_deal(n.move.deal_number, n.move.deal_name)} · {amount(n.move.value_cents)} · "
            f"{escape(n.move.from_stage.name)} → {escape(n.move.to_stage.name)} · _{notable_why(n)}_ · "
            f"{mention(n.move.requested_by)}"
            + (
                f": {escape(clip(n.move.reason or '', 200))}"
                if "back" in n.why
                else f", {_approved_by(n.move)}" + (f" · {_evidence(n.move.evidence)}" if n.move.evidence else "")
            )
            for n in digest.notable_moves
        ]
        blocks += _listing("*Worth a look*", notable, 0, empty="")
    return blocks


def _movement(digest: Digest) -> list[Block]:
    rejected = [
        f"{_deal(m.deal_number, m.deal_name)}: → {escape(m.to_stage.name)} · {mention(m.requested_by)}, "
        f"rejected by {mention(m.decided_by or '')}: {escape(clip(m.reason or '', 200))}"
        for m in digest.rejected.items
    ]
    new = [
        f"{_deal(d.deal_number, d.deal_name)} · {amount(d.value_cents)} · {mention(d.owner_id)}"
        for d in digest.new_deals.items
    ]
    reasons = [
        f"{escape(clip(r.reason, 200))}: {r.deals:,} · {amount(r.value_cents)}" for r in digest.lost_reasons.items
    ]
    lost_title = f"*Lost* ({digest.lost_deals.total}), by reason"
    return [
        *_moved(digest),
        *_listing(f"*Rejected* ({digest.rejected.total})", rejected, digest.rejected.more, empty="None."),
        *_listing(f"*New deals* ({digest.new_deals.total})", new, digest.new_deals.more, empty="None."),
        *_listing(lost_title, reasons, digest.lost_reasons.more, empty="None.", more_noun="reason"),
    ]


def _pending(digest: Digest, permalinks: Mapping[PermalinkKey, str]) -> list[Block]:
    lines = []
    for p in digest.pending.items:
        label = f"{format_deal_id(p.deal_number)} → {escape(p.to_stage.name)}"
        url = permalinks.get((p.channel_id, p.message_ts or p.thread_ts or ""))
        target = f"<{url}|{label}>" if url else f"*{label}*"
        lines.append(
            f"{target} {escape(clip(p.deal_name, NAME_LIMIT))} · asked by {mention(p.requested_by)} "
            f"{duration(digest.as_of - p.requested_at)} ago"
        )
    title = f"*Waiting for a manager for over a day* ({digest.pending.total})"
    return _listing(title, lines, digest.pending.more, empty="Nothing waiting.")


def _stalled(digest: Digest) -> list[Block]:
    """The stalled deals per owner, then the pipeline's and onboarding's, each oldest first."""
    stalled = digest.stalled
    title = (
        f"*Stalled* ({stalled.total}): {stalled.pipeline.total} in the pipeline, "
        f"{stalled.onboarding.total} in onboarding. The last stage never stalls."
    )
    return [
        section(title),
        *_stalled_owners(stalled.by_owner),
        *_listing(
            f"*Pipeline* ({stalled.pipeline.total}), oldest first",
            [_stalled_line(s) for s in stalled.pipeline.items],
            stalled.pipeline.more,
            empty="No deal before the win is over its stage's time limit.",
        ),
        *_listing(
            f"*Onboarding* ({stalled.onboarding.total}), oldest first",
            [_stalled_line(s) for s in stalled.onboarding.items],
            stalled.onboarding.more,
            empty="No won deal is over its stage's time limit.",
        ),
    ]


def _stalled_owners(owners: Listing[OwnerStalls]) -> list[Block]:
    if not owners.total:
        return []
    lines = []
    for owner in owners.items:
        snoozed = f" ({owner.snoozed} snoozed)" if owner.snoozed else ""
        lines.append(
            f"{mention(owner.owner_id)}: {plural(owner.deals, 'stalled deal')}{snoozed}; oldest "
            + _stalled_line(owner.oldest, with_owner=False)
        )
    return _listing("*By owner*, most stalled first", lines, owners.more, empty="", more_noun="owner")


def _stalled_line(s: StalledLine, *, with_owner: bool = True) -> str:
    owner = f" · {mention(s.owner_id)}" if with_owner else ""
    return (
        f"{_deal(s.deal_number, s.deal_name)} · {escape(s.stage.name)} for {plural(s.days_in_stage, 'day')} "
        f"(limit {s.stall_after_days}){owner} · {amount(s.value_cents)}"
        + (f" · {snoozed_note(s.snooze)}" if s.snooze else "")
    )


def snoozed_note(snooze: SnoozeNote) -> str:
    """ "snoozed until 12 Dec by @ana: <reason>", the reason escaped and shortened."""
    return f"_snoozed until {snooze.until:%d %b} by {mention(snooze.snoozed_by)}_: {escape(clip(snooze.reason, 300))}"


def _conversion(digest: Digest) -> list[Block]:
    lines = []
    thin = []
    for row in digest.conversion:
        now, before = row.current, row.previous
        name = f"{':warning: ' if row.worst else ''}*{escape(row.stage.name)}*"
        if not now.entered and not before.entered:
            lines.append(f"{name}: none entered")
            continue
        won = (
            f" · {rate(now.won_rate)} end up won (before: {rate(before.won_rate)})"
            if now.won_rate is not None or before.won_rate is not None
            else ""
        )
        line = (
            f"{name}: of {now.entered} that entered, {now.moved_on} moved on, {now.dropped_out} dropped out, "
            f"{now.still_open} still there · *{rate(now.next_rate)}* move on (before: {rate(before.next_rate)})"
            f"{won} · {median_words(now, unknown='—')}"
        )
        if row.worst:
            line += " · _converts worst_"
        lines.append(line)
        if now.entered and now.thin:
            thin.append(f"{escape(row.stage.name)} ({now.rate_basis})")
    title = (
        f"*Stage conversion*: deals that entered each stage in the last {plural(digest.window_days, 'day')}; "
        "deals still in a stage are not counted as lost"
    )
    if thin:
        lines.append(
            f":grey_question: Fewer than {THIN_SPELLS} ended stays behind: {', '.join(thin)}. "
            "Those rates lean on the pipeline-wide rate; read them as rough guesses."
        )
    return packed_sections([title, *lines], max_blocks=8)


def _forecast(digest: Digest) -> list[Block]:
    forecast = digest.forecast
    if not forecast.open_deals:
        return [section("*Forecast*\n_No open deals before the win to forecast._")]
    text = (
        f"*Forecast*: about *{forecast.expected_wins:.1f}* wins (80% likely {forecast.wins_low}–{forecast.wins_high}) "
        f"worth *{amount(round(forecast.expected_value_cents, -2))}* from {plural(forecast.open_deals, 'open deal')}; "
        f"about {forecast.soon_wins:.1f} of them ({amount(round(forecast.soon_value_cents, -2))}) "
        f"within {plural(forecast.soon_days, 'day')}."
    )
    stages = [
        f"{escape(stage.stage.name)}: {stage.open_deals} open · {rate(stage.won_rate)} chance each "
        f"({' × '.join(rate(factor.rate) for factor in stage.factors)}) · {stage.expected_wins:.1f} wins"
        + (" · _few ended stays_" if stage.thin else "")
        for stage in forecast.stages
        if stage.open_deals
    ]
    if forecast.change is not None:
        text += f"\n_Since a week earlier:_ {escape(forecast_change_words(forecast.change, money=amount))}"
    text += "\n" + "\n".join(stages)
    if not forecast.enough_history:
        text += "\n:warning: Some chances rest on fewer than 20 ended stays. Read the forecast as a rough guess."
    return [section(clip(text, SECTION_TEXT_LIMIT))]
