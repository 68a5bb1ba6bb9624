"""Reproducible mode: the same input and settings give the same plan, whatever the clock.

The run stops on its work limit (ruin-and-recreate iterations, OR-Tools solutions),
so two runs agree stop for stop although both searches run in parallel processes.
"""

from __future__ import annotations

from optimizer.bench.fielddays import DATE, make_day
from optimizer.pipeline import plan_day
from optimizer.settings import Settings
from optimizer.solve.params import SolverSettings


def _routes(settings: SolverSettings) -> list[tuple[str, tuple[tuple[str, int], ...]]]:
    visits, agents = make_day(40, 3, seed=3)
    day = plan_day(visits, agents, Settings(solver=settings), date=DATE)
    return [(r.agent_id, tuple((s.visit_id, s.start_s) for s in r.stops)) for r in day.plan.routes]


def test_two_deterministic_runs_give_the_same_plan() -> None:
    settings = SolverSettings(time_limit_s=1.0, deterministic=True, work_limit=40, seed=7)
    first = _routes(settings)
    assert first
    assert _routes(settings) == first


def test_the_work_limit_follows_the_time_limit_unless_given() -> None:
    assert SolverSettings(time_limit_s=10.0).work() == 1000
    assert SolverSettings(time_limit_s=0.05).work() == 20
    assert SolverSettings(time_limit_s=10.0, work_limit=7).work() == 7


def test_both_cores_on_ruin_and_recreate_is_reproducible_too() -> None:
    settings = SolverSettings(
        time_limit_s=1.0, deterministic=True, work_limit=40, seed=7, main_search="lns"
    )
    first = _routes(settings)
    assert first
    assert _routes(settings) == first
