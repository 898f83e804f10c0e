"""Snoozing a deal's stall nudges, with a reason, for a bounded time; and ending a snooze.

A snooze is visible, not a hiding place: the digest's stalled list and `/deal show` show it with its reason,
and each snooze and its end are in the deal's history (the reason as the event's note).
"""

from dataclasses import dataclass
from datetime import timedelta

from commands.deals.deal import find_deal, require_owner_or_manager
from commands.deals.history import record
from commands.deals.results import DealSummary, Snooze
from commands.errors import CommandError
from commands.formats import format_deal_id
from commands.i18n.translator import tr
from commands.inbox.requests import Claim, claim_in
from commands.services import Actor, Services
from storage import reminder_queries
from storage.models import DealStatus, EventKind

SNOOZE_MIN_DAYS = 1
SNOOZE_MAX_DAYS = 90


@dataclass(frozen=True)
class SnoozeDeal:
    deal_number: int
    days: int
    reason: str


@dataclass(frozen=True)
class EndSnooze:
    deal_number: int


@dataclass(frozen=True)
class SnoozeChanged:
    """`snooze` is the deal's snooze now (None once ended); `ended` the one an `off` ended."""

    deal: DealSummary
    snooze: Snooze | None
    ended: Snooze | None = None


def snooze_deal(
    services: Services, actor: Actor, command: SnoozeDeal | EndSnooze, *, claim: Claim | None = None
) -> SnoozeChanged:
    """Snooze the deal's nudges (replacing a running snooze) or end its snooze; the owner or a manager only."""
    if isinstance(command, SnoozeDeal) and not SNOOZE_MIN_DAYS <= command.days <= SNOOZE_MAX_DAYS:
        raise CommandError(
            # TRANSLATORS: 7d is how a snooze's length is typed (d for days), keep it as it is.
            tr(
                "A snooze lasts from {min} to {max} days, like 7d.",
                min=SNOOZE_MIN_DAYS,
                max=SNOOZE_MAX_DAYS,
            )
        )
    now = services.clock()
    with services.sessions.begin() as session:
        claim_in(session, claim, now=now)
        deal = find_deal(session, actor, command.deal_number, for_update=True)
        assert deal.id is not None
        deal_id = format_deal_id(deal.number)
        require_owner_or_manager(
            session,
            services,
            actor,
            deal,
            # TRANSLATORS: completes "Only the owner of deal-42 or a sales manager can …"; "its" is the deal's.
            doing=tr("snooze its reminders"),
        )
        current = reminder_queries.snooze_of(session, team_id=actor.team_id, deal_id=deal.id)
        running = current if current is not None and current.until > now else None
        if isinstance(command, EndSnooze):
            if running is None:
                raise CommandError(tr("{deal} is not snoozed, so there is nothing to end.", deal=deal_id))
            reminder_queries.end_snooze(session, team_id=actor.team_id, deal_id=deal.id)
            record(session, deal, actor, services.pipeline, kind=EventKind.SNOOZE_ENDED, at=now)
            return SnoozeChanged(DealSummary.of(deal, services.pipeline), None, ended=Snooze.of(running))
        if deal.status == DealStatus.LOST:
            raise CommandError(
                tr(
                    "{deal} was lost ({reason}), so it gets no reminders to snooze.",
                    deal=deal_id,
                    reason=deal.lost_reason,
                )
            )
        until = now + timedelta(days=command.days)
        reminder_queries.set_snooze(
            session,
            team_id=actor.team_id,
            deal_id=deal.id,
            until=until,
            reason=command.reason,
            snoozed_by=actor.user_id,
            at=now,
        )
        record(session, deal, actor, services.pipeline, kind=EventKind.SNOOZED, at=now, note=command.reason)
        snooze = Snooze(until, command.reason, actor.user_id, now)
        return SnoozeChanged(DealSummary.of(deal, services.pipeline), snooze)
