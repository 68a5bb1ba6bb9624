"""A day by regions: locate, split, one problem per region, solve on an engine, merge, verify.

The split comes before any travel matrix: each region's problem (and matrices) is
built when its task is handed to the engine and dropped once its plan is made, so the
largest matrices that ever exist are a few regions' ones. The merged plan is verified
as one plan, region block by region block (optimizer.verify.check_regions), with each
block built again on demand rather than kept.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from optimizer.day import DayPlan, route_lines
from optimizer.domain import Agent, GeoPoint, Visit
from optimizer.errors import OptimizerError, VerificationError
from optimizer.feasibility import precheck
from optimizer.geocoding.base import Geocoder
from optimizer.pipeline import locate_inputs, travel_provider, unlocated_reasons
from optimizer.plan import Plan, SolverInfo, build_plan
from optimizer.problem import RoutingProblem, build_problem, subset
from optimizer.regions import engine as engine_module
from optimizer.regions.engine import (
    Engine,
    RegionOutcome,
    RegionTask,
    SolveFn,
    region_settings,
    shares,
    task_for,
)
from optimizer.regions.merge import failed_reason, merge_plans, merged_solver_info
from optimizer.regions.split import Region, Split
from optimizer.settings import Settings
from optimizer.travel.base import TravelProvider
from optimizer.verify import check_regions

logger = logging.getLogger(__name__)

#: How a day is cut: (located visits, agents) -> regions.
Cutter = Callable[[Sequence[Visit], Sequence[Agent]], Split]


@dataclass(frozen=True, slots=True)
class RegionReport:
    """What happened to one region (the CLI's table, the benchmark's figures)."""

    name: str
    visits: int
    agents: int
    time_limit_s: float
    wall_s: float = 0.0
    routed: int = 0
    error: str | None = None
    #: Bytes of the task (problem and settings) as pickled for the engine.
    task_bytes: int = 0


@dataclass(frozen=True, slots=True)
class RegionalDay:
    """The verified day and how its regions went; ``failed`` is region -> error."""

    day: DayPlan
    split: Split
    engine: str
    reports: tuple[RegionReport, ...]
    failed: Mapping[str, str] = field(default_factory=dict)
    #: Seconds of the driver's steps: locate and split, build (region problems, made
    #: while tasks are handed out), solve (until the last region answered), verify.
    timings: Mapping[str, float] = field(default_factory=dict)


def plan_day_by_regions(
    visits: Sequence[Visit],
    agents: Sequence[Agent],
    settings: Settings,
    *,
    date: dt.date,
    cut: Cutter,
    engine: Engine,
    travel: TravelProvider | None = None,
    geocoder: Geocoder | None = None,
    agents_source: str = "agents.csv",
    solve: SolveFn | None = None,
    measure_tasks: bool = False,
    started: float | None = None,
) -> RegionalDay:
    """Plan one day region by region; the plan is written by the caller as any day's.

    ``settings.solver.time_limit_s`` is the wall budget of the whole day. A region
    whose task fails after its retries keeps its visits unassigned with the reason and
    is named in ``failed``; every other region is planned. ``solve`` replaces the task
    body (:func:`optimizer.regions.engine.solve_region`, looked up at call time).
    ``started`` is the ``time.perf_counter()`` at which the budget began (default: now),
    so that reading files and starting a cluster are paid from it too.

    Raises
    ------
    InputError
        An agent's base cannot be located, or the split refuses the files.
    VerificationError
        The merged plan breaks a constraint (a bug).
    """
    began = time.perf_counter() if started is None else started
    provider = travel if travel is not None else travel_provider(settings)
    visits, agents, geocoding = locate_inputs(
        visits, agents, settings, geocoder, agents_source=agents_source
    )
    unassigned = unlocated_reasons(visits, geocoding)
    located = [v for v in visits if v.location is not None]
    split = cut(located, agents)
    timings = {"split_s": time.perf_counter() - began}
    logger.info("%s", split.how)
    unassigned.update(split.unassigned)
    todo = [r for r in split.regions if r.visits]
    solver = settings.solver
    deterministic = solver.deterministic
    solve_until = began + solver.time_limit_s * (1 - settings.regions.overhead_share)
    parallel = engine.parallel(solver)
    limits: dict[str, float] = {}
    if deterministic:  # work limits: the same whatever the clock and the engine say
        sizes_all = [len(r.visits) for r in todo]
        budget = solver.time_limit_s * (1 - settings.regions.overhead_share)
        limits = dict(
            zip(
                (r.name for r in todo),
                shares(sizes_all, budget, parallel=parallel, deterministic=True),
                strict=True,
            )
        )
    held: dict[str, tuple[RoutingProblem, dict[str, str]]] = {}
    sizes: dict[str, int] = {}

    def tasks() -> Iterator[RegionTask]:
        left = sum(len(r.visits) for r in todo)
        for region in todo:
            if not deterministic:
                # Shared out when handed over, from what is left of the wall budget: a
                # region that overran (a loaded machine) is paid for by the later ones.
                remaining = solve_until - time.perf_counter()
                limits[region.name] = shares(
                    [len(region.visits), left - len(region.visits)], remaining, parallel=parallel
                )[0]
            left -= len(region.visits)
            built = time.perf_counter()
            problem, pre = _region_problem(region, provider)
            timings["build_s"] = timings.get("build_s", 0.0) + time.perf_counter() - built
            held[region.name] = (problem, pre)
            task = task_for(region.name, problem, region_settings(solver, limits[region.name]))
            if measure_tasks:
                import pickle

                sizes[region.name] = len(pickle.dumps(task, protocol=5))
            yield task

    parts: dict[str, Plan] = {}
    failed: dict[str, str] = {}
    reports: dict[str, RegionReport] = {}
    lines: dict[str, tuple[GeoPoint, ...]] = {}
    solve_began = time.perf_counter()
    outcomes = iter(engine.run(tasks(), solve or engine_module.solve_region))
    while True:
        try:
            outcome = next(outcomes)
        except StopIteration:
            break
        except OptimizerError:
            raise  # ours (road data, settings ...): the CLI's exit code says what it was
        except Exception as err:  # the engine itself went away (cluster lost): keep what came back
            logger.warning("the engine stopped: %s", err)
            error = f"{type(err).__name__}: {err}"
            for region in todo:
                if region.name not in parts and region.name not in failed:
                    failed[region.name] = error
                    for v in region.visits:
                        unassigned[v.visit_id] = failed_reason(region.name, error)
                    reports[region.name] = RegionReport(
                        region.name,
                        len(region.visits),
                        len(region.agents),
                        limits.get(region.name, 0.0),
                        error=error,
                    )
            break
        problem, pre = held.pop(outcome.region)
        region = next(r for r in todo if r.name == outcome.region)
        if outcome.assignment is None:
            failed[region.name] = outcome.error or "no answer"
            reason = failed_reason(region.name, failed[region.name])
            for v in region.visits:
                unassigned[v.visit_id] = pre.get(v.visit_id, reason)
        else:
            part = _region_plan(
                problem, outcome, pre, settings, provider, date=date, limit=limits[region.name]
            )
            parts[region.name] = part
            lines.update(route_lines(problem, part, provider))
        reports[region.name] = _report(
            region, outcome, limits[region.name], parts.get(region.name), sizes.get(region.name, 0)
        )
    solve_wall = time.perf_counter() - solve_began
    timings["solve_s"] = solve_wall
    verify_began = time.perf_counter()
    info: SolverInfo = merged_solver_info(
        parts, failed, time_limit_s=solver.time_limit_s, wall_s=solve_wall
    )
    plan = merge_plans(
        [parts[r.name] for r in split.regions if r.name in parts],
        unassigned,
        date=date,
        timezone=settings.timezone,
        agent_order=[a.agent_id for a in agents],
        visit_order=[v.visit_id for v in visits],
        solver=info,
        travel=provider.describe(),
    )
    blocks = (
        (r.name, build_problem(r.visits, r.agents, provider))
        for r in split.regions
        if r.name in parts
    )
    violations = check_regions(plan, visits, blocks)
    if violations:
        raise VerificationError(violations)
    timings["verify_s"] = time.perf_counter() - verify_began
    logger.info(
        "plan verified as one day: %d routed, %d unassigned, %d regions (%d failed)",
        len(plan.assigned_ids),
        len(plan.unassigned),
        len(split.regions),
        len(failed),
    )
    day = DayPlan(
        plan,
        tuple(visits),
        tuple(agents),
        _whole_day(located, agents),
        settings,
        geocoding,
        route_lines=lines,
    )
    ordered = tuple(reports[r.name] for r in todo if r.name in reports)
    return RegionalDay(day, split, engine.describe(), ordered, failed, timings)


def _region_problem(
    region: Region, provider: TravelProvider
) -> tuple[RoutingProblem, dict[str, str]]:
    """The region's problem without the visits no plan could serve (and their reasons)."""
    full = build_problem(region.visits, region.agents, provider)
    reasons = precheck(full)
    pre = {full.visits[i].visit_id: why for i, why in reasons.items()}
    return subset(full, [i for i in range(full.num_visits) if i not in reasons]), pre


def _region_plan(
    problem: RoutingProblem,
    outcome: RegionOutcome,
    pre: Mapping[str, str],
    settings: Settings,
    provider: TravelProvider,
    *,
    date: dt.date,
    limit: float,
) -> Plan:
    assignment = outcome.assignment
    if assignment is None:  # pragma: no cover - the caller checks
        msg = "no assignment"
        raise ValueError(msg)
    info = SolverInfo(
        engine="ortools",
        status=assignment.status,
        time_limit_s=limit,
        wall_s=round(assignment.wall_s, 2),
        objective=assignment.objective,
        lost_searches=assignment.lost_searches,
    )
    return build_plan(
        problem,
        assignment,
        pre,
        date=date,
        timezone=settings.timezone,
        solver=info,
        travel=provider.describe(),
    )


def _report(
    region: Region, outcome: RegionOutcome, limit: float, part: Plan | None, task_bytes: int
) -> RegionReport:
    return RegionReport(
        region.name,
        len(region.visits),
        len(region.agents),
        limit,
        wall_s=outcome.wall_s,
        routed=len(part.assigned_ids) if part is not None else 0,
        error=outcome.error if outcome.assignment is None else None,
        task_bytes=task_bytes,
    )


def _whole_day(located: Sequence[Visit], agents: Sequence[Agent]) -> RoutingProblem:
    """The day's visits, agents and points with no matrices: they exist only per region
    (DayPlan.problem; renderers use visits, agents and points)."""
    points: list[GeoPoint] = [v.location for v in located if v.location is not None]
    for a in agents:
        if a.start is None or a.end_point is None:
            msg = f"Agent {a.agent_id} has no start location; locate it first."
            raise ValueError(msg)
        points += [a.start, a.end_point]
    return RoutingProblem(tuple(located), tuple(agents), tuple(points), {})
