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

from collections.abc import Callable
from typing import Any, cast

import numpy as np
from numba import njit

IntArray = np.ndarray[Any, np.dtype[np.int64]]
#: A travel matrix: int32 cells since the compact matrices (int64 still accepted).
Matrix = np.ndarray[Any, np.dtype[np.signedinteger[Any]]]
FloatArray = np.ndarray[Any, np.dtype[np.float64]]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


def _compiled[F: Callable[..., Any]](fn: F) -> F:
    """numba's ``njit``, cached on disk, keeping the function's signature for mypy."""
    return cast("F", njit(cache=True)(fn))


@_compiled
def route_times(
    nodes: IntArray,
    t: Matrix,
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

    The break, if owed (``break_gap >= 0``), lies between node ``break_gap`` and the
    next one: it starts when that node's service ends, or when its window opens if
    that is later (on the leg, or while waiting at the next stop, as the verifier and
    OR-Tools allow), at the latest ``break_end``; the leg and the break add up, so the
    next node is reached at ``max(leave + leg, break_start) + break_s``.
    """
    m = len(nodes)
    dep = np.zeros(m, dtype=np.int64)
    latest = np.zeros(m, dtype=np.int64)
    dep[0] = shift_start
    for k in range(1, m):
        arrive = dep[k - 1] + t[nodes[k - 1], nodes[k]]
        if break_gap == k - 1:
            arrive = max(arrive, break_start) + break_s
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


@_compiled
def insertion_costs(
    nodes: IntArray,
    dep: IntArray,
    latest: IntArray,
    t: Matrix,
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
                ok = start <= l_u and max(start + s_u, break_start) <= break_end
                back = max(start + s_u + t_out, break_start) + break_s
                ok = ok and back <= latest[g + 1]
                if not ok:
                    # ... or before u.
                    start_b = max(max(dep[g] + t_in, break_start) + break_s, e_u)
                    ok = max(dep[g], break_start) <= break_end and start_b <= l_u
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


@_compiled
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


#: What :func:`placement` returns for an order that is infeasible, and for a feasible
#: order of a route that owes no break.
INFEASIBLE = -2
NO_BREAK = -1


@_compiled
def placement(
    nodes: IntArray,
    t: Matrix,
    early: IntArray,
    late: IntArray,
    service: IntArray,
    shift_start: int,
    shift_end: int,
    owes_break: bool,
    break_start: int,
    break_end: int,
    break_s: int,
) -> int:
    """Whether the order ``nodes`` is feasible, and where its break goes.

    ``INFEASIBLE``; ``NO_BREAK`` for a feasible route that owes none; else the gap of
    the break (it follows ``nodes[gap]``): among the gaps where windows, break window
    and shift end hold, the one that brings the agent home earliest (the first on a
    tie). One backward pass gives, for each node, the latest start that keeps the rest
    feasible and the earliest return as a function of the arrival there; one forward
    pass then tries every gap.
    """
    m = len(nodes)
    end = m - 1
    if not owes_break:
        now = shift_start
        for k in range(1, end):
            node = nodes[k]
            now += t[nodes[k - 1], node]
            if now > late[node]:
                return INFEASIBLE
            now = max(now, early[node]) + service[node]
        if now + t[nodes[end - 1], nodes[end]] > shift_end:
            return INFEASIBLE
        return NO_BREAK
    lat = np.zeros(m, dtype=np.int64)
    span = np.zeros(m, dtype=np.int64)
    floor = np.zeros(m, dtype=np.int64)
    rest_ok = np.ones(m, dtype=np.bool_)
    lat[end] = shift_end
    floor[end] = -(10**12)
    for k in range(end - 1, 0, -1):
        node = nodes[k]
        leg = t[node, nodes[k + 1]]
        lat[k] = min(late[node], lat[k + 1] - leg - service[node])
        rest_ok[k] = rest_ok[k + 1] and early[node] <= lat[k]
        span[k] = service[node] + leg + span[k + 1]
        floor[k] = max(early[node] + span[k], floor[k + 1])
    best = INFEASIBLE
    best_back = 0
    now = shift_start  # earliest departure from node g, no break taken yet
    for g in range(end):
        taken = max(now, break_start)
        if taken > break_end:
            break  # departures only get later
        leg = t[nodes[g], nodes[g + 1]]
        arrive = max(now + leg, break_start) + break_s
        nxt = g + 1
        e_next = early[nodes[nxt]] if nxt < end else 0
        if max(arrive, e_next) <= lat[nxt] and rest_ok[nxt]:
            back = max(arrive + span[nxt], floor[nxt])
            if best == INFEASIBLE or back < best_back:
                best, best_back = g, back
        if nxt == end:
            break
        arrive = now + leg
        if arrive > late[nodes[nxt]]:
            break  # the stretch before the break is infeasible from here on
        now = max(arrive, early[nodes[nxt]]) + service[nodes[nxt]]
    return best


@_compiled
def two_opt(
    nodes: IntArray,
    t: Matrix,
    early: IntArray,
    late: IntArray,
    service: IntArray,
    shift_start: int,
    shift_end: int,
    owes_break: bool,
    break_start: int,
    break_end: int,
    break_s: int,
    max_checks: int,
) -> tuple[int, int, int]:
    """The best feasible improving reversal of ``nodes[i+1 .. j]`` among the
    ``max_checks`` best improving ones: (i, j, :func:`placement` of the result), or
    (-1, -1, ``INFEASIBLE``). Travel deltas hold for asymmetric matrices."""
    m = len(nodes)
    fwd = np.zeros(m, dtype=np.int64)
    bwd = np.zeros(m, dtype=np.int64)
    for k in range(1, m):
        fwd[k] = fwd[k - 1] + t[nodes[k - 1], nodes[k]]
        bwd[k] = bwd[k - 1] + t[nodes[k], nodes[k - 1]]
    count = 0
    cap = max(1, (m * m) // 2)
    deltas = np.empty(cap, dtype=np.int64)
    ii = np.empty(cap, dtype=np.int64)
    jj = np.empty(cap, dtype=np.int64)
    for i in range(m - 1):
        for j in range(i + 2, m - 1):
            a, b, c, d = nodes[i], nodes[i + 1], nodes[j], nodes[j + 1]
            delta = (
                t[a, c]
                + t[b, d]
                - t[a, b]
                - t[c, d]
                + (bwd[j] - bwd[i + 1])
                - (fwd[j] - fwd[i + 1])
            )
            if delta < 0:
                deltas[count], ii[count], jj[count] = delta, i, j
                count += 1
    order = np.argsort(deltas[:count], kind="mergesort")
    trial = np.empty(m, dtype=np.int64)
    for q in range(min(max_checks, count)):
        i, j = ii[order[q]], jj[order[q]]
        trial[: i + 1] = nodes[: i + 1]
        trial[i + 1 : j + 1] = nodes[i + 1 : j + 1][::-1]
        trial[j + 1 :] = nodes[j + 1 :]
        where = placement(
            trial,
            t,
            early,
            late,
            service,
            shift_start,
            shift_end,
            owes_break,
            break_start,
            break_end,
            break_s,
        )
        if where != INFEASIBLE:
            return i, j, where
    return -1, -1, INFEASIBLE


@_compiled
def or_opt(
    nodes: IntArray,
    t: Matrix,
    early: IntArray,
    late: IntArray,
    service: IntArray,
    shift_start: int,
    shift_end: int,
    owes_break: bool,
    break_start: int,
    break_end: int,
    break_s: int,
    max_length: int,
    max_checks: int,
) -> tuple[int, int, int, int]:
    """The best feasible improving move of a segment ``nodes[s .. e]`` (1 to
    ``max_length`` stops) to between ``nodes[p]`` and ``nodes[p+1]``, among the
    ``max_checks`` best improving ones (ties: shorter segment, then s, then p):
    (s, e, p, :func:`placement` of the result), or (-1, -1, -1, ``INFEASIBLE``)."""
    m = len(nodes)
    cap = max(1, max_length * m * m)
    deltas = np.empty(cap, dtype=np.int64)
    ss = np.empty(cap, dtype=np.int64)
    pp = np.empty(cap, dtype=np.int64)
    ll = np.empty(cap, dtype=np.int64)
    count = 0
    for length in range(1, max_length + 1):
        for s in range(1, m - length):
            e = s + length - 1
            before, first, last, after = nodes[s - 1], nodes[s], nodes[e], nodes[e + 1]
            removed = t[before, after] - t[before, first] - t[last, after]
            for p in range(m - 1):
                if s - 1 <= p <= e:
                    continue
                x, y = nodes[p], nodes[p + 1]
                delta = removed + t[x, first] + t[last, y] - t[x, y]
                if delta < 0:
                    deltas[count], ss[count], pp[count], ll[count] = delta, s, p, length
                    count += 1
    order = np.argsort(deltas[:count], kind="mergesort")
    trial = np.empty(m, dtype=np.int64)
    rest = np.empty(m, dtype=np.int64)
    for q in range(min(max_checks, count)):
        s, p, length = ss[order[q]], pp[order[q]], ll[order[q]]
        e = s + length - 1
        r = 0
        for k in range(m):
            if k < s or k > e:
                rest[r] = nodes[k]
                r += 1
        at = p + 1 if p < s else p + 1 - length
        trial[:at] = rest[:at]
        trial[at : at + length] = nodes[s : e + 1]
        trial[at + length :] = rest[at : m - length]
        where = placement(
            trial,
            t,
            early,
            late,
            service,
            shift_start,
            shift_end,
            owes_break,
            break_start,
            break_end,
            break_s,
        )
        if where != INFEASIBLE:
            return s, e, p, where
    return -1, -1, -1, INFEASIBLE


@_compiled
def two_opt_star(
    na: IntArray,
    nb: IntArray,
    dep_a: IntArray,
    late_a: IntArray,
    dep_b: IntArray,
    late_b: IntArray,
    t: Matrix,
    demand: IntArray,
    capacity_a: int,
    capacity_b: int,
    max_checks: int,
) -> tuple[IntArray, IntArray]:
    """The ``max_checks`` best improving tail swaps of routes ``na`` and ``nb``, best
    first: a keeps ``na[: i + 1]`` and takes ``nb[j + 1 : -1]``, b the other way round,
    each route still ending at its own agent's home (``i``, ``j`` arrays).

    Screened on windows by the routes' :func:`route_times` (exact without a break when
    both shifts are equal; the caller checks the survivors) and on capacity (``-1``:
    none). Travel deltas hold for asymmetric matrices.
    """
    ma, mb = len(na), len(nb)
    # Load before each cut: ca[i] = demand of na[1 .. i].
    ca = np.zeros(ma, dtype=np.int64)
    cb = np.zeros(mb, dtype=np.int64)
    for k in range(1, ma - 1):
        ca[k] = ca[k - 1] + demand[na[k]]
    ca[ma - 1] = ca[ma - 2] if ma > 1 else 0
    for k in range(1, mb - 1):
        cb[k] = cb[k - 1] + demand[nb[k]]
    cb[mb - 1] = cb[mb - 2] if mb > 1 else 0
    home_a, home_b = na[ma - 1], nb[mb - 1]
    # A moved, non-empty tail ends at its new route's home, not its old one.
    end_b_to_a = t[nb[mb - 2], home_a] - t[nb[mb - 2], home_b] if mb > 2 else 0
    end_a_to_b = t[na[ma - 2], home_b] - t[na[ma - 2], home_a] if ma > 2 else 0
    cap = max(1, (ma - 1) * (mb - 1))
    deltas = np.empty(cap, dtype=np.int64)
    ii = np.empty(cap, dtype=np.int64)
    jj = np.empty(cap, dtype=np.int64)
    count = 0
    for i in range(ma - 1):
        x, x_next = na[i], na[i + 1]
        into_b = home_b if i + 1 == ma - 1 else x_next  # what follows nb[j] in new b
        for j in range(mb - 1):
            y, y_next = nb[j], nb[j + 1]
            into_a = home_a if j + 1 == mb - 1 else y_next
            delta = t[x, into_a] + t[y, into_b] - t[x, x_next] - t[y, y_next]
            if j + 1 < mb - 1:
                delta += end_b_to_a
            if i + 1 < ma - 1:
                delta += end_a_to_b
            if delta >= 0:
                continue
            if dep_a[i] + t[x, into_a] > late_b[j + 1]:
                continue
            if dep_b[j] + t[y, into_b] > late_a[i + 1]:
                continue
            if capacity_a >= 0 and ca[i] + (cb[mb - 1] - cb[j]) > capacity_a:
                continue
            if capacity_b >= 0 and cb[j] + (ca[ma - 1] - ca[i]) > capacity_b:
                continue
            deltas[count], ii[count], jj[count] = delta, i, j
            count += 1
    order = np.argsort(deltas[:count], kind="mergesort")[:max_checks]
    return ii[order], jj[order]


@_compiled
def nearness(inner: IntArray, nodes: IntArray, starts: IntArray, t: Matrix) -> IntArray:
    """Per group of ``nodes`` (group k starts at ``starts[k]``): the shortest leg, either
    way, between any of its nodes and any of ``inner``."""
    groups = len(starts)
    out = np.empty(groups, dtype=np.int64)
    for k in range(groups):
        lo = starts[k]
        hi = starts[k + 1] if k + 1 < groups else len(nodes)
        best = np.iinfo(np.int64).max
        for q in range(lo, hi):
            v = nodes[q]
            for u in inner:
                x = min(t[u, v], t[v, u])
                if x < best:
                    best = x
        out[k] = best
    return out
