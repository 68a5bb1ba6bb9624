"""Generated field days (optimizer.bench.synthetic) solved by FieldRoute and the peers.

FieldRoute runs the product path (plan_day). The peers get the very RoutingProblem
plan_day solved (same visits after the precheck, same agents, same integer matrices).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from optimizer.bench.peers import PeerRoutes, RouteTotals, solve_pyvrp, solve_vroom, totals
from optimizer.bench.synthetic import make_agents, make_visits
from optimizer.domain import Agent, Visit
from optimizer.feasibility import precheck
from optimizer.pipeline import plan_day
from optimizer.problem import RoutingProblem, build_problem, subset
from optimizer.settings import Settings
from optimizer.solve.params import SolverSettings

DATE = dt.date(2026, 12, 1)


@dataclass(frozen=True, slots=True)
class DayResult:
    day: str
    engine: str
    served: int
    served_priority: int
    travel_min: float
    wall_s: float
    routes: int
    verified: bool
    note: str = ""
    peak_mb: float = 0.0


def make_day(
    n_visits: int, n_agents: int, seed: int
) -> tuple[tuple[Visit, ...], tuple[Agent, ...]]:
    agents = make_agents(n_agents, seed=seed)
    return make_visits(n_visits, agents, seed=seed), agents


def day_problem(visits: tuple[Visit, ...], agents: tuple[Agent, ...]) -> RoutingProblem:
    """What plan_day hands the solver: the precheck's certain drops removed."""
    full = build_problem(visits, agents, Settings().travel.model())
    reasons = precheck(full)
    return subset(full, [i for i in range(full.num_visits) if i not in reasons])


def run_fieldroute(name: str, n: int, k: int, seed: int, solver: SolverSettings) -> DayResult:
    visits, agents = make_day(n, k, seed)
    began = time.perf_counter()
    day = plan_day(visits, agents, Settings(solver=solver), date=DATE)
    wall = time.perf_counter() - began
    node = day.problem.visit_index()
    served = [node[vid] for vid in day.plan.assigned_ids]
    return DayResult(
        day=name,
        engine="fieldroute",
        served=len(served),
        served_priority=sum(day.problem.visits[i].priority for i in served),
        travel_min=sum(r.travel_s for r in day.plan.routes) / 60,
        wall_s=wall,
        routes=len(day.plan.routes),
        verified=True,  # plan_day raises VerificationError otherwise
        note=f"{solver.workers} worker(s)",
    )


def run_peer(name: str, n: int, k: int, seed: int, engine: str, limit_s: float) -> DayResult:
    visits, agents = make_day(n, k, seed)
    problem = day_problem(visits, agents)
    result: PeerRoutes
    if engine == "vroom":
        result = solve_vroom(problem, limit_s)
        note = result.note
    else:
        result = solve_pyvrp(problem, limit_s, required=False)
        note = "relaxed: no breaks, skills, pins, max visits " + result.note
    t: RouteTotals = totals(problem, result.routes)
    return DayResult(
        day=name,
        engine=engine,
        served=t.served,
        served_priority=t.served_priority,
        travel_min=t.travel_s / 60,
        wall_s=result.wall_s,
        routes=t.routes,
        verified=False,
        note=note.strip(),
    )
