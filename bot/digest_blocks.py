"""The digest as a Slack message, in its reader's language. Every list is cut with "and N more" so the message
stays within Block Kit's limits (50 blocks, 3,000 characters a section) whatever the pipeline's size."""

from collections.abc import Mapping

from slack_sdk.models.blocks import Block

from bot.blocks import Message
from bot.mrkdwn import (
    MESSAGE_BLOCK_LIMIT,
    SECTION_TEXT_LIMIT,
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
    Money,
    amounts,
    and_list,
    day_month,
    deals_count,
    forecast_change_words,
    lost_reason,
    median_words,
    notable_why,
    stage_line,
    tenths,
    transition_label,
    with_change,
)
from commands.formats import clip, format_deal_id, period_days, span
from commands.i18n.translator import Translator
from commands.pipeline.names import StageName

NAME_LIMIT = 80
PermalinkKey = tuple[str, str]  # (channel, message ts)


def digest_message(t: Translator, digest: Digest, *, permalinks: Mapping[PermalinkKey, str] | None = None) -> Message:
    permalinks = permalinks or {}
    money = amounts(t, digest.currency, unknown="—")
    period = escape(period_days(t, digest.period, with_zone=True))
    days = t.n("{count} day", "{count} days", digest.window_days)
    if digest.owner_id is None:
        title = t("Pipeline digest")
        about = t("{period} · conversion over {days}", period=period, days=days)
    else:
        title = t("Your pipeline digest")
        about = t(
            "Only <@{owner}>'s deals; conversion rates and the forecast's chances are the team's · {period} · "
            "conversion over {days}",
            owner=digest.owner_id,
            period=period,
            days=days,
        )
    parts: list[list[Block]] = [
        [header(title), context(about)],
        _by_stage(t, digest, money),
        _movement(t, digest, money),
        _pending(t, digest, permalinks),
        _stalled(t, digest, money),
        _conversion(t, digest),
        _forecast(t, digest, money),
    ]
    blocks = [block for part in parts for block in part]
    if len(blocks) > MESSAGE_BLOCK_LIMIT:
        blocks = [*blocks[: MESSAGE_BLOCK_LIMIT - 1], context(t("The digest was cut to fit one Slack message."))]
    return Message(text=_summary(t, digest, money), blocks=blocks)


def _summary(t: Translator, digest: Digest, money: Money) -> str:
    pipeline, customers = digest.pipeline, digest.customers
    params = {
        "period": period_days(t, digest.period, with_zone=True),
        "deals": t.n("{count} open deal", "{count} open deals", pipeline.deals),
        "value": money(pipeline.value_cents),
        "customers": t.n("{count} customer", "{count} customers", customers.deals),
        "customers_value": money(customers.value_cents),
        "moves": t.n("{count} move approved", "{count} moves approved", digest.approved.total),
        "won": digest.won_in_period.deals,
        "lost": digest.lost_in_period.deals,
        "stalled": digest.stalled.total,
    }
    if digest.owner_id is None:
        # TRANSLATORS: the digest's notification text; {moves} is like "3 moves approved".
        return t(
            "Pipeline digest, {period}: {deals} worth {value} in the pipeline, {customers} worth {customers_value}; "
            "{moves}, {won} won, {lost} lost, {stalled} stalled.",
            **params,
        )
    return t(
        "Pipeline digest of <@{owner}>'s deals, {period}: {deals} worth {value} in the pipeline, {customers} worth "
        "{customers_value}; {moves}, {won} won, {lost} lost, {stalled} stalled.",
        owner=digest.owner_id,
        **params,
    )


def quiet_line(t: Translator, digest: Digest) -> str:
    """The one line a quiet period's scheduled digest posts instead of the whole digest."""
    pipeline, customers = digest.pipeline, digest.customers
    money = amounts(t, digest.currency, unknown="—")
    return t(
        "Pipeline digest, {period}: a quiet period. No deal moved, was created or was lost. Pipeline: {deals} · "
        "{value}; customers: {customers} · {customers_value}; {stalled} stalled. `/pipeline digest` posts the "
        "whole digest.",
        period=period_days(t, digest.period, with_zone=True),
        deals=t.n("{count} open deal", "{count} open deals", pipeline.deals),
        value=money(pipeline.value_cents),
        customers=deals_count(t, customers.deals),
        customers_value=money(customers.value_cents),
        stalled=digest.stalled.total,
    )


def _deal(number: int, name: str) -> str:
    return f"*{format_deal_id(number)}* {escape(clip(name, NAME_LIMIT))}"


def _listing(t: Translator, title: str, lines: list[str], more: int, *, empty: str, noun: str = "") -> list[Block]:
    """One section: the title, as many lines as fit, then "and N more" for the rest (`noun`: "owner", "reason")."""
    if not lines:
        return [section(f"{title}\n_{empty}_")]
    kept: list[str] = []
    budget = SECTION_TEXT_LIMIT - len(title) - 60
    for line in lines:
        line = clip(line, 600)
        if sum(len(item) + 1 for item in kept) + len(line) > budget:
            break
        kept.append(line)
    hidden = more + len(lines) - len(kept)
    return [section("\n".join([title, *kept] + ([f"_{_more(t, hidden, noun)}_"] if hidden else [])))]


def _more(t: Translator, hidden: int, noun: str) -> str:
    if noun == "owner":
        return t.n("and {count} more owner", "and {count} more owners", hidden)
    if noun == "reason":
        return t.n("and {count} more reason", "and {count} more reasons", hidden)
    return t.n("and {count} more", "and {count} more", hidden)


def _group(t: Translator, title: str, group: StageGroup, money: Money) -> list[str]:
    count, value = with_change(t, group.deals, group.value_cents, group.change, money=money)
    lines = [f"*{title}*: {count} · {value}"]
    for total in group.stages:
        name, numbers = stage_line(t, total, money=money, separator=" · ")
        if total.stage.won:
            # TRANSLATORS: the won stage's line in the digest: "Closed won (won): 3 deals · 30,000".
            lines.append(t("{stage} (won): {numbers}", stage=escape(name), numbers=numbers))
        else:
            lines.append(f"{escape(name)}: {numbers}")
    return lines


def _packed(t: Translator, lines: list[str], *, max_blocks: int) -> list[Block]:
    return packed_sections(lines, max_blocks=max_blocks, t=t)


def _by_stage(t: Translator, digest: Digest, money: Money) -> list[Block]:
    won, lost = digest.won_in_period, digest.lost_in_period
    outcome = t(
        ":trophy: Won this period: {won} · {won_value}    :x: Lost this period: {lost} · {lost_value}",
        won=won.deals,
        won_value=money(won.value_cents),
        lost=lost.deals,
        lost_value=money(lost.value_cents),
    )
    since = t("*Where deals are* (in brackets: the change since {since})", since=date(digest.week_earlier))
    return [
        *_packed(t, [since], max_blocks=1),
        *_packed(t, _group(t, t(PIPELINE_TITLE), digest.pipeline, money), max_blocks=3),
        *_packed(t, _group(t, t(CUSTOMERS_TITLE), digest.customers, money), max_blocks=3),
        section(outcome),
    ]


def _evidence(evidence: tuple[Evidence, ...]) -> str:
    return ", ".join(link(item) for item in evidence[:3]) + (f" (+{len(evidence) - 3})" if len(evidence) > 3 else "")


def _approved_by(t: Translator, move: MoveLine) -> str:
    if not move.approved_by:
        return t("approved by the pipeline (no approval needed)")
    return t("approved by {people}", people=and_list(t, [mention(user) for user in move.approved_by]))


def _notable(t: Translator, digest: Digest, money: Money) -> list[str]:
    lines = []
    for n in digest.notable_moves:
        move = n.move
        head = (
            f"{_deal(move.deal_number, move.deal_name)} · {money(move.value_cents)} · "
            f"{escape(t.show(StageName(move.from_stage)))} → {escape(t.show(StageName(move.to_stage)))} · "
            f"_{notable_why(t, n)}_ · {mention(move.requested_by)}"
        )
        if "back" in n.why:
            lines.append(f"{head}: {escape(clip(move.reason or '', 200))}")
        else:
            lines.append(
                f"{head}, {_approved_by(t, move)}" + (f" · {_evidence(move.evidence)}" if move.evidence else "")
            )
    return lines


def _moved(t: Translator, digest: Digest, money: Money) -> list[Block]:
    """Moves per transition, then the few worth a look, with who asked, who approved and the evidence."""
    counts = [escape(transition_label(t, transition, arrow="→")) for transition in digest.transitions]
    total = sum(transition.moves for transition in digest.transitions)
    title = t("*Moved* ({count}), per transition", count=total)
    blocks = _listing(t, title, counts, 0, empty=t("No deal moved."))
    if digest.notable_moves:
        blocks += _listing(t, t("*Worth a look*"), _notable(t, digest, money), 0, empty="")
    return blocks


def _movement(t: Translator, digest: Digest, money: Money) -> list[Block]:
    rejected = [
        t(
            "{deal}: → {stage} · {person}, rejected by {manager}: {reason}",
            deal=_deal(m.deal_number, m.deal_name),
            stage=escape(t.show(StageName(m.to_stage))),
            person=mention(m.requested_by),
            manager=mention(m.decided_by or ""),
            reason=escape(clip(m.reason or "", 200)),
        )
        for m in digest.rejected.items
    ]
    new = [
        f"{_deal(d.deal_number, d.deal_name)} · {money(d.value_cents)} · {mention(d.owner_id)}"
        for d in digest.new_deals.items
    ]
    reasons = [
        f"{escape(clip(lost_reason(t, r.reason), 200))}: {t.number(r.deals)} · {money(r.value_cents)}"
        for r in digest.lost_reasons.items
    ]
    none = t("None.")
    return [
        *_moved(t, digest, money),
        *_listing(
            t, t("*Rejected* ({count})", count=digest.rejected.total), rejected, digest.rejected.more, empty=none
        ),
        *_listing(t, t("*New deals* ({count})", count=digest.new_deals.total), new, digest.new_deals.more, empty=none),
        *_listing(
            t,
            t("*Lost* ({count}), by reason", count=digest.lost_deals.total),
            reasons,
            digest.lost_reasons.more,
            empty=none,
            noun="reason",
        ),
    ]


def _pending(t: Translator, digest: Digest, permalinks: Mapping[PermalinkKey, str]) -> list[Block]:
    lines = []
    for p in digest.pending.items:
        label = f"{format_deal_id(p.deal_number)} → {escape(t.show(StageName(p.to_stage)))}"
        url = permalinks.get((p.channel_id, p.message_ts or p.thread_ts or ""))
        lines.append(
            t(
                "{move} {name} · asked by {person} {time} ago",
                move=f"<{url}|{label}>" if url else f"*{label}*",
                name=escape(clip(p.deal_name, NAME_LIMIT)),
                person=mention(p.requested_by),
                time=span(t, digest.as_of - p.requested_at),
            )
        )
    title = t("*Waiting for a manager for over a day* ({count})", count=digest.pending.total)
    return _listing(t, title, lines, digest.pending.more, empty=t("Nothing waiting."))


def _stalled(t: Translator, digest: Digest, money: Money) -> list[Block]:
    """The stalled deals per owner, then the pipeline's and onboarding's, each oldest first."""
    stalled = digest.stalled
    title = t(
        "*Stalled* ({count}): {pipeline} in the pipeline, {onboarding} in onboarding. The last stage never stalls.",
        count=stalled.total,
        pipeline=stalled.pipeline.total,
        onboarding=stalled.onboarding.total,
    )
    return [
        section(title),
        *_stalled_owners(t, stalled.by_owner, money),
        *_listing(
            t,
            t("*Pipeline* ({count}), oldest first", count=stalled.pipeline.total),
            [_stalled_line(t, s, money) for s in stalled.pipeline.items],
            stalled.pipeline.more,
            empty=t("No deal before the win is over its stage's time limit."),
        ),
        *_listing(
            t,
            t("*Onboarding* ({count}), oldest first", count=stalled.onboarding.total),
            [_stalled_line(t, s, money) for s in stalled.onboarding.items],
            stalled.onboarding.more,
            empty=t("No won deal is over its stage's time limit."),
        ),
    ]


def _stalled_owners(t: Translator, owners: Listing[OwnerStalls], money: Money) -> list[Block]:
    if not owners.total:
        return []
    lines = []
    for owner in owners.items:
        deals = t.n("{count} stalled deal", "{count} stalled deals", owner.deals)
        oldest = _stalled_line(t, owner.oldest, money, with_owner=False)
        if owner.snoozed:
            line = t(
                "{owner}: {deals} ({snoozed} snoozed); oldest {oldest}",
                owner=mention(owner.owner_id),
                deals=deals,
                snoozed=owner.snoozed,
                oldest=oldest,
            )
        else:
            line = t("{owner}: {deals}; oldest {oldest}", owner=mention(owner.owner_id), deals=deals, oldest=oldest)
        lines.append(line)
    return _listing(t, t("*By owner*, most stalled first"), lines, owners.more, empty="", noun="owner")


def _stalled_line(t: Translator, s: StalledLine, money: Money, *, with_owner: bool = True) -> str:
    line = t(
        "{deal} · {stage} for {days} (limit {limit})",
        deal=_deal(s.deal_number, s.deal_name),
        stage=escape(t.show(StageName(s.stage))),
        days=t.n("{count} day", "{count} days", s.days_in_stage),
        limit=s.stall_after_days,
    )
    owner = f" · {mention(s.owner_id)}" if with_owner else ""
    return f"{line}{owner} · {money(s.value_cents)}" + (f" · {snoozed_note(t, s.snooze)}" if s.snooze else "")


def snoozed_note(t: Translator, snooze: SnoozeNote) -> str:
    """ "snoozed until 12 Dec by @ana: <reason>", the reason escaped and shortened."""
    return t(
        "_snoozed until {until} by {person}_: {reason}",
        until=day_month(t, snooze.until),
        person=mention(snooze.snoozed_by),
        reason=escape(clip(snooze.reason, 300)),
    )


def _conversion(t: Translator, digest: Digest) -> list[Block]:
    lines = []
    thin = []
    for row in digest.conversion:
        now, before = row.current, row.previous
        name = f"{':warning: ' if row.worst else ''}*{escape(t.show(StageName(row.stage)))}*"
        if not now.entered and not before.entered:
            lines.append(t("{stage}: none entered", stage=name))
            continue
        params = {
            "stage": name,
            "entered": now.entered,
            "moved_on": now.moved_on,
            "dropped_out": now.dropped_out,
            "still_open": now.still_open,
            "rate": t.percent(now.next_rate),
            "before": t.percent(before.next_rate),
        }
        line = t(
            "{stage}: of {entered} that entered, {moved_on} moved on, {dropped_out} dropped out, {still_open} still "
            "there · *{rate}* move on (before: {before})",
            **params,
        )
        if now.won_rate is not None or before.won_rate is not None:
            line += " · " + t(
                "{rate} end up won (before: {before})", rate=t.percent(now.won_rate), before=t.percent(before.won_rate)
            )
        line += " · " + median_words(t, now, unknown="—")
        if row.worst:
            line += " · _" + t("converts worst") + "_"
        lines.append(line)
        if now.entered and now.thin:
            thin.append(f"{escape(t.show(StageName(row.stage)))} ({t.number(now.rate_basis)})")
    title = t(
        "*Stage conversion*: deals that entered each stage in the last {days}; deals still in a stage are not "
        "counted as lost",
        days=t.n("{count} day", "{count} days", digest.window_days),
    )
    if thin:
        lines.append(
            t.n(
                ":grey_question: Fewer than {count} ended stay behind: {stages}. Those rates lean on the "
                "pipeline-wide rate; read them as rough guesses.",
                ":grey_question: Fewer than {count} ended stays behind: {stages}. Those rates lean on the "
                "pipeline-wide rate; read them as rough guesses.",
                THIN_SPELLS,
                stages=", ".join(thin),
            )
        )
    return _packed(t, [title, *lines], max_blocks=8)


def _forecast(t: Translator, digest: Digest, money: Money) -> list[Block]:
    forecast = digest.forecast
    if not forecast.open_deals:
        return [section(t("*Forecast*\n_No open deals before the win to forecast._"))]
    text = t(
        "*Forecast*: about *{wins}* wins ({likely} likely {low}–{high}) worth *{value}* from {deals}; about {soon} "
        "of them ({soon_value}) within {days}.",
        wins=tenths(t, forecast.expected_wins),
        likely=t.percent(0.8),
        low=forecast.wins_low,
        high=forecast.wins_high,
        value=money(round(forecast.expected_value_cents, -2)),
        deals=t.n("{count} open deal", "{count} open deals", forecast.open_deals),
        soon=tenths(t, forecast.soon_wins),
        soon_value=money(round(forecast.soon_value_cents, -2)),
        days=t.n("{count} day", "{count} days", forecast.soon_days),
    )
    stages = []
    for stage in forecast.stages:
        if not stage.open_deals:
            continue
        line = t(
            "{stage}: {deals} open · {chance} chance each ({factors}) · {wins} wins",
            stage=escape(t.show(StageName(stage.stage))),
            deals=stage.open_deals,
            chance=t.percent(stage.won_rate),
            factors=" × ".join(t.percent(factor.rate) for factor in stage.factors),
            wins=tenths(t, stage.expected_wins),
        )
        stages.append(line + (" · _" + t("few ended stays") + "_" if stage.thin else ""))
    if forecast.change is not None:
        change = escape(forecast_change_words(t, forecast.change, money=money))
        text += "\n" + t("_Since a week earlier:_ {change}", change=change)
    text += "\n" + "\n".join(stages)
    if not forecast.enough_history:
        text += "\n" + t(
            ":warning: Some chances rest on fewer than {count} ended stays. Read the forecast as a rough guess.",
            count=THIN_SPELLS,
        )
    return [section(clip(text, SECTION_TEXT_LIMIT))]
