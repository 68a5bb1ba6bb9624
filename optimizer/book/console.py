"""What the console reads from the book and writes to it beyond the CLI's flows.

- :func:`latest_plan`: the newest published plan of a date, with its locked visits.
- :func:`store_edit`: a plan changed by hand (a move, a booking, a re-optimisation
  around locks) stored as the date's next version, in one transaction, refused when
  another version was stored since the one edited.
- :func:`visit_details` and :func:`call_list`: a borrower's personal details, each read
  written to the audit log with the console user's name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update

from optimizer.book.db import Book
from optimizer.book.models import AgentRow, CaseRow, PlanRow, PlanVisitRow
from optimizer.book.repository import (
    Actor,
    _chunks,
    _table,
    agent_from_row,
    audit,
    visit_from_row,
)
from optimizer.book.rules import Status
from optimizer.domain import Agent, Visit
from optimizer.plan import Plan


class PlanMoved(Exception):  # noqa: N818 - a signal to the caller: reload and edit again
    """Another version of the date's plan was stored since the one being edited."""


@dataclass(frozen=True, slots=True)
class StoredDay:
    """The newest published plan of a date as stored (plan.json shape)."""

    plan_id: int
    version: int
    document: Mapping[str, Any]
    locked: frozenset[str]
    created_by: str
    command: str


def latest_plan(book: Book, date: dt.date) -> StoredDay | None:
    with book.read() as session:
        row = session.scalars(
            select(PlanRow)
            .where(PlanRow.plan_date == date, PlanRow.published_at.is_not(None))
            .order_by(PlanRow.version.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        locked = session.scalars(
            select(CaseRow.visit_id)
            .join(PlanVisitRow, PlanVisitRow.case_id == CaseRow.id)
            .where(PlanVisitRow.plan_id == row.id, PlanVisitRow.locked)
        )
        return StoredDay(
            row.id, row.version, row.document, frozenset(locked), row.created_by, row.command
        )


def plan_versions(book: Book, date: dt.date) -> list[tuple[int, Mapping[str, Any]]]:
    """Every stored version of the date's plan, oldest first: (version, document)."""
    with book.read() as session:
        return [
            (v, doc)
            for v, doc in session.execute(
                select(PlanRow.version, PlanRow.document)
                .where(PlanRow.plan_date == date)
                .order_by(PlanRow.version)
            )
        ]


def store_edit(
    book: Book,
    date: dt.date,
    base_version: int,
    plan: Plan,
    document: Mapping[str, Any],
    settings: Mapping[str, Any],
    locked: Collection[str],
    actor: Actor,
    detail: str,
    *,
    now: dt.datetime,
) -> int:
    """Store the edited ``plan`` as the next version of ``date``; returns that version.

    Routed cases become planned for the date, cases left out go back to pending with
    the plan's reason; ``locked`` visits keep their place in later re-optimisations.

    Raises
    ------
    PlanMoved
        The newest version is no longer ``base_version``.
    """
    visit_ids = sorted(
        {s.visit_id for r in plan.routes for s in r.stops} | {u.visit_id for u in plan.unassigned}
    )
    with book.write() as session:
        newest = session.scalar(select(func.max(PlanRow.version)).where(PlanRow.plan_date == date))
        if newest != base_version:
            raise PlanMoved
        ids: dict[str, int] = {}
        for chunk in _chunks(visit_ids):
            rows = session.execute(
                select(CaseRow.visit_id, CaseRow.id)
                .where(CaseRow.visit_id.in_(chunk))
                .with_for_update()
            )
            for visit_id, case_id in rows:
                ids[visit_id] = case_id
        plan_id = session.execute(
            insert(PlanRow)
            .values(
                plan_date=date,
                version=base_version + 1,
                created_at=now,
                created_by=actor.who,
                command=actor.command,
                published_at=now,
                settings=dict(settings),
                solver=dict(document.get("solver", {})),
                document=dict(document),
            )
            .returning(PlanRow.id)
        ).scalar_one()
        members: list[dict[str, Any]] = []
        for route in plan.routes:
            for stop in route.stops:
                members.append(
                    {
                        "plan_id": plan_id,
                        "case_id": ids[stop.visit_id],
                        "agent_id": route.agent_id,
                        "seq": stop.seq,
                        "start_s": stop.start_s,
                        "end_s": stop.end_s,
                        "reason": "",
                        "overdue": False,
                        "locked": stop.visit_id in locked,
                    }
                )
                session.execute(
                    update(CaseRow)
                    .where(CaseRow.id == ids[stop.visit_id])
                    .values(
                        status=Status.PLANNED.value,
                        planned_date=date,
                        plan_id=plan_id,
                        reason="",
                        updated_at=now,
                        version=CaseRow.version + 1,
                    )
                )
        for item in plan.unassigned:
            members.append(
                {
                    "plan_id": plan_id,
                    "case_id": ids[item.visit_id],
                    "agent_id": None,
                    "seq": None,
                    "start_s": None,
                    "end_s": None,
                    "reason": item.reason,
                    "overdue": False,
                    "locked": False,
                }
            )
            session.execute(
                update(CaseRow)
                .where(CaseRow.id == ids[item.visit_id], CaseRow.status == Status.PLANNED.value)
                .values(
                    status=Status.PENDING.value,
                    planned_date=None,
                    plan_id=None,
                    reason=f"not fitted on {date.isoformat()}: {item.reason}",
                    updated_at=now,
                    version=CaseRow.version + 1,
                )
            )
        for part in _chunks(members, 5000):
            session.execute(insert(_table(PlanVisitRow)), list(part))
        audit(session, actor, "edit", ids.values(), detail, now)
    return base_version + 1


# --- personal details, audited --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VisitDetails:
    """A borrower's case as the dispatcher may see it."""

    visit_id: str
    name: str
    phone: str
    address: str
    notes: str
    documents: str
    status: str
    attempts: int
    last_outcome: str
    reason: str
    attention: str


def _details(row: CaseRow) -> VisitDetails:
    return VisitDetails(
        row.visit_id,
        row.name,
        row.phone,
        row.address,
        row.notes,
        row.documents,
        row.status,
        row.attempts,
        row.last_outcome or "",
        row.reason,
        row.attention,
    )


def visit_details(
    book: Book, visit_ids: Sequence[str], actor: Actor, detail: str, *, now: dt.datetime
) -> dict[str, VisitDetails]:
    """The cases of ``visit_ids`` that exist; the read is audited (one event)."""
    out: dict[str, VisitDetails] = {}
    with book.write() as session:
        case_ids: list[int] = []
        for chunk in _chunks(sorted(set(visit_ids))):
            for row in session.scalars(select(CaseRow).where(CaseRow.visit_id.in_(chunk))):
                out[row.visit_id] = _details(row)
                case_ids.append(row.id)
        if case_ids:
            audit(session, actor, "view", case_ids, detail, now)
    return out


@dataclass(frozen=True, slots=True)
class AgentContact:
    agent_id: str
    name: str
    phone: str


def agent_contacts(book: Book) -> dict[str, AgentContact]:
    """Names and phones of the roster (agents are staff: not audited)."""
    with book.read() as session:
        return {
            r.agent_id: AgentContact(r.agent_id, r.name, r.phone)
            for r in session.scalars(select(AgentRow))
        }


def visits_by_id(book: Book, visit_ids: Collection[str]) -> dict[str, Visit]:
    """The planner's Visits of these cases as the book holds them (no rules applied)."""
    out: dict[str, Visit] = {}
    with book.read() as session:
        for chunk in _chunks(sorted(set(visit_ids))):
            for row in session.scalars(select(CaseRow).where(CaseRow.visit_id.in_(chunk))):
                out[row.visit_id] = visit_from_row(row)
    return out


def agents_by_id(book: Book, agent_ids: Collection[str]) -> dict[str, Agent]:
    out: dict[str, Agent] = {}
    with book.read() as session:
        for chunk in _chunks(sorted(set(agent_ids))):
            for row in session.scalars(select(AgentRow).where(AgentRow.agent_id.in_(chunk))):
                out[row.agent_id] = agent_from_row(row)
    return out
