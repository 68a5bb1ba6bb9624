"""Reading an outcomes file: ``read_table`` opens it, :func:`parse_outcomes` is pure.

Columns: visit_id, outcome, at (ISO date-time; without an offset it is in the plan's
time zone), note, promise_date, new_window_start, new_window_end, new_date. Every
problem is collected with its spreadsheet row and column and raised once, as for
visits files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import pandas as pd

from optimizer.book.rules import Kind, Outcome
from optimizer.clock import format_hhmm, parse_date, parse_hhmm
from optimizer.domain import TimeWindow
from optimizer.errors import InputError, Issue

T = TypeVar("T")
REQUIRED = ("visit_id", "outcome", "at")
COLUMNS = (*REQUIRED, "note", "promise_date", "new_window_start", "new_window_end", "new_date")


@dataclass(slots=True)
class _Row:
    """One row's cells; each bad cell adds an Issue."""

    source: str
    row: int
    cells: dict[str, str]
    issues: list[Issue] = field(default_factory=list)

    def text(self, column: str) -> str:
        return self.cells.get(column, "")

    def problem(self, column: str, problem: str) -> None:
        self.issues.append(Issue(self.source, self.row, column, self.text(column), problem))

    def parsed(self, column: str, parser: Callable[[str], T]) -> T | None:
        if not self.text(column):
            return None
        try:
            return parser(self.text(column))
        except ValueError as err:
            self.problem(column, str(err))
            return None


def parse_outcomes(frame: pd.DataFrame, source: str, tz: dt.tzinfo) -> tuple[Outcome, ...]:
    """DataFrame of strings (index = spreadsheet rows) -> outcomes, or one InputError."""
    found = list(frame.columns)
    issues = [
        Issue(source, 1, c, None, f"missing column '{c}'; found: {', '.join(found) or '(none)'}")
        for c in REQUIRED
        if c not in found
    ]
    if issues:
        raise InputError(issues)
    out: list[Outcome] = []
    for row, record in zip(frame.index, frame.to_dict("records"), strict=True):
        cells = {str(k): str(v).strip() for k, v in record.items()}
        if not any(cells.values()):
            continue
        r = _Row(source, int(row), cells)
        outcome = _outcome(r, tz)
        issues += r.issues
        if outcome is not None:
            out.append(outcome)
    if issues:
        raise InputError(issues)
    return tuple(out)


def _outcome(r: _Row, tz: dt.tzinfo) -> Outcome | None:
    visit_id = r.text("visit_id")
    if not visit_id:
        r.problem("visit_id", "is empty; expected the visit's id")
    kind = r.parsed("outcome", _kind)
    if kind is None and not r.text("outcome"):
        r.problem("outcome", f"is empty; expected one of: {', '.join(k.value for k in Kind)}")
    at = r.parsed("at", lambda t: _moment(t, tz))
    if at is None and not r.text("at"):
        r.problem("at", "is empty; expected when it happened, e.g. 2026-12-01T10:30")
    promise = r.parsed("promise_date", parse_date)
    new_date = r.parsed("new_date", parse_date)
    window = _window(r)
    if kind is Kind.PROMISE_TO_PAY and not r.text("promise_date"):
        r.problem("promise_date", "is empty; promise_to_pay needs the promised date (YYYY-MM-DD)")
    if promise is not None and at is not None and promise < at.astimezone(tz).date():
        r.problem("promise_date", "is before the outcome itself; expected the day payment is due")
    rescheduled = ("new_window_start", "new_window_end", "new_date")
    if kind is Kind.RESCHEDULE and not any(r.text(c) for c in rescheduled):
        r.problem(
            "new_date",
            "is empty and so is the new window; reschedule needs new_date or "
            "new_window_start/new_window_end",
        )
    if r.issues or kind is None or at is None:
        return None
    return Outcome(
        visit_id=visit_id,
        kind=kind,
        at=at,
        note=r.text("note"),
        promise_date=promise,
        new_window=window,
        new_date=new_date,
        source_row=r.row,
    )


def _kind(text: str) -> Kind:
    try:
        return Kind(text.casefold())
    except ValueError:
        msg = f"is not an outcome; expected one of: {', '.join(k.value for k in Kind)}"
        raise ValueError(msg) from None


def _moment(text: str, tz: dt.tzinfo) -> dt.datetime:
    """ISO 8601 date-time; without an offset it is a local time of the plan's zone."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        msg = "is not a date-time; expected ISO 8601, e.g. 2026-12-01T10:30 (+08:00 optional)"
        raise ValueError(msg) from None
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def _window(r: _Row) -> TimeWindow | None:
    start_col, end_col = "new_window_start", "new_window_end"
    if not r.text(start_col) and not r.text(end_col):
        return None
    if not r.text(start_col) or not r.text(end_col):
        missing = start_col if not r.text(start_col) else end_col
        r.problem(missing, "is empty while the other end is given; expected both or neither")
        return None
    start, end = r.parsed(start_col, parse_hhmm), r.parsed(end_col, parse_hhmm)
    if start is None or end is None:
        return None
    if end < start:
        r.problem(
            end_col,
            f"ends ({format_hhmm(end)}) before it starts ({format_hhmm(start)}); "
            f"expected {end_col} >= {start_col}",
        )
        return None
    return TimeWindow(start, end)
