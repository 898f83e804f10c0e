"""Who counts as a manager, and adding or removing managers from Slack."""

from dataclasses import dataclass
from typing import Literal

from sqlmodel import Session

from commands.deals.results import ManagerChanged, ManagerList
from commands.errors import CommandError
from commands.i18n.translator import Text, tr
from commands.inbox.requests import Claim, claim_in
from commands.services import Actor, Services
from storage import queries


@dataclass(frozen=True)
class ChangeManager:
    action: Literal["add", "remove"]
    user_id: str


def team_managers(session: Session, services: Services, *, team_id: str) -> frozenset[str]:
    """The workspace's managers: those in SALES_MANAGERS and those added from Slack."""
    return services.env_managers | queries.active_managers(session, team_id=team_id)


def is_manager(session: Session, services: Services, *, team_id: str, user_id: str) -> bool:
    return user_id in team_managers(session, services, team_id=team_id)


def require_manager(session: Session, services: Services, actor: Actor, *, doing: str | Text) -> None:
    """`doing` is what only a manager may do, as a clause in the infinitive ("schedule the digest")."""
    if not is_manager(session, services, team_id=actor.team_id, user_id=actor.user_id):
        raise CommandError(
            # TRANSLATORS: {doing} is a clause in the infinitive, like "schedule the digest".
            tr(
                "Only a sales manager can {doing}. "
                "Managers are set in SALES_MANAGERS or added with `/pipeline managers add @someone`.",
                doing=doing,
            )
        )


def list_managers(services: Services, actor: Actor) -> ManagerList:
    with services.sessions() as session:
        return _manager_list(session, services, actor.team_id)


def change_manager(
    services: Services, actor: Actor, command: ChangeManager, *, claim: Claim | None = None
) -> ManagerChanged:
    """Add or remove a manager. Anyone may add the first manager; after that only managers may."""
    with services.sessions.begin() as session:
        claim_in(session, claim, now=services.clock())
        # Changes queue here, so the list read below is still true when we write: two people adding
        # themselves as the first manager, or two managers removing each other, cannot both succeed.
        queries.lock_managers(session, team_id=actor.team_id)
        current = _manager_list(session, services, actor.team_id)
        if current.all:
            # TRANSLATORS: completes "Only a sales manager can …".
            require_manager(session, services, actor, doing=tr("change who the managers are"))
        if command.action == "remove" and command.user_id in services.env_managers:
            raise CommandError(
                # TRANSLATORS: SALES_MANAGERS is the name of a setting of the app, keep it as it is.
                tr(
                    "That person is a manager through the SALES_MANAGERS setting. "
                    "Remove them there and restart the app."
                )
            )
        now_manager = command.user_id in current.all
        wanted = command.action == "add"
        if now_manager != wanted:
            queries.set_manager(
                session,
                team_id=actor.team_id,
                user_id=command.user_id,
                active=wanted,
                changed_by=actor.user_id,
                changed_at=services.clock(),
            )
            session.flush()
        return ManagerChanged(
            user_id=command.user_id,
            action=command.action,
            changed=now_manager != wanted,
            managers=_manager_list(session, services, actor.team_id),
        )


def _manager_list(session: Session, services: Services, team_id: str) -> ManagerList:
    return ManagerList(
        from_settings=tuple(sorted(services.env_managers)),
        added=tuple(sorted(queries.active_managers(session, team_id=team_id) - services.env_managers)),
    )
