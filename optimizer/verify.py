"""Independent check of a plan against the inputs and the travel matrix alone.

Nothing here trusts the solver's accounting: times are recomputed leg by leg from the
matrix and the visits' durations, then every constraint is checked again. A plan that
fails here is a bug in FieldRoute, never the user's fault.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from optimizer.clock import format_hhmm as hm
from optimizer.domain import Agent, Visit
from optimizer.plan import Plan, Route
from optimizer.problem import RoutingProblem
from optimizer.timing import Leg, leg_arrival, owes_break


@dataclass(frozen=True, slots=True)
class Facts:
    """What happened in the field, which a re-planned day must take as given.

    ``starts``: visit id -> the start that stands (reported, or past and held as done);
    such a stop may have started outside its window or sooner than the matrix allows
    (the agent was late, or quicker), but it must start exactly then. ``legs``: visit
    id -> the leg into it when the agent left from elsewhere than the previous stop (a
    failed visit, an ``agent_at`` position).
    """

    starts: Mapping[str, int] = field(default_factory=dict)
    legs: Mapping[str, Leg] = field(default_factory=dict)
    #: Agents whose reported day left no room for the break they owed (reported as such).
    missed_breaks: frozenset[str] = frozenset()
    #: Agents whose reported day runs past the shift end (a visit reported ending so
    #: late that the way back cannot make it): they may come back late, but only when
    #: every stop of the route stands and they head straight back.
    late_returns: frozenset[str] = frozenset()


def check_plan(
    plan: Plan, visits: Sequence[Visit], problem: RoutingProblem, *, facts: Facts | None = None
) -> list[str]:
    """Every violation found, as sentences; an empty list means the plan is valid.

    ``visits`` are all input visits (located or not); ``problem`` supplies the agents
    and the matrices over the located ones; ``facts`` what a re-plan holds as done.
    A route out while its agent's break window passes must hold the break.
    """
    facts = facts or Facts()
    errors = check_accounting(plan, visits)
    errors += _check_agents_once(plan)
    agent_index = {a.agent_id: k for k, a in enumerate(problem.agents)}
    errors += [
        f"route for unknown agent {r.agent_id}"
        for r in plan.routes
        if r.agent_id not in agent_index
    ]
    return errors + _check_routes(plan, problem, facts)


def check_regions(
    plan: Plan, visits: Sequence[Visit], regions: Iterable[tuple[str, RoutingProblem]]
) -> list[str]:
    """The whole day as one plan, with the matrices of one region at a time.

    A day solved by regions has a block-diagonal travel matrix: a region's block is its
    own matrix, and every cross-region entry is "never" (no agent may cross). So the
    day is checked as one plan (every input visit exactly once across all regions, one
    route per agent), each route against its region's block as :func:`check_plan` does,
    and any stop outside the block of its agent's region is a cross-region assignment.
    ``regions`` are (name, problem) pairs and may come from a generator building each
    block when asked: only one block exists at a time, never the national matrix.
    """
    errors = check_accounting(plan, visits)
    errors += _check_agents_once(plan)
    region_of_agent: dict[str, str] = {}
    region_of_visit: dict[str, str] = {}
    for k, problem in regions:
        for a in problem.agents:
            if a.agent_id in region_of_agent:
                errors.append(
                    f"agent {a.agent_id} is in regions {region_of_agent[a.agent_id]} and {k}"
                )
            region_of_agent.setdefault(a.agent_id, k)
        for v in problem.visits:
            if v.visit_id in region_of_visit:
                errors.append(
                    f"visit {v.visit_id} is in regions {region_of_visit[v.visit_id]} and {k}"
                )
            region_of_visit.setdefault(v.visit_id, k)
        mine = {a.agent_id for a in problem.agents}
        node_of = problem.visit_index()
        inside = []
        for route in plan.routes:
            if route.agent_id not in mine:
                continue
            crossing = [s.visit_id for s in route.stops if s.visit_id not in node_of]
            if crossing:
                errors.append(
                    f"{route.agent_id} (region {k}): cross-region assignment of {crossing}"
                )
            else:
                inside.append(route)
        errors += _check_routes(replace(plan, routes=tuple(inside)), problem)
    errors += [
        f"route for agent {r.agent_id}, who is in no region"
        for r in plan.routes
        if r.agent_id not in region_of_agent
    ]
    return errors


def _check_agents_once(plan: Plan) -> list[str]:
    seen_agents: Counter[str] = Counter(r.agent_id for r in plan.routes)
    return [f"agent {a} has {n} routes" for a, n in seen_agents.items() if n > 1]


def _check_routes(plan: Plan, problem: RoutingProblem, facts: Facts | None = None) -> list[str]:
    """Each route of an agent of ``problem`` against its matrices (others are skipped)."""
    errors: list[str] = []
    node_of = problem.visit_index()
    agent_index = {a.agent_id: k for k, a in enumerate(problem.agents)}
    for route in plan.routes:
        if route.agent_id not in agent_index:
            continue
        missing = [s.visit_id for s in route.stops if s.visit_id not in node_of]
        if missing:
            errors.append(f"{route.agent_id}: visits without a location in a route: {missing}")
            continue
        errors += _check_route(
            route, agent_index[route.agent_id], problem, node_of, facts or Facts()
        )
    return errors


def check_accounting(plan: Plan, visits: Sequence[Visit]) -> list[str]:
    """Every input visit exactly once: in one route or in unassigned with a reason."""
    errors = []
    counts = Counter(s.visit_id for r in plan.routes for s in r.stops)
    counts.update(u.visit_id for u in plan.unassigned)
    known = {v.visit_id for v in visits}
    for vid in sorted(known):
        if counts[vid] != 1:
            errors.append(
                f"visit {vid} appears {counts[vid]} times (routes + unassigned); expected once"
            )
    errors += [f"unknown visit {vid} in the plan" for vid in sorted(set(counts) - known)]
    errors += [
        f"unassigned visit {u.visit_id} has no reason"
        for u in plan.unassigned
        if not u.reason.strip()
    ]
    return errors


def _check_route(
    route: Route, a: int, problem: RoutingProblem, node_of: Mapping[str, int], facts: Facts
) -> list[str]:
    agent: Agent = problem.agents[a]
    who = agent.agent_id
    errors: list[str] = []
    stops = route.stops
    if not stops:
        return [f"{who}: empty route listed"]
    if [s.seq for s in stops] != list(range(1, len(stops) + 1)):
        errors.append(f"{who}: stop numbers are not 1..{len(stops)}")
    if agent.max_visits is not None and len(stops) > agent.max_visits:
        errors.append(f"{who}: {len(stops)} visits, more than max_visits {agent.max_visits}")
    load = sum(problem.visits[node_of[s.visit_id]].demand for s in stops)
    if agent.capacity is not None and load > agent.capacity:
        errors.append(f"{who}: load {load} over capacity {agent.capacity}")
    if route.depart_s < agent.shift.start_s:
        errors.append(
            f"{who}: leaves at {hm(route.depart_s)}, before the shift starts {hm(agent.shift.start_s)}"
        )
    brk = (route.break_start_s, route.break_end_s)
    if who not in facts.missed_breaks:
        errors += _check_break(route, agent)
    busy: list[tuple[int, int]] = []  # service intervals, for the break check
    mode_m = problem.matrices[agent.mode]
    prev_node, prev_end = problem.start_node(a), route.depart_s
    for stop in stops:
        node = node_of[stop.visit_id]
        visit = problem.visits[node]
        tag = f"{who} stop {stop.seq} ({stop.visit_id})"
        if not agent.can_do(visit):
            errors.append(
                f"{tag}: agent lacks skills {sorted(visit.skills - agent.skills)} or is not the pinned agent"
            )
        if node in mode_m.unreachable:
            errors.append(f"{tag}: {agent.mode} cannot reach it ({mode_m.unreachable[node]})")
        travel, metres = int(mode_m.seconds[prev_node, node]), int(mode_m.metres[prev_node, node])
        if (leg := facts.legs.get(stop.visit_id)) is not None:
            travel, metres, prev_end = leg.travel_s, leg.distance_m, leg.leave_s
        if stop.travel_s != travel or stop.distance_m != metres:
            errors.append(
                f"{tag}: leg is {stop.travel_s} s / {stop.distance_m} m; the matrix says {travel} s"
            )
        arrive = leg_arrival(prev_end, travel, *brk)
        reported = facts.starts.get(stop.visit_id)
        if reported is not None:
            arrive = min(arrive, reported)
            if stop.start_s != reported:
                errors.append(f"{tag}: starts {hm(stop.start_s)}, but it stands at {hm(reported)}")
        if stop.arrive_s != arrive:
            errors.append(f"{tag}: arrives {stop.arrive_s}, recomputed {arrive}")
        if stop.start_s < arrive:
            errors.append(f"{tag}: starts {hm(stop.start_s)} before arriving {hm(arrive)}")
        window = visit.window
        if reported is None and window is not None and not window.contains(stop.start_s):
            errors.append(
                f"{tag}: starts {hm(stop.start_s)}, outside its window {hm(window.start_s)}-{hm(window.end_s)}"
            )
        if stop.end_s != stop.start_s + visit.duration_s:
            errors.append(
                f"{tag}: lasts {stop.end_s - stop.start_s} s, expected {visit.duration_s} s"
            )
        busy.append((stop.start_s, stop.end_s))
        prev_node, prev_end = node, stop.end_s
    end_node = problem.end_node(a)
    back = int(mode_m.seconds[prev_node, end_node])
    if route.return_travel_s != back:
        errors.append(f"{who}: way back is {route.return_travel_s} s; the matrix says {back} s")
    earliest_back = leg_arrival(prev_end, back, *brk)
    if route.return_s < earliest_back:
        errors.append(f"{who}: back at {hm(route.return_s)}, before the way back allows")
    if route.return_s > agent.shift.end_s and not (
        who in facts.late_returns
        and all(s.visit_id in facts.starts for s in stops)
        and route.return_s == earliest_back
    ):
        # Late by the facts alone is a fact; late by anything planned is a bug.
        errors.append(
            f"{who}: back at {hm(route.return_s)}, after the shift ends {hm(agent.shift.end_s)}"
        )
    bs, be = brk
    if bs is not None and be is not None:
        for start, end in busy:
            if bs < end and start < be:
                errors.append(
                    f"{who}: break {hm(bs)}-{hm(be)} overlaps a visit {hm(start)}-{hm(end)}"
                )
    return errors


def _check_break(route: Route, agent: Agent) -> list[str]:
    rule = agent.break_rule
    who = agent.agent_id
    bs, be = route.break_start_s, route.break_end_s
    if rule is None:
        return [f"{who}: a break is planned but the agent has none"] if bs is not None else []
    ws, we = rule.window.start_s, rule.window.end_s
    if bs is None or be is None:
        if not owes_break(rule, route.depart_s, route.return_s):
            return []
        return [
            f"{who}: out from {hm(route.depart_s)} to {hm(route.return_s)} with no break in {hm(ws)}-{hm(we)}"
        ]
    errors = []
    if not ws <= bs <= we:
        errors.append(f"{who}: break starts {hm(bs)}, outside {hm(ws)}-{hm(we)}")
    if be - bs != rule.duration_s:
        errors.append(f"{who}: break lasts {be - bs} s, expected {rule.duration_s} s")
    if bs < route.depart_s or be > route.return_s:
        errors.append(
            f"{who}: break {hm(bs)}-{hm(be)} outside the route {hm(route.depart_s)}-{hm(route.return_s)}"
        )
    return errors
