"""Reading and changing the book: each public function is one transaction.

A function either commits everything it set out to do or, on any error, nothing: an
import, an outcome batch or a plan that fails halfway leaves the book exactly as it
was. Writers lock what they change (``BEGIN IMMEDIATE`` on SQLite, ``FOR UPDATE`` on
PostgreSQL), so two writers at once queue instead of overwriting each other; a plan,
which is solved outside any transaction, checks when it stores itself that the cases
and agents it read are unchanged (:class:`BookChanged` otherwise, and it is planned
again).

Every read or change of a case's personal data is written to the audit log in the same
transaction, naming the actor, the command and the cases, never the data.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from optimizer.book.db import Book
from optimizer.book.models import (
    AgentRow,
    AuditEvent,
    AuditVisitRow,
    CaseRow,
    OutcomeRow,
    PlanRow,
    PlanVisitRow,
)
from optimizer.book.rules import (
    CaseState,
    Held,
    Kind,
    Outcome,
    Ready,
    Status,
    apply_outcome,
    format_weekdays,
    readiness,
)
from optimizer.clock import parse_dayset, parse_weekdays
from optimizer.domain import Agent, BreakRule, GeoPoint, Mode, TimeWindow, Visit
from optimizer.errors import InputError, Issue
from optimizer.plan import Plan
from optimizer.settings import ComplianceSettings

#: Rows per IN (...) query: well under SQLite's and psycopg's parameter limits.
CHUNK = 2000
#: The visit columns an import compares to decide "updated" or "unchanged".
_LOCATION_FIELDS = ("address", "lat", "lon")


class BookChanged(Exception):  # noqa: N818 - a signal between two functions, not an error
    """Cases or agents a plan was made from changed before it could be stored."""


def _chunks[T](items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _table(model: Any) -> Table:
    """The Core table of a model: plain executemany, one statement per batch.

    ORM bulk inserts split a batch by which columns are None, one statement per
    split; many-row imports go through Core to keep one statement per batch.
    """
    return cast("Table", model.__table__)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- domain <-> rows ----------------------------------------------------------------------


def visit_values(visit: Visit) -> dict[str, Any]:
    """A visit's columns as the book stores them (the book's own fields excluded)."""
    extra = dict(visit.extra)
    window = visit.window
    return {
        "visit_id": visit.visit_id,
        "borrower_id": extra.get("borrower_id", "").strip() or visit.visit_id,
        "name": visit.name,
        "phone": visit.phone,
        "address": visit.address,
        "notes": extra.get("notes", ""),
        "lat": visit.location.lat if visit.location else None,
        "lon": visit.location.lon if visit.location else None,
        "extra": extra,
        "window_start_s": window.start_s if window else None,
        "window_end_s": window.end_s if window else None,
        "duration_s": visit.duration_s,
        "visit_type": visit.visit_type,
        "skills": ";".join(sorted(visit.skills)),
        "priority": visit.priority,
        "documents": ";".join(visit.documents),
        "pinned_agent": visit.pinned_agent,
        "demand": visit.demand,
        "due_date": visit.due_date,
        "earliest_date": visit.earliest_date,
        "preferred_days": format_weekdays(visit.preferred_days),
    }


def visit_from_row(row: CaseRow) -> Visit:
    """The case as the planner's Visit: the same value the visits file would give."""
    location = GeoPoint(row.lat, row.lon) if row.lat is not None and row.lon is not None else None
    window = (
        TimeWindow(row.window_start_s, row.window_end_s)
        if row.window_start_s is not None and row.window_end_s is not None
        else None
    )
    return Visit(
        visit_id=row.visit_id,
        location=location,
        duration_s=row.duration_s,
        window=window,
        priority=row.priority,
        skills=frozenset(s for s in row.skills.split(";") if s),
        pinned_agent=row.pinned_agent,
        demand=row.demand,
        address=row.address,
        name=row.name,
        phone=row.phone,
        visit_type=row.visit_type,
        documents=tuple(d for d in row.documents.split(";") if d),
        due_date=row.due_date,
        earliest_date=row.earliest_date,
        preferred_days=parse_weekdays(row.preferred_days),
        extra=tuple((str(k), str(v)) for k, v in (row.extra or {}).items()),
    )


def agent_values(agent: Agent) -> dict[str, Any]:
    rule = agent.break_rule
    return {
        "agent_id": agent.agent_id,
        "name": agent.name,
        "phone": agent.phone,
        "start_lat": agent.start.lat if agent.start else None,
        "start_lon": agent.start.lon if agent.start else None,
        "start_address": agent.start_address,
        "end_lat": agent.end.lat if agent.end else None,
        "end_lon": agent.end.lon if agent.end else None,
        "end_address": agent.end_address,
        "shift_start_s": agent.shift.start_s,
        "shift_end_s": agent.shift.end_s,
        "break_start_s": rule.window.start_s if rule else None,
        "break_end_s": rule.window.end_s if rule else None,
        "break_s": rule.duration_s if rule else None,
        "skills": ";".join(sorted(agent.skills)),
        "max_visits": agent.max_visits,
        "capacity": agent.capacity,
        "mode": agent.mode.value,
        "days_off": agent.days_off.as_text(),
    }


def agent_from_row(row: AgentRow) -> Agent:
    def point(lat: float | None, lon: float | None) -> GeoPoint | None:
        return GeoPoint(lat, lon) if lat is not None and lon is not None else None

    rule = None
    if row.break_start_s is not None and row.break_end_s is not None and row.break_s:
        rule = BreakRule(TimeWindow(row.break_start_s, row.break_end_s), row.break_s)
    return Agent(
        agent_id=row.agent_id,
        start=point(row.start_lat, row.start_lon),
        end=point(row.end_lat, row.end_lon),
        shift=TimeWindow(row.shift_start_s, row.shift_end_s),
        break_rule=rule,
        skills=frozenset(s for s in row.skills.split(";") if s),
        max_visits=row.max_visits,
        capacity=row.capacity,
        mode=Mode(row.mode),
        name=row.name,
        phone=row.phone,
        start_address=row.start_address,
        end_address=row.end_address,
        days_off=parse_dayset(row.days_off),
    )


def _state(row: CaseRow) -> CaseState:
    window = (
        TimeWindow(row.window_start_s, row.window_end_s)
        if row.window_start_s is not None and row.window_end_s is not None
        else None
    )
    return CaseState(
        status=Status(row.status),
        window=window,
        due_date=row.due_date,
        earliest_date=row.earliest_date,
        attempts=row.attempts,
        last_attempt_at=row.last_attempt_at,
        last_outcome=Kind(row.last_outcome) if row.last_outcome else None,
        not_before=row.not_before,
        planned_date=row.planned_date,
        reason=row.reason,
        attention=row.attention,
        closed=row.closed_at is not None,
    )


def _state_values(state: CaseState) -> dict[str, Any]:
    window = state.window
    return {
        "status": state.status.value,
        "window_start_s": window.start_s if window else None,
        "window_end_s": window.end_s if window else None,
        "due_date": state.due_date,
        "earliest_date": state.earliest_date,
        "attempts": state.attempts,
        "last_attempt_at": state.last_attempt_at,
        "last_outcome": state.last_outcome.value if state.last_outcome else None,
        "not_before": state.not_before,
        "planned_date": state.planned_date,
        "reason": state.reason,
        "attention": state.attention,
    }


# --- audit --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts and through which command; written with every audit event."""

    who: str
    command: str


def audit(
    session: Session,
    actor: Actor,
    action: str,
    case_ids: Iterable[int],
    detail: str,
    at: dt.datetime,
) -> None:
    """One audit event and the cases it touched (ids only: the log holds no personal data)."""
    event_id = session.execute(
        insert(AuditEvent)
        .values(at=at, actor=actor.who, command=actor.command, action=action, detail=detail)
        .returning(AuditEvent.id)
    ).scalar_one()
    ids = sorted(set(case_ids))
    for chunk in _chunks(ids, 5000):
        session.execute(
            insert(_table(AuditVisitRow)), [{"event_id": event_id, "case_id": c} for c in chunk]
        )


# --- import -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    #: Final cases sent again, left as they are: (visit_id, status).
    not_reopened: tuple[tuple[str, str], ...] = ()
    #: Cases in a published plan whose details changed: plan their date again.
    planned_changed: tuple[tuple[str, dt.date], ...] = ()
    #: Cases held for a wrong address that came back with a new one.
    address_corrected: tuple[str, ...] = ()
    agents_added: int = 0
    agents_updated: int = 0
    agents_unchanged: int = 0


def import_file(
    book: Book,
    visits: Sequence[Visit],
    agents: Sequence[Agent],
    actor: Actor,
    *,
    now: dt.datetime | None = None,
) -> ImportReport:
    """Upsert visits by ``visit_id`` and agents by ``agent_id``, in one transaction.

    A row equal to what the book holds changes nothing; a final case (done, closed,
    cancelled) is never reopened by being sent again, only reported.
    """
    at = now or _now()
    with book.write() as session:
        report, touched = _upsert_visits(session, visits, at)
        a_added, a_updated, a_same = _upsert_agents(session, agents, at)
        report = replace(
            report, agents_added=a_added, agents_updated=a_updated, agents_unchanged=a_same
        )
        detail = (
            f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
            f"{len(report.not_reopened)} final not reopened; agents {a_added} added, "
            f"{a_updated} updated"
        )
        audit(session, actor, "import", touched, detail, at)
    return report


def _by_key(session: Session, model: Any, key: Any, keys: Sequence[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for chunk in _chunks(keys):
        rows = session.scalars(select(model).where(key.in_(chunk)).with_for_update())
        found.update({getattr(r, key.key): r for r in rows})
    return found


def _upsert_visits(
    session: Session, visits: Sequence[Visit], at: dt.datetime
) -> tuple[ImportReport, list[int]]:
    existing: dict[str, CaseRow] = _by_key(
        session, CaseRow, CaseRow.visit_id, [v.visit_id for v in visits]
    )
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    touched: list[int] = []
    unchanged = 0
    not_reopened: list[tuple[str, str]] = []
    planned_changed: list[tuple[str, dt.date]] = []
    corrected: list[str] = []
    for visit in visits:
        values = visit_values(visit)
        row = existing.get(visit.visit_id)
        if row is None:
            inserts.append(
                {
                    **values,
                    "status": Status.PENDING.value,
                    "attempts": 0,
                    "reason": "",
                    "attention": "",
                    "created_at": at,
                    "updated_at": at,
                    "version": 1,
                }
            )
            continue
        if Status(row.status).final:
            not_reopened.append((row.visit_id, row.status))
            continue
        changed = {k: v for k, v in values.items() if getattr(row, k) != v}
        if not changed:
            unchanged += 1
            continue
        change: dict[str, Any] = {
            "id": row.id,
            **changed,
            "updated_at": at,
            "version": row.version + 1,
        }
        if row.status == Status.FAILED.value and changed.keys() & set(_LOCATION_FIELDS):
            change.update(status=Status.PENDING.value, reason="")
            corrected.append(row.visit_id)
        if row.status == Status.PLANNED.value and row.planned_date is not None:
            planned_changed.append((row.visit_id, row.planned_date))
        updates.append(change)
        touched.append(row.id)
    for chunk in _chunks(inserts, 5000):
        session.execute(insert(_table(CaseRow)), list(chunk))
    for chunk in _chunks(updates, 5000):
        session.execute(update(CaseRow), list(chunk))
    added = [row["visit_id"] for row in inserts]
    for chunk in _chunks(added):
        touched += session.scalars(select(CaseRow.id).where(CaseRow.visit_id.in_(chunk))).all()
    report = ImportReport(
        added=len(inserts),
        updated=len(updates),
        unchanged=unchanged,
        not_reopened=tuple(not_reopened),
        planned_changed=tuple(planned_changed),
        address_corrected=tuple(corrected),
    )
    return report, touched


def _upsert_agents(
    session: Session, agents: Sequence[Agent], at: dt.datetime
) -> tuple[int, int, int]:
    existing: dict[str, AgentRow] = _by_key(
        session, AgentRow, AgentRow.agent_id, [a.agent_id for a in agents]
    )
    added = updated = same = 0
    for agent in agents:
        values = agent_values(agent)
        row = existing.get(agent.agent_id)
        if row is None:
            session.execute(
                insert(AgentRow).values(
                    **values, active=True, created_at=at, updated_at=at, version=1
                )
            )
            added += 1
            continue
        changed = {k: v for k, v in values.items() if getattr(row, k) != v}
        if not row.active:
            changed["active"] = True
        if not changed:
            same += 1
            continue
        session.execute(
            update(AgentRow)
            .where(AgentRow.id == row.id)
            .values(**changed, updated_at=at, version=row.version + 1)
        )
        updated += 1
    return added, updated, same


# --- a day to plan ------------------------------------------------------------------------

#: Statuses a plan looks at: the rest are final (or the held wrong addresses, listed).
_OPEN = (Status.PENDING.value, Status.PLANNED.value, Status.FAILED.value)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the book says about one date, read in one transaction.

    ``visits`` are the cases that may be planned, as the planner's Visits (windows
    clipped to the contact hours, overdue ones raised above every other priority);
    ``held`` the open cases that may not be, each with why. ``versions`` lets the plan
    check, when it stores itself, that nothing it read changed meanwhile.
    """

    date: dt.date
    visits: tuple[Visit, ...]
    agents: tuple[Agent, ...]
    held: Mapping[str, str]
    overdue: Mapping[str, dt.date]
    agents_off: tuple[str, ...]
    case_ids: Mapping[str, int]
    versions: Mapping[int, int]
    agent_versions: Mapping[int, int]
    #: Held cases: id -> (version read, reason), to note the reason unless changed since.
    held_cases: Mapping[int, tuple[int, str]] = field(default_factory=dict)
    #: Open cases already planned (told) for a date: visit id -> that date.
    planned: Mapping[str, dt.date] = field(default_factory=dict)
    #: The borrower of each case in ``visits``.
    borrowers: Mapping[str, str] = field(default_factory=dict)


def attempt_dates(
    session: Session, borrowers: Sequence[str], since: dt.date, tz: dt.tzinfo
) -> dict[str, list[dt.date]]:
    """Each borrower's attempt dates (local) since ``since``."""
    start = dt.datetime.combine(since, dt.time(), tz)
    out: dict[str, list[dt.date]] = defaultdict(list)
    for chunk in _chunks(borrowers):
        rows = session.execute(
            select(OutcomeRow.borrower_id, OutcomeRow.at).where(
                OutcomeRow.borrower_id.in_(chunk), OutcomeRow.attempt, OutcomeRow.at >= start
            )
        )
        for borrower, at in rows:
            out[borrower].append(at.astimezone(tz).date())
    return out


def day_snapshot(
    book: Book,
    date: dt.date,
    rules: ComplianceSettings,
    tz: dt.tzinfo,
    *,
    wait_for_preferred_day: bool = True,
) -> Snapshot:
    """The cases and agents for ``date`` under the book's rules (read only).

    ``wait_for_preferred_day=False`` (a horizon, which weighs preferred days itself)
    does not hold a case back for a later preferred day.
    """
    with book.read() as session:
        rows = list(
            session.scalars(select(CaseRow).where(CaseRow.status.in_(_OPEN)).order_by(CaseRow.id))
        )
        agent_rows = list(
            session.scalars(select(AgentRow).where(AgentRow.active).order_by(AgentRow.id))
        )
        lookback = max(7, rules.cooldown_days) + 1
        dates = attempt_dates(
            session, sorted({r.borrower_id for r in rows}), date - dt.timedelta(days=lookback), tz
        )
    agents = [agent_from_row(r) for r in agent_rows]
    working = tuple(a for a in agents if a.works_on(date))
    off = tuple(a.agent_id for a in agents if not a.works_on(date))
    ready: list[tuple[CaseRow, Ready]] = []
    held: dict[str, str] = {}
    held_cases: dict[int, tuple[int, str]] = {}
    for row in rows:
        verdict = readiness(
            _state(row),
            date,
            dates.get(row.borrower_id, ()),
            rules,
            preferred_days=parse_weekdays(row.preferred_days)
            if wait_for_preferred_day
            else frozenset(),
        )
        if isinstance(verdict, Held):
            held[row.visit_id] = verdict.reason
            held_cases[row.id] = (row.version, verdict.reason)
        else:
            ready.append((row, verdict))
    ready = _one_contact_per_borrower(ready, rules, held, held_cases)
    base = sum(r.priority for r, v in ready if not v.overdue)
    visits: list[Visit] = []
    overdue: dict[str, dt.date] = {}
    working_ids = {a.agent_id for a in working}
    for row, verdict in ready:
        visit = _confirmed(
            replace(visit_from_row(row), window=verdict.window), row, date, working_ids
        )
        if verdict.overdue and row.due_date is not None:
            # planned before any number of visits that are not overdue
            visit = replace(visit, priority=visit.priority + base)
            overdue[row.visit_id] = row.due_date
        visits.append(visit)
    return Snapshot(
        date=date,
        visits=tuple(visits),
        agents=working,
        held=held,
        overdue=overdue,
        agents_off=off,
        case_ids={r.visit_id: r.id for r, _ in ready},
        versions={r.id: r.version for r, _ in ready},
        agent_versions={r.id: r.version for r in agent_rows},
        held_cases=held_cases,
        planned={
            r.visit_id: r.planned_date
            for r in rows
            if r.status == Status.PLANNED.value and r.planned_date is not None
        },
        borrowers={r.visit_id: r.borrower_id for r, _ in ready},
    )


def _confirmed(visit: Visit, row: CaseRow, date: dt.date, working: set[str]) -> Visit:
    """A window the borrower confirmed for ``date`` is the visit's window, with its agent.

    The borrower was told the agent's name and door code, so the agent stays when they
    work that day; the window is hard (the planner drops the visit rather than break it).
    """
    start, end = row.confirmed_start_s, row.confirmed_end_s
    if row.confirmed_date != date or start is None or end is None:
        return visit
    agent = row.confirmed_agent if row.confirmed_agent in working else visit.pinned_agent
    return replace(visit, window=TimeWindow(start, end), pinned_agent=agent)


def _one_contact_per_borrower(
    ready: list[tuple[CaseRow, Ready]],
    rules: ComplianceSettings,
    held: dict[str, str],
    held_cases: dict[int, tuple[int, str]],
) -> list[tuple[CaseRow, Ready]]:
    """With a cooldown, a borrower with several cases is visited for one a day."""
    if rules.cooldown_days == 0:
        return ready
    by_borrower: dict[str, list[tuple[CaseRow, Ready]]] = defaultdict(list)
    for item in ready:
        by_borrower[item[0].borrower_id].append(item)
    keep: set[int] = set()
    for items in by_borrower.values():
        items.sort(
            key=lambda it: (
                not it[1].overdue,
                it[0].due_date or dt.date.max,
                -it[0].priority,
                it[0].visit_id,
            )
        )
        first = items[0][0]
        keep.add(first.id)
        for row, _ in items[1:]:
            reason = (
                f"the same borrower's case {first.visit_id} is planned first "
                f"(one contact a day; cooldown {rules.cooldown_days} day(s))"
            )
            held[row.visit_id] = reason
            held_cases[row.id] = (row.version, reason)
    return [it for it in ready if it[0].id in keep]


@dataclass(frozen=True, slots=True)
class StoredPlan:
    plan_id: int
    date: dt.date
    version: int
    routed: int
    not_fitted: int


def store_plan(
    book: Book,
    snapshot: Snapshot,
    plan: Plan,
    document: Mapping[str, Any],
    settings: Mapping[str, Any],
    actor: Actor,
    *,
    now: dt.datetime | None = None,
) -> StoredPlan:
    """Store ``plan`` as the newest published version of its date and update the cases.

    Routed cases become planned for the date; cases left out stay pending with the
    plan's reason (overdue ones say so) and come back on the next plan; cases held by
    the rules keep their reason. One transaction.

    Raises
    ------
    BookChanged
        A case or agent the snapshot read changed meanwhile: plan again.
    """
    with book.write() as session:
        return _store_plan(session, snapshot, plan, document, settings, actor, now or _now())


def store_plans(
    book: Book,
    plans: Sequence[tuple[Snapshot, Plan, Mapping[str, Any]]],
    settings: Mapping[str, Any],
    actor: Actor,
    *,
    now: dt.datetime | None = None,
) -> list[StoredPlan]:
    """Several dates' plans (snapshot, plan, document), as :func:`store_plan`, in one transaction.

    A horizon is stored whole or not at all: a case changed meanwhile refuses every day.

    Raises
    ------
    BookChanged
        A case or agent a snapshot read changed meanwhile: plan again.
    """
    at = now or _now()
    with book.write() as session:
        return [
            _store_plan(session, snapshot, plan, document, settings, actor, at)
            for snapshot, plan, document in plans
        ]


def _store_plan(
    session: Session,
    snapshot: Snapshot,
    plan: Plan,
    document: Mapping[str, Any],
    settings: Mapping[str, Any],
    actor: Actor,
    at: dt.datetime,
) -> StoredPlan:
    date = snapshot.date
    _check_unchanged(session, snapshot)
    version = (
        session.scalar(select(func.max(PlanRow.version)).where(PlanRow.plan_date == date)) or 0
    ) + 1
    plan_id = session.execute(
        insert(PlanRow)
        .values(
            plan_date=date,
            version=version,
            created_at=at,
            created_by=actor.who,
            command=actor.command,
            published_at=at,
            settings=dict(settings),
            solver=dict(document.get("solver", {})),
            document=dict(document),
        )
        .returning(PlanRow.id)
    ).scalar_one()
    ids = snapshot.case_ids
    members: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    for route in plan.routes:
        for stop in route.stops:
            case = ids[stop.visit_id]
            members.append(
                {
                    "plan_id": plan_id,
                    "case_id": case,
                    "agent_id": route.agent_id,
                    "seq": stop.seq,
                    "start_s": stop.start_s,
                    "end_s": stop.end_s,
                    "reason": "",
                    "overdue": stop.visit_id in snapshot.overdue,
                }
            )
            changes.append(
                {
                    "id": case,
                    "status": Status.PLANNED.value,
                    "planned_date": date,
                    "plan_id": plan_id,
                    "reason": "",
                    "updated_at": at,
                    "version": snapshot.versions[case] + 1,
                }
            )
    for item in plan.unassigned:
        case = ids[item.visit_id]
        reason = f"not fitted on {date.isoformat()}: {item.reason}"
        due = snapshot.overdue.get(item.visit_id)
        if due is not None:
            reason = f"overdue (due {due.isoformat()}); {reason}"
        members.append(
            {
                "plan_id": plan_id,
                "case_id": case,
                "agent_id": None,
                "seq": None,
                "start_s": None,
                "end_s": None,
                "reason": item.reason,
                "overdue": due is not None,
            }
        )
        changes.append(
            {
                "id": case,
                "status": Status.PENDING.value,
                "planned_date": None,
                "plan_id": None,
                "reason": reason,
                "updated_at": at,
                "version": snapshot.versions[case] + 1,
            }
        )
    for chunk in _chunks(members, 5000):
        session.execute(insert(_table(PlanVisitRow)), list(chunk))
    for chunk in _chunks(changes, 5000):
        session.execute(update(CaseRow), list(chunk))
    _note_held(session, snapshot)
    routed = sum(len(r.stops) for r in plan.routes)
    detail = (
        f"plan {date.isoformat()} v{version} published: {routed} routed, "
        f"{len(plan.unassigned)} not fitted, {len(snapshot.held)} held by the rules"
    )
    audit(session, actor, "plan", ids.values(), detail, at)
    return StoredPlan(plan_id, date, version, routed, len(plan.unassigned))


def _check_unchanged(session: Session, snapshot: Snapshot) -> None:
    """Lock the cases and agents read, and refuse if any changed since."""
    case_ids = list(snapshot.versions)
    for chunk in _chunks(case_ids):
        rows = session.execute(
            select(CaseRow.id, CaseRow.version).where(CaseRow.id.in_(chunk)).with_for_update()
        )
        for case, version in rows:
            if snapshot.versions[case] != version:
                raise BookChanged
    now_agents = dict(
        session.execute(
            select(AgentRow.id, AgentRow.version).where(AgentRow.active).with_for_update()
        ).all()
    )
    if now_agents != dict(snapshot.agent_versions):
        raise BookChanged


def _note_held(session: Session, snapshot: Snapshot) -> None:
    """Write each held case's reason, unless the case changed since it was read.

    A reason is derived from the case, so it never bumps ``version``; a case changed
    meanwhile keeps its own, newer state.
    """
    table = _table(CaseRow)
    statement = (
        update(table)
        .where(
            table.c.id == bindparam("case"),
            table.c.version == bindparam("seen"),
            table.c.reason != bindparam("why"),
        )
        .values(reason=bindparam("why"))
    )
    rows = [
        {"case": case, "seen": version, "why": reason}
        for case, (version, reason) in snapshot.held_cases.items()
    ]
    for chunk in _chunks(rows, 5000):
        session.execute(statement, list(chunk))


# --- outcomes -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutcomeReport:
    recorded: Mapping[str, int]
    #: Rows already in the book (same visit, outcome and time): a file sent twice.
    already: int
    #: Cases that reached the dispatcher's attention list with this batch.
    attention: tuple[tuple[str, str], ...]


def record_outcomes(
    book: Book,
    outcomes: Sequence[Outcome],
    rules: ComplianceSettings,
    tz: dt.tzinfo,
    actor: Actor,
    *,
    source: str,
    now: dt.datetime | None = None,
) -> OutcomeReport:
    """Record outcomes and apply their next actions, all or nothing.

    Each case's outcomes are applied in time order. A problem with any row (unknown
    visit, a final case, an outcome older than the case's last one, a time in the
    future) is an InputError naming the row and column, and nothing is recorded.
    """
    at = now or _now()
    issues: list[Issue] = []
    with book.write() as session:
        cases: dict[str, CaseRow] = _by_key(
            session, CaseRow, CaseRow.visit_id, sorted({o.visit_id for o in outcomes})
        )
        for o in outcomes:
            if o.visit_id not in cases:
                issues.append(
                    Issue(
                        source,
                        o.source_row,
                        "visit_id",
                        o.visit_id,
                        "is not a visit in the book; expected a visit_id imported before",
                    )
                )
            elif o.at > at + dt.timedelta(minutes=5):
                issues.append(
                    Issue(
                        source,
                        o.source_row,
                        "at",
                        o.at.isoformat(),
                        "is in the future; expected the time the outcome happened",
                    )
                )
        known = [o for o in outcomes if o.visit_id in cases]
        case_ids = sorted({cases[o.visit_id].id for o in known})
        recorded_before = _recorded(session, case_ids)
        borrowers = sorted({cases[o.visit_id].borrower_id for o in known})
        # the limits look back 7 days (or the cooldown) from the batch's first outcome
        lookback = dt.timedelta(days=max(7, rules.cooldown_days) + 1)
        since = min((o.at.astimezone(tz).date() for o in known), default=at.date()) - lookback
        dates = attempt_dates(session, borrowers, since, tz) if borrowers else {}
        states = {vid: _state(row) for vid, row in cases.items()}
        last_at = {row.visit_id: row.last_attempt_at for row in cases.values()}
        new_rows: list[dict[str, Any]] = []
        already = 0
        counts: Counter[str] = Counter()
        flagged: list[tuple[str, str]] = []
        for o in sorted(known, key=lambda o: (o.visit_id, o.at)):
            row = cases[o.visit_id]
            key = (row.id, o.kind.value, o.at.astimezone(dt.UTC).replace(microsecond=0))
            if key in recorded_before:
                already += 1
                continue
            previous = last_at.get(o.visit_id)
            if previous is not None and o.at < previous:
                issues.append(
                    Issue(
                        source,
                        o.source_row,
                        "at",
                        o.at.isoformat(),
                        f"is before the case's last recorded attempt ({previous.astimezone(tz).isoformat()}); "
                        "expected outcomes in time order",
                    )
                )
                continue
            local = o.at.astimezone(tz).date()
            borrower_dates = dates.setdefault(row.borrower_id, [])
            if o.kind.attempt:
                borrower_dates.append(local)
            try:
                state = apply_outcome(states[o.visit_id], o, local, borrower_dates, rules)
            except ValueError as err:
                column = (
                    "promise_date"
                    if o.kind is Kind.PROMISE_TO_PAY
                    else ("new_date" if o.kind is Kind.RESCHEDULE else "outcome")
                )
                issues.append(
                    Issue(
                        source,
                        o.source_row,
                        column,
                        o.kind.value if column == "outcome" else "",
                        str(err),
                    )
                )
                continue
            if state.attention and state.attention != states[o.visit_id].attention:
                flagged.append((o.visit_id, state.attention))
            states[o.visit_id] = state
            if o.kind.attempt:
                last_at[o.visit_id] = o.at
            counts[o.kind.value] += 1
            window = o.new_window
            new_rows.append(
                {
                    "case_id": row.id,
                    "borrower_id": row.borrower_id,
                    "plan_id": row.plan_id if row.status == Status.PLANNED.value else None,
                    "outcome": o.kind.value,
                    "at": o.at,
                    "attempt": o.kind.attempt,
                    "note": o.note,
                    "promise_date": o.promise_date,
                    "new_window_start_s": window.start_s if window else None,
                    "new_window_end_s": window.end_s if window else None,
                    "new_date": o.new_date,
                    "recorded_at": at,
                    "recorded_by": actor.who,
                }
            )
        if issues:
            raise InputError(issues)
        for chunk in _chunks(new_rows, 5000):
            session.execute(insert(_table(OutcomeRow)), list(chunk))
        changed = {r["case_id"] for r in new_rows}
        # news (arrived, confirmed) changes no state: the case keeps its version
        moved = {r["case_id"] for r in new_rows if not Kind(r["outcome"]).news}
        rescheduled = {r["case_id"] for r in new_rows if r["outcome"] == Kind.RESCHEDULE.value}
        updates = []
        for vid, row in cases.items():
            if row.id not in moved:
                continue
            state = states[vid]
            values = _state_values(state)
            values["plan_id"] = None if state.status is not Status.PLANNED else row.plan_id
            if state.closed and row.closed_at is None:
                values["closed_at"] = at
            if row.id in rescheduled:
                # a new time was asked for: the window confirmed before no longer holds
                values.update(confirmed_date=None, confirmed_start_s=None, confirmed_end_s=None)
                values["confirmed_agent"] = None
            updates.append({"id": row.id, **values, "updated_at": at, "version": row.version + 1})
        for chunk in _chunks(updates, 5000):
            session.execute(update(CaseRow), list(chunk))
        detail = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing new"
        audit(
            session,
            actor,
            "outcomes",
            changed,
            f"outcomes recorded: {detail}; {already} already in the book",
            at,
        )
    return OutcomeReport(dict(counts), already, tuple(flagged))


def _recorded(session: Session, case_ids: Sequence[int]) -> set[tuple[int, str, dt.datetime]]:
    out: set[tuple[int, str, dt.datetime]] = set()
    for chunk in _chunks(case_ids):
        rows = session.execute(
            select(OutcomeRow.case_id, OutcomeRow.outcome, OutcomeRow.at).where(
                OutcomeRow.case_id.in_(chunk)
            )
        )
        out.update((c, k, a.replace(microsecond=0)) for c, k, a in rows)
    return out


# --- list and purge -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseListing:
    """A case as ``book list`` shows it (personal fields as the dispatcher may see them)."""

    visit_id: str
    borrower_id: str
    status: str
    due_date: dt.date | None
    earliest_date: dt.date | None
    preferred_days: str
    attempts: int
    last_attempt_at: dt.datetime | None
    last_outcome: str
    not_before: dt.date | None
    planned_date: dt.date | None
    reason: str
    attention: str
    name: str
    phone: str
    address: str


def list_cases(
    book: Book,
    actor: Actor,
    *,
    status: str | None = None,
    due_before: dt.date | None = None,
    attention: bool = False,
    now: dt.datetime | None = None,
) -> list[CaseListing]:
    """Cases by visit_id; the read is audited, so it runs as a (short) write transaction."""
    at = now or _now()
    query = select(CaseRow).order_by(CaseRow.visit_id)
    if status is not None:
        query = query.where(CaseRow.status == status)
    if due_before is not None:
        query = query.where(CaseRow.due_date < due_before)
    if attention:
        query = query.where(CaseRow.attention != "")
    with book.write() as session:
        rows = list(session.scalars(query))
        listing = [
            CaseListing(
                visit_id=r.visit_id,
                borrower_id=r.borrower_id,
                status=r.status,
                due_date=r.due_date,
                earliest_date=r.earliest_date,
                preferred_days=r.preferred_days,
                attempts=r.attempts,
                last_attempt_at=r.last_attempt_at,
                last_outcome=r.last_outcome or "",
                not_before=r.not_before,
                planned_date=r.planned_date,
                reason=r.reason,
                attention=r.attention,
                name=r.name,
                phone=r.phone,
                address=r.address,
            )
            for r in rows
        ]
        personal = [r.id for r in rows if r.purged_at is None]
        audit(session, actor, "read", personal, f"listed {len(rows)} cases", at)
    return listing


def purge_closed(
    book: Book,
    closed_before: dt.date,
    tz: dt.tzinfo,
    actor: Actor,
    *,
    now: dt.datetime | None = None,
) -> int:
    """Blank the personal fields of final cases closed before ``closed_before``.

    Name, phone, address, notes, coordinates, extra columns and outcome notes go; ids,
    statuses, dates, attempts and outcomes stay, so the history remains countable.
    """
    at = now or _now()
    limit = dt.datetime.combine(closed_before, dt.time(), tz)
    finals = [s.value for s in Status if s.final]
    with book.write() as session:
        ids = list(
            session.scalars(
                select(CaseRow.id)
                .where(
                    CaseRow.status.in_(finals),
                    CaseRow.closed_at < limit,
                    CaseRow.purged_at.is_(None),
                )
                .with_for_update()
            )
        )
        for chunk in _chunks(ids):
            session.execute(
                update(CaseRow)
                .where(CaseRow.id.in_(chunk))
                .values(
                    name="",
                    phone="",
                    address="",
                    notes="",
                    lat=None,
                    lon=None,
                    extra={},
                    purged_at=at,
                    updated_at=at,
                    version=CaseRow.version + 1,
                ),
                execution_options={"synchronize_session": False},
            )
            session.execute(
                update(OutcomeRow).where(OutcomeRow.case_id.in_(chunk)).values(note=""),
                execution_options={"synchronize_session": False},
            )
        audit(
            session,
            actor,
            "purge",
            ids,
            f"purged personal fields of {len(ids)} cases closed before {closed_before.isoformat()}",
            at,
        )
    return len(ids)
