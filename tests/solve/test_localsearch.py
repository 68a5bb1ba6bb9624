"""optimizer.solve.localsearch: 2-opt, or-opt and 2-opt* on Insertion routes."""

from __future__ import annotations

import pytest

from optimizer.bench.literature import dimacs_matrix
from optimizer.domain import Agent, GeoPoint, TimeWindow, Visit
from optimizer.problem import RoutingProblem, build_problem
from optimizer.solve.construct import Insertion, RouteState, regret_routes, route_travel_s
from optimizer.solve.lns import LnsSettings, improve
from optimizer.solve.localsearch import LocalSearch
from optimizer.travel.base import FixedMatrixProvider

FAR = 1e18


def _problem(seed: int, n: int = 14, agents: int = 3, wide: bool = True) -> RoutingProblem:
    import numpy as np

    rng = np.random.default_rng(seed)
    coords = rng.uniform(0, 100, size=(n + 1, 2))
    coords[0] = (50, 50)
    matrix = dimacs_matrix(coords)
    points = [GeoPoint(lat=0.001 * i, lon=0.0) for i in range(n + 1)]
    index = {p: i for i, p in enumerate(points)}
    horizon = 20000
    visits = []
    for i in range(1, n + 1):
        if wide:
            w = TimeWindow(0, horizon)
        else:
            a = int(rng.integers(0, horizon - 3000))
            w = TimeWindow(a, a + 3000)
        visits.append(
            Visit(visit_id=str(i), location=points[i], duration_s=100, window=w, demand=1)
        )
    fleet = [
        Agent(agent_id=f"A{k}", start=points[0], shift=TimeWindow(0, horizon), capacity=6)
        for k in range(agents)
    ]
    return build_problem(visits, fleet, FixedMatrixProvider(matrix, matrix, index, name="t"))


def _scrambled(problem: RoutingProblem, seed: int) -> tuple[tuple[int, ...], ...]:
    """A worse but feasible order of the regret routes: each route reversed."""
    routes = regret_routes(problem)
    ins = Insertion(problem)
    rev = tuple(tuple(reversed(r)) for r in routes)
    return rev if ins.load(rev) else routes


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("wide", [True, False])
def test_never_worse_and_feasible(seed: int, wide: bool) -> None:
    problem = _problem(seed, wide=wide)
    start = _scrambled(problem, seed)
    ins = Insertion(problem)
    assert ins.load(start)
    before = ins.travel_s()
    served = sorted(v for r in start for v in r)
    LocalSearch(ins).run(range(len(ins.routes)))
    after = ins.travel_s()
    assert after <= before
    assert all(ins.feasible(r) for r in ins.routes)
    routes = ins.visits()
    assert sorted(v for r in routes for v in r) == served
    assert route_travel_s(problem, routes) == after
    for a, r in enumerate(ins.routes):
        assert r.load == sum(problem.visits[v].demand for v in r.nodes[1:-1])
        assert r.load <= 6
        assert all(int(ins.where[v]) == a for v in r.nodes[1:-1])
    # Reloading the result reproduces it (it fits the insertion model).
    assert Insertion(problem).load(routes)


def test_untangles_a_crossed_route() -> None:
    problem = _problem(1, n=6, agents=1)
    ins = Insertion(problem)
    order = tuple(range(6))  # visit order by index: random points, crossing legs
    assert ins.load((order,))
    before = ins.travel_s()
    moves = LocalSearch(ins).run([0])
    assert moves > 0
    assert ins.travel_s() < before


def test_deterministic() -> None:
    problem = _problem(3, wide=False)
    start = _scrambled(problem, 3)
    out = []
    for _ in range(2):
        ins = Insertion(problem)
        ins.load(start)
        LocalSearch(ins).run(range(len(ins.routes)))
        out.append(ins.visits())
    assert out[0] == out[1]


def test_lns_with_local_search_not_worse_than_without_on_a_small_case() -> None:
    problem = _problem(4, n=20, agents=4, wide=False)
    start = regret_routes(problem)
    on = improve(problem, start, FAR, seed=0, max_iterations=30)
    off = improve(
        problem, start, FAR, seed=0, max_iterations=30, settings=LnsSettings(local_search=False)
    )
    assert on.served_priority >= off.served_priority
    assert on.travel_s <= route_travel_s(problem, start)


@pytest.mark.parametrize("seed", range(4))
def test_fast_feasibility_matches_insertion(seed: int) -> None:
    import numpy as np

    problem = _problem(seed, n=8, agents=1, wide=False)
    ins = Insertion(problem)
    ls = LocalSearch(ins)
    rng = np.random.default_rng(seed)
    for _ in range(30):
        k = int(rng.integers(0, 7))
        visits = [int(v) for v in rng.permutation(8)[:k]]
        state = RouteState(0, [problem.start_node(0), *visits, problem.end_node(0)], None, k)
        assert ls._ok(state) == ins.feasible(state)
