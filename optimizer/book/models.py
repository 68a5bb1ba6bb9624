"""The book's tables as SQLAlchemy 2 typed ORM classes.

These classes describe the schema for queries; they never create it. The schema is
made and changed only by the Alembic migrations in ``optimizer/book/migrations``, and a
test compares the migrated database with these classes on SQLite and PostgreSQL, so the
two cannot drift apart.

Rows are keyed by integer surrogate ids; the business keys (``visit_id``, ``agent_id``)
are unique columns. Later tables (users and roles, agent and borrower tokens) point at
these ids, and a purge can blank a case's personal fields without breaking its history.

Timestamps are stored in UTC (:class:`UtcDateTime`); dates of the field's calendar
(due, earliest, planned, promised) are plain dates in the plan's time zone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

#: Constraint names fixed by convention, so migrations can name what they alter.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

STATUSES = ("pending", "planned", "done", "failed", "closed", "cancelled")
OUTCOMES = (
    "done",
    "not_home",
    "refused",
    "promise_to_pay",
    "wrong_address",
    "reschedule",
    "cancelled",
    "paid",
)
#: Outcomes that are news about a visit, not a change of its state: the agent arrived,
#: the borrower confirmed the window. They never become a case's ``last_outcome``.
NEWS = ("arrived", "confirmed")


class UtcDateTime(TypeDecorator[dt.datetime]):
    """An aware datetime stored as naive UTC, read back aware (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            msg = f"Expected an aware datetime, got {value!r}."
            raise ValueError(msg)
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, dt.datetime: UtcDateTime}


class CaseRow(Base):
    """A visit (case) with its state in the field process.

    The visit columns mirror the visits file; ``status`` and the attempt fields are the
    book's. ``version`` grows on every change: a planner that read a case compares it
    when it stores its plan, so a change made meanwhile by another writer is never
    overwritten (it plans again instead).
    """

    __tablename__ = "visits"
    __table_args__ = (
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint(_in("last_outcome", OUTCOMES), name="last_outcome"),
        Index("ix_visits_status_due", "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visit_id: Mapped[str] = mapped_column(String(200), unique=True)
    #: Several cases of one borrower share the contact limits; default: the visit_id.
    borrower_id: Mapped[str] = mapped_column(String(200), index=True)
    # personal data: blanked by purge
    name: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # what the visit needs
    window_start_s: Mapped[int | None] = mapped_column(Integer)
    window_end_s: Mapped[int | None] = mapped_column(Integer)
    duration_s: Mapped[int] = mapped_column(Integer)
    visit_type: Mapped[str] = mapped_column(String(200), default="")
    skills: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[int] = mapped_column(Integer, default=1)
    documents: Mapped[str] = mapped_column(Text, default="")
    pinned_agent: Mapped[str | None] = mapped_column(String(200))
    demand: Mapped[int] = mapped_column(Integer, default=0)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    earliest_date: Mapped[dt.date | None] = mapped_column(Date)
    preferred_days: Mapped[str] = mapped_column(String(100), default="")
    # where it stands
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_outcome: Mapped[str | None] = mapped_column(String(20))
    #: The rules allow no attempt before this date (cooldown, promise, reschedule).
    not_before: Mapped[dt.date | None] = mapped_column(Date)
    planned_date: Mapped[dt.date | None] = mapped_column(Date)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))
    #: Why it is not planned (the last plan's reason, or the hold).
    reason: Mapped[str] = mapped_column(Text, default="")
    #: Set when the dispatcher must look at it (refused, attempt limit reached).
    attention: Mapped[str] = mapped_column(Text, default="")
    #: The arrival window (and agent) the borrower confirmed for ``confirmed_date``
    #: from their link: a plan of that date keeps the visit inside it, with that agent.
    confirmed_date: Mapped[dt.date | None] = mapped_column(Date)
    confirmed_start_s: Mapped[int | None] = mapped_column(Integer)
    confirmed_end_s: Mapped[int | None] = mapped_column(Integer)
    confirmed_agent: Mapped[str | None] = mapped_column(String(200))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    purged_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)


class AgentRow(Base):
    """An agent of the roster, as the agents file describes them."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(Text, default="")
    start_lat: Mapped[float | None] = mapped_column(Float)
    start_lon: Mapped[float | None] = mapped_column(Float)
    start_address: Mapped[str] = mapped_column(Text, default="")
    end_lat: Mapped[float | None] = mapped_column(Float)
    end_lon: Mapped[float | None] = mapped_column(Float)
    end_address: Mapped[str] = mapped_column(Text, default="")
    shift_start_s: Mapped[int] = mapped_column(Integer)
    shift_end_s: Mapped[int] = mapped_column(Integer)
    break_start_s: Mapped[int | None] = mapped_column(Integer)
    break_end_s: Mapped[int | None] = mapped_column(Integer)
    break_s: Mapped[int | None] = mapped_column(Integer)
    skills: Mapped[str] = mapped_column(Text, default="")
    max_visits: Mapped[int | None] = mapped_column(Integer)
    capacity: Mapped[int | None] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(20), default="car")
    days_off: Mapped[str] = mapped_column(Text, default="")
    #: Off the roster without losing the history that names them.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)


class PlanRow(Base):
    """One stored plan of a date. The newest published version is the field's."""

    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("plan_date", "version", name="uq_plans_date_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_date: Mapped[dt.date] = mapped_column(Date, index=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    command: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    solver: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: plan.json as written to the output folder (ids and times only, no personal data).
    document: Mapped[dict[str, Any]] = mapped_column(JSON)


class PlanVisitRow(Base):
    """A case in a stored plan: routed (agent, order, times) or left out with why."""

    __tablename__ = "plan_visits"

    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True
    )
    case_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), primary_key=True, index=True)
    agent_id: Mapped[str | None] = mapped_column(String(200))
    seq: Mapped[int | None] = mapped_column(Integer)
    start_s: Mapped[int | None] = mapped_column(Integer)
    end_s: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Placed by hand in the console and locked: "re-optimise the rest" keeps it there.
    locked: Mapped[bool] = mapped_column(Boolean, default=False)


class OutcomeRow(Base):
    """What happened at (or about) one visit, as the field recorded it."""

    __tablename__ = "outcomes"
    __table_args__ = (
        CheckConstraint(_in("outcome", OUTCOMES + NEWS), name="outcome"),
        Index("ix_outcomes_case_at", "case_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("visits.id"))
    #: The borrower's key at the time, so contact limits count across their cases.
    borrower_id: Mapped[str] = mapped_column(String(200), index=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))
    outcome: Mapped[str] = mapped_column(String(20))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    #: A visit at the door (counts against the contact limits) or news by other means.
    attempt: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, default="")
    promise_date: Mapped[dt.date | None] = mapped_column(Date)
    new_window_start_s: Mapped[int | None] = mapped_column(Integer)
    new_window_end_s: Mapped[int | None] = mapped_column(Integer)
    new_date: Mapped[dt.date | None] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    recorded_by: Mapped[str] = mapped_column(String(200))


class AuditEvent(Base):
    """Who read or changed personal data, when, through which command; never the data."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    #: The OS user today; a console user (``web:<login>``) once the console exists.
    actor: Mapped[str] = mapped_column(String(200))
    command: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(20))
    #: What was done, in words and counts, without personal values.
    detail: Mapped[str] = mapped_column(Text, default="")


class AuditVisitRow(Base):
    """One case touched by an audit event."""

    __tablename__ = "audit_visits"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("audit_events.id", ondelete="CASCADE"), primary_key=True
    )
    case_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), primary_key=True, index=True)


# --- the console (issue 15) ---------------------------------------------------------------

ROLES = ("admin", "dispatcher")
TOKEN_KINDS = ("agent", "borrower")


class UserRow(Base):
    """A console login. Only the argon2 hash of the password is kept."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(200), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class WebSessionRow(Base):
    """A logged-in browser. The cookie's value is kept only as its SHA-256 hash.

    ``csrf_token`` is kept as is: the pages carry it, and it is worthless without the
    cookie, whose value the book never holds.
    """

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class TokenRow(Base):
    """An agent's link for one day, or a borrower's link for one visit; stored hashed.

    Agent tokens name ``agent_id`` and ``day``; borrower tokens also ``visit_id``. A link
    stops working at ``expires_at`` or once ``revoked_at`` is set.
    """

    __tablename__ = "tokens"
    __table_args__ = (
        CheckConstraint(_in("kind", TOKEN_KINDS), name="kind"),
        Index("ix_tokens_agent_day", "agent_id", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    agent_id: Mapped[str] = mapped_column(String(200))
    visit_id: Mapped[str | None] = mapped_column(String(200))
    day: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    #: The key of the link's page forms (CSRF): worthless without the link itself.
    form_key: Mapped[str | None] = mapped_column(String(64))
