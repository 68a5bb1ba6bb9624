"""The day plan as data: routes with timed stops, and every unassigned visit with why.

Renderers (exports, maps, the CLI table) are separate functions of a :class:`Plan`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from optimizer.domain import Visit
from optimizer.feasibility import able_agents
from optimizer.problem import RoutingProblem
from optimizer.solve.assignment import Assignment, RouteResult

NOT_ENOUGH_TIME = "not enough agent time today (lower priority than the visits served)"


@dataclass(frozen=True, slots=True)
class Stop:
    """One visit in a route. ``travel_s``/``distance_m`` are for the leg reaching it."""

    visit_id: str
    seq: int
    arrive_s: int
    start_s: int
    end_s: int
    travel_s: int
    distance_m: int

    @property
    def wait_s(self) -> int:
        return self.start_s - self.arrive_s


@dataclass(frozen=True, slots=True)
class Route:
    """One agent's day out: leave ``depart_s``, visit ``stops``, be back ``return_s``.

    Totals include the way back. A break lies in the route when the agent is out while
    its window passes; otherwise ``break_start_s`` is None (no break owed).
    """

    agent_id: str
    depart_s: int
    return_s: int
    stops: tuple[Stop, ...]
    return_travel_s: int
    return_distance_m: int
    break_start_s: int | None = None
    break_end_s: int | None = None

    @property
    def travel_s(self) -> int:
        return sum(s.travel_s for s in self.stops) + self.return_travel_s

    @property
    def distance_m(self) -> int:
        return sum(s.distance_m for s in self.stops) + self.return_distance_m


@dataclass(frozen=True, slots=True)
class Unassigned:
    visit_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class SolverInfo:
    engine: str
    status: str
    time_limit_s: float
    wall_s: float
    objective: int = 0
    #: Searches that gave nothing this run, with why (optimizer.solve.parallel).
    lost_searches: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    date: dt.date
    timezone: str
    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...]
    solver: SolverInfo
    travel: Mapping[str, Any] = field(default_factory=dict)

    def route_of(self, agent_id: str) -> Route | None:
        return next((r for r in self.routes if r.agent_id == agent_id), None)

    @property
    def assigned_ids(self) -> list[str]:
        return [s.visit_id for r in self.routes for s in r.stops]


def schedule_route(problem: RoutingProblem, result: RouteResult) -> Route:
    """Times for one route from the solver's service starts, recomputed leg by leg."""
    a = result.agent_index
    agent = problem.agents[a]
    brk_start = result.break_start_s
    brk_end = None
    if agent.break_rule is not None and brk_start is not None:
        brk_end = brk_start + agent.break_rule.duration_s
        if brk_end <= result.depart_s or brk_start >= result.return_s:
            brk_start = brk_end = None  # taken outside the working day: not owed
    stops: list[Stop] = []
    prev_node, prev_end = problem.start_node(a), result.depart_s
    for seq, (node, start) in enumerate(zip(result.visits, result.service_start_s, strict=True), 1):
        travel = problem.travel_s(a, prev_node, node)
        arrive = leg_arrival(prev_end, travel, brk_start, brk_end)
        end = start + problem.visits[node].duration_s
        stops.append(
            Stop(
                visit_id=problem.visits[node].visit_id,
                seq=seq,
                arrive_s=arrive,
                start_s=start,
                end_s=end,
                travel_s=travel,
                distance_m=problem.distance_m(a, prev_node, node),
            )
        )
        prev_node, prev_end = node, end
    end_node = problem.end_node(a)
    return Route(
        agent_id=agent.agent_id,
        depart_s=result.depart_s,
        return_s=result.return_s,
        stops=tuple(stops),
        return_travel_s=problem.travel_s(a, prev_node, end_node),
        return_distance_m=problem.distance_m(a, prev_node, end_node),
        break_start_s=brk_start,
        break_end_s=brk_end,
    )


def leg_arrival(leave_s: int, travel_s: int, brk_start: int | None, brk_end: int | None) -> int:
    """Arrival after a leg; a break that starts before the agent would arrive delays it."""
    arrive = leave_s + travel_s
    if brk_start is not None and brk_end is not None and leave_s <= brk_start < arrive:
        arrive += brk_end - brk_start
    return arrive


def build_plan(
    problem: RoutingProblem,
    assignment: Assignment,
    pre_unassigned: Mapping[str, str],
    *,
    date: dt.date,
    timezone: str,
    solver: SolverInfo,
    travel: Mapping[str, Any],
    visit_order: Sequence[str] = (),
) -> Plan:
    """Routes from the assignment; every dropped visit gets a reason.

    ``pre_unassigned`` holds visits removed before solving (not located, prechecked).
    ``visit_order`` lists all input ids, to keep the unassigned list in input order.
    """
    routes = tuple(schedule_route(problem, r) for r in assignment.routes if r.visits)
    unassigned = dict(pre_unassigned)
    for i in assignment.dropped:
        unassigned[problem.visits[i].visit_id] = drop_reason(problem, assignment, i)
    order = {vid: k for k, vid in enumerate(visit_order)}
    items = sorted(unassigned.items(), key=lambda kv: order.get(kv[0], len(order)))
    return Plan(
        date=date,
        timezone=timezone,
        routes=routes,
        unassigned=tuple(Unassigned(vid, reason) for vid, reason in items),
        solver=solver,
        travel=dict(travel),
    )


def drop_reason(problem: RoutingProblem, assignment: Assignment, i: int) -> str:
    """Why the solver left a feasible-looking visit out, as exactly as we can say."""
    visit: Visit = problem.visits[i]
    able = able_agents(problem, i)
    by_agent = {r.agent_index: r for r in assignment.routes}
    agents = problem.agents

    def at_limit(a: int) -> bool:
        limit = agents[a].max_visits
        return limit is not None and len(by_agent[a].visits) >= limit

    def no_room(a: int) -> bool:
        cap = agents[a].capacity
        load = sum(problem.visits[j].demand for j in by_agent[a].visits)
        return cap is not None and load + visit.demand > cap

    if able and all(at_limit(a) for a in able):
        return "every able agent already has their max_visits"
    if visit.demand and all(no_room(a) for a in able):
        return "no able agent has capacity left for its demand"
    served_priorities = [problem.visits[j].priority for a in able for j in by_agent[a].visits]
    if served_priorities and visit.priority <= min(served_priorities):
        return NOT_ENOUGH_TIME
    if not served_priorities:
        return "no able agent can fit it into their shift around breaks and appointments"
    return (
        "not enough agent time today: fitting it would push out visits of the same or "
        "higher priority or break their appointment windows"
    )
