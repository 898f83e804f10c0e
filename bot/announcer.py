"""Delivers what deal threads are owed, in order, right after a change and again on every tick."""

import logging

from slack_sdk import WebClient
from sqlalchemy.exc import SQLAlchemyError

from bot.threads import DealThreads, PostFailed
from commands.announcements import deals_owed, delivered, not_delivered, take, undelivered_for_deal
from commands.services import Services

logger = logging.getLogger(__name__)


class Announcer:
    def __init__(self, services: Services, client: WebClient) -> None:
        self._services = services
        self._client = client

    def deliver_for_deal(self, team_id: str, deal_number: int) -> bool:
        """Deliver the deal's owed announcements oldest first; stop at the first that cannot go out
        (Slack refused it, or another worker is delivering it and will go on with the rest), so a
        thread never shows a decision before the move it decides. True when all went out."""
        try:
            while owed := undelivered_for_deal(self._services, team_id=team_id, deal_number=deal_number):
                # Another change may add to the list while this one is delivering: look again until done.
                for announcement_id in owed:
                    if not self._deliver(announcement_id):
                        return False
        except SQLAlchemyError as error:
            # The change itself is stored; its posts stay owed and the catch-up delivers them.
            logger.warning("thread posts for deal-%s left to the catch-up: %r", deal_number, error)
            return False
        return True

    def catch_up(self) -> int:
        """Deliver what earlier attempts (or a process that died) left owed; the number of deals caught up."""
        caught_up = sum(self.deliver_for_deal(team_id, number) for team_id, number in deals_owed(self._services))
        if caught_up:
            logger.info("caught up on owed thread posts for %d deals", caught_up)
        return caught_up

    def _deliver(self, announcement_id: int) -> bool:
        owed = take(self._services, announcement_id)
        if owed is None:
            return False
        try:
            DealThreads(self._services, self._client, owed.team_id).announce(owed.subject)
        except PostFailed as error:
            not_delivered(self._services, announcement_id, error=str(error))
            return False
        delivered(self._services, announcement_id)
        return True
