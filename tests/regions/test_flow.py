"""A day by regions on the local engine: one verified plan, failures contained."""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator
from dataclasses import replace
from functools import partial

import pytest

from optimizer.errors import RoadDataError
from optimizer.plan import Plan
from optimizer.regions.engine import (
    LocalEngine,
    RegionOutcome,
    RegionTask,
    SolveFn,
    shares,
    solve_region,
    task_for,
)
from optimizer.regions.flow import RegionalDay, plan_day_by_regions
from optimizer.regions.split import by_bases
from optimizer.settings import Settings
from optimizer.solve.assignment import Assignment
from optimizer.solve.params import SolverSettings
from optimizer.travel.straight import StraightLineModel
from optimizer.verify import check_regions
from tests.helpers import DATE
from tests.regions.days import NationalDay

#: Work-limited and single-search: quick, and the same plan on every run.
QUICK = Settings(solver=SolverSettings(time_limit_s=1, deterministic=True, workers=1))
AUTO = partial(by_bases, max_visits=1000, link_km=30)


def _plan(day: NationalDay, **kwargs: object) -> RegionalDay:
    return plan_day_by_regions(
        day.visits,
        day.agents,
        QUICK,
        date=DATE,
        cut=AUTO,
        engine=kwargs.pop("engine", LocalEngine()),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


def _blocks(result: RegionalDay) -> list[object]:
    model = QUICK.travel.model()
    from optimizer.problem import build_problem

    return [(r.name, build_problem(r.visits, r.agents, model)) for r in result.split.regions]


def test_every_visit_once_and_no_route_leaves_its_region(three_cities: NationalDay) -> None:
    result = _plan(three_cities)
    plan = result.day.plan
    ids = [*plan.assigned_ids, *(u.visit_id for u in plan.unassigned)]
    assert sorted(ids) == sorted(v.visit_id for v in three_cities.visits)
    assert len(plan.routes) >= 3
    for route in plan.routes:
        cities = {three_cities.city[s.visit_id] for s in route.stops}
        assert cities == {three_cities.city[route.agent_id]}
    assert not result.failed
    assert [r.name for r in result.reports] == ["R01", "R02", "R03"]
    assert sum(r.routed for r in result.reports) == len(plan.assigned_ids)
    assert plan.solver.status.startswith("3 regions:")


def test_merged_plan_passes_the_whole_day_verifier(three_cities: NationalDay) -> None:
    result = _plan(three_cities)
    assert check_regions(result.day.plan, three_cities.visits, _blocks(result)) == []  # type: ignore[arg-type]


def _moved_stop(plan: Plan) -> Plan:
    """The first stop of the first route moved onto the end of a route of another region."""
    first, *rest = plan.routes
    other = rest[-1]
    stolen = first.stops[0]
    moved = replace(other, stops=(*other.stops, replace(stolen, seq=len(other.stops) + 1)))
    routes = [replace(first, stops=first.stops[1:]), *rest[:-1], moved]
    return replace(plan, routes=tuple(r for r in routes if r.stops))


def test_verifier_refuses_a_cross_region_assignment(three_cities: NationalDay) -> None:
    result = _plan(three_cities)
    bad = _moved_stop(result.day.plan)
    errors = check_regions(bad, three_cities.visits, _blocks(result))  # type: ignore[arg-type]
    assert any("cross-region assignment" in e for e in errors), errors


def test_verifier_refuses_a_visit_twice_across_regions(three_cities: NationalDay) -> None:
    result = _plan(three_cities)
    plan = result.day.plan
    twice = replace(plan, unassigned=(*plan.unassigned, replace(plan.unassigned[0])))
    errors = check_regions(twice, three_cities.visits, _blocks(result))  # type: ignore[arg-type]
    assert any("appears 2 times" in e for e in errors), errors


def test_verifier_refuses_a_route_of_an_agent_in_no_region(three_cities: NationalDay) -> None:
    result = _plan(three_cities)
    blocks = _blocks(result)[1:]  # the first region's block is missing
    errors = check_regions(result.day.plan, three_cities.visits, blocks)  # type: ignore[arg-type]
    assert any("who is in no region" in e for e in errors), errors


def test_a_region_that_raises_is_reported_and_the_rest_planned(
    three_cities: NationalDay,
) -> None:
    tries: list[str] = []

    def flaky(task: RegionTask) -> Assignment:
        tries.append(task.region)
        if task.region == "R02":
            msg = "boom"
            raise RuntimeError(msg)
        return solve_region(task)

    result = _plan(three_cities, engine=LocalEngine(max_retries=2), solve=flaky)
    assert tries.count("R02") == 3  # the first try and two retries
    assert result.failed == {"R02": "RuntimeError: boom"}
    plan = result.day.plan
    r02 = [v.visit_id for v in next(r for r in result.split.regions if r.name == "R02").visits]
    reasons = {u.visit_id: u.reason for u in plan.unassigned}
    assert r02 and all(reasons[v].startswith("region R02 could not be solved:") for v in r02)
    assert {three_cities.city[r.agent_id] for r in plan.routes} == {
        three_cities.city[v] for v in three_cities.city if v.startswith("V") and v not in r02
    }
    assert "region R02 could not be solved: RuntimeError: boom" in plan.solver.lost_searches
    ids = [*plan.assigned_ids, *reasons]
    assert sorted(ids) == sorted(v.visit_id for v in three_cities.visits)


def test_a_region_that_fails_once_is_retried(three_cities: NationalDay) -> None:
    failed_once: set[str] = set()

    def once(task: RegionTask) -> Assignment:
        if task.region not in failed_once:
            failed_once.add(task.region)
            msg = "worker lost"
            raise MemoryError(msg)
        return solve_region(task)

    result = _plan(three_cities, engine=LocalEngine(max_retries=1), solve=once)
    assert not result.failed
    assert failed_once == {"R01", "R02", "R03"}


def test_tasks_carry_no_personal_data(three_cities: NationalDay) -> None:
    model = StraightLineModel()
    from optimizer.problem import build_problem

    problem = build_problem(three_cities.visits[:5], three_cities.agents[:2], model)
    blob = pickle.dumps(task_for("R01", problem, QUICK.solver))
    people = [v.name for v in three_cities.visits[:5]] + [a.phone for a in three_cities.agents[:2]]
    people += [v.address for v in three_cities.visits[:5]] + [
        v.phone for v in three_cities.visits[:5]
    ]
    assert all(p and p.encode() not in blob for p in people)
    task = pickle.loads(blob)
    assert [v.visit_id for v in task.problem.visits] == [v.visit_id for v in problem.visits]
    assert task.problem.visits[0].window == problem.visits[0].window


@pytest.mark.parametrize(
    ("sizes", "budget", "parallel", "deterministic", "expected"),
    [
        ([100, 300], 40.0, 1, False, [10.0, 30.0]),  # one at a time: the budget, by size
        ([100, 300], 40.0, 2, False, [20.0, 40.0]),  # two at once: twice the room, capped
        ([100, 300], 40.0, 2, True, [10.0, 30.0]),  # work limits ignore where it runs
        ([1, 999], 10.0, 1, False, [1.0, 9.99]),  # no region gets under a second
    ],
)
def test_budget_shares(
    sizes: list[int], budget: float, parallel: int, deterministic: bool, expected: list[float]
) -> None:
    got = shares(sizes, budget, parallel=parallel, deterministic=deterministic)
    assert got == pytest.approx(expected)


class _LostCluster:
    """An engine whose cluster goes away after the first region's answer."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def parallel(self, settings: SolverSettings) -> int:
        return 1

    def describe(self) -> str:
        return "lost"

    def run(self, tasks: Iterable[RegionTask], solve: SolveFn) -> Iterator[RegionOutcome]:
        first = next(iter(tasks))
        yield RegionOutcome(first.region, solve(first))
        raise self.error


def test_a_lost_cluster_fails_the_regions_it_had_not_answered(three_cities: NationalDay) -> None:
    result = _plan(three_cities, engine=_LostCluster(ConnectionError("head node gone")))
    assert result.failed == {
        "R02": "ConnectionError: head node gone",
        "R03": "ConnectionError: head node gone",
    }
    plan = result.day.plan
    assert plan.routes and {r.agent_id for r in plan.routes} <= {
        a.agent_id for a in result.split.regions[0].agents
    }
    ids = [*plan.assigned_ids, *(u.visit_id for u in plan.unassigned)]
    assert sorted(ids) == sorted(v.visit_id for v in three_cities.visits)


def test_fieldroute_errors_from_an_engine_are_not_turned_into_failed_regions(
    three_cities: NationalDay,
) -> None:
    with pytest.raises(RoadDataError, match="no road data"):
        _plan(three_cities, engine=_LostCluster(RoadDataError("no road data")))
