"""Several days planned at once: one solver vehicle per agent-day.

Every agent working on a day of the horizon becomes one vehicle for that day (a copy
with that day's shift). Times stay seconds since midnight of each day, so the copies
share one time axis; a visit may only ride the vehicles of the days between its
earliest and its due date, on which the agent works. Those rules are hard and are
expressed as skills of the copies (``@from:<date>``/``@until:<date>``/``@agent:<id>``),
which the solver already honours as allowed vehicles, so the day model stays the one
model. The soft rule "due within the horizon goes first" is a drop-penalty tie-break
under the visit's own priority.

The expanded plan is verified as one problem, then split per day and each day is
verified again against the day's own agents and matrix, so that every day folder
holds a plan the verifier has seen. Scale: agents x days vehicles (40 x 5 = 200 for
the largest benchmark); the time each search gets is the day's limit.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace

from optimizer.day import NOT_GEOCODED, DayPlan, HorizonEntry, HorizonPlan, route_lines
from optimizer.domain import Agent, GeoPoint, Visit
from optimizer.errors import VerificationError
from optimizer.feasibility import precheck
from optimizer.geocoding.base import Geocoder
from optimizer.pipeline import locate_inputs, solve_and_verify
from optimizer.plan import Plan, Route, build_plan
from optimizer.problem import RoutingProblem, build_problem, subset
from optimizer.settings import Settings
from optimizer.solve.construct import Insertion
from optimizer.solve.ortools import lns_assignment
from optimizer.travel.base import TravelProvider
from optimizer.verify import check_plan

logger = logging.getLogger(__name__)

#: Separates an agent's id from the date in the id of its agent-day vehicle.
_DAY_SEP = "@"
EARLIEST_AFTER = "earliest date after the horizon"


def horizon_dates(first: dt.date, n: int, workdays: Collection[int]) -> tuple[dt.date, ...]:
    """The first ``n`` working days from ``first`` (itself included if it is one)."""
    if n < 1 or not workdays:
        msg = f"Expected n >= 1 and some workdays, got n={n}, workdays={sorted(workdays)}."
        raise ValueError(msg)
    out: list[dt.date] = []
    day = first
    while len(out) < n:
        if day.weekday() in workdays:
            out.append(day)
        day += dt.timedelta(days=1)
    return tuple(out)


def _vehicle_id(agent_id: str, day: dt.date) -> str:
    return f"{agent_id}{_DAY_SEP}{day.isoformat()}"


def _window(visit: Visit, dates: Sequence[dt.date]) -> list[dt.date]:
    return [d for d in dates if visit.allowed_on(d)]


def _outside_reason(visit: Visit, dates: Sequence[dt.date], agents: Sequence[Agent]) -> str | None:
    """Why no agent-day of the horizon can take ``visit`` at all (None: some can)."""
    allowed = _window(visit, dates)
    if not allowed:
        if visit.earliest_date is not None and visit.earliest_date > dates[-1]:
            return EARLIEST_AFTER
        if visit.due_date is not None and visit.due_date < dates[0]:
            return f"due date {visit.due_date} is before the horizon (starts {dates[0]})"
        return "no working day of the horizon lies between its earliest and due dates"
    span = f"{allowed[0]} and {allowed[-1]}"
    if visit.pinned_agent is not None:
        pinned = next((a for a in agents if a.agent_id == visit.pinned_agent), None)
        if pinned is None:
            return f"pinned to agent {visit.pinned_agent}, who is not in the agents file"
        if not any(pinned.works_on(d) for d in allowed):
            return f"pinned to agent {pinned.agent_id}, who does not work between {span}"
        return None
    able = [a for a in agents if a.can_do(visit)]
    if able and not any(a.works_on(d) for a in able for d in allowed):
        return f"no able agent works between {span}"
    return None


def _expand(
    visits: Sequence[Visit],
    agents: Sequence[Agent],
    dates: Sequence[dt.date],
    open_dates: Sequence[dt.date],
    keep: Mapping[str, tuple[dt.date, str]],
    stay: Mapping[str, dt.date],
) -> tuple[list[Visit], list[Agent]]:
    """Agent-day vehicles and visits whose skills confine them to their days.

    A kept visit may ride only its published agent-day, before any other visit;
    the others only the vehicles of ``open_dates`` (the days not published).
    """
    day_agents = [
        replace(
            a,
            agent_id=_vehicle_id(a.agent_id, d),
            skills=a.skills
            | {f"@agent:{a.agent_id}"}
            | {f"@from:{x}" for x in dates if x <= d}
            | {f"@until:{x}" for x in dates if x >= d},
        )
        for d in dates
        for a in agents
        if a.works_on(d)
    ]
    day_visits = []
    top = 2 * max((v.priority for v in visits), default=1) + 1
    for v in visits:
        due_inside = v.due_date is not None and v.due_date <= dates[-1]
        # Served priority stays first; within it, a visit due inside the horizon goes
        # before one that can wait past it.
        priority = 2 * v.priority + (1 if due_inside else 0)
        if v.visit_id in keep:
            day, agent_id = keep[v.visit_id]
            tags = {f"@from:{day}", f"@until:{day}", f"@agent:{agent_id}"}
            priority += top
        else:
            allowed = [stay[v.visit_id]] if v.visit_id in stay else _window(v, open_dates)
            tags = {f"@from:{allowed[0]}", f"@until:{allowed[-1]}"}
            if v.pinned_agent is not None:
                tags.add(f"@agent:{v.pinned_agent}")
        day_visits.append(replace(v, skills=v.skills | tags, pinned_agent=None, priority=priority))
    return day_visits, day_agents


def _drop_reason(visit: Visit, dates: Sequence[dt.date], reason: str | None) -> str:
    if reason and "@" not in reason and not reason.startswith("not enough agent time"):
        return reason
    if visit.due_date is not None and visit.due_date <= dates[-1]:
        return f"no able agent has time before the due date {visit.due_date}"
    return f"no able agent has time in the horizon {dates[0]} to {dates[-1]}"


def plan_horizon(
    visits: Sequence[Visit],
    agents: Sequence[Agent],
    settings: Settings,
    *,
    dates: Sequence[dt.date],
    travel: TravelProvider,
    geocoder: Geocoder | None = None,
    agents_source: str = "agents.csv",
    keep: Mapping[str, tuple[dt.date, str]] | None = None,
    published: int = 0,
    previous_days: Mapping[str, dt.date] | None = None,
    consolidate_areas: bool = True,
) -> HorizonPlan:
    """Plan ``dates`` at once; every visit ends on one day or unassigned with a reason.

    The first ``published`` dates were told already: a visit that ``keep`` places
    there (date, agent) stays with that agent on that day when the agent still works
    then and its dates still allow it; no other visit is added to those days.

    Locating works as for one day (:func:`optimizer.pipeline.plan_day`).
    ``consolidate_areas`` applies the soft rule "fewer days per agent in one area"
    (:func:`area_days`; off only to measure it).

    Raises
    ------
    InputError
        An agent's base cannot be located.
    GeocodingServiceError
        The geocoding service could not be asked.
    VerificationError
        A day's plan breaks a constraint (a bug: the solver and the verifier disagree).
    """
    dates = tuple(sorted(dates))
    reasons: dict[str, str] = {}
    visits, agents, located = locate_inputs(
        visits, agents, settings, geocoder, agents_source=agents_source
    )
    if located is not None:
        reasons.update(located.unlocated)
    fixed = dates[: max(0, published)]
    open_dates = dates[len(fixed) :]
    agent_of = {a.agent_id: a for a in agents}
    kept: dict[str, tuple[dt.date, str]] = {}
    for v in visits:
        if v.visit_id not in (keep or {}) or v.visit_id in reasons or v.location is None:
            continue
        kept_day, agent_id = (keep or {})[v.visit_id]
        a = agent_of.get(agent_id)
        ok = a is not None and a.works_on(kept_day) and a.can_do(v)
        if kept_day in fixed and ok and v.allowed_on(kept_day):
            kept[v.visit_id] = (kept_day, agent_id)
    for v in visits:
        if v.visit_id in reasons or v.visit_id in kept:
            continue
        if v.location is None:
            reasons[v.visit_id] = NOT_GEOCODED
        elif not open_dates:
            reasons[v.visit_id] = "every day of the horizon is published and keeps its plan"
        elif not _window(v, open_dates) and _window(v, dates):
            reasons[v.visit_id] = (
                f"its dates allow only published days ({fixed[0]} to {fixed[-1]}), "
                "which keep their plan"
            )
        else:
            outside = _outside_reason(v, open_dates, agents)
            if outside is not None:
                reasons[v.visit_id] = outside
    candidates = [v for v in visits if v.visit_id not in reasons]
    stay = {
        v.visit_id: was
        for v in candidates
        if v.visit_id not in kept
        and (was := (previous_days or {}).get(v.visit_id)) in open_dates
        and was is not None
        and v.allowed_on(was)
        and any(a.works_on(was) and a.can_do(v) for a in agents)
    }
    by_id = {v.visit_id: v for v in visits}
    day_visits, day_agents = _expand(candidates, agents, dates, open_dates, kept, stay)
    full = build_problem(day_visits, day_agents, travel)
    pre = precheck(full)
    pre_unassigned: dict[str, str] = {}
    for i, reason in pre.items():
        vid = full.visits[i].visit_id
        pre_unassigned[vid] = _drop_reason(by_id[vid], dates, reason)
    problem = subset(full, [i for i in range(full.num_visits) if i not in pre])
    del full  # its matrices, when subset copied them: not kept twice
    logger.info(
        "solving %d visits over %d days with %d agent-days",
        problem.num_visits,
        len(dates),
        len(day_agents),
    )
    # OR-Tools cannot even read a start of this model in its budget (20 s per start at
    # 2,000 visits / 180 agent-days, and it fails): both searches are ruin-and-recreate.
    solve_settings = replace(
        settings, solver=replace(settings.solver, main_search="lns", split_starts=True)
    )
    whole = solve_and_verify(
        problem, day_visits, pre_unassigned, solve_settings, travel, date=dates[0]
    )
    if consolidate_areas:
        whole = _consolidated(whole, problem, day_visits, pre_unassigned, settings, dates)
    for u in whole.unassigned:
        if u.visit_id not in pre_unassigned:
            reasons[u.visit_id] = _drop_reason(by_id[u.visit_id], dates, u.reason)
        else:
            reasons[u.visit_id] = u.reason
    by_day = reorder_days(whole.routes, agents, by_id, dates, fixed, stay)
    placed: dict[str, HorizonEntry] = {}
    days = []
    for d in dates:
        routes = by_day[d]
        served = [by_id[s.visit_id] for r in routes for s in r.stops]
        working = [a for a in agents if a.works_on(d)]
        day = _verified_day(
            Plan(d, whole.timezone, tuple(routes), (), whole.solver, whole.travel),
            served,
            working,
            settings,
            travel,
        )
        days.append(day)
        for r in routes:
            for s in r.stops:
                placed[s.visit_id] = HorizonEntry(s.visit_id, d, r.agent_id, s.start_s)
    entries = tuple(
        placed.get(v.visit_id)
        or HorizonEntry(v.visit_id, None, None, None, reasons.get(v.visit_id, "not planned"))
        for v in visits
    )
    return HorizonPlan(dates, tuple(days), entries)


#: Above this many days, the route-to-day permutation search is skipped (7! = 5040).
_MAX_PERMUTED_DAYS = 7


def day_cost(visits: Sequence[Visit], day: dt.date, dates: Sequence[dt.date]) -> tuple[int, int]:
    """(urgency, preference) cost of serving ``visits`` on ``day``; lower is better.

    Urgency: each day later costs a visit due inside the horizon more the sooner it
    is due. Preference: a visit with preferred weekdays served on another weekday.
    """
    k = dates.index(day)
    urgency = 0
    missed = 0
    for v in visits:
        if v.due_date is not None and v.due_date <= dates[-1]:
            due_k = sum(1 for d in dates if d <= v.due_date) - 1
            urgency += k * (len(dates) - due_k)
        if v.preferred_days and day.weekday() not in v.preferred_days:
            missed += 1
    return urgency, missed


def reorder_days(
    routes: Sequence[Route],
    agents: Sequence[Agent],
    by_id: Mapping[str, Visit],
    dates: Sequence[dt.date],
    fixed: Collection[dt.date] = (),
    stay: Mapping[str, dt.date] | None = None,
) -> dict[dt.date, list[Route]]:
    """Each agent's day routes, moved between its working days for the soft day rules.

    A route depends on the day only through the date rules (the agent's shift and
    break are the same every day, times are seconds of the day), so giving a whole
    route to another working day keeps it feasible whenever every visit in it is
    allowed on that day. Per agent, the permutation with the lowest (urgency,
    preference) cost wins; ties keep the solver's days. Travel does not change.
    Routes on the ``fixed`` (published) days stay where they are, and so do visits
    held on their previous day (``stay``).
    """
    out: dict[dt.date, list[Route]] = {d: [] for d in dates}
    for agent in agents:
        own: dict[dt.date, Route | None] = {}
        for d in dates:
            if agent.works_on(d):
                vid = _vehicle_id(agent.agent_id, d)
                r = next((x for x in routes if x.agent_id == vid), None)
                own[d] = replace(r, agent_id=agent.agent_id) if r is not None else None
        for d in fixed:
            r = own.pop(d, None)
            if r is not None:
                out[d].append(r)
        work = list(own)
        current = [own[d] for d in work]

        best, best_cost = current, _order_cost(work, current, by_id, dates, stay or {})
        if len(work) <= _MAX_PERMUTED_DAYS and any(r is not None for r in current):
            for order in itertools.permutations(current):
                c = _order_cost(work, order, by_id, dates, stay or {})
                if c is not None and best_cost is not None and c < best_cost:
                    best, best_cost = list(order), c
        for d, r in zip(work, best, strict=True):
            if r is not None:
                out[d].append(r)
    return out


def _order_cost(
    work: Sequence[dt.date],
    order: Sequence[Route | None],
    by_id: Mapping[str, Visit],
    dates: Sequence[dt.date],
    stay: Mapping[str, dt.date],
) -> tuple[int, int] | None:
    """Cost of giving ``order[k]`` to ``work[k]``; None when a date rule forbids it."""
    total = (0, 0)
    for d, r in zip(work, order, strict=True):
        if r is None:
            continue
        vs = [by_id[s.visit_id] for s in r.stops]
        if not all(v.allowed_on(d) and stay.get(v.visit_id, d) == d for v in vs):
            return None
        c = day_cost(vs, d, dates)
        total = (total[0] + c[0], total[1] + c[1])
    return total


def _verified_day(
    plan: Plan,
    visits: Sequence[Visit],
    agents: Sequence[Agent],
    settings: Settings,
    travel: TravelProvider,
) -> DayPlan:
    """The day's share of the horizon, checked against that day's own problem."""
    problem = build_problem(visits, agents, travel)
    violations = check_plan(plan, visits, problem)
    for r in plan.routes:
        agent = next(a for a in agents if a.agent_id == r.agent_id)
        for s in r.stops:
            v = next(x for x in visits if x.visit_id == s.visit_id)
            if not v.allowed_on(plan.date) or not agent.works_on(plan.date) or not agent.can_do(v):
                violations.append(
                    f"{v.visit_id} is not allowed with {agent.agent_id} on {plan.date}"
                )
    if violations:
        raise VerificationError(violations)
    lines = route_lines(problem, plan, travel)
    return DayPlan(plan, tuple(visits), tuple(agents), problem, settings, route_lines=lines)


#: Side of the square cells that make an "area" for the area-days rule, in km.
AREA_KM = 2.0


def area_of(point: GeoPoint) -> tuple[int, int]:
    """The area cell of ``point`` (squares of :data:`AREA_KM`)."""
    lat_km = point.lat * 111.2
    lon_km = point.lon * 111.2 * math.cos(math.radians(point.lat))
    return math.floor(lat_km / AREA_KM), math.floor(lon_km / AREA_KM)


def area_days(days: Sequence[DayPlan]) -> int:
    """Sum over agents and areas of the days on which the agent works in that area."""
    used: set[tuple[str, tuple[int, int], dt.date]] = set()
    for day in days:
        where = {v.visit_id: v.location for v in day.visits}
        for r in day.plan.routes:
            for s in r.stops:
                point = where.get(s.visit_id)
                if point is not None:
                    used.add((r.agent_id, area_of(point), day.plan.date))
    return len(used)


def _consolidated(
    whole: Plan,
    problem: RoutingProblem,
    day_visits: Sequence[Visit],
    pre_unassigned: Mapping[str, str],
    settings: Settings,
    dates: Sequence[dt.date],
) -> Plan:
    """The soft rule below due dates and preferred days, above travel: fewer area days.

    Per agent and area, the visits of a day that is not the agent's busiest day in the
    area move to that day's route, all of them or none (only then is a day saved), each
    where it fits best, and only when no visit moves later against its due date or off
    a preferred day. The moved plan is verified again; on any doubt the solver's stays.
    """
    index = problem.visit_index()
    vehicle = {a.agent_id: k for k, a in enumerate(problem.agents)}
    routes: list[list[int]] = [[] for _ in problem.agents]
    for r in whole.routes:
        routes[vehicle[r.agent_id]] = [index[s.visit_id] for s in r.stops]
    ins = Insertion(problem)
    if not ins.load(routes):
        return whole
    agent_day = [
        (
            a.agent_id.rsplit(_DAY_SEP, 1)[0],
            dt.date.fromisoformat(a.agent_id.rsplit(_DAY_SEP, 1)[1]),
        )
        for a in problem.agents
    ]
    vehicles_of: dict[str, dict[dt.date, int]] = {}
    for k, (agent_id, day) in enumerate(agent_day):
        vehicles_of.setdefault(agent_id, {})[day] = k
    moved = 0
    before_days, before_travel = _area_days_of(ins, problem, agent_day), ins.travel_s()
    for own in vehicles_of.values():
        cells: dict[tuple[int, int], dict[dt.date, list[int]]] = {}
        for day, k in own.items():
            for u in ins.routes[k].nodes[1:-1]:
                point = problem.visits[u].location
                if point is not None:
                    cells.setdefault(area_of(point), {}).setdefault(day, []).append(u)
        for by_day in cells.values():
            if len(by_day) < 2:
                continue
            target = max(by_day, key=lambda d: (len(by_day[d]), -d.toordinal()))
            for day, us in sorted(by_day.items()):
                if day == target:
                    continue
                if any(
                    day_cost([problem.visits[u]], target, dates)
                    > day_cost([problem.visits[u]], day, dates)
                    for u in us
                ):
                    continue
                before = ins.snapshot()
                if all(ins.relocate(u, own[target]) for u in us):
                    moved += len(us)
                    by_day[target] += us
                else:
                    ins.restore(before)
    if not moved:
        return whole
    assignment = lns_assignment(problem, ins.visits(), settings.solver, whole.solver.wall_s)
    plan = build_plan(
        problem,
        replace(assignment, status=whole.solver.status),
        pre_unassigned,
        date=whole.date,
        timezone=whole.timezone,
        solver=whole.solver,
        travel=whole.travel,
        visit_order=[v.visit_id for v in day_visits],
    )
    if check_plan(plan, day_visits, problem) or len(plan.assigned_ids) != len(whole.assigned_ids):
        logger.warning("the area pass gave a plan the verifier refused; the solver's plan stays")
        return whole
    logger.info(
        "area pass: %d visits moved to their agent's busiest day in their area; "
        "area-days %d -> %d, travel %d -> %d s",
        moved,
        before_days,
        _area_days_of(ins, problem, agent_day),
        before_travel,
        ins.travel_s(),
    )
    return plan


def _area_days_of(
    ins: Insertion, problem: RoutingProblem, agent_day: Sequence[tuple[str, dt.date]]
) -> int:
    return len(
        {
            (*agent_day[r.agent], area_of(point))
            for r in ins.routes
            for u in r.nodes[1:-1]
            if (point := problem.visits[u].location) is not None
        }
    )
