"""The tables. Every row carries the Slack workspace (`team_id`) it belongs to.

Times are timezone-aware UTC datetimes (SQLModel's UTCDateTime stores them as UTC on
both backends and hands them back aware).
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

TEAM_ID_LENGTH = 32
USER_ID_LENGTH = 32
STAGE_KEY_LENGTH = 64
CRM_ID_LENGTH = 64
REQUEST_KEY_LENGTH = 128


class DeliveryStatus(StrEnum):
    """Where a post owed to Slack stands: a thread announcement or a digest delivery, the outbox's two tables."""

    PENDING = "pending"
    """Waiting for its next attempt, due at `next_attempt_at`."""
    SENDING = "sending"
    """Claimed by a process at `claimed_at`; another may take it over once the claim is stale."""
    SENT = "sent"
    GIVEN_UP = "given_up"
    """Never posted: kept, with its last error (a digest past its grace period, a thread post out of attempts)."""


class QuietDigest(StrEnum):
    """What a scheduled digest posts for a quiet period (`commands.digest.report.Digest.quiet`)."""

    SHORT = "short"
    """One line: the period was quiet, and the pipeline's totals."""
    SKIP = "skip"
    """Nothing."""
    FULL = "full"
    """The whole digest, as for any other period."""


class DealStatus(StrEnum):
    """A deal is open until it is lost; a won deal stays open in the won stage (and the stages after it)."""

    OPEN = "open"
    LOST = "lost"


class MoveStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    """The deal was lost while the move waited."""


class EventKind(StrEnum):
    """What a deal's history records (`DealEvent.kind`)."""

    CREATED = "created"
    REQUESTED = "requested"
    APPROVAL_GIVEN = "approval_given"
    """A manager approved a move that needs another manager's approval too; the move still waits."""
    APPROVED = "approved"
    REJECTED = "rejected"
    EVIDENCE_ASKED = "evidence_asked"
    MOVED_BACK = "moved_back"
    LOST = "lost"
    SNOOZED = "snoozed"
    """The owner or a manager snoozed the deal's stall nudges: the reason is the note, the end in `DealSnooze`."""
    SNOOZE_ENDED = "snooze_ended"


class AnnouncementKind(StrEnum):
    """What a deal's thread is owed a post about (`Announcement.kind`)."""

    CARD = "card"
    MOVE_REQUESTED = "move_requested"
    MOVE_DECIDED = "move_decided"
    APPROVAL_GIVEN = "approval_given"
    EVIDENCE_ASKED = "evidence_asked"
    LOST = "lost"
    MOVED_BACK = "moved_back"
    MOVE_REMINDER = "move_reminder"
    """A pending move's reminder to the managers who may still decide it (the subject is a `Reminder`)."""
    STALL_NUDGE = "stall_nudge"
    """A stalled deal's nudge to its owner (the subject is a `Reminder`)."""


class ReminderKind(StrEnum):
    MOVE_PENDING = "move_pending"
    STALLED = "stalled"


class Deal(SQLModel, table=True):
    """A deal's current state. Each change to it is also written as a `DealEvent`."""

    __tablename__ = "deal"
    __table_args__ = (
        UniqueConstraint("team_id", "number", name="uq_deal_team_number"),
        Index("uq_deal_team_crm_id", "team_id", "crm_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=TEAM_ID_LENGTH)
    number: int
    name: str = Field(sa_type=Text)
    owner_id: str = Field(max_length=USER_ID_LENGTH)
    value_cents: int | None = Field(default=None, sa_type=BigInteger)
    value_currency: str | None = Field(default=None, max_length=3)
    """The ISO 4217 code the value was typed in; None for a value typed before the workspace had a currency."""
    company: str | None = Field(default=None, sa_type=Text)
    stage_key: str = Field(max_length=STAGE_KEY_LENGTH)
    status: str = Field(default=DealStatus.OPEN, max_length=16)
    lost_reason: str | None = Field(default=None, sa_type=Text)
    channel_id: str = Field(max_length=32)
    thread_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime
    stage_entered_at: datetime
    crm_id: str | None = Field(default=None, max_length=CRM_ID_LENGTH)
    """The deal's id in the CRM it was imported from; what makes a second import of the same file a no-op."""
    nudged_at: datetime | None = None
    """When its owner was last owed a stall nudge: the claim that keeps nudges to one a week, across processes."""


class DealEvent(SQLModel, table=True):
    """One append-only fact about a deal: who did what, when, with which evidence."""

    __tablename__ = "deal_event"
    __table_args__ = (
        Index("ix_deal_event_team_deal", "team_id", "deal_id", "id"),
        Index("ix_deal_event_team_kind_at", "team_id", "kind", "at"),
        Index("ix_deal_event_team_deal_kind_at", "team_id", "deal_id", "kind", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=TEAM_ID_LENGTH)
    deal_id: int = Field(foreign_key="deal.id")
    kind: str = Field(max_length=32)
    actor_id: str = Field(max_length=USER_ID_LENGTH)
    at: datetime
    from_stage: str | None = Field(default=None, max_length=STAGE_KEY_LENGTH)
    to_stage: str | None = Field(default=None, max_length=STAGE_KEY_LENGTH)
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    note: str | None = Field(default=None, sa_type=Text)
    move_id: int | None = Field(default=None, foreign_key="move_request.id")


class MoveRequest(SQLModel, table=True):
    """A rep's request to move a deal forward, waiting for (or holding) a manager's decision.

    At most one request per deal is pending: a partial unique index enforces it in the
    database, so two racing requests cannot both be stored.
    """

    __tablename__ = "move_request"
    __table_args__ = (
        Index(
            "uq_move_request_one_pending",
            "deal_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_move_request_team_decided", "team_id", "decided_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=TEAM_ID_LENGTH)
    deal_id: int = Field(foreign_key="deal.id")
    requested_by: str = Field(max_length=USER_ID_LENGTH)
    requested_at: datetime
    from_stage: str = Field(max_length=STAGE_KEY_LENGTH)
    to_stage: str = Field(max_length=STAGE_KEY_LENGTH)
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    note: str | None = Field(default=None, sa_type=Text)
    status: str = Field(default=MoveStatus.PENDING, max_length=16)
    decided_by: str | None = Field(default=None, max_length=USER_ID_LENGTH)
    decided_at: datetime | None = None
    decision_reason: str | None = Field(default=None, sa_type=Text)
    message_ts: str | None = Field(default=None, max_length=32)
    approvals_needed: int = Field(default=1, sa_column_kwargs={"server_default": text("1")})
    """How many different managers must approve: the pipeline's policy when the move was asked for (0 moves at
    once). Fixed then, so editing the pipeline file does not change a move already waiting."""
    reminded_at: datetime | None = None
    """When its managers were last owed a reminder: the claim that keeps reminders to one a day, across processes."""


class MoveApproval(SQLModel, table=True):
    """One manager's approval of a move. A move needing two stays pending after the first; the unique key
    makes a second approval by the same manager impossible, even from two clicks at once."""

    __tablename__ = "move_approval"
    __table_args__ = (UniqueConstraint("move_id", "approver_id", name="uq_move_approval_once"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=TEAM_ID_LENGTH)
    move_id: int = Field(foreign_key="move_request.id")
    approver_id: str = Field(max_length=USER_ID_LENGTH)
    at: datetime


class Manager(SQLModel, table=True):
    """A manager added from Slack. Removal deactivates the row so the change stays on record."""

    __tablename__ = "manager"

    team_id: str = Field(primary_key=True, max_length=TEAM_ID_LENGTH)
    user_id: str = Field(primary_key=True, max_length=USER_ID_LENGTH)
    active: bool = True
    changed_by: str = Field(max_length=USER_ID_LENGTH)
    changed_at: datetime


class DealSequence(SQLModel, table=True):
    """The last deal number handed out in a workspace; bumped in the deal's own transaction."""

    __tablename__ = "deal_sequence"

    team_id: str = Field(primary_key=True, max_length=TEAM_ID_LENGTH)
    last_number: int = 0


class DigestSchedule(SQLModel, table=True):
    """When a channel gets its digest: weekly on a weekday or daily, at a local time in a zone."""

    __tablename__ = "digest_schedule"

    team_id: str = Field(primary_key=True, max_length=TEAM_ID_LENGTH)
    channel_id: str = Field(primary_key=True, max_length=32)
    frequency: str = Field(max_length=8)  # weekly | daily
    weekday: str | None = Field(default=None, max_length=3)  # mon..sun for weekly
    at_time: str = Field(max_length=5)  # HH:MM, local to tz
    tz: str = Field(max_length=64)
    active: bool = True
    changed_by: str = Field(max_length=USER_ID_LENGTH)
    changed_at: datetime
    quiet: str = Field(default=QuietDigest.SHORT, max_length=8, sa_column_kwargs={"server_default": text("'short'")})
    """What a period in which nothing happened posts (`QuietDigest`)."""


class DigestDelivery(SQLModel, table=True):
    """One digest for one channel and period. The unique key is the claim that makes delivery exactly-once."""

    __tablename__ = "digest_delivery"
    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", "period_key", name="uq_digest_delivery_period"),
        Index("ix_digest_delivery_status", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=TEAM_ID_LENGTH)
    channel_id: str = Field(max_length=32)
    period_key: str = Field(max_length=64)  # e.g. "weekly:2026-11-23T09:00" (the local due time)
    period_start: datetime
    period_end: datetime
    tz: str = Field(max_length=64)
    status: str = Field(default=DeliveryStatus.SENDING, max_length=16)
    attempts: int = 0
    claimed_by: str = Field(max_length=128)
    claimed_at: datetime
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    message_ts: str | None = Field(default=None, max_length=32)
    chart_uploaded: bool = False
    last_error: str | None = Field(default=None, sa_type=Text)


class Announcement(SQLModel, table=True):
    """A post the deal's Slack thread owes: written with the change, delivered after it.

    The use case stores the change and its announcement in one transaction; the Slack side
    delivers it after the ack and marks it sent. One that could not be delivered (Slack down,
    the process killed) stays here and is delivered later, in order, so the thread catches up.
    """

    __tablename__ = "announcement"
    __table_args__ = (
        Index("ix_announcement_due", "status", "next_attempt_at"),
        Index("ix_announcement_deal", "team_id", "deal_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=TEAM_ID_LENGTH)
    deal_id: int = Field(foreign_key="deal.id")
    kind: str = Field(max_length=32)
    subject_id: int
    status: str = Field(default=DeliveryStatus.PENDING, max_length=16)
    created_at: datetime
    next_attempt_at: datetime
    claimed_at: datetime | None = None
    sent_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=Text)


class ReminderSetting(SQLModel, table=True):
    """A workspace's reminder settings, set by a manager; a workspace without a row has the defaults."""

    __tablename__ = "reminder_setting"

    team_id: str = Field(primary_key=True, max_length=TEAM_ID_LENGTH)
    pending_after_hours: int | None
    """How long a move waits before its managers are reminded; None: reminders are off."""
    changed_by: str = Field(max_length=USER_ID_LENGTH)
    changed_at: datetime


class WorkspaceSetting(SQLModel, table=True):
    """A workspace's language and currency, set by a manager; a workspace without a row speaks English and has
    no currency."""

    __tablename__ = "workspace_setting"

    team_id: str = Field(primary_key=True, max_length=TEAM_ID_LENGTH)
    language: str = Field(default="en", max_length=8)
    """The language of the bot's posts in channels (`commands.i18n.languages.Language`)."""
    currency: str | None = Field(default=None, max_length=3)
    """The ISO 4217 code deal values are kept in; None until a manager sets one."""
    language_changed_by: str | None = Field(default=None, max_length=USER_ID_LENGTH)
    language_changed_at: datetime | None = None
    currency_changed_by: str | None = Field(default=None, max_length=USER_ID_LENGTH)
    currency_changed_at: datetime | None = None


class DealSnooze(SQLModel, table=True):
    """A deal's stall nudges snoozed until `until`, and why. The deal's history holds each snooze too
    (`EventKind.SNOOZED`, the reason as its note), so ending or replacing one loses nothing."""

    __tablename__ = "deal_snooze"

    deal_id: int = Field(primary_key=True, foreign_key="deal.id")
    team_id: str = Field(max_length=TEAM_ID_LENGTH)
    until: datetime
    reason: str = Field(sa_type=Text)
    snoozed_by: str = Field(max_length=USER_ID_LENGTH)
    snoozed_at: datetime


class Reminder(SQLModel, table=True):
    """A reminder or nudge owed to a deal's thread: whom it mentions, decided when it was claimed (the
    recipients in their working hours then). The announcement that posts it points here."""

    __tablename__ = "reminder"
    __table_args__ = (Index("ix_reminder_team_deal", "team_id", "deal_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=TEAM_ID_LENGTH)
    deal_id: int = Field(foreign_key="deal.id")
    kind: str = Field(max_length=16)
    move_id: int | None = Field(default=None, foreign_key="move_request.id")
    stage_key: str = Field(max_length=STAGE_KEY_LENGTH)
    """The deal's stage when it was claimed: a nudge no longer true by delivery time is not posted."""
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    at: datetime


class HandledEvent(SQLModel, table=True):
    """An Events API delivery already handled: Slack redelivers events, and each is handled once."""

    __tablename__ = "handled_event"

    team_id: str = Field(primary_key=True, max_length=TEAM_ID_LENGTH)
    event_id: str = Field(primary_key=True, max_length=64)
    handled_at: datetime


class HandledRequest(SQLModel, table=True):
    """A request already acted on, by its key (a slash command's trigger_id): a replay is answered, not acted on."""

    __tablename__ = "handled_request"

    team_id: str = Field(primary_key=True, max_length=TEAM_ID_LENGTH)
    request_key: str = Field(primary_key=True, max_length=REQUEST_KEY_LENGTH)
    handled_at: datetime


class SpellEnd(StrEnum):
    """How a stay in a stage ended."""

    OPEN = "open"
    MOVED_ON = "moved_on"
    SKIPPED = "skipped"
    """Passed through on a skip: entered and left in the same approved move."""
    MOVED_BACK = "moved_back"
    LOST = "lost"


class StageSpell(SQLModel, table=True):
    """One stay of a deal in a stage, derived from the deal's events and written with them.

    The event log stays the source of truth: `storage.spells` derives these rows from it, the use
    cases append them in the event's own transaction, and `salesbot check` rebuilds and compares.
    At most one spell per deal is open (a partial unique index).
    """

    __tablename__ = "stage_spell"
    # The digest's statements read only these indexes (`storage.spell_queries`), so their cost follows the
    # window or the open deals, not the length of the history: stays entered in a window, by time or by
    # stage and time; stays open at a moment (`left_at` NULL, or after it); a deal's stays, by time.
    __table_args__ = (
        Index("ix_stage_spell_team_entered", "team_id", "entered_at", "stage_key", "left_at", "ended"),
        Index("ix_stage_spell_team_stage", "team_id", "stage_key", "entered_at", "entered_via", "deal_id"),
        Index("ix_stage_spell_team_left", "team_id", "left_at", "entered_at", "stage_key", "ended", "deal_id"),
        Index("ix_stage_spell_deal", "deal_id", "entered_at", "stage_key"),
        Index(
            "uq_stage_spell_one_open",
            "deal_id",
            unique=True,
            sqlite_where=text("ended = 'open'"),
            postgresql_where=text("ended = 'open'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=TEAM_ID_LENGTH)
    deal_id: int = Field(foreign_key="deal.id")
    stage_key: str = Field(max_length=STAGE_KEY_LENGTH)
    entered_at: datetime
    entered_via: str = Field(max_length=16)  # the event kind that opened it: created | approved | moved_back
    left_at: datetime | None = None
    ended: str = Field(default=SpellEnd.OPEN, max_length=16)
