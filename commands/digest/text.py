"""The digest as plain text, for the command line, in the reader's language; and the words and numbers the
Slack message and the chart share with it."""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from babel.lists import format_list
from babel.numbers import format_decimal

from commands.digest.compute import NO_REASON
from commands.digest.estimators import THIN_SPELLS
from commands.digest.report import (
    Change,
    Conversion,
    Digest,
    ForecastChange,
    Listing,
    MoveLine,
    NotableMove,
    StageGroup,
    StageTotal,
    Stalled,
    StalledLine,
    Transition,
)
from commands.formats import format_deal_id, period_days
from commands.i18n.translator import N_, Translator
from commands.pipeline.names import StageName

PIPELINE_TITLE = N_("Pipeline (open deals before the win)")
CUSTOMERS_TITLE = N_("Customers (the won stage and after)")
REASON_WORDS = {
    # TRANSLATORS: a reason the forecast changed since a week earlier, followed by its share of the change.
    "new": N_("new deals"),
    "won": N_("wins"),
    "lost": N_("losses"),
    "moved": N_("moves"),
    "time": N_("time in stage"),
    # TRANSLATORS: the forecast changed because this week's conversion rates differ from last week's.
    "rates": N_("rates re-read"),
}
WHY_WORDS = {
    # TRANSLATORS: why a move is worth a look: among the largest deals that moved.
    "largest": N_("largest"),
    "skip": N_("skipped a stage"),
    "back": N_("moved back"),
}
TRANSITION_WORDS = {
    # TRANSLATORS: a count of moves from one stage to another, skipping at least one stage.
    "skip": N_("{from_stage} {arrow} {to_stage} (skip): {moves}"),
    # TRANSLATORS: a count of moves from one stage back to an earlier one.
    "back": N_("{from_stage} {arrow} {to_stage} (back): {moves}"),
}

T = TypeVar("T")
Money = Callable[[int | None], str]


def amounts(t: Translator, currency: str | None, *, unknown: str = "-") -> Money:
    """How the digest writes an amount for this reader: in the workspace's currency, `unknown` for none."""

    def money(cents: int | None) -> str:
        return unknown if cents is None else t.money(cents, currency)

    return money


def signed_count(t: Translator, count: int) -> str:
    """`+7`, `-3`, `+0`: a change in a count."""
    return format_decimal(count, format="+#,##0;-#,##0", locale=t.locale)


def signed_amount(cents: int, money: Money) -> str:
    """`+90,000`, `-1,250.50`, `+0`: a change in value."""
    return ("+" if cents >= 0 else "") + money(cents)


def tenths(t: Translator, value: float) -> str:
    """`1.2` (`1,2`): an expected number of wins or a median, to one decimal."""
    return format_decimal(value, format="#,##0.0", locale=t.locale)


def signed_tenths(t: Translator, value: float) -> str:
    return format_decimal(value, format="+#,##0.0;-#,##0.0", locale=t.locale)


def and_list(t: Translator, items: Sequence[str]) -> str:
    """`a and b`, `a, b and c` (`a y b`): a list as the reader's language writes it."""
    return format_list(list(items), locale=t.locale)


def day_month(t: Translator, moment: datetime) -> str:
    """`12 Dec` (`12 dic`): a day of the coming weeks, without its year."""
    return format_skeleton("MMMd", moment.date(), locale=t.locale)


def lost_reason(t: Translator, reason: str) -> str:
    return t("(no reason given)") if reason == NO_REASON else reason


def deals_count(t: Translator, deals: int) -> str:
    return t.n("{count} deal", "{count} deals", deals)


def _listed(t: Translator, title: str, listing: Listing[T], line: Callable[[T], str]) -> list[str]:
    """A blank line, the title with the full count, one indented line per item, then "and N more"."""
    more = [f"  {t('and {count} more', count=listing.more)}"] if listing.more else []
    return ["", title, *(f"  {line(item)}" for item in listing.items), *more]


def with_change(t: Translator, deals: int, value_cents: int, change: Change | None, *, money: Money) -> tuple[str, str]:
    """The count and the value, each followed by its change in brackets when there is one."""
    count, value = deals_count(t, deals), money(value_cents)
    if change is None:
        return count, value
    return f"{count} ({signed_count(t, change.deals)})", f"{value} ({signed_amount(change.value_cents, money)})"


def stage_line(t: Translator, total: StageTotal, *, money: Money, separator: str) -> tuple[str, str]:
    """A stage's name and its counts with their changes."""
    numbers = with_change(t, total.deals, total.value_cents, total.change, money=money)
    return t.show(StageName(total.stage)), separator.join(numbers)


def transition_label(t: Translator, transition: Transition, *, arrow: str) -> str:
    template = TRANSITION_WORDS.get(transition.kind, "{from_stage} {arrow} {to_stage}: {moves}")
    return t(
        template,
        from_stage=StageName(transition.from_stage),
        to_stage=StageName(transition.to_stage),
        arrow=arrow,
        moves=transition.moves,
    )


def notable_why(t: Translator, move: NotableMove) -> str:
    return ", ".join(t(WHY_WORDS[why]) for why in move.why)


def forecast_change_words(t: Translator, change: ForecastChange, *, money: Money) -> str:
    """`+1.2 wins, +90,000: new deals +0.8 (12 deals, +40,000), ...`, only the reasons that count."""
    parts = [
        # TRANSLATORS: one reason of the forecast's change: "new deals +0.8 (12 deals, +40,000)".
        t(
            "{reason} {wins} ({deals}, {value})",
            reason=t(REASON_WORDS[reason.reason]),
            wins=signed_tenths(t, reason.expected_wins),
            deals=deals_count(t, reason.deals),
            value=signed_amount(round(reason.expected_value_cents, -2), money),
        )
        for reason in change.reasons
        if reason.deals
    ]
    wins = signed_tenths(t, change.expected_wins)
    value = signed_amount(round(change.expected_value_cents, -2), money)
    if parts:
        # TRANSLATORS: the forecast's change in expected wins and value, then its reasons.
        return t("{wins} wins, {value}: {reasons}", wins=wins, value=value, reasons="; ".join(parts))
    return t("{wins} wins, {value}", wins=wins, value=value)


def since_label(digest: Digest) -> str:
    """When the changes are counted from, in the digest's zone."""
    return f"{digest.week_earlier.astimezone(ZoneInfo(digest.period.tz)):%Y-%m-%d %H:%M} ({digest.period.tz})"


def _group_lines(t: Translator, title: str, group: StageGroup, money: Money) -> list[str]:
    count, value = with_change(t, group.deals, group.value_cents, group.change, money=money)
    lines = [f"  {title}: {count}, {value}"]
    for total in group.stages:
        name, numbers = stage_line(t, total, money=money, separator=", ")
        lines.append(f"    {name}: {numbers}")
    return lines


def _title(t: Translator, digest: Digest) -> str:
    period = period_days(t, digest.period, with_zone=True)
    if digest.owner_id is None:
        return t("Pipeline digest, {period}", period=period)
    return t(
        "Pipeline digest of {owner}'s deals (conversion rates and the forecast's chances: the team's), {period}",
        owner=digest.owner_id,
        period=period,
    )


def digest_text(t: Translator, digest: Digest) -> str:
    money = amounts(t, digest.currency)
    won, lost = digest.won_in_period, digest.lost_in_period
    lines = [
        _title(t, digest),
        "",
        t("Where deals are (in brackets: the change since {since}):", since=since_label(digest)),
        *_group_lines(t, t(PIPELINE_TITLE), digest.pipeline, money),
        *_group_lines(t, t(CUSTOMERS_TITLE), digest.customers, money),
        "  "
        + t(
            "Won this period: {won} ({won_value}); lost: {lost} ({lost_value})",
            won=won.deals,
            won_value=money(won.value_cents),
            lost=lost.deals,
            lost_value=money(lost.value_cents),
        ),
    ]
    moved = sum(transition.moves for transition in digest.transitions)
    lines += [
        "",
        t("Moved ({count}):", count=moved),
        *(f"  {transition_label(t, transition, arrow='->')}" for transition in digest.transitions),
    ]
    if digest.notable_moves:
        lines.append("  " + t("Worth a look:"))
        lines += [f"    {_notable(t, n, money)}" for n in digest.notable_moves]
    lines += _listed(
        t,
        t("Rejected ({count}):", count=digest.rejected.total),
        digest.rejected,
        lambda m: f"{format_deal_id(m.deal_number)} {m.deal_name} -> {t.show(StageName(m.to_stage))}: {m.reason}",
    )
    lines += _listed(
        t,
        t("New deals ({count}):", count=digest.new_deals.total),
        digest.new_deals,
        lambda d: f"{format_deal_id(d.deal_number)} {d.deal_name} {money(d.value_cents)}",
    )
    reasons = digest.lost_reasons
    lines += ["", t("Lost ({count}), by reason:", count=digest.lost_deals.total)]
    lines += [f"  {lost_reason(t, r.reason)}: {t.number(r.deals)} ({money(r.value_cents)})" for r in reasons.items]
    if reasons.more:
        lines.append("  " + t.n("and {count} other reason", "and {count} other reasons", reasons.more))
    lines += _listed(
        t,
        t("Waiting for a manager over a day ({count}):", count=digest.pending.total),
        digest.pending,
        lambda p: t(
            "{deal} {name} -> {stage}, asked by {person}",
            deal=format_deal_id(p.deal_number),
            name=p.deal_name,
            stage=StageName(p.to_stage),
            person=p.requested_by,
        ),
    )
    lines += stalled_lines(t, digest.stalled)
    lines += conversion_lines(t, digest)
    lines += forecast_lines(t, digest)
    return "\n".join(lines)


def _notable(t: Translator, n: NotableMove, money: Money) -> str:
    move = n.move
    params = {
        "deal": format_deal_id(move.deal_number),
        "name": move.deal_name,
        "value": money(move.value_cents),
        "from_stage": StageName(move.from_stage),
        "to_stage": StageName(move.to_stage),
        "why": notable_why(t, n),
        "person": move.requested_by,
    }
    if "back" in n.why:
        # TRANSLATORS: a move back worth a look, who asked for it and why.
        return t(
            "{deal} {name} ({value}): {from_stage} -> {to_stage}, {why}; by {person}: {reason}",
            **params,
            reason=move.reason or "",
        )
    approval = _approved_by(t, move)
    if move.evidence:
        return t(
            "{deal} {name} ({value}): {from_stage} -> {to_stage}, {why}; by {person}, {approval}; evidence: {links}",
            **params,
            approval=approval,
            links=", ".join(e.url for e in move.evidence),
        )
    return t(
        "{deal} {name} ({value}): {from_stage} -> {to_stage}, {why}; by {person}, {approval}",
        **params,
        approval=approval,
    )


def conversion_lines(t: Translator, digest: Digest) -> list[str]:
    lines = [
        "",
        t(
            "Stage conversion: deals that entered each stage in the last {days} (the window before in brackets):",
            days=t.n("{count} day", "{count} days", digest.window_days),
        ),
    ]
    thin = []
    for row in digest.conversion:
        now, before = row.current, row.previous
        stage = StageName(row.stage)
        if not now.entered and not before.entered:
            lines.append("  " + t("{stage}: none entered", stage=stage))
            continue
        parts = [
            t(
                "{stage}: of {entered} that entered, {moved_on} moved on, {dropped_out} dropped out, "
                "{still_open} still there",
                stage=stage,
                entered=now.entered,
                moved_on=now.moved_on,
                dropped_out=now.dropped_out,
                still_open=now.still_open,
            ),
            t("{rate} move on ({before})", rate=_rate(t, now.next_rate), before=_rate(t, before.next_rate)),
        ]
        if now.won_rate is not None or before.won_rate is not None:
            parts.append(
                t("{rate} end up won ({before})", rate=_rate(t, now.won_rate), before=_rate(t, before.won_rate))
            )
        parts.append(median_words(t, now))
        lines.append("  " + "; ".join(parts) + (f"  {t('<- converts worst')}" if row.worst else ""))
        if now.entered and now.thin:
            ended = t.n("{count} ended stay", "{count} ended stays", now.rate_basis)
            thin.append(f"{t.show(stage)} ({ended})")
    if thin:
        lines.append(
            "  "
            + t.n(
                "Fewer than {count} ended stay behind: {stages}; read those rates as rough guesses.",
                "Fewer than {count} ended stays behind: {stages}; read those rates as rough guesses.",
                THIN_SPELLS,
                stages=", ".join(thin),
            )
        )
    return lines


def forecast_lines(t: Translator, digest: Digest) -> list[str]:
    forecast = digest.forecast
    money = amounts(t, digest.currency)
    if not forecast.open_deals:
        return ["", t("Forecast: no open deals before the win.")]
    lines = [
        "",
        t(
            "Forecast: about {wins} wins ({likely} likely {low} to {high}) worth {value} from {deals}; "
            "about {soon} of them ({soon_value}) within {days}.",
            wins=tenths(t, forecast.expected_wins),
            likely=t.percent(0.8),
            low=forecast.wins_low,
            high=forecast.wins_high,
            value=money(forecast.expected_value_cents),
            deals=t.n("{count} open deal", "{count} open deals", forecast.open_deals),
            soon=tenths(t, forecast.soon_wins),
            soon_value=money(forecast.soon_value_cents),
            days=t.n("{count} day", "{count} days", forecast.soon_days),
        ),
    ]
    if forecast.change is not None:
        change = forecast_change_words(t, forecast.change, money=money)
        lines.append("  " + t("Since {since}: {change}", since=since_label(digest), change=change))
    for stage in forecast.stages:
        if not stage.open_deals:
            continue
        params = {
            "stage": StageName(stage.stage),
            "deals": t.n("{count} open deal", "{count} open deals", stage.open_deals),
            "chance": _rate(t, stage.won_rate),
            "factors": " x ".join(f"{_rate(t, f.rate)} ({t.number(f.ended)})" for f in stage.factors),
            "wins": tenths(t, stage.expected_wins),
        }
        if stage.thin:
            line = t(
                "{stage}: {deals}, {chance} chance of a win for a deal new to the stage ({factors} ended stays), "
                "{wins} wins expected - too few ended stays to trust",
                **params,
            )
        else:
            line = t(
                "{stage}: {deals}, {chance} chance of a win for a deal new to the stage ({factors} ended stays), "
                "{wins} wins expected",
                **params,
            )
        lines.append("  " + line)
    return lines


def _rate(t: Translator, value: float | None) -> str:
    return t.percent(value, unknown="-")


def median_words(t: Translator, conversion: Conversion, *, unknown: str = "-") -> str:
    if conversion.median_days is not None:
        # TRANSLATORS: the median number of days a deal stays in a stage.
        return t("median {days} days", days=tenths(t, conversion.median_days))
    if conversion.entered - conversion.skipped > 0:
        days = round(conversion.watched_days)
        return t.n(
            "median over {count} day (fewer than half have left)",
            "median over {count} days (fewer than half have left)",
            days,
        )
    return t("median {days}", days=unknown)


def _approved_by(t: Translator, move: MoveLine) -> str:
    if not move.approved_by:
        return t("approved by the pipeline (no approval needed)")
    return t("approved by {people}", people=and_list(t, move.approved_by))


def stalled_lines(t: Translator, stalled: Stalled) -> list[str]:
    """The stalled deals: the counts, per owner, then the pipeline's and onboarding's, oldest first."""
    lines = [
        "",
        t(
            "Stalled ({count}): {pipeline} in the pipeline, {onboarding} in onboarding (the last stage never stalls)",
            count=stalled.total,
            pipeline=stalled.pipeline.total,
            onboarding=stalled.onboarding.total,
        ),
    ]
    for owner in stalled.by_owner.items:
        deals = t.n("{count} stalled deal", "{count} stalled deals", owner.deals)
        oldest = _stalled(t, owner.oldest)
        if owner.snoozed:
            line = t(
                "{owner}: {deals} ({snoozed} snoozed); oldest {oldest}",
                owner=owner.owner_id,
                deals=deals,
                snoozed=owner.snoozed,
                oldest=oldest,
            )
        else:
            line = t("{owner}: {deals}; oldest {oldest}", owner=owner.owner_id, deals=deals, oldest=oldest)
        lines.append("  " + line)
    if stalled.by_owner.more:
        lines.append("  " + t.n("and {count} more owner", "and {count} more owners", stalled.by_owner.more))
    lines += _listed(
        t, t("Stalled in the pipeline ({count}):", count=stalled.pipeline.total), stalled.pipeline, _owned(t)
    )
    lines += _listed(
        t, t("Stalled in onboarding ({count}):", count=stalled.onboarding.total), stalled.onboarding, _owned(t)
    )
    return lines


def _owned(t: Translator) -> Callable[[StalledLine], str]:
    def line(s: StalledLine) -> str:
        return t("{stalled}, owner {owner}", stalled=_stalled(t, s), owner=s.owner_id)

    return line


def _stalled(t: Translator, s: StalledLine) -> str:
    params = {
        "deal": format_deal_id(s.deal_number),
        "name": s.deal_name,
        "stage": StageName(s.stage),
        "days": t.n("{count} day", "{count} days", s.days_in_stage),
        "limit": s.stall_after_days,
    }
    if s.snooze is None:
        # TRANSLATORS: a stalled deal: its stage, how long it has been there, and the stage's limit in days.
        return t("{deal} {name}: {stage} for {days} (limit {limit})", **params)
    return t(
        "{deal} {name}: {stage} for {days} (limit {limit}); snoozed until {until} by {person}: {reason}",
        **params,
        until=day_month(t, s.snooze.until),
        person=s.snooze.snoozed_by,
        reason=s.snooze.reason,
    )
