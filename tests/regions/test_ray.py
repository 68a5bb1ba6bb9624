"""The Ray engine on a local two-CPU cluster: same plan as local, retries, failures contained.

Ray is in the dev extra, so CI runs these; without Ray they are skipped locally and
fail under CI. One cluster for the module (starting one takes seconds), small days.
"""

from __future__ import annotations

import logging
import os
import signal
import uuid
from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest

try:
    import ray
except ImportError:
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("Ray is not installed (pip install -e '.[dev]')", allow_module_level=True)

from optimizer.plan import Plan
from optimizer.regions.engine import LocalEngine, RegionTask, solve_region
from optimizer.regions.flow import RegionalDay, plan_day_by_regions
from optimizer.regions.ray_engine import RayEngine
from optimizer.regions.split import by_bases
from optimizer.settings import Settings
from optimizer.solve.assignment import Assignment
from optimizer.solve.params import SolverSettings
from tests.helpers import DATE
from tests.regions.days import NationalDay

SEEDED = Settings(solver=SolverSettings(time_limit_s=1, deterministic=True, workers=1, seed=7))
AUTO = partial(by_bases, max_visits=1000, link_km=30)


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    """A local Ray cluster of two CPUs, shared by the module's tests."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    yield
    ray.shutdown()


def _plan(day: NationalDay, engine: object, **kwargs: object) -> RegionalDay:
    return plan_day_by_regions(
        day.visits,
        day.agents,
        SEEDED,
        date=DATE,
        cut=AUTO,
        engine=engine,  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


def _shape(plan: Plan) -> tuple[object, ...]:
    routes = tuple(
        (r.agent_id, tuple(s.visit_id for s in r.stops), r.travel_s) for r in plan.routes
    )
    return routes, tuple((u.visit_id, u.reason) for u in plan.unassigned)


def _served(result: RegionalDay) -> int:
    priority = {v.visit_id: v.priority for v in result.day.visits}
    return sum(priority[v] for v in result.day.plan.assigned_ids)


@pytest.mark.usefixtures("cluster")
def test_ray_gives_the_local_plan_in_deterministic_mode(three_cities: NationalDay) -> None:
    on_ray = _plan(three_cities, RayEngine())
    here = _plan(three_cities, LocalEngine())
    assert on_ray.engine.startswith("ray (local cluster, 2 CPUs)")
    assert not on_ray.failed
    assert _served(on_ray) == _served(here)
    assert sum(r.travel_s for r in on_ray.day.plan.routes) == sum(
        r.travel_s for r in here.day.plan.routes
    )
    assert _shape(on_ray.day.plan) == _shape(here.day.plan)


@pytest.mark.usefixtures("cluster")
def test_a_task_killed_mid_way_is_retried(three_cities: NationalDay, tmp_path: Path) -> None:
    marker = tmp_path / "killed-once"

    def dies_once(task: RegionTask) -> Assignment:
        assignment = solve_region(task)
        if task.region == "R02" and not marker.exists():
            marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)  # the worker dies, its answer with it
        return assignment

    result = _plan(three_cities, RayEngine(max_retries=2), solve=dies_once)
    assert marker.exists(), "the task was killed once"
    assert not result.failed
    here = _plan(three_cities, LocalEngine())
    assert _shape(result.day.plan) == _shape(here.day.plan)


@pytest.mark.usefixtures("cluster")
def test_a_task_that_keeps_failing_is_reported_and_the_rest_planned(
    three_cities: NationalDay, tmp_path: Path
) -> None:
    tries = tmp_path / "tries"
    tries.mkdir()

    def broken(task: RegionTask) -> Assignment:
        if task.region == "R01":
            (tries / uuid.uuid4().hex).touch()
            msg = "boom"
            raise RuntimeError(msg)
        return solve_region(task)

    result = _plan(three_cities, RayEngine(max_retries=1), solve=broken)
    assert len(list(tries.iterdir())) == 2  # the try and one retry
    assert list(result.failed) == ["R01"]
    assert "RuntimeError: boom" in result.failed["R01"]
    plan = result.day.plan
    r01 = next(r for r in result.split.regions if r.name == "R01")
    reasons = {u.visit_id: u.reason for u in plan.unassigned}
    assert all(
        reasons[v.visit_id].startswith("region R01 could not be solved:") for v in r01.visits
    )
    others = {a.agent_id for r in result.split.regions if r.name != "R01" for a in r.agents}
    assert plan.routes and {r.agent_id for r in plan.routes} <= others
    ids = [*plan.assigned_ids, *reasons]
    assert sorted(ids) == sorted(v.visit_id for v in three_cities.visits)


@pytest.mark.usefixtures("cluster")
def test_tasks_ask_for_the_cpus_of_their_searches(three_cities: NationalDay) -> None:
    engine = RayEngine()
    assert engine.parallel(SEEDED.solver) == 2
    assert engine.parallel(replace(SEEDED.solver, workers=2)) == 1


@pytest.mark.usefixtures("cluster")
def test_cli_plans_a_day_on_ray(
    three_cities: NationalDay, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from optimizer.cli import main
    from tests.regions.days import write_day

    visits, agents = write_day(three_cities, tmp_path / "in")
    config = tmp_path / "fieldroute.toml"
    config.write_text("[solver]\nworkers = 1\ndeterministic = true\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ["plan", str(visits), str(agents), "--date", "2026-12-01", "--out", str(out)]
    args += ["--config", str(config), "--time-limit", "1", "--offline"]
    assert main([*args, "--regions", "column", "--engine", "ray"]) == 0
    assert "solved on ray (local cluster, 2 CPUs)" in capsys.readouterr().out
    assert (out / "plan.json").exists()
    assert ray.is_initialized(), "a cluster the engine did not start is left running"
