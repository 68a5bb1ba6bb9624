"""The book's rules as pure functions: what an outcome leads to, and who may be visited when.

Nothing here reads the database or the clock: the repository hands in a case's state,
the borrower's attempt dates and the rules, and stores what comes back. That keeps the
compliance logic testable with plain values and the same for SQLite and PostgreSQL.

Attempt dates are local dates in the plan's time zone. "7 days" is the plan date and
the six days before it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from optimizer.clock import format_hhmm
from optimizer.domain import WEEKDAYS, TimeWindow
from optimizer.settings import ComplianceSettings

WEEK_DAYS = 7


class Status(StrEnum):
    """Where a case stands. Done, closed and cancelled are final."""

    PENDING = "pending"
    PLANNED = "planned"
    DONE = "done"
    FAILED = "failed"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return self in (Status.DONE, Status.CLOSED, Status.CANCELLED)


class Kind(StrEnum):
    """What the field reports about a visit."""

    DONE = "done"
    NOT_HOME = "not_home"
    REFUSED = "refused"
    PROMISE_TO_PAY = "promise_to_pay"
    WRONG_ADDRESS = "wrong_address"
    RESCHEDULE = "reschedule"
    CANCELLED = "cancelled"
    #: The borrower paid (reported by the office): a promise's follow-up is not needed.
    PAID = "paid"
    #: The agent is at the door (from their link): news for the dispatcher, no change.
    ARRIVED = "arrived"
    #: The borrower confirmed the arrival window from their link (kept by later plans).
    CONFIRMED = "confirmed"

    @property
    def attempt(self) -> bool:
        """Someone stood at the borrower's door: it counts against the contact limits."""
        return self in _AT_THE_DOOR

    @property
    def news(self) -> bool:
        """News about the visit that changes none of the case's state."""
        return self in (Kind.ARRIVED, Kind.CONFIRMED)


_AT_THE_DOOR = frozenset(
    {Kind.DONE, Kind.NOT_HOME, Kind.REFUSED, Kind.PROMISE_TO_PAY, Kind.WRONG_ADDRESS}
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """One reported outcome; ``at`` is aware (the file's offset or the plan's zone)."""

    visit_id: str
    kind: Kind
    at: dt.datetime
    note: str = ""
    promise_date: dt.date | None = None
    new_window: TimeWindow | None = None
    new_date: dt.date | None = None
    source_row: int | None = None


@dataclass(frozen=True, slots=True)
class CaseState:
    """The part of a case the rules read and write."""

    status: Status
    window: TimeWindow | None = None
    due_date: dt.date | None = None
    earliest_date: dt.date | None = None
    attempts: int = 0
    last_attempt_at: dt.datetime | None = None
    last_outcome: Kind | None = None
    not_before: dt.date | None = None
    planned_date: dt.date | None = None
    reason: str = ""
    attention: str = ""
    closed: bool = False


def next_allowed(attempt_dates: Collection[dt.date], rules: ComplianceSettings) -> dt.date | None:
    """The first date on which the contact limits allow another attempt (None: any date).

    Cooldown: ``cooldown_days`` after the last attempt. Frequency: a day whose 7-day
    span (it and the six before) already holds ``max_attempts_per_7_days`` attempts is
    refused, so the next allowed day is the first whose span has room.
    """
    if not attempt_dates:
        return None
    last = max(attempt_dates)
    day = last + dt.timedelta(days=rules.cooldown_days)
    while attempts_in_week(attempt_dates, day) >= rules.max_attempts_per_7_days:
        day += dt.timedelta(days=1)
    return day


def attempts_in_week(attempt_dates: Collection[dt.date], day: dt.date) -> int:
    """Attempts on ``day`` and the six days before it."""
    first = day - dt.timedelta(days=WEEK_DAYS - 1)
    return sum(first <= d <= day for d in attempt_dates)


def apply_outcome(
    state: CaseState,
    outcome: Outcome,
    local_date: dt.date,
    attempt_dates: Sequence[dt.date],
    rules: ComplianceSettings,
) -> CaseState:
    """The case after ``outcome``, which happened on ``local_date``.

    ``attempt_dates`` are the borrower's attempts so far, this one included when it is an
    attempt. Raises ValueError (for the importer to wrap with row and column) when the
    case is final: a closed case is not reopened by a late report.
    """
    if state.status.final:
        msg = f"is already {state.status.value}; a final case takes no further outcome"
        raise ValueError(msg)
    kind = outcome.kind
    if kind.news:
        return state
    new = replace(state, last_outcome=kind, planned_date=None, reason="")
    if kind.attempt:
        new = replace(new, attempts=state.attempts + 1, last_attempt_at=outcome.at)
    allowed = next_allowed(attempt_dates, rules) if kind.attempt else None
    day = local_date.isoformat()
    if kind is Kind.DONE:
        return replace(new, status=Status.DONE, closed=True, attention="")
    if kind is Kind.CANCELLED:
        return replace(new, status=Status.CANCELLED, closed=True)
    if kind is Kind.PAID:
        return replace(new, status=Status.CLOSED, closed=True, reason=f"paid (reported {day})")
    if kind is Kind.REFUSED:
        return replace(
            new,
            status=Status.CLOSED,
            closed=True,
            attention=f"refused on {day}: closed; the dispatcher decides what follows",
        )
    if kind is Kind.WRONG_ADDRESS:
        return replace(
            new,
            status=Status.FAILED,
            reason=f"address reported wrong on {day}: out of planning until it is corrected "
            "(import the visit again with the right address or lat/lon)",
        )
    if kind is Kind.NOT_HOME:
        new = replace(new, status=Status.PENDING, not_before=allowed)
        return _limit_flag(new, attempt_dates, allowed, local_date, rules)
    if kind is Kind.PROMISE_TO_PAY:
        if outcome.promise_date is None:
            msg = "promise_to_pay needs a promise_date"
            raise ValueError(msg)
        follow_up = outcome.promise_date + dt.timedelta(days=1)
        start = max(follow_up, allowed) if allowed is not None else follow_up
        new = replace(
            new,
            status=Status.PENDING,
            earliest_date=follow_up,
            due_date=follow_up,
            not_before=start,
            reason=f"follow-up of a promise to pay by {outcome.promise_date.isoformat()}",
        )
        return _limit_flag(new, attempt_dates, allowed, local_date, rules)
    # reschedule: news by phone or at the door, not an attempt in itself
    if outcome.new_window is None and outcome.new_date is None:
        msg = "reschedule needs new_window_start/new_window_end or new_date"
        raise ValueError(msg)
    asked = f"rescheduled on {day}" + (f": {outcome.note}" if outcome.note else "")
    new = replace(new, status=Status.PENDING, reason=asked)
    if outcome.new_window is not None:
        new = replace(new, window=outcome.new_window)
    if outcome.new_date is not None:
        new = replace(
            new, earliest_date=outcome.new_date, due_date=outcome.new_date, not_before=None
        )
    return new


def _limit_flag(
    state: CaseState,
    attempt_dates: Sequence[dt.date],
    allowed: dt.date | None,
    local_date: dt.date,
    rules: ComplianceSettings,
) -> CaseState:
    """The dispatcher hears of a borrower who reached the attempts limit."""
    limit = rules.max_attempts_per_7_days
    if attempts_in_week(attempt_dates, local_date) < limit:
        return state
    after = f"; no attempt before {allowed.isoformat()}" if allowed else ""
    return replace(
        state,
        attention=f"reached {limit} attempts in 7 days on {local_date.isoformat()} "
        f"(limit {limit}){after}",
    )


# --- who may be planned on a date ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ready:
    """The case may be planned on the date, inside ``window`` (clipped to contact hours)."""

    window: TimeWindow
    overdue: bool = False


@dataclass(frozen=True, slots=True)
class Held:
    """The case is not planned on the date, and why."""

    reason: str


def readiness(
    state: CaseState,
    date: dt.date,
    attempt_dates: Collection[dt.date],
    rules: ComplianceSettings,
    *,
    preferred_days: frozenset[int] = frozenset(),
) -> Ready | Held:
    """Whether a case may be visited on ``date`` under the book's rules.

    ``preferred_days`` are weekdays (0 = Monday); on another day the case waits for one,
    unless its due date would pass first. A holiday is refused before this is asked.
    """
    if state.status is Status.PLANNED and state.planned_date != date:
        when = state.planned_date.isoformat() if state.planned_date else "another day"
        if state.planned_date is not None and state.planned_date < date:
            return Held(f"planned for {when} and no outcome recorded yet (book outcomes)")
        return Held(f"planned for {when}")
    if state.status not in (Status.PENDING, Status.PLANNED):
        return Held(state.reason or f"status {state.status.value}")
    if state.earliest_date is not None and date < state.earliest_date:
        return Held(f"not before its earliest date {state.earliest_date.isoformat()}")
    if state.not_before is not None and date < state.not_before:
        return Held(f"next attempt allowed from {state.not_before.isoformat()}")
    allowed = next_allowed(attempt_dates, rules)
    if allowed is not None and date < allowed:
        last = max(attempt_dates)
        if date < last + dt.timedelta(days=rules.cooldown_days):
            return Held(
                f"cooldown: last attempt on {last.isoformat()}, next from {allowed.isoformat()}"
            )
        return Held(
            f"{rules.max_attempts_per_7_days} attempts in the 7 days to {date.isoformat()} "
            f"(limit); next from {allowed.isoformat()}"
        )
    window = contact_window(state.window, rules)
    if window is None:
        w = state.window
        assert w is not None  # an open window always meets the contact hours
        return Held(
            f"appointment window {format_hhmm(w.start_s)}-{format_hhmm(w.end_s)} is outside "
            f"the contact hours {contact_text(rules)}"
        )
    overdue = state.due_date is not None and state.due_date < date
    if (
        preferred_days
        and date.weekday() not in preferred_days
        and not overdue
        and _preferred_day_before_due(date, state.due_date, preferred_days, rules)
    ):
        return Held(f"waits for a preferred day ({format_weekdays(preferred_days)})")
    return Ready(window, overdue=overdue)


def _preferred_day_before_due(
    date: dt.date,
    due: dt.date | None,
    preferred: frozenset[int],
    rules: ComplianceSettings,
) -> bool:
    """A later preferred working day comes before the due date (always, without one)."""
    if due is None:
        return True
    day = date + dt.timedelta(days=1)
    while day <= due:
        if day.weekday() in preferred and day not in rules.holiday_dates:
            return True
        day += dt.timedelta(days=1)
    return False


def contact_window(window: TimeWindow | None, rules: ComplianceSettings) -> TimeWindow | None:
    """The visit's window inside the contact hours (None when they do not meet)."""
    lo, hi = rules.contact_hours_s
    if window is None:
        return TimeWindow(lo, hi)
    start, end = max(window.start_s, lo), min(window.end_s, hi)
    return TimeWindow(start, end) if start <= end else None


def format_weekdays(days: Collection[int]) -> str:
    return ";".join(WEEKDAYS[d] for d in sorted(days))


def contact_text(rules: ComplianceSettings) -> str:
    start, end = rules.contact_hours_s
    return f"{format_hhmm(start)}-{format_hhmm(end)}"
