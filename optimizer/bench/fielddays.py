"""Generated field days (optimizer.bench.synthetic) solved by FieldRoute and the peers.

FieldRoute runs the product path (plan_day). The peers get the very RoutingProblem
plan_day solved (same visits after the precheck, same agents, same integer matrices).

Two kinds of day: ``city`` days in Chengdu on the straight-line model, and ``road``
days whose visits and bases sit at real addresses of the Liechtenstein extract shipped
in data/liechtenstein, timed by OSRM (the data is prepared on first use into
``.bench/roads``, as ``python -m optimizer.bench.roads`` does).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass, replace
from pathlib import Path

from optimizer.bench.peers import PeerRoutes, RouteTotals, solve_pyvrp, solve_vroom, totals
from optimizer.bench.synthetic import CHENGDU, City, make_agents, make_visits
from optimizer.domain import Agent, GeoPoint, Visit
from optimizer.feasibility import precheck
from optimizer.pipeline import plan_day
from optimizer.problem import RoutingProblem, build_problem, subset
from optimizer.settings import Settings
from optimizer.solve.params import SolverSettings
from optimizer.travel.base import TravelProvider

DATE = dt.date(2026, 12, 1)
ROOT = Path(__file__).resolve().parents[2]
EXTRACT = ROOT / "data" / "liechtenstein" / "liechtenstein.osm.pbf"
ROAD_DIR = ROOT / ".bench" / "roads"
VADUZ = City("Vaduz", GeoPoint(47.1410, 9.5209), 8.0)


@dataclass(frozen=True, slots=True)
class FieldDay:
    """A benchmark day: size, the time limit it is run at, and where it lies."""

    label: str
    visits: int
    agents: int
    limit_s: float
    kind: str = "city"  # "city": Chengdu, straight-line; "road": Liechtenstein, OSRM


#: The days ``make bench`` runs (issue 16): a small road day, then the city days.
FIELD_DAYS = (
    FieldDay("80/5", 80, 5, 5.0, "road"),
    FieldDay("300/15", 300, 15, 10.0),
    FieldDay("1000/50", 1000, 50, 60.0),
    FieldDay("1500/60", 1500, 60, 60.0),
)
DAYS_BY_LABEL = {d.label: d for d in FIELD_DAYS}


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
    #: max / min share of shift used over the agents with a route (1.0: even).
    utilisation_ratio: float = 0.0


def make_day(
    n_visits: int, n_agents: int, seed: int, kind: str = "city"
) -> tuple[tuple[Visit, ...], tuple[Agent, ...]]:
    """The day's visits and agents; a road day moves every place onto a real address."""
    city = VADUZ if kind == "road" else CHENGDU
    agents = make_agents(n_agents, seed=seed, city=city)
    visits = make_visits(n_visits, agents, seed=seed, city=city)
    if kind != "road":
        return visits, agents
    from optimizer.travel.extract import address_points

    places = random.Random(seed).sample(address_points(EXTRACT), n_visits + n_agents)
    visits = tuple(replace(v, location=p) for v, p in zip(visits, places, strict=False))
    agents = tuple(replace(a, start=p) for a, p in zip(agents, places[n_visits:], strict=True))
    return visits, agents


def day_travel(kind: str) -> TravelProvider:
    """Straight-line for city days; OSRM on the Liechtenstein extract for road days."""
    if kind != "road":
        return Settings().travel.model()
    from optimizer.travel.osrm import OsrmProvider
    from optimizer.travel.prepare import ensure_roads

    data = ensure_roads(EXTRACT, ("car", "bicycle"), ROAD_DIR)
    return OsrmProvider(data, fallback=Settings().travel.model())


def day_problem(
    visits: tuple[Visit, ...], agents: tuple[Agent, ...], travel: TravelProvider | None = None
) -> RoutingProblem:
    """What plan_day hands the solver: the precheck's certain drops removed."""
    full = build_problem(visits, agents, travel or Settings().travel.model())
    reasons = precheck(full)
    return subset(full, [i for i in range(full.num_visits) if i not in reasons])


def utilisation_ratio(problem: RoutingProblem, spans: dict[int, int]) -> float:
    """max / min of (time out / shift length) over agents with a route (0: none)."""
    shares = [
        spans[a] / max(1, problem.agents[a].shift.end_s - problem.agents[a].shift.start_s)
        for a in spans
    ]
    return max(shares) / max(min(shares), 1e-9) if shares else 0.0


def run_fieldroute(name: str, day: FieldDay, seed: int, solver: SolverSettings) -> DayResult:
    """The product path on one day; a verifier rejection is raised as VerificationError."""
    visits, agents = make_day(day.visits, day.agents, seed, day.kind)
    travel = day_travel(day.kind)
    began = time.perf_counter()
    planned = plan_day(visits, agents, Settings(solver=solver), date=DATE, travel=travel)
    wall = time.perf_counter() - began
    problem = planned.problem
    node = problem.visit_index()
    served = [node[vid] for vid in planned.plan.assigned_ids]
    agent_index = {a.agent_id: k for k, a in enumerate(problem.agents)}
    spans = dict.fromkeys(range(len(problem.agents)), 0)
    for r in planned.plan.routes:
        spans[agent_index[r.agent_id]] = r.return_s - r.depart_s
    return DayResult(
        day=name,
        engine="fieldroute",
        served=len(served),
        served_priority=sum(problem.visits[i].priority for i in served),
        travel_min=sum(r.travel_s for r in planned.plan.routes) / 60,
        wall_s=wall,
        routes=len(planned.plan.routes),
        verified=True,  # plan_day raises VerificationError otherwise
        note=f"{solver.workers} worker(s)",
        utilisation_ratio=utilisation_ratio(problem, spans),
    )


def run_peer(
    name: str, day: FieldDay, seed: int, engine: str, limit_s: float | None, threads: int = 2
) -> DayResult:
    """A peer on the day plan_day would solve; ``limit_s`` None: VROOM until it stops."""
    visits, agents = make_day(day.visits, day.agents, seed, day.kind)
    problem = day_problem(visits, agents, day_travel(day.kind))
    result: PeerRoutes
    if engine == "vroom":
        result = solve_vroom(problem, limit_s, threads=threads)
        note = result.note
    else:
        result = solve_pyvrp(problem, limit_s or day.limit_s, required=False)
        note = "relaxed: no breaks, skills, pins, max visits " + result.note
    t: RouteTotals = totals(problem, result.routes)
    spans = {k: result.spans.get(k, 0) for k in range(len(problem.agents))}
    return DayResult(
        day=name,
        engine=engine if limit_s is not None else f"{engine} unbounded",
        served=t.served,
        served_priority=t.served_priority,
        travel_min=t.travel_s / 60,
        wall_s=result.wall_s,
        routes=t.routes,
        verified=False,
        note=note.strip(),
        utilisation_ratio=utilisation_ratio(problem, spans) if result.spans else 0.0,
    )
