"""optimizer.solve.localsearch: 2-opt, or-opt and 2-opt* on Insertion routes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.bench.literature import dimacs_matrix
from optimizer.domain import Agent, BreakRule, GeoPoint, TimeWindow, Visit
from optimizer.problem import RoutingProblem, build_problem
from optimizer.solve.construct import Insertion, RouteState, regret_routes, route_travel_s
from optimizer.solve.lns import LnsSettings, improve
from optimizer.solve.localsearch import LocalSearch
from optimizer.travel.base import FixedMatrixProvider
from tests.helpers import verifier_complaints

FAR = 1e18


#: A 10-minute break to start between 1500 s and 4000 s: inside every route of these
#: instances (a route of 5-6 stops takes about 4000 s), so every route owes it.
LUNCH = BreakRule(TimeWindow(1500, 4000), 600)


def _problem(
    seed: int,
    n: int = 14,
    agents: int = 3,
    wide: bool = True,
    brk: BreakRule | None = None,
    homes: bool = False,
) -> RoutingProblem:
    """``homes``: each agent starts and ends at a home of its own (else one depot)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    coords = rng.uniform(0, 100, size=(n + 1 + agents, 2))
    coords[0] = (50, 50)
    matrix = dimacs_matrix(coords)
    points = [GeoPoint(lat=0.001 * i, lon=0.0) for i in range(n + 1 + agents)]
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
        Agent(
            agent_id=f"A{k}",
            start=points[n + 1 + k] if homes else points[0],
            shift=TimeWindow(0, horizon),
            capacity=6,
            break_rule=brk,
        )
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
        assert (ls.place(state) is not None) == ins.feasible(state)


@pytest.mark.parametrize("seed", range(8))
def test_tail_swaps_between_agents_with_their_own_homes_only_shorten(seed: int) -> None:
    # A tail moved to another route ends at that agent's home: 2-opt* priced it as if
    # it still ended at the old one, made the plan longer and could loop for ever.
    problem = _problem(seed, n=16, agents=3, homes=True)
    ins = Insertion(problem)
    assert ins.load(_scrambled(problem, seed))
    ls = LocalSearch(ins)
    for a in range(3):
        for b in ls._partners(a):
            before = ins.travel_s()
            moved = ls._two_opt_star(a, b)
            assert ins.travel_s() < before if moved else ins.travel_s() == before
    before = ins.travel_s()
    ls.run(range(3))
    assert ins.travel_s() <= before
    assert all(ins.feasible(r) for r in ins.routes)


def test_a_route_owing_a_break_is_improved_and_verifies() -> None:
    problem = _problem(1, n=6, agents=1, brk=LUNCH)
    order = tuple(range(6))  # random points in index order: crossing legs
    ins = Insertion(problem)
    assert ins.load((order,))
    assert ins.routes[0].break_gap is not None
    before = ins.travel_s()
    # Round 4's local search left such a route alone.
    assert LocalSearch(ins, breaks=False).run([0]) == 0
    assert LocalSearch(ins).run([0]) > 0
    assert ins.travel_s() < before
    route = ins.routes[0]
    assert route.break_gap is not None
    assert ins.feasible(route)
    assert sorted(route.nodes[1:-1]) == list(order)
    assert verifier_complaints(problem, ins.visits()) == []
    # The break is really taken during the route, inside its window.
    _, _, back, brk = ins.schedule(route)
    assert brk is not None
    assert LUNCH.window.start_s <= brk <= LUNCH.window.end_s
    assert brk + LUNCH.duration_s <= back


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("wide", [True, False])
def test_moves_with_breaks_never_worse_and_verify(seed: int, wide: bool) -> None:
    problem = _problem(seed, brk=LUNCH, wide=wide)
    start = _scrambled(problem, seed)
    ins = Insertion(problem)
    assert ins.load(start)
    before = ins.travel_s()
    served = sorted(v for r in start for v in r)
    LocalSearch(ins).run(range(len(ins.routes)))
    assert ins.travel_s() <= before
    assert all(r.break_gap is not None and ins.feasible(r) for r in ins.routes)
    routes = ins.visits()
    assert sorted(v for r in routes for v in r) == served
    assert verifier_complaints(problem, routes) == []


@settings(max_examples=80, deadline=None, derandomize=True)
@given(seed=st.integers(0, 40), order=st.permutations(range(8)), k=st.integers(0, 8))
def test_break_placement_is_the_best_gap_the_insertion_model_accepts(
    seed: int, order: list[int], k: int
) -> None:
    problem = _problem(seed, n=8, agents=1, wide=False, brk=LUNCH)
    ins = Insertion(problem)
    visits = list(order[: min(k, 6)])  # capacity 6
    nodes = [problem.start_node(0), *visits, problem.end_node(0)]
    placed = LocalSearch(ins).place(RouteState(0, nodes, 0, k))
    gaps = [g for g in range(len(nodes) - 1) if ins.feasible(RouteState(0, nodes, g, k))]
    if not gaps:
        assert placed is None
        return
    assert placed is not None
    assert placed.nodes == nodes
    backs = {g: int(ins._times(RouteState(0, nodes, g, k))[0][-1]) for g in gaps}
    best = min(backs.values())
    assert placed.break_gap == min(g for g in gaps if backs[g] == best)
    assert verifier_complaints(problem, (tuple(visits),)) == []


def test_polish_only_shortens_the_best_plan() -> None:
    problem = _problem(2, n=20, agents=3, wide=False, brk=LUNCH)
    start = regret_routes(problem)
    on = improve(problem, start, FAR, seed=0, max_iterations=25)
    off = improve(
        problem, start, FAR, seed=0, max_iterations=25, settings=LnsSettings(polish=False)
    )
    assert on.served_priority == off.served_priority
    assert on.travel_s <= off.travel_s
    assert verifier_complaints(problem, on.routes) == []
