"""What a region task carries and returns, how the budget is shared, the local engine.

A task is a region's :class:`~optimizer.problem.RoutingProblem` with the personal data
taken out (ids, points, windows, durations, skills and matrices stay; names, phones,
addresses and documents do not) and the solver settings of its share of the budget. It
returns an :class:`~optimizer.solve.assignment.Assignment` (node indices), which the
driver turns into routes with its own copy of the region. An engine only decides where
a task runs: the same task gives the same answer on any engine.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from optimizer.domain import Agent, Visit
from optimizer.problem import RoutingProblem
from optimizer.solve.assignment import Assignment
from optimizer.solve.parallel import solve_parallel
from optimizer.solve.params import SolverSettings

logger = logging.getLogger(__name__)

#: No region gets less than this, whatever its share: a start and a little search.
MIN_REGION_S = 1.0


@dataclass(frozen=True, slots=True)
class RegionTask:
    """One region to solve: no names, phones or addresses in it (see :func:`task_for`)."""

    region: str
    problem: RoutingProblem
    settings: SolverSettings


@dataclass(frozen=True, slots=True)
class RegionOutcome:
    """A region's assignment, or why there is none after every try."""

    region: str
    assignment: Assignment | None
    error: str | None = None
    attempts: int = 1
    wall_s: float = 0.0


#: What runs a task (tests pass one that fails); it must be a plain function of the task.
SolveFn = Callable[[RegionTask], Assignment]


def solve_region(task: RegionTask) -> Assignment:
    """The task body every engine runs: the day's usual search, on the region alone."""
    return solve_parallel(task.problem, task.settings)


class Engine(Protocol):
    """Runs region tasks and yields their outcomes as they finish (any order)."""

    #: Tasks that run at once (the budget is shared on it).
    def parallel(self, settings: SolverSettings) -> int: ...

    def run(self, tasks: Iterable[RegionTask], solve: SolveFn) -> Iterator[RegionOutcome]: ...

    def describe(self) -> str: ...


@dataclass(frozen=True, slots=True)
class LocalEngine:
    """One region after another in this process; each search uses ``workers`` cores.

    A task that raises is tried again up to ``max_retries`` times, as Ray would.
    """

    max_retries: int = 2

    def parallel(self, settings: SolverSettings) -> int:
        return 1

    def describe(self) -> str:
        return "local"

    def run(self, tasks: Iterable[RegionTask], solve: SolveFn) -> Iterator[RegionOutcome]:
        for task in tasks:
            began = time.perf_counter()
            error = ""
            for attempt in range(1, self.max_retries + 2):
                try:
                    assignment = solve(task)
                except Exception as err:  # one region's failure must not sink the day
                    error = f"{type(err).__name__}: {err}"
                    logger.warning("region %s, try %d failed: %s", task.region, attempt, error)
                    continue
                yield RegionOutcome(
                    task.region, assignment, attempts=attempt, wall_s=time.perf_counter() - began
                )
                break
            else:
                yield RegionOutcome(
                    task.region,
                    None,
                    error,
                    attempts=self.max_retries + 1,
                    wall_s=time.perf_counter() - began,
                )


def shares(
    sizes: Sequence[int], budget_s: float, *, parallel: int, deterministic: bool = False
) -> list[float]:
    """Each region's time limit: the budget in proportion to its size and to parallelism.

    With ``parallel`` regions at once, the day has ``parallel x budget`` seconds of
    search; a region's share of it is capped at the wall budget itself. In a
    deterministic run the share sets a work limit, which must not depend on where the
    regions run (the same plan on one core or a cluster): parallelism is left out.
    """
    total = sum(sizes)
    if total == 0:
        return [MIN_REGION_S for _ in sizes]
    room = budget_s if deterministic else budget_s * max(1, parallel)
    cap = max(MIN_REGION_S, budget_s)
    return [max(MIN_REGION_S, min(cap, room * n / total)) for n in sizes]


def task_for(region: str, problem: RoutingProblem, settings: SolverSettings) -> RegionTask:
    """The task of a region: its problem without personal data, and its settings."""
    private = RoutingProblem(
        tuple(_bare_visit(v) for v in problem.visits),
        tuple(_bare_agent(a) for a in problem.agents),
        problem.points,
        problem.matrices,
    )
    return RegionTask(region, private, settings)


def region_settings(settings: SolverSettings, time_limit_s: float) -> SolverSettings:
    return replace(settings, time_limit_s=time_limit_s)


def _bare_visit(v: Visit) -> Visit:
    return replace(v, address="", name="", phone="", documents=(), extra=(), visit_type="")


def _bare_agent(a: Agent) -> Agent:
    return replace(a, name="", phone="", start_address="", end_address="")
