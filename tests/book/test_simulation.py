"""Ten days of field work through the book: plan, record generated outcomes, plan again.

Checks the process as a dispatcher relies on it: no visit lost or doubled across days,
contact limits never broken, every not-home and every promise coming back on the right
day, and nothing planned past its due date without being flagged.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import zoneinfo
from collections import defaultdict
from pathlib import Path

import sqlalchemy as sa

from optimizer.book.db import open_book, resolve_url, upgrade
from optimizer.book.models import CaseRow, OutcomeRow
from optimizer.book.planning import plan_from_book
from optimizer.book.repository import Actor, import_file, record_outcomes
from optimizer.book.rules import Kind, Outcome, next_allowed
from optimizer.inputs.load import read_inputs
from optimizer.settings import Settings, SolverSettings
from tests.book.helpers import agents_csv, visits_csv, write

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
FIRST = dt.date(2026, 12, 1)
DAYS = 10
SETTINGS = Settings(
    solver=SolverSettings(time_limit_s=1, workers=1, metaheuristic="GREEDY_DESCENT")
)
ACTOR = Actor("os:sim", "simulation")


def _outcome(rng: random.Random, visit_id: str, day: dt.date, seq: int) -> Outcome:
    at = dt.datetime.combine(day, dt.time(9, 0), TZ) + dt.timedelta(minutes=seq)
    draw = rng.random()
    if draw < 0.35:
        return Outcome(visit_id, Kind.DONE, at)
    if draw < 0.75:
        return Outcome(visit_id, Kind.NOT_HOME, at)
    if draw < 0.92:
        promise = day + dt.timedelta(days=rng.randint(0, 2))
        return Outcome(visit_id, Kind.PROMISE_TO_PAY, at, promise_date=promise)
    return Outcome(visit_id, Kind.WRONG_ADDRESS, at)


def test_ten_days_of_field_work(book_url: str, tmp_path: Path) -> None:
    rng = random.Random(13)
    visits_file = visits_csv(tmp_path, 24)
    text = visits_file.read_text(encoding="utf-8").replace(",1,\n", ",1,2026-12-20\n")
    lines = text.splitlines(keepends=True)
    lines[1] = lines[1].replace(",2026-12-20\n", ",2026-11-30\n")  # V001 overdue already
    write(visits_file, "".join(lines))
    inputs = read_inputs(visits_file, agents_csv(tmp_path, 3))
    book = open_book(resolve_url(book_url, SETTINGS.book), SETTINGS.book, create=True)
    routed_on: dict[str, list[dt.date]] = defaultdict(list)
    recorded: dict[str, list[tuple[dt.date, Kind, Outcome]]] = defaultdict(list)
    try:
        upgrade(book)
        import_file(book, inputs.visits, inputs.agents, ACTOR)
        for n in range(DAYS):
            day = FIRST + dt.timedelta(days=n)
            result = plan_from_book(book, SETTINGS, day, tmp_path / day.isoformat(), ACTOR)
            snapshot = result.snapshot
            plan = result.day.plan if result.day else None
            routed = plan.assigned_ids if plan else []
            # every open case is in exactly one place: routed, not fitted, or held
            placed = (
                routed
                + ([u.visit_id for u in plan.unassigned] if plan else [])
                + list(snapshot.held)
            )
            assert len(placed) == len(set(placed))
            assert plan is None or not plan.unassigned  # ample agents: all that may go, go
            for vid in routed:
                routed_on[vid].append(day)
                due = next(v.due_date for v in snapshot.visits if v.visit_id == vid)
                if due is not None and due < day:
                    assert vid in snapshot.overdue, f"{vid} planned past its due date unflagged"
            outcomes = [_outcome(rng, vid, day, k) for k, vid in enumerate(routed)]
            for o in outcomes:
                recorded[o.visit_id].append((day, o.kind, o))
            record_outcomes(
                book, outcomes, SETTINGS.compliance, TZ, ACTOR, source="sim",
                now=dt.datetime.combine(day, dt.time(20), TZ),
            )  # fmt: skip
    finally:
        book.close()

    engine = sa.create_engine(book_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select visit_id, status from visits")).all()
        history = conn.execute(
            sa.select(CaseRow.visit_id, OutcomeRow.at)
            .join(CaseRow, CaseRow.id == OutcomeRow.case_id)
            .where(OutcomeRow.attempt)
        ).all()
    engine.dispose()
    assert len(rows) == 24  # none lost
    status = dict(rows)
    dates: dict[str, list[dt.date]] = defaultdict(list)
    for vid, at in history:
        dates[vid].append(at.astimezone(TZ).date())
    last_day = FIRST + dt.timedelta(days=DAYS - 1)
    for vid, days in dates.items():
        days.sort()
        assert all(b - a >= dt.timedelta(days=1) for a, b in itertools.pairwise(days)), vid
        for d in days:
            window = [x for x in days if d - dt.timedelta(days=6) <= x <= d]
            assert len(window) <= 3, (vid, days)
        assert days == routed_on[vid], vid  # one outcome per routed day, no double planning
    came_back = promised = 0
    for vid, entries in recorded.items():
        for k, (day, kind, o) in enumerate(entries):
            before = [d for d, _, _ in entries[: k + 1]]
            if kind is Kind.NOT_HOME:
                expected = next_allowed(before, SETTINGS.compliance)
                assert expected is not None
                if expected <= last_day:
                    assert k + 1 < len(entries) and entries[k + 1][0] == expected, (vid, entries)
                    came_back += 1
                else:
                    assert status[vid] == "pending"
            if kind is Kind.PROMISE_TO_PAY:
                assert o.promise_date is not None
                follow = max(
                    o.promise_date + dt.timedelta(days=1),
                    next_allowed(before, SETTINGS.compliance) or day,
                )
                if follow <= last_day:
                    assert k + 1 < len(entries) and entries[k + 1][0] == follow, (vid, entries)
                    promised += 1
            if kind is Kind.WRONG_ADDRESS:
                assert k == len(entries) - 1 and status[vid] == "failed"
            if kind is Kind.DONE:
                assert k == len(entries) - 1 and status[vid] == "done"
    assert came_back > 5 and promised > 1  # the scenario exercised both rules
    assert routed_on["V001"][0] == FIRST  # overdue from the start, planned on day one
