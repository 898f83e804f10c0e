"""Delivers what deal threads are owed, in order, right after a change and again on every tick."""

import logging
from enum import StrEnum

from slack_sdk import WebClient

from bot.threads import DealThreads, PostFailed
from commands.outbox.announcements import (
    deals_owed,
    delivered,
    not_delivered,
    owed_in_channel,
    take,
    undelivered_for_deal,
)
from commands.services import Services
from storage.db import is_outage

logger = logging.getLogger(__name__)


class Delivery(StrEnum):
    DONE = "done"  # everything the thread was owed went out
    LEFT = "left"  # some is left for later: Slack failed, another worker has it, or the database did not answer
    NO_ACCESS = "no_access"  # Slack refused because the bot is not in the deal's channel


class Announcer:
    def __init__(self, services: Services, client: WebClient) -> None:
        self._services = services
        self._client = client

    def deliver_for_deal(self, team_id: str, deal_number: int) -> Delivery:
        """Deliver the deal's owed announcements oldest first; stop at the first that cannot go out
        (Slack refused it, or another worker is delivering it and will go on with the rest), so a
        thread never shows a decision before the move it decides."""
        try:
            while owed := undelivered_for_deal(self._services, team_id=team_id, deal_number=deal_number):
                # Another change may add to the list while this one is delivering: look again until done.
                for announcement_id in owed:
                    if (outcome := self._deliver(announcement_id)) is not Delivery.DONE:
                        return outcome
        except Exception as error:
            # The change itself is stored and its posts stay owed: the catch-up delivers them. This runs after
            # the ack, where nobody is waiting for an answer, so a failure here is logged, never raised.
            if is_outage(error):
                logger.warning("thread posts for deal-%s left to the catch-up: %r", deal_number, error)
            else:
                logger.exception("thread posts for deal-%s failed; left to the catch-up", deal_number)
            return Delivery.LEFT
        return Delivery.DONE

    def catch_up(self) -> int:
        """Deliver what earlier attempts (or a process that died) left owed; the number of deals caught up."""
        caught_up = sum(
            self.deliver_for_deal(team_id, number) is Delivery.DONE for team_id, number in deals_owed(self._services)
        )
        if caught_up:
            logger.info("caught up on owed thread posts for %d deals", caught_up)
        return caught_up

    def invited(self, team_id: str, channel_id: str) -> int:
        """The bot was invited to a channel: deliver everything its deals' threads are owed. The deals caught up."""
        numbers = owed_in_channel(self._services, team_id=team_id, channel_id=channel_id)
        caught_up = sum(self.deliver_for_deal(team_id, number) is Delivery.DONE for number in numbers)
        logger.info("invited to %s: caught up %d of %d deals owed posts", channel_id, caught_up, len(numbers))
        return caught_up

    def _deliver(self, announcement_id: int) -> Delivery:
        owed = take(self._services, announcement_id)
        if owed is None:
            return Delivery.LEFT
        try:
            posted = DealThreads(self._services, self._client, owed.team_id).announce(owed.subject)
        except PostFailed as error:
            not_delivered(self._services, announcement_id, error=error.reason, no_access=error.no_access)
            return Delivery.NO_ACCESS if error.no_access else Delivery.LEFT
        except Exception as error:  # a bug rendering or posting this one: count the attempt, so it is given up in time
            logger.exception("announcement %s could not be posted", announcement_id)
            not_delivered(self._services, announcement_id, error=f"{type(error).__name__}: {error}")
            return Delivery.LEFT
        delivered(self._services, owed, posted)
        return Delivery.DONE
