"""Checking each deal's stage history (its spells) against its events, the source of truth."""

from dataclasses import dataclass

from commands.errors import CommandError
from commands.services import Services
from storage import queries, report_queries, spells
from storage.db import read_only


@dataclass(frozen=True)
class HistoryDifference:
    """A deal whose stored stage history is not what its events say."""

    team_id: str
    deal_number: int | None
    stored: tuple[spells.Spell, ...]
    derived: tuple[spells.Spell, ...]

    @property
    def missing(self) -> list[spells.Spell]:
        return [spell for spell in self.derived if spell not in self.stored]

    @property
    def extra(self) -> list[spells.Spell]:
        return [spell for spell in self.stored if spell not in self.derived]


def check_stage_history(services: Services, *, team_id: str | None, fix: bool) -> list[HistoryDifference]:
    """Derive every deal's spells from its events (one workspace, or all) and list the deals whose stored
    spells differ; with `fix`, rewrite those from the events, all in one transaction."""
    with services.sessions.begin() as session:
        if not fix:
            read_only(session)
        if team_id is not None and team_id not in report_queries.team_ids(session):
            raise CommandError(f"There is no workspace {team_id} in the database (it has no deals).")
        found = list(spells.compare(session, stage_keys=services.pipeline.keys, team_id=team_id, fix=fix))
        numbers = queries.deal_numbers(session, deal_ids=[difference.deal_id for difference in found])
    return [
        HistoryDifference(difference.team_id, numbers.get(difference.deal_id), difference.stored, difference.derived)
        for difference in found
    ]
