"""optimizer.solve.kernels: the compiled insertion pricing agrees with the feasibility model."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.solve import kernels
from optimizer.solve.construct import Insertion, RouteState
from tests.solve.test_localsearch import LUNCH, _problem


def _inserted(route: RouteState, u: int, gap: int, *, break_before: bool) -> RouteState:
    """``route`` with visit ``u`` after ``nodes[gap]``, the break kept where it was
    (after u when u goes into the break's gap, unless ``break_before``)."""
    nodes = [*route.nodes[: gap + 1], u, *route.nodes[gap + 1 :]]
    brk = route.break_gap
    if brk is not None and (gap < brk or (gap == brk and not break_before)):
        brk += 1
    return RouteState(route.agent, nodes, brk, route.load + 1)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 30),
    order=st.permutations(range(8)),
    k=st.integers(0, 5),
    with_break=st.booleans(),
)
def test_cheapest_insertion_is_the_cheapest_feasible_one(
    seed: int, order: list[int], k: int, with_break: bool
) -> None:
    problem = _problem(seed, n=8, agents=1, wide=False, brk=LUNCH if with_break else None)
    ins = Insertion(problem)
    visits = list(order[:k])
    nodes = [problem.start_node(0), *visits, problem.end_node(0)]
    gaps = [None] if not with_break else list(range(len(nodes) - 1))
    route = next(
        (r for g in gaps if ins.feasible(r := RouteState(0, nodes, g, k))),
        None,
    )
    if route is None:
        return
    candidates = np.array(order[k:], dtype=np.int64)
    best = ins._evaluate(route, candidates)
    t = problem.matrices[problem.agents[0].mode].seconds
    for c, u in enumerate(candidates.tolist()):
        options = []
        for g in range(len(nodes) - 1):
            delta = int(t[nodes[g], u] + t[u, nodes[g + 1]] - t[nodes[g], nodes[g + 1]])
            for before in (False, True) if g == route.break_gap else (False,):
                if ins.feasible(_inserted(route, u, g, break_before=before)):
                    options.append((delta, g, before))
                    break
        if not options:
            assert best.cost[c] == np.inf
            continue
        delta, g, before = min(options, key=lambda o: (o[0], o[1]))
        assert best.cost[c] == delta
        assert best.gap[c] == g
        assert bool(best.break_before[c]) == before


def test_pick_follows_the_regret_rule() -> None:
    inf = np.inf
    cost = np.array(
        [
            [10.0, 12.0, inf],  # regret (12 - 10) + (10 + 100 - 10) = 102, score 92
            [5.0, 50.0, 60.0],  # regret 45 + 55 = 100, score 95: picked
            [1.0, 2.0, 3.0],  # routed: ignored
            [inf, inf, inf],  # fits nowhere
        ]
    )
    unrouted = np.array([True, True, False, True])
    priority = np.zeros(4, dtype=np.int64)
    assert kernels.pick(cost, unrouted, priority, 3, 100.0) == (1, 0)
    # Priority first: one unit of priority outweighs any regret below the weight.
    priority[0] = 1
    assert kernels.pick(cost, unrouted, priority, 3, 100.0) == (0, 0)
    assert kernels.pick(cost, np.zeros(4, dtype=bool), priority, 3, 100.0) == (-1, -1)
