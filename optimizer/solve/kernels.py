"""Compiled inner loops of the regret insertion (the only module that imports numba).

A profile of ruin-and-recreate on field days and Solomon (docs/benchmarks.md, round 6)
put 85 % of the time in :meth:`optimizer.solve.construct.Insertion.fill`: pricing every
unrouted visit into every gap of one route (``insertion_costs``) and timing a route
(``route_times``), called tens of thousands of times on arrays of a few hundred cells,
where numpy's per-call overhead is most of the cost. The same arithmetic as plain loops,
compiled by numba (cached on disk, so a fresh worker process loads it instead of
compiling), makes each call one pass over the cells.

Integers are seconds, as everywhere in the solver; ``-1`` as a break gap means "no break
owed". Pure functions of their arguments.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

IntArray = np.ndarray[Any, np.dtype[np.int64]]
FloatArray = np.ndarray[Any, np.dtype[np.float64]]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


@njit(cache=True)
def route_times(
    nodes: IntArray,
    t: IntArray,
    early: IntArray,
    late: IntArray,
    service: IntArray,
    shift_start: int,
    shift_end: int,
    break_gap: int,
    break_start: int,
    break_end: int,
    break_s: int,
) -> tuple[IntArray, IntArray]:
    """(earliest departure after each node, latest arrival at each node) of a route.

    The break, if owed (``break_gap >= 0``), follows node ``break_gap``: it starts when
    that node's service ends, not before ``break_start`` and at the latest
    ``break_end``, and the next leg follows it.
    """
    m = len(nodes)
    dep = np.zeros(m, dtype=np.int64)
    latest = np.zeros(m, dtype=np.int64)
    dep[0] = shift_start
    for k in range(1, m):
        leave = dep[k - 1]
        if break_gap == k - 1:
            leave = max(leave, break_start) + break_s
        arrive = leave + t[nodes[k - 1], nodes[k]]
        node = nodes[k]
        if k < m - 1:
            dep[k] = max(arrive, early[node]) + service[node]
        else:
            dep[k] = arrive
    latest[m - 1] = shift_end
    for k in range(m - 2, -1, -1):
        leave = latest[k + 1] - t[nodes[k], nodes[k + 1]]
        if break_gap == k:
            leave = min(break_end, leave - break_s)
        node = nodes[k]
        if k == 0:
            latest[k] = leave
        else:
            latest[k] = min(late[node], leave - service[node])
    return dep, latest


@njit(cache=True)
def insertion_costs(
    nodes: IntArray,
    dep: IntArray,
    latest: IntArray,
    t: IntArray,
    candidates: IntArray,
    early: IntArray,
    late: IntArray,
    service: IntArray,
    break_gap: int,
    break_start: int,
    break_end: int,
    break_s: int,
) -> tuple[FloatArray, IntArray, BoolArray]:
    """Cheapest feasible insertion of each candidate into the route ``nodes``.

    Returns the added travel (inf: fits nowhere), the gap (the candidate goes after
    ``nodes[gap]``; the first of equally cheap gaps) and, for the break's gap, whether
    the break goes before the candidate (else after it). ``dep`` and ``latest`` are
    :func:`route_times` of the route. Capacity, max visits and skills are the caller's.
    """
    n_gaps = len(nodes) - 1
    count = len(candidates)
    cost = np.full(count, np.inf)
    gap = np.zeros(count, dtype=np.int64)
    before = np.zeros(count, dtype=np.bool_)
    for c in range(count):
        u = candidates[c]
        e_u, l_u, s_u = early[u], late[u], service[u]
        best = np.inf
        best_gap = 0
        best_before = False
        for g in range(n_gaps):
            prev, nxt = nodes[g], nodes[g + 1]
            t_in = t[prev, u]
            t_out = t[u, nxt]
            start = max(dep[g] + t_in, e_u)
            brk_before = False
            if g == break_gap:
                # Break after u (u joins the stretch before the break) ...
                taken = max(start + s_u, break_start)
                ok = start <= l_u and taken <= break_end
                ok = ok and taken + break_s + t_out <= latest[g + 1]
                if not ok:
                    # ... or before u.
                    b0 = max(dep[g], break_start)
                    start_b = max(b0 + break_s + t_in, e_u)
                    ok = b0 <= break_end and start_b <= l_u
                    ok = ok and start_b + s_u + t_out <= latest[g + 1]
                    brk_before = ok
            else:
                ok = start <= l_u and start + s_u + t_out <= latest[g + 1]
            if not ok:
                continue
            delta = float(t_in + t_out - t[prev, nxt])
            if delta < best:
                best, best_gap, best_before = delta, g, brk_before
        cost[c] = best
        gap[c] = best_gap
        before[c] = best_before
    return cost, gap, before


@njit(cache=True)
def pick(
    cost: FloatArray, unrouted: BoolArray, priority: IntArray, regret_k: int, weight: float
) -> tuple[int, int]:
    """The next insertion of the regret rule: (visit, agent), or (-1, -1) if none fits.

    Score of an unrouted visit with a finite cost somewhere: ``priority * weight +
    regret - cheapest``, where regret sums the differences between its next
    ``regret_k - 1`` cheapest routes and the cheapest (a missing route counts as
    ``cheapest + weight``). The first visit of the highest score, into its cheapest
    route (the first of equally cheap ones).
    """
    n, agents = cost.shape
    k = min(regret_k, agents)
    best_score = -np.inf
    best_u = -1
    part = np.empty(k)
    for u in range(n):
        if not unrouted[u]:
            continue
        row = cost[u]
        for j in range(k):
            part[j] = np.inf
        for a in range(agents):  # the k smallest, ascending (insertion into part)
            x = row[a]
            if x < part[k - 1]:
                j = k - 1
                while j > 0 and part[j - 1] > x:
                    part[j] = part[j - 1]
                    j -= 1
                part[j] = x
        cheapest = part[0]
        if cheapest == np.inf:
            continue
        regret = 0.0
        for j in range(1, k):
            other = part[j] if part[j] < np.inf else cheapest + weight
            regret += other - cheapest
        score = priority[u] * weight + regret - cheapest
        if score > best_score:
            best_score, best_u = score, u
    if best_u < 0:
        return -1, -1
    return best_u, int(np.argmin(cost[best_u]))
