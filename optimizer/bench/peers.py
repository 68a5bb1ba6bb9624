"""The peer engines on FieldRoute's own RoutingProblem: same nodes, same integer matrix.

VROOM (pyvroom) maps everything FieldRoute models: skills and pins (as skills),
breaks, windows, shifts, priorities, max visits, capacity, one matrix per travel mode.
PyVRP maps windows, shifts, capacity, travel modes (profiles) and optional visits
with prizes; it has no breaks, skills, pins or max visits, so on field days it solves
a relaxation (it may serve more than any valid plan could). Imports are lazy: these
are bench-only extras.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np

from optimizer.domain import MAX_TIME_S, Mode, TimeWindow
from optimizer.problem import RoutingProblem
from optimizer.solve.ortools import drop_penalty_unit


@dataclass(frozen=True, slots=True)
class PeerRoutes:
    """Visit indices per agent index (empty list when unused) and the engine's wall time."""

    routes: tuple[tuple[int, ...], ...]
    wall_s: float
    note: str = ""
    #: Seconds out (return - departure) per agent index with a route, where the engine
    #: reports its schedule (VROOM).
    spans: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RouteTotals:
    served: int
    served_priority: int
    travel_s: int
    routes: int


def totals(problem: RoutingProblem, routes: Sequence[Sequence[int]]) -> RouteTotals:
    """Served visits, served priority and travel (the agent's own mode matrix)."""
    travel = 0
    for a, r in enumerate(routes):
        if not r:
            continue
        path = [problem.start_node(a), *r, problem.end_node(a)]
        travel += sum(problem.travel_s(a, i, j) for i, j in pairwise(path))
    served = [i for r in routes for i in r]
    return RouteTotals(
        served=len(served),
        served_priority=sum(problem.visits[i].priority for i in served),
        travel_s=travel,
        routes=sum(1 for r in routes if r),
    )


def solve_vroom(
    problem: RoutingProblem, time_limit_s: float | None, *, exploration: int = 5, threads: int = 2
) -> PeerRoutes:
    """VROOM on the same matrix; priorities as VROOM priorities (maximised first).

    Two threads by default: FieldRoute runs two searches on the two cores, so the peer
    gets the same CPU. ``time_limit_s`` None lets VROOM run until its search ends (its
    unbounded best, reported beside the bounded run).
    """
    import datetime as dt

    import vroom  # bench-only dependency

    began = time.perf_counter()
    inp = vroom.Input()
    modes = sorted({a.mode for a in problem.agents})
    for mode in modes:
        inp.set_durations_matrix(
            profile=mode.value, matrix_input=problem.matrices[mode].seconds.astype(np.uint32)
        )
    skill_ids: dict[str, int] = {}

    def sid(name: str) -> int:
        return skill_ids.setdefault(name, len(skill_ids) + 1)

    with_capacity = any(a.capacity is not None for a in problem.agents) or any(
        v.demand for v in problem.visits
    )
    total_demand = sum(v.demand for v in problem.visits)
    for a, agent in enumerate(problem.agents):
        skills = {sid(s) for s in agent.skills} | {sid(f"pin:{agent.agent_id}")}
        breaks = []
        if agent.break_rule is not None:
            w = agent.break_rule.window
            breaks.append(
                vroom.Break(
                    a + 1,
                    time_windows=[vroom.TimeWindow(w.start_s, w.end_s)],
                    service=agent.break_rule.duration_s,
                )
            )
        kwargs: dict[str, Any] = {}
        if agent.max_visits is not None:
            kwargs["max_tasks"] = agent.max_visits
        if with_capacity:
            cap = agent.capacity if agent.capacity is not None else total_demand
            kwargs["capacity"] = [cap]
        inp.add_vehicle(
            vroom.Vehicle(
                a + 1,
                start=problem.start_node(a),
                end=problem.end_node(a),
                profile=agent.mode.value,
                skills=skills,
                time_window=vroom.TimeWindow(agent.shift.start_s, agent.shift.end_s),
                breaks=breaks,
                **kwargs,
            )
        )
    for i, v in enumerate(problem.visits):
        skills = {sid(s) for s in v.skills}
        if v.pinned_agent is not None:
            skills.add(sid(f"pin:{v.pinned_agent}"))
        job_kwargs: dict[str, Any] = {}
        if v.window is not None:
            job_kwargs["time_windows"] = [vroom.TimeWindow(v.window.start_s, v.window.end_s)]
        if with_capacity:
            job_kwargs["delivery"] = vroom.Amount([v.demand])
        inp.add_job(
            vroom.Job(
                i + 1,
                location=i,
                default_service=v.duration_s,
                skills=skills,
                priority=min(100, v.priority),
                **job_kwargs,
            )
        )
    solution = inp.solve(
        exploration_level=exploration,
        nb_threads=threads,
        timeout=None if time_limit_s is None else dt.timedelta(seconds=time_limit_s),
    )
    wall = time.perf_counter() - began
    frame = solution.routes
    jobs = frame[frame["type"] == "job"]
    by_agent: dict[int, list[int]] = {}
    for vehicle_id, job_id in zip(jobs["vehicle_id"], jobs["id"], strict=True):
        by_agent.setdefault(int(vehicle_id) - 1, []).append(int(job_id) - 1)
    routes = tuple(tuple(by_agent.get(a, ())) for a in range(len(problem.agents)))
    spans: dict[int, int] = {}
    ends = frame[frame["type"].isin(["start", "end"])]
    for vehicle_id, kind, arrival in zip(
        ends["vehicle_id"], ends["type"], ends["arrival"], strict=True
    ):
        a = int(vehicle_id) - 1
        if by_agent.get(a):
            sign = 1 if kind == "end" else -1
            spans[a] = spans.get(a, 0) + sign * int(arrival)
    return PeerRoutes(
        routes, wall, note=f"exploration {exploration}, {threads} thread(s)", spans=spans
    )


def solve_pyvrp(
    problem: RoutingProblem, time_limit_s: float, *, required: bool, seed: int = 0
) -> PeerRoutes:
    """PyVRP (HGS) on the same matrix. Agents alike in all but name share a vehicle type.

    ``required=False`` makes every visit optional with a prize of priority times the
    product's drop penalty unit (served priority first, as FieldRoute). Breaks, skills,
    pins and max visits are not modelled (PyVRP has no such constraints).
    """
    import pyvrp  # bench-only dependency
    from pyvrp.stop import MaxRuntime

    began = time.perf_counter()
    modes = sorted({a.mode for a in problem.agents})
    locations = [pyvrp.Location(x=round(p.lon * 1e5), y=round(p.lat * 1e5)) for p in problem.points]
    # Depots: one per distinct (start node point, end node point) place.
    depot_of_point: dict[object, int] = {}
    depots: list[pyvrp.Depot] = []
    types: dict[tuple[int, int, TimeWindow, int | None, Mode], list[int]] = {}
    for a, agent in enumerate(problem.agents):
        ends: list[int] = []
        for node in (problem.start_node(a), problem.end_node(a)):
            p = problem.points[node]
            if p not in depot_of_point:
                depot_of_point[p] = len(depots)
                depots.append(pyvrp.Depot(location=node))
            ends.append(depot_of_point[p])
        key = (ends[0], ends[1], agent.shift, agent.capacity, agent.mode)
        types.setdefault(key, []).append(a)
    with_capacity = any(a.capacity is not None for a in problem.agents) or any(
        v.demand for v in problem.visits
    )
    total_demand = sum(v.demand for v in problem.visits)
    unit = drop_penalty_unit(problem)
    clients = []
    for i, v in enumerate(problem.visits):
        w = problem.window(i)
        clients.append(
            pyvrp.Client(
                location=i,
                delivery=[v.demand] if with_capacity else [],
                service_duration=v.duration_s,
                tw_early=w.start_s,
                tw_late=min(w.end_s, MAX_TIME_S),
                prize=0 if required else unit * v.priority,
                required=required,
            )
        )
    vehicle_types = []
    members: list[list[int]] = []
    for (start_depot, end_depot, shift, capacity, mode), group in types.items():
        cap = capacity if capacity is not None else total_demand
        vehicle_types.append(
            pyvrp.VehicleType(
                num_available=len(group),
                capacity=[cap] if with_capacity else [],
                start_depot=start_depot,
                end_depot=end_depot,
                tw_early=shift.start_s,
                tw_late=shift.end_s,
                profile=modes.index(mode),
            )
        )
        members.append(group)
    mats: list[Any] = [problem.matrices[m].seconds.astype(np.int64) for m in modes]
    data = pyvrp.ProblemData(
        locations=locations,
        clients=clients,
        depots=depots,
        vehicle_types=vehicle_types,
        distance_matrices=mats,
        duration_matrices=mats,
    )
    result = pyvrp.solve(data, stop=MaxRuntime(time_limit_s), seed=seed, display=False)
    wall = time.perf_counter() - began
    routes: list[tuple[int, ...]] = [() for _ in problem.agents]
    if result.best.is_feasible():
        used = [0] * len(members)
        for route in result.best.routes():
            t = route.vehicle_type()
            who = members[t][used[t]]
            used[t] += 1
            routes[who] = tuple(int(act.idx) for act in route if act.is_client())
    note = "" if result.best.is_feasible() else "no feasible solution"
    return PeerRoutes(tuple(routes), wall, note=note)
