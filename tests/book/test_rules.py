"""The outcome and contact rules as pure values (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from optimizer.book.rules import (
    CaseState,
    Held,
    Kind,
    Outcome,
    Ready,
    Status,
    apply_outcome,
    next_allowed,
    readiness,
)
from optimizer.domain import TimeWindow
from optimizer.settings import ComplianceSettings

RULES = ComplianceSettings()
D = dt.date(2026, 12, 1)  # a Tuesday
AT = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
PENDING = CaseState(Status.PENDING)


def days(*offsets: int) -> list[dt.date]:
    return [D + dt.timedelta(days=k) for k in offsets]


def test_cooldown_and_weekly_limit() -> None:
    assert next_allowed([], RULES) is None
    assert next_allowed(days(0), RULES) == D + dt.timedelta(days=1)
    assert next_allowed(days(0), ComplianceSettings(cooldown_days=3)) == D + dt.timedelta(days=3)
    # three attempts on days 0, 1, 2: the next day with room in its 7 days is day 7
    assert next_allowed(days(0, 1, 2), RULES) == D + dt.timedelta(days=7)


def test_not_home_waits_for_the_cooldown_and_flags_the_limit() -> None:
    state = apply_outcome(PENDING, Outcome("V", Kind.NOT_HOME, AT), D, days(0), RULES)
    assert state.status is Status.PENDING
    assert state.not_before == D + dt.timedelta(days=1)
    assert state.attempts == 1
    assert not state.attention
    third = apply_outcome(PENDING, Outcome("V", Kind.NOT_HOME, AT), D, days(-2, -1, 0), RULES)
    assert "reached 3 attempts in 7 days" in third.attention
    assert third.not_before == D + dt.timedelta(days=5)


@pytest.mark.parametrize(
    ("kind", "status", "closed"),
    [
        (Kind.DONE, Status.DONE, True),
        (Kind.REFUSED, Status.CLOSED, True),
        (Kind.CANCELLED, Status.CANCELLED, True),
        (Kind.PAID, Status.CLOSED, True),
        (Kind.WRONG_ADDRESS, Status.FAILED, False),
    ],
)
def test_final_and_held_outcomes(kind: Kind, status: Status, closed: bool) -> None:
    state = apply_outcome(PENDING, Outcome("V", kind, AT), D, days(0), RULES)
    assert (state.status, state.closed) == (status, closed)
    if kind is Kind.REFUSED:
        assert state.attention.startswith("refused on 2026-12-01")
    if closed:  # a late report never reopens a final case
        with pytest.raises(ValueError, match="final case"):
            apply_outcome(state, Outcome("V", Kind.NOT_HOME, AT), D, days(0), RULES)


def test_promise_makes_a_follow_up_due_the_day_after() -> None:
    promise = D + dt.timedelta(days=3)
    state = apply_outcome(
        PENDING, Outcome("V", Kind.PROMISE_TO_PAY, AT, promise_date=promise), D, days(0), RULES
    )
    follow = promise + dt.timedelta(days=1)
    assert (state.status, state.earliest_date, state.due_date, state.not_before) == (
        Status.PENDING,
        follow,
        follow,
        follow,
    )


def test_reschedule_sets_the_new_window_and_date_without_an_attempt() -> None:
    new = Outcome(
        "V",
        Kind.RESCHEDULE,
        AT,
        new_window=TimeWindow(14 * 3600, 15 * 3600),
        new_date=D + dt.timedelta(days=2),
    )
    state = apply_outcome(PENDING, new, D, [], RULES)
    assert state.window == TimeWindow(14 * 3600, 15 * 3600)
    assert state.earliest_date == state.due_date == D + dt.timedelta(days=2)
    assert state.attempts == 0


def test_readiness() -> None:
    assert readiness(PENDING, D, [], RULES) == Ready(TimeWindow(8 * 3600, 20 * 3600))
    early = CaseState(Status.PENDING, window=TimeWindow(6 * 3600, 7 * 3600))
    assert isinstance(readiness(early, D, [], RULES), Held)
    clipped = readiness(
        CaseState(Status.PENDING, window=TimeWindow(7 * 3600, 9 * 3600)), D, [], RULES
    )
    assert clipped == Ready(TimeWindow(8 * 3600, 9 * 3600))
    assert readiness(PENDING, D, days(-1, -2, -3), RULES) == Held(
        "3 attempts in the 7 days to 2026-12-01 (limit); next from 2026-12-05"
    )
    assert readiness(PENDING, D, days(0), RULES) == Held(
        "cooldown: last attempt on 2026-12-01, next from 2026-12-02"
    )
    overdue = readiness(CaseState(Status.PENDING, due_date=D - dt.timedelta(days=1)), D, [], RULES)
    assert isinstance(overdue, Ready) and overdue.overdue
    thursday = frozenset({3})
    assert readiness(PENDING, D, [], RULES, preferred_days=thursday) == Held(
        "waits for a preferred day (thu)"
    )
    due_today = CaseState(Status.PENDING, due_date=D)
    assert isinstance(readiness(due_today, D, [], RULES, preferred_days=thursday), Ready)
    planned_before = CaseState(Status.PLANNED, planned_date=D - dt.timedelta(days=1))
    assert "no outcome recorded yet" in readiness(planned_before, D, [], RULES).reason  # type: ignore[union-attr]
