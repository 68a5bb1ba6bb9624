"""optimizer.solve.kernels: the compiled insertion pricing agrees with the feasibility model."""

from __future__ import annotations

from itertools import pairwise

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


def _legs(t: np.ndarray, nodes: list[int]) -> int:
    return int(sum(int(t[x, y]) for x, y in pairwise(nodes)))


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 10_000),
    len_a=st.integers(0, 6),
    len_b=st.integers(0, 6),
    cap_a=st.sampled_from([-1, 2, 4]),
    cap_b=st.sampled_from([-1, 3]),
)
def test_two_opt_star_finds_the_best_tail_swaps_of_the_brute_force(
    seed: int, len_a: int, len_b: int, cap_a: int, cap_b: int
) -> None:
    """Against every tail swap spelled out: new routes' travel summed leg by leg (an
    asymmetric matrix, each route ending at its own home), the same window screen and
    loads, sorted best first (ties in cut order)."""
    rng = np.random.default_rng(seed)
    size = len_a + len_b + 4
    t = rng.integers(1, 50, size=(size, size)).astype(np.int64)
    visits = rng.permutation(np.arange(4, size)).tolist()
    na = [0, *visits[:len_a], 1]
    nb = [2, *visits[len_a:], 3]
    demand = rng.integers(0, 3, size=size).astype(np.int64)
    dep_a = rng.integers(0, 100, size=len(na)).astype(np.int64)
    late_a = rng.integers(50, 150, size=len(na)).astype(np.int64)
    dep_b = rng.integers(0, 100, size=len(nb)).astype(np.int64)
    late_b = rng.integers(50, 150, size=len(nb)).astype(np.int64)
    before = _legs(t, na) + _legs(t, nb)
    expected = []
    for i in range(len(na) - 1):
        for j in range(len(nb) - 1):
            new_a = na[: i + 1] + nb[j + 1 : -1] + na[-1:]
            new_b = nb[: j + 1] + na[i + 1 : -1] + nb[-1:]
            delta = _legs(t, new_a) + _legs(t, new_b) - before
            fits = (
                dep_a[i] + t[na[i], new_a[i + 1]] <= late_b[j + 1]
                and dep_b[j] + t[nb[j], new_b[j + 1]] <= late_a[i + 1]
                and (cap_a < 0 or demand[new_a[1:-1]].sum() <= cap_a)
                and (cap_b < 0 or demand[new_b[1:-1]].sum() <= cap_b)
            )
            if delta < 0 and fits:
                expected.append((delta, i, j))
    expected.sort()
    ii, jj = kernels.two_opt_star(
        np.array(na), np.array(nb), dep_a, late_a, dep_b, late_b, t, demand, cap_a, cap_b, 5
    )
    assert list(zip(ii.tolist(), jj.tolist(), strict=True)) == [(i, j) for _, i, j in expected[:5]]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), groups=st.lists(st.integers(1, 4), min_size=1, max_size=5))
def test_nearness_is_each_groups_shortest_leg_either_way(seed: int, groups: list[int]) -> None:
    rng = np.random.default_rng(seed)
    size = 3 + sum(groups)
    t = rng.integers(0, 1000, size=(size, size)).astype(np.int64)
    inner = [0, 1, 2]
    nodes = list(range(3, size))
    starts = np.cumsum([0, *groups[:-1]])
    got = kernels.nearness(np.array(inner), np.array(nodes), starts.astype(np.int64), t)
    for k, lo in enumerate(starts.tolist()):
        group = nodes[lo : lo + groups[k]]
        assert got[k] == min(min(t[u, v], t[v, u]) for u in inner for v in group)
