"""What every use case needs: storage, the team's pipeline, the managers from settings, a clock."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from commands.pipeline.stages import Pipeline
from storage.db import SessionFactory


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Services:
    sessions: SessionFactory
    pipeline: Pipeline
    env_managers: frozenset[str] = frozenset()
    clock: Callable[[], datetime] = field(default=utc_now)


@dataclass(frozen=True)
class Actor:
    """Who is acting, and in which Slack workspace."""

    team_id: str
    user_id: str
