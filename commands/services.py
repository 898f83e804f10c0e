"""What every use case needs: storage, the team's pipeline, the managers from settings, a clock, the languages."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from commands.i18n.catalogs import Translators, bundled_translators
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
    translators: Translators = field(default_factory=bundled_translators)


@dataclass(frozen=True)
class Actor:
    """Who is acting, and in which Slack workspace."""

    team_id: str
    user_id: str
