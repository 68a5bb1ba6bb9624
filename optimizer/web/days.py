"""The verified day behind each date of the console, planned, re-opened and edited.

A date's plan lives in the book (its newest published version). The console keeps the
:class:`~optimizer.day.DayPlan` of that version in memory, since checking a move needs
the routing problem; after a restart, or when another writer (``plan --book``) stored
a newer version, the day is re-opened from the book: the stored plan.json, the cases
as the rules give them for the date, the agents, and the travel model of the settings.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from optimizer.book.console import (
    StoredDay,
    agents_by_id,
    latest_plan,
    store_edit,
    visits_by_id,
)
from optimizer.book.horizon import BookHorizon, book_dates, plan_horizon_from_book
from optimizer.book.planning import BookDay, plan_from_book
from optimizer.book.repository import Actor, day_snapshot
from optimizer.day import DayPlan, route_lines
from optimizer.domain import Visit
from optimizer.geocoding import open_geocoder
from optimizer.outputs.export import plan_to_dict, write_notices
from optimizer.pipeline import locate_inputs, travel_provider
from optimizer.plan import Plan
from optimizer.problem import build_problem
from optimizer.reopen import plan_from_dict
from optimizer.settings import Settings
from optimizer.verify import check_plan
from optimizer.web.context import WebContext


@dataclass(frozen=True, slots=True)
class OpenDay:
    """A date's newest stored plan and its verified DayPlan."""

    stored: StoredDay
    day: DayPlan

    @property
    def version(self) -> int:
        return self.stored.version

    @property
    def locked(self) -> frozenset[str]:
        return self.stored.locked


#: Days kept open in memory; older ones are re-opened from the book when asked for.
OPEN_DAYS = 14


def _keep(ctx: WebContext, date: dt.date, opened: OpenDay) -> None:
    ctx.days.pop(date, None)
    ctx.days[date] = opened
    while len(ctx.days) > OPEN_DAYS:
        ctx.days.pop(next(iter(ctx.days)))


def _settings(ctx: WebContext, time_limit_s: float | None) -> Settings:
    settings = ctx.settings
    if time_limit_s is not None:
        settings = replace(settings, solver=replace(settings.solver, time_limit_s=time_limit_s))
    return settings


def plan_date(
    ctx: WebContext, date: dt.date, actor: Actor, *, time_limit_s: float | None = None
) -> BookDay:
    """Plan ``date`` from the book as ``plan --book`` does (planner, verifier, store)."""
    settings = _settings(ctx, time_limit_s)
    with open_geocoder(settings.geocoder, offline=ctx.offline) as geocoder:
        result = plan_from_book(
            ctx.book,
            settings,
            date,
            ctx.out_dir / date.isoformat(),
            actor,
            renderers=[write_notices],
            travel=ctx.travel,
            geocoder=geocoder,
        )
    if result.day is not None and result.stored is not None:
        stored = latest_plan(ctx.book, date)
        if stored is not None and stored.version == result.stored.version:
            _keep(ctx, date, OpenDay(stored, result.day))
    return result


def plan_horizon_dates(
    ctx: WebContext,
    first: dt.date,
    days: int,
    actor: Actor,
    *,
    time_limit_s: float | None = None,
) -> BookHorizon:
    """Plan ``days`` working days from ``first`` as ``plan --book --days`` does.

    The same book horizon as the CLI (its dates, planner, verifier and one transaction
    storing every day). No day is kept open here: the first date's stored plan also
    carries the horizon's not-fitted visits, which its in-memory DayPlan does not, so
    each date is re-opened from the book when first asked for.
    """
    settings = _settings(ctx, time_limit_s)
    dates = book_dates(first, days, settings)
    with open_geocoder(settings.geocoder, offline=ctx.offline) as geocoder:
        result = plan_horizon_from_book(
            ctx.book,
            settings,
            dates,
            ctx.out_dir / f"{first.isoformat()}+{days}d",
            actor,
            renderers=[write_notices],
            travel=ctx.travel or travel_provider(settings),
            geocoder=geocoder,
        )
    for date in dates:
        ctx.days.pop(date, None)
    return result


def open_day(ctx: WebContext, date: dt.date) -> OpenDay | None:
    """The date's newest plan, from memory when it is still the newest, else the book."""
    stored = latest_plan(ctx.book, date)
    if stored is None:
        return None
    cached = ctx.days.get(date)
    if isinstance(cached, OpenDay) and cached.version == stored.version:
        return cached
    day = _reopen(ctx, date, stored)
    opened = OpenDay(stored, day)
    _keep(ctx, date, opened)
    return opened


def _reopen(ctx: WebContext, date: dt.date, stored: StoredDay) -> DayPlan:
    settings = ctx.settings
    doc = stored.document
    ids = [s["visit_id"] for r in doc["routes"] for s in r["stops"]]
    ids += [u["visit_id"] for u in doc["unassigned"]]
    tz = zoneinfo.ZoneInfo(settings.timezone)
    snapshot = day_snapshot(ctx.book, date, settings.compliance, tz)
    ready = {v.visit_id: v for v in snapshot.visits}
    # cases no longer open (done since) keep the book's own terms
    rest = visits_by_id(ctx.book, [i for i in ids if i not in ready])
    visits = [ready.get(i) or rest[i] for i in ids if i in ready or i in rest]
    wanted = {r["agent_id"] for r in doc["routes"]}
    agents = list(snapshot.agents)
    missing = wanted - {a.agent_id for a in agents}
    agents += agents_by_id(ctx.book, missing).values()
    provider = ctx.travel or travel_provider(settings)
    with open_geocoder(settings.geocoder, offline=True) as geocoder:
        located_all, agents_located, _ = locate_inputs(
            visits, agents, settings, geocoder, agents_source="the book's agents"
        )
    order = {v: k for k, v in enumerate(ids)}
    located_all = sorted(located_all, key=lambda v: order[v.visit_id])
    located = [v for v in located_all if v.location is not None]
    problem = build_problem(located, agents_located, provider)
    plan = plan_from_dict(doc, problem, source=f"plan {date.isoformat()} v{stored.version}")
    lines = route_lines(problem, plan, provider)
    return DayPlan(
        plan, tuple(located_all), tuple(agents_located), problem, settings, route_lines=lines
    )


def verified(day: DayPlan, plan: Plan, visits: Sequence[Visit] | None = None) -> list[str]:
    """What the project's verifier finds wrong with ``plan`` on ``day`` (empty: none)."""
    return check_plan(plan, list(visits if visits is not None else day.visits), day.problem)


def save_edit(
    ctx: WebContext,
    opened: OpenDay,
    day: DayPlan,
    locked: Collection[str],
    actor: Actor,
    detail: str,
) -> OpenDay:
    """Store an edited, verified day as the date's next version and keep it open."""
    date = day.plan.date
    doc = plan_to_dict(day)
    version = store_edit(
        ctx.book,
        date,
        opened.version,
        day.plan,
        doc,
        ctx.settings.to_dict(),
        locked,
        actor,
        detail,
        now=ctx.clock(),
    )
    stored = StoredDay(0, version, doc, frozenset(locked), actor.who, actor.command)
    fresh = latest_plan(ctx.book, date)
    if fresh is not None and fresh.version == version:
        stored = fresh
    out = OpenDay(stored, day)
    _keep(ctx, date, out)
    return out
