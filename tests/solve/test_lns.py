"""Ruin-and-recreate: never worse than its start, deterministic per seed, plans verify."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest

from optimizer.bench.fielddays import day_problem, make_day
from optimizer.domain import Agent, BreakRule, GeoPoint, TimeWindow, Visit
from optimizer.errors import ConfigurationError
from optimizer.pipeline import plan_day
from optimizer.problem import RoutingProblem, build_problem
from optimizer.settings import Settings
from optimizer.solve import parallel
from optimizer.solve.construct import (
    START_VARIANTS,
    Insertion,
    regret_routes,
    regret_starts,
    route_travel_s,
)
from optimizer.solve.lns import HOT, LnsSettings, improve
from optimizer.solve.parallel import lns_search, main_is_lns
from optimizer.solve.params import LNS_BOTH_MIN_VISITS, SolverSettings
from optimizer.travel.base import FixedMatrixProvider
from tests.helpers import DATE, verifier_complaints

FAR = 1e12  # a deadline that never comes: max_iterations stops the search


def _day(seed: int = 7) -> RoutingProblem:
    return day_problem(*make_day(40, 3, seed=seed))


def _key(problem: RoutingProblem, routes: tuple[tuple[int, ...], ...]) -> tuple[int, int]:
    served = sum(problem.visits[i].priority for r in routes for i in r)
    return served, -route_travel_s(problem, routes)


@pytest.mark.parametrize("knobs", [None, HOT], ids=["default", "hot"])
@pytest.mark.parametrize("seed", [3, 7])
def test_never_worse_than_the_start(seed: int, knobs: LnsSettings | None) -> None:
    problem = _day(seed)
    start = regret_routes(problem, regret_k=1)
    result = improve(problem, start, FAR, seed=0, max_iterations=60, settings=knobs)
    assert _key(problem, result.routes) >= _key(problem, start)
    assert (result.served_priority, -result.travel_s) == _key(problem, result.routes)
    assert verifier_complaints(problem, result.routes) == []


def test_deterministic_for_a_seed() -> None:
    problem = _day()
    start = regret_starts(problem)[0]
    runs = [improve(problem, start, FAR, seed=5, max_iterations=40).routes for _ in range(2)]
    assert runs[0] == runs[1]


def test_every_visit_at_most_once_and_the_plan_verifies() -> None:
    problem = _day()
    result = improve(problem, regret_routes(problem), FAR, seed=1, max_iterations=40)
    flat = [i for r in result.routes for i in r]
    assert len(flat) == len(set(flat))
    assert verifier_complaints(problem, result.routes) == []


def test_stops_at_the_deadline() -> None:
    problem = _day()
    began = time.time()
    improve(problem, regret_routes(problem), began + 0.3, seed=0)
    assert time.time() - began < 1.5


def test_routes_outside_the_model_come_back_unchanged() -> None:
    problem = _day()
    start = regret_routes(problem)
    # Every visit on the first agent: over its max_visits or shift.
    crowded = (tuple(i for r in start for i in r), *(() for _ in start[1:]))
    assert not Insertion(problem).load(crowded)
    result = improve(problem, crowded, FAR, seed=0, max_iterations=5)
    assert result.routes == crowded and result.iterations == 0


def test_load_and_remove_keep_the_routes_consistent() -> None:
    problem = _day()
    ins = Insertion(problem)
    start = regret_routes(problem)
    assert ins.load(start)
    assert ins.visits() == start
    u = start[0][0]
    ins.remove(u)
    assert ins.unrouted[u] and u not in ins.visits()[0]
    assert all(ins.feasible(r) for r in ins.routes)


def test_worker_search_returns_a_comparable_assignment() -> None:
    problem = _day()
    settings = SolverSettings(time_limit_s=0.5)
    assignment = lns_search(problem, settings, time.time() + 0.5)
    served = {i for r in assignment.routes for i in r.visits}
    assert served.isdisjoint(assignment.dropped)
    assert len(served) + len(assignment.dropped) == problem.num_visits


def test_settings_reject_an_unknown_second_search() -> None:
    with pytest.raises(ConfigurationError, match="second_search"):
        SolverSettings(second_search="tabu")


def test_settings_reject_an_unknown_main_search() -> None:
    with pytest.raises(ConfigurationError, match="main_search"):
        SolverSettings(main_search="tabu")


@pytest.mark.parametrize(("main", "expected"), [("lns", True), ("ortools", False)])
def test_which_search_runs_first(main: str, expected: bool) -> None:
    assert main_is_lns(_day(), SolverSettings(main_search=main)) is expected


def test_auto_runs_ruin_and_recreate_first_on_large_days_only() -> None:
    auto = SolverSettings(main_search="auto")
    small = _day()
    large = day_problem(*make_day(LNS_BOTH_MIN_VISITS + 60, 10, seed=7))
    assert small.num_visits < LNS_BOTH_MIN_VISITS <= large.num_visits
    assert not main_is_lns(small, auto)
    assert main_is_lns(large, auto)


def test_two_ruin_and_recreate_searches_give_a_verified_plan() -> None:
    visits, agents = make_day(40, 3, seed=7)
    solver = SolverSettings(time_limit_s=1.0, main_search="lns")
    day = plan_day(visits, agents, Settings(solver=solver), date=DATE)  # verifies
    assert day.plan.routes
    assert day.plan.solver.status == "LNS"


def test_the_first_search_returns_a_whole_plan_even_after_its_deadline() -> None:
    # A starved machine: the deadline has passed before the search begins.
    problem = _day()
    start = regret_starts(problem, START_VARIANTS[:1])[0]  # the variant built first
    late = time.time() - 1
    first = lns_search(problem, SolverSettings(), late, seed_offset=0, patient=True)
    served = _key(problem, tuple(r.visits for r in first.routes))[0]
    assert served >= _key(problem, start)[0] > 0
    second = lns_search(problem, SolverSettings(), late)
    # Cut short: the clock rules the worker's start.
    assert _key(problem, tuple(r.visits for r in second.routes))[0] < served


@pytest.mark.parametrize("split", [False, True])
def test_beside_another_ruin_and_recreate_the_second_search_runs_hot(
    monkeypatch: pytest.MonkeyPatch, split: bool
) -> None:
    # Two chains with the same knobs fell into the same local optimum on wide-window
    # days (docs/benchmarks.md round 8): the pair is one cool and one hot chain.
    knobs: list[LnsSettings | None] = []

    def record(*args: object, lns: LnsSettings | None = None, **kwargs: object) -> str:
        knobs.append(lns)
        return "plan"

    monkeypatch.setattr(parallel, "lns_search", record)
    settings = parallel.worker_settings(SolverSettings(split_starts=split))
    large = day_problem(*make_day(LNS_BOTH_MIN_VISITS + 60, 10, seed=7))
    small = _day()
    assert main_is_lns(large, settings) and not main_is_lns(small, settings)
    parallel.second_search(large, settings, FAR)
    parallel.second_search(small, settings, FAR)  # beside OR-Tools: the measured default
    assert knobs == [HOT, None]
    assert HOT.start_temperature > LnsSettings().start_temperature


def _full_line_day() -> tuple[RoutingProblem, tuple[tuple[int, ...], ...]]:
    """One agent owing a break, five visits on a line 100 s apart, and a shift that fits
    the first four in a zigzag with no room left; in order, the fifth fits too."""
    places = [GeoPoint(lat=0.001 * x, lon=0.0) for x in range(6)]  # 0 is home
    seconds = np.array([[100 * abs(i - j) for j in range(6)] for i in range(6)])
    travel = FixedMatrixProvider(seconds, seconds, {p: i for i, p in enumerate(places)})
    day = TimeWindow(0, 1700)
    visits = [
        Visit(visit_id=f"V{x}", location=places[x], duration_s=100, window=day) for x in range(1, 6)
    ]
    agent = Agent("A", start=places[0], shift=day, break_rule=BreakRule(day, 100))
    problem = build_problem(visits, [agent], travel)
    zigzag = ((3, 0, 2, 1),)  # 40, 10, 30, 20: 1,200 s travel + 400 s service + break
    return problem, zigzag


@pytest.mark.parametrize("refill", [True, False])
def test_the_time_a_local_search_saves_serves_a_visit_that_did_not_fit(refill: bool) -> None:
    problem, zigzag = _full_line_day()
    knobs = replace(LnsSettings(), refill=refill, polish=False)
    result = improve(problem, zigzag, FAR, seed=0, max_iterations=0, settings=knobs)
    assert verifier_complaints(problem, result.routes) == []
    if refill:  # in order the route has room for the fifth visit, at the far end
        assert sorted(result.routes[0]) == [0, 1, 2, 3, 4]
        assert result.travel_s == 1000
    else:  # the local search alone shortens the route and leaves the room unused
        assert sorted(result.routes[0]) == [0, 1, 2, 3]
        assert result.travel_s == 800
