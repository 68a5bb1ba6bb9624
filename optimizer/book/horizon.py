"""Planning several days from the book: the horizon planner, fed and stored by the book.

Each date of the horizon is read as for one day (:func:`~optimizer.book.repository.day_snapshot`:
contact hours, cooldown, attempts per 7 days, one contact a day per borrower, holidays,
days off), so the book's contact rules stay hard: a case may ride only the dates on which
that day's reading says it is ready. Those dates form one run (each rule only holds a
case back *until* some date; a case planned for a date is ready on that date alone), so
they become the visit's earliest and due date for :func:`optimizer.horizon.plan_horizon`.
Waiting for a preferred day is not a hold here: the horizon weighs preferred days itself.

A borrower is visited once per horizon: the case the first day's reading keeps for
them (with a cooldown); their other cases wait for the next run, when the outcome is known.

Every day's plan is stored as that date's newest published version, all in one
transaction inside the staging folder, as for one day: either the book holds the whole
horizon and the folder is in place, or neither. Cases not fitted stay pending with the
reason (noted on the first day's plan); outcomes come back per date as for one day.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from optimizer.book.db import Book
from optimizer.book.planning import Renderer
from optimizer.book.repository import (
    Actor,
    BookChanged,
    Snapshot,
    StoredPlan,
    day_snapshot,
    store_plans,
)
from optimizer.day import HorizonPlan
from optimizer.domain import Agent, Visit
from optimizer.errors import BookError, ConfigurationError
from optimizer.geocoding.base import Geocoder
from optimizer.horizon import horizon_dates, plan_horizon
from optimizer.outputs.export import plan_to_dict, write_horizon
from optimizer.plan import Plan, Unassigned
from optimizer.settings import Settings
from optimizer.travel.base import TravelProvider

logger = logging.getLogger(__name__)

#: One date's share of a horizon for the book: its snapshot, plan and plan document.
DayToStore = tuple[Snapshot, Plan, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class BookHorizon:
    """A horizon planned from the book and stored in it (``horizon`` None: nothing to plan)."""

    dates: tuple[dt.date, ...]
    #: Open cases that no date of the horizon may take, each with the first date's reason.
    held: dict[str, str]
    horizon: HorizonPlan | None = None
    stored: tuple[StoredPlan, ...] = ()
    paths: tuple[Path, ...] = ()
    #: Cases the book had planned (told) for a date, and that date.
    told: dict[str, dt.date] | None = None
    tries: int = 1


def book_dates(first: dt.date, n: int, settings: Settings) -> tuple[dt.date, ...]:
    """The first ``n`` working days from ``first`` that are not ``[compliance]`` holidays."""
    holidays = settings.compliance.holiday_dates
    days = horizon_dates(first, n + len(holidays), settings.horizon.weekdays)
    return tuple(d for d in days if d not in holidays)[:n]


def _gather(
    snapshots: Sequence[Snapshot], dates: Sequence[dt.date], *, one_contact: bool
) -> tuple[list[Visit], list[Agent], dict[str, str], dict[int, tuple[int, str]]]:
    """The horizon's visits (dates narrowed to the run the rules allow), agents, holds.

    Holds: the reason per visit id, and per case id (version read, reason) for the
    cases ready on some date that the horizon still leaves out (a borrower's second case).
    """
    first_ready: dict[str, tuple[int, Visit]] = {}
    ready_on: dict[str, list[int]] = {}
    for k, snap in enumerate(snapshots):
        for v in snap.visits:
            first_ready.setdefault(v.visit_id, (k, v))
            ready_on.setdefault(v.visit_id, []).append(k)
    held: dict[str, str] = {}
    for snap in snapshots:
        for vid, reason in snap.held.items():
            if vid not in first_ready:
                held.setdefault(vid, reason)
    chosen: dict[str, str] = {}
    held_cases: dict[int, tuple[int, str]] = {}
    visits: list[Visit] = []
    for vid, (k, v) in sorted(first_ready.items(), key=lambda item: item[1][0]):
        borrower = snapshots[k].borrowers.get(vid)
        if one_contact and borrower is not None:
            if borrower in chosen:
                reason = (
                    f"the same borrower's case {chosen[borrower]} is planned first "
                    "(one contact per borrower in a horizon; the next run knows its outcome)"
                )
                held[vid] = reason
                case = snapshots[k].case_ids[vid]
                held_cases[case] = (snapshots[k].versions[case], reason)
                continue
            chosen[borrower] = vid
        run = ready_on[vid]
        lo = hi = run[0]
        while hi + 1 in run:
            hi += 1
        # Late already: planned first (the snapshot raised its priority), any ready day.
        due = None if vid in snapshots[k].overdue else v.due_date
        if hi < len(dates) - 1:
            due = dates[hi] if due is None else min(due, dates[hi])
        earliest = dates[lo] if lo > 0 else v.earliest_date
        if earliest is not None and due is not None and earliest > due:
            earliest = due
        visits.append(replace(v, earliest_date=earliest, due_date=due))
    agents: dict[str, Agent] = {}
    for snap in snapshots:
        for a in snap.agents:
            agents.setdefault(a.agent_id, a)
    return visits, list(agents.values()), held, held_cases


def plan_horizon_from_book(
    book: Book,
    settings: Settings,
    dates: Sequence[dt.date],
    out: Path,
    actor: Actor,
    *,
    renderers: Sequence[Renderer] = (),
    share: bool = False,
    travel: TravelProvider,
    geocoder: Geocoder | None = None,
) -> BookHorizon:
    """Plan ``dates`` from the book, write the horizon folder to ``out``, store every day.

    Raises
    ------
    ConfigurationError
        No agent of the roster works on any date of the horizon.
    BookError
        The book kept changing while the horizon was planned, or cannot be used.
    """
    dates = tuple(dates)
    tz = zoneinfo.ZoneInfo(settings.timezone)
    rules = settings.compliance
    for attempt in range(1, settings.book.plan_retries + 1):
        snapshots = [day_snapshot(book, d, rules, tz, wait_for_preferred_day=False) for d in dates]
        visits, agents, held, left_out = _gather(
            snapshots, dates, one_contact=rules.cooldown_days > 0
        )
        told = {
            vid: day for vid, day in snapshots[0].planned.items() if dates[0] <= day <= dates[-1]
        }
        if not visits:
            return BookHorizon(dates, held, told=told, tries=attempt)
        if not agents:
            msg = (
                f"no agent of the book works from {dates[0].isoformat()} to "
                f"{dates[-1].isoformat()}; import agents (book import --agents) or pick other dates"
            )
            raise ConfigurationError(msg)
        horizon = plan_horizon(
            visits,
            agents,
            settings,
            dates=dates,
            travel=travel,
            geocoder=geocoder,
            agents_source="the book's agents",
        )
        plans = _day_plans(horizon, snapshots, left_out)
        stored: list[StoredPlan] = []

        def store(
            _folder: Path, plans: list[DayToStore] = plans, stored: list[StoredPlan] = stored
        ) -> None:
            stored.extend(store_plans(book, plans, settings.to_dict(), actor))

        try:
            paths = write_horizon(
                horizon,
                out,
                renderers=renderers,
                timezone=settings.timezone,
                share=share,
                previous=told,
                finish=store,
            )
        except BookChanged:
            logger.info("the book changed while the horizon was planned; planning again")
            continue
        return BookHorizon(dates, held, horizon, tuple(stored), tuple(paths), told, attempt)
    msg = (
        f"the book changed {settings.book.plan_retries} times while {dates[0].isoformat()} "
        f"to {dates[-1].isoformat()} was being planned (other writers are busy); nothing was "
        "stored, try again"
    )
    raise BookError(msg)


def _day_plans(
    horizon: HorizonPlan,
    snapshots: Sequence[Snapshot],
    left_out: dict[int, tuple[int, str]],
) -> list[DayToStore]:
    """Per date: the snapshot narrowed to that day's cases, the plan, its document.

    A case is stored on the one date it was planned for; cases not fitted go with the
    first date (pending, with the reason); cases held on every date note their reason
    there too.
    """
    unassigned = tuple(Unassigned(e.visit_id, e.reason or "") for e in horizon.unassigned)
    out: list[DayToStore] = []
    ids_all: dict[str, int] = {}
    versions_all: dict[int, int] = {}
    for snap in snapshots:
        for vid, case in snap.case_ids.items():
            ids_all.setdefault(vid, case)
            versions_all.setdefault(case, snap.versions[case])
    for k, (day, snap) in enumerate(zip(horizon.days, snapshots, strict=True)):
        mine = list(day.plan.assigned_ids)
        plan = day.plan
        if k == 0:
            mine += [u.visit_id for u in unassigned]
            plan = replace(plan, unassigned=unassigned)
        case_ids = {vid: ids_all[vid] for vid in mine}
        narrowed = replace(
            snap,
            case_ids=case_ids,
            versions={c: versions_all[c] for c in case_ids.values()},
            held={vid: r for vid, r in snap.held.items() if vid not in ids_all} if k == 0 else {},
            held_cases=(
                {c: vr for c, vr in snap.held_cases.items() if c not in versions_all} | left_out
                if k == 0
                else {}
            ),
        )
        # The first date's document lists the cases not fitted, as its plan does: a
        # reader of that date sees every case of the horizon's pool once.
        out.append((narrowed, plan, plan_to_dict(replace(day, plan=plan) if k == 0 else day)))
    return out
