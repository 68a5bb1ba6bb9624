"""What happened during the day (``events.csv``): ``read_events`` opens, ``parse_events`` is pure.

One row an event. Bad rows are rejected like any input: every problem is collected as
an Issue naming the file, spreadsheet row and column, then raised once.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pandas as pd

from optimizer import clock as timeparse
from optimizer.domain import GeoPoint, Visit
from optimizer.errors import InputError, Issue
from optimizer.inputs.load import _RowReader, _rows, parse_visits, read_table


class EventKind(StrEnum):
    DONE = "done"
    STARTED = "started"
    CANCELLED = "cancelled"
    FAILED = "failed"
    NEW = "new"
    AGENT_OFF = "agent_off"
    AGENT_AT = "agent_at"


#: Kinds that concern a visit (``visit_id`` required) and those about an agent.
VISIT_KINDS = frozenset({EventKind.DONE, EventKind.STARTED, EventKind.CANCELLED, EventKind.FAILED})
AGENT_KINDS = frozenset({EventKind.AGENT_OFF, EventKind.AGENT_AT})

REQUIRED_COLUMNS = ("kind", "at")


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened at ``at_s`` (seconds since midnight of the plan date).

    ``visit`` is set for ``new``; ``position`` for ``agent_at``; ``reason`` is free text
    (e.g. "not home" for ``failed``).
    """

    kind: EventKind
    at_s: int
    visit_id: str | None = None
    agent_id: str | None = None
    visit: Visit | None = None
    position: GeoPoint | None = None
    reason: str = ""
    source_row: int | None = None


def read_events(
    path: Path, *, visit_ids: Collection[str], agent_ids: Collection[str]
) -> tuple[Event, ...]:
    """Read and check ``events.csv`` against the plan's visits and agents."""
    return parse_events(read_table(path), path.name, visit_ids=visit_ids, agent_ids=agent_ids)


def _kind(text: str) -> EventKind:
    try:
        return EventKind(text.lower())
    except ValueError:
        msg = f"is not an event kind; expected one of: {', '.join(k.value for k in EventKind)}"
        raise ValueError(msg) from None


def parse_events(
    frame: pd.DataFrame,
    source: str,
    *,
    visit_ids: Collection[str],
    agent_ids: Collection[str],
) -> tuple[Event, ...]:
    """DataFrame of strings -> events in file order, or one InputError listing every problem.

    ``new`` rows are parsed by the visits loader itself (same columns, same checks);
    their ids must not clash with the plan's visits.
    """
    found = list(frame.columns)
    issues = [
        Issue(source, 1, c, None, f"missing column '{c}'; found: {', '.join(found) or '(none)'}")
        for c in REQUIRED_COLUMNS
        if c not in found
    ]
    if issues:
        raise InputError(issues)
    events: list[Event] = []
    new_rows: list[int] = []
    seen_new: dict[str, int] = {}
    for row, cells in _rows(frame):
        r = _RowReader(source, row, cells, issues)
        before = len(issues)
        kind = r.parsed("kind", _kind, None)
        if kind is None and not r.text("kind"):
            r.problem("kind", "is empty; expected an event kind")
        at_s = r.parsed("at", timeparse.parse_hhmm, None)
        if at_s is None and not r.text("at"):
            r.problem("at", "is empty; expected HH:MM when it happened")
        visit_id, agent_id = r.text("visit_id") or None, r.text("agent_id") or None
        position = None
        if kind in VISIT_KINDS or kind is EventKind.NEW:
            if visit_id is None:
                r.problem("visit_id", f"is empty; a '{kind}' event needs the visit it concerns")
            elif kind is EventKind.NEW:
                if visit_id in visit_ids:
                    r.problem("visit_id", "is already a visit in the plan; expected a new id")
                elif visit_id in seen_new:
                    r.problem(
                        "visit_id",
                        f"is a duplicate new visit (first seen on row {seen_new[visit_id]})",
                    )
                else:
                    seen_new[visit_id] = row
            elif visit_id not in visit_ids and visit_id not in seen_new:
                r.problem("visit_id", "is not a visit in the plan or a new visit above")
        if kind in AGENT_KINDS:
            if agent_id is None:
                r.problem("agent_id", f"is empty; a '{kind}' event needs the agent")
            elif agent_id not in agent_ids:
                r.problem(
                    "agent_id",
                    f"is not an agent in the plan; expected one of: {', '.join(sorted(agent_ids))}",
                )
        if kind is EventKind.AGENT_AT:
            position = r.point("lat", "lon")
            if position is None and not (r.text("lat") or r.text("lon")):
                r.problem("lat", "is empty; an 'agent_at' event needs lat and lon")
        if len(issues) > before or kind is None or at_s is None:
            continue
        if kind is EventKind.NEW:
            new_rows.append(row)
        events.append(
            Event(
                kind=kind,
                at_s=at_s,
                visit_id=visit_id,
                agent_id=agent_id if kind in AGENT_KINDS else None,
                position=position,
                reason=r.text("reason"),
                source_row=row,
            )
        )
    new_visits: dict[str, Visit] = {}
    if new_rows:
        # Same columns and checks as visits.csv; the frame keeps spreadsheet row numbers.
        visit_frame = frame.loc[new_rows].drop(
            columns=[c for c in ("kind", "at", "reason") if c in frame.columns]
        )
        try:
            new_visits = {v.visit_id: v for v in parse_visits(visit_frame, source)}
        except InputError as err:
            issues += err.issues
    if issues:
        raise InputError(issues)
    return tuple(
        Event(
            e.kind,
            e.at_s,
            e.visit_id,
            e.agent_id,
            new_visits[e.visit_id],
            None,
            e.reason,
            e.source_row,
        )
        if e.kind is EventKind.NEW and e.visit_id is not None
        else e
        for e in events
    )
