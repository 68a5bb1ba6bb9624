"""Local search on :class:`optimizer.solve.construct.Insertion` routes: 2-opt, or-opt, 2-opt*.

Applied by optimizer.solve.lns to the routes a recreate changed. Moves never change which
visits are served (served priority stays), only their order and route, and a move is
kept only when it shortens travel and :meth:`Insertion.feasible` accepts every route
it touches (one feasibility model with the insertion). Candidate moves are priced with
numpy (travel deltas of all moves of a kind at once); feasibility is checked for the
improving ones, best first, and the first feasible one is applied.

A route owing a break is moved with its break: every candidate order is re-timed with
the break placed again (:meth:`LocalSearch.place`: the gap that brings the agent home
earliest among those :meth:`Insertion.feasible` accepts), so such routes are improved
too (before round 6 they were skipped, i.e. every route of a field day). Pairs of
agents on different travel modes are left alone (2-opt*). Pure and deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from optimizer.solve.construct import Insertion, RouteState

IntArray = np.ndarray[Any, np.dtype[np.int64]]

#: Feasibility checks per move search before giving up on that route (pair).
MAX_CHECKS = 12
#: Longest segment or-opt moves.
OR_OPT_MAX = 3
#: Closest routes tried for 2-opt* with a changed route.
PARTNERS = 8


class LocalSearch:
    def __init__(self, ins: Insertion, *, breaks: bool = True) -> None:
        self.ins = ins
        self.p = ins.p
        self.modes = [a.mode for a in self.p.agents]
        self.t = {m: mat.seconds for m, mat in self.p.matrices.items()}
        #: Also improve routes owing a break (moving it with the visits); False: leave
        #: them as they are (round 4's behaviour, kept for measurements).
        self.breaks = breaks

    def _times(self, a: int) -> tuple[IntArray, IntArray]:
        """Insertion._times of route ``a`` (cached there while the route stays the same)."""
        return self.ins._times(self.ins.routes[a])

    def _movable(self, route: RouteState) -> bool:
        return self.breaks or route.break_gap is None

    def place(self, route: RouteState) -> RouteState | None:
        """``route`` with its break where it fits best, or None if the route is infeasible.

        A route owing no break is only checked. For one owing a break, every gap is
        tried in one pass: the gap whose break lets the agent come home earliest among
        those where windows, break window and shift end hold (the earliest such gap on
        a tie). Same model as :meth:`Insertion.feasible` (the break follows a stop's
        service, not before its window), so that method accepts the result.
        """
        if route.break_gap is None:
            return route if self._ok(route) else None
        gap = self._break_gap(route.agent, route.nodes)
        return None if gap is None else RouteState(route.agent, route.nodes, gap, route.load)

    def _break_gap(self, a: int, nodes: list[int]) -> int | None:
        agent = self.p.agents[a]
        rule = agent.break_rule
        if rule is None:
            return None
        legs: list[int] = self.t[self.modes[a]][nodes[:-1], nodes[1:]].tolist()
        inner = nodes[1:-1]
        early = [0, *self.ins.early[inner].tolist(), 0]
        late = [0, *self.ins.late[inner].tolist(), agent.shift.end_s]
        service = [0, *self.ins.service[inner].tolist(), 0]
        m = len(nodes)
        end = m - 1
        # Backward, for each node k: latest start that keeps the rest feasible (lat),
        # whether the rest can be feasible at all (rest_ok), and the earliest return
        # as a function of the arrival A at k: max(A + span[k], floor[k]).
        lat = [0] * m
        span = [0] * m
        floor = [0] * m
        rest_ok = [True] * m
        lat[end] = agent.shift.end_s
        floor[end] = -(10**12)
        for k in range(end - 1, 0, -1):
            lat[k] = min(late[k], lat[k + 1] - legs[k] - service[k])
            rest_ok[k] = rest_ok[k + 1] and early[k] <= lat[k]
            span[k] = service[k] + legs[k] + span[k + 1]
            floor[k] = max(early[k] + span[k], floor[k + 1])
        start, finish, length = rule.window.start_s, rule.window.end_s, rule.duration_s
        best: int | None = None
        best_back = 0
        now = agent.shift.start_s  # earliest departure from node g, no break yet
        for g in range(end):
            taken = max(now, start)
            if taken > finish:
                break  # departures only get later
            arrive = taken + length + legs[g]
            nxt = g + 1
            if max(arrive, early[nxt]) <= lat[nxt] and rest_ok[nxt]:
                back = max(arrive + span[nxt], floor[nxt])
                if best is None or back < best_back:
                    best, best_back = g, back
            if nxt == end:
                break
            arrive = now + legs[g]
            if arrive > late[nxt]:
                break  # the stretch before the break is infeasible from here on
            now = max(arrive, early[nxt]) + service[nxt]
        return best

    def _ok(self, route: RouteState) -> bool:
        """:meth:`Insertion.feasible` for a route owing no break, on Python ints."""
        if route.break_gap is not None:
            return self.ins.feasible(route)
        agent = self.p.agents[route.agent]
        nodes = route.nodes
        legs: list[int] = self.t[self.modes[route.agent]][nodes[:-1], nodes[1:]].tolist()
        inner = nodes[1:-1]
        early = self.ins.early[inner].tolist()
        late = self.ins.late[inner].tolist()
        service = self.ins.service[inner].tolist()
        now = agent.shift.start_s
        for k in range(len(inner)):
            now += legs[k]
            if now > late[k]:
                return False
            now = max(now, early[k]) + service[k]
        return bool(now + legs[-1] <= agent.shift.end_s)

    def _partners(self, a: int) -> list[int]:
        """Routes for 2-opt* with ``a``: the ``PARTNERS`` closest (nearest stop to any of
        a's stops), and the first empty route; same mode, no break owed."""
        routes = self.ins.routes
        t = self.t[self.modes[a]]
        inner_a = routes[a].nodes[1:-1]
        ids: list[int] = []
        nodes: list[int] = []
        starts: list[int] = []
        empty: list[int] = []
        for b, r in enumerate(routes):
            if b == a or not self._movable(r) or self.modes[b] != self.modes[a]:
                continue
            if len(r.nodes) <= 2:
                empty.append(b)
                continue
            ids.append(b)
            starts.append(len(nodes))
            nodes.extend(r.nodes[1:-1])
        if not ids or not inner_a:
            return ids + empty[:1]
        near = np.minimum(t[np.ix_(inner_a, nodes)], t[np.ix_(nodes, inner_a)].T).min(axis=0)
        per_route = np.minimum.reduceat(near, starts)
        order = np.argsort(per_route, kind="stable")[:PARTNERS]
        return [ids[k] for k in order] + empty[:1]

    def run(
        self,
        touched: Iterable[int],
        *,
        inter: bool = True,
        stop: Callable[[], bool] | None = None,
    ) -> int:
        """Improve routes ``touched`` (agent indices) until no move helps; moves made.

        ``stop`` (a deadline) is asked before each route and each move; the routes are
        valid whenever it ends the run.
        """
        routes = self.ins.routes
        todo = [a for a in dict.fromkeys(touched) if self._movable(routes[a])]
        moves = 0
        while todo:
            if stop is not None and stop():
                break
            a = todo.pop()
            while (stop is None or not stop()) and self._intra(a):
                moves += 1
            if not inter or len(routes[a].nodes) <= 2:
                continue
            for b in self._partners(a):
                if self._two_opt_star(a, b):
                    moves += 1
                    for c in (a, b):
                        while self._intra(c):
                            moves += 1
                    todo.extend(c for c in (a, b) if c not in todo)
                    break
        return moves

    # -- intra-route -------------------------------------------------------------------

    def _intra(self, a: int) -> bool:
        return self._two_opt(a) or self._or_opt(a)

    def _try(self, a: int, candidates: list[tuple[float, list[int]]]) -> bool:
        route = self.ins.routes[a]
        candidates.sort(key=lambda c: c[0])
        for _, nodes in candidates[:MAX_CHECKS]:
            trial = self.place(RouteState(route.agent, nodes, route.break_gap, route.load))
            if trial is not None:
                self.ins.routes[a] = trial
                return True
        return False

    def _two_opt(self, a: int) -> bool:
        nodes = self.ins.routes[a].nodes
        m = len(nodes)
        if m < 5:
            return False
        t = self.t[self.modes[a]]
        n = np.asarray(nodes, dtype=np.int64)
        fwd = np.concatenate(([0], np.cumsum(t[n[:-1], n[1:]])))
        bwd = np.concatenate(([0], np.cumsum(t[n[1:], n[:-1]])))
        i = np.arange(m - 1)[:, None]  # reverse nodes[i+1 .. j]
        j = np.arange(m - 1)[None, :]
        valid = j >= i + 2
        ii, jj = np.broadcast_to(i, valid.shape)[valid], np.broadcast_to(j, valid.shape)[valid]
        delta = (
            t[n[ii], n[jj]]
            + t[n[ii + 1], n[jj + 1]]
            - t[n[ii], n[ii + 1]]
            - t[n[jj], n[jj + 1]]
            + (bwd[jj] - bwd[ii + 1])
            - (fwd[jj] - fwd[ii + 1])
        )
        better = np.flatnonzero(delta < 0)
        if len(better) == 0:
            return False
        order = better[np.argsort(delta[better], kind="stable")][:MAX_CHECKS]
        cands = [
            (
                float(delta[k]),
                nodes[: ii[k] + 1] + nodes[ii[k] + 1 : jj[k] + 1][::-1] + nodes[jj[k] + 1 :],
            )
            for k in order
        ]
        return self._try(a, cands)

    def _or_opt(self, a: int) -> bool:
        nodes = self.ins.routes[a].nodes
        m = len(nodes)
        if m < 4:
            return False
        t = self.t[self.modes[a]]
        n = np.asarray(nodes, dtype=np.int64)
        cands: list[tuple[float, list[int]]] = []
        for length in range(1, OR_OPT_MAX + 1):
            s = np.arange(1, m - length)[:, None]  # segment nodes[s .. s+length-1]
            e = s + length - 1
            p = np.arange(m - 1)[None, :]  # insert between nodes[p] and nodes[p+1]
            valid = (p < s - 1) | (p > e)
            if not valid.any():
                continue
            ss = np.broadcast_to(s, valid.shape)[valid]
            ee = np.broadcast_to(e, valid.shape)[valid]
            pp = np.broadcast_to(p, valid.shape)[valid]
            delta = (
                t[n[ss - 1], n[ee + 1]]
                - t[n[ss - 1], n[ss]]
                - t[n[ee], n[ee + 1]]
                + t[n[pp], n[ss]]
                + t[n[ee], n[pp + 1]]
                - t[n[pp], n[pp + 1]]
            )
            better = np.flatnonzero(delta < 0)
            for k in better[np.argsort(delta[better], kind="stable")][:MAX_CHECKS]:
                s0, e0, p0 = int(ss[k]), int(ee[k]), int(pp[k])
                seg = nodes[s0 : e0 + 1]
                rest = nodes[:s0] + nodes[e0 + 1 :]
                at = p0 + 1 if p0 < s0 else p0 + 1 - length
                cands.append((float(delta[k]), rest[:at] + seg + rest[at:]))
        return bool(cands) and self._try(a, cands)

    # -- inter-route -------------------------------------------------------------------

    def _two_opt_star(self, a: int, b: int) -> bool:
        """Swap the tails of routes ``a`` and ``b`` (after nodes[i] of a, nodes[j] of b)."""
        ins = self.ins
        ra, rb = ins.routes[a], ins.routes[b]
        na, nb = ra.nodes, rb.nodes
        t = self.t[self.modes[a]]
        xa = np.asarray(na, dtype=np.int64)
        xb = np.asarray(nb, dtype=np.int64)
        dep_a, late_a = self._times(a)
        dep_b, late_b = self._times(b)
        i = np.arange(len(na) - 1)[:, None]
        j = np.arange(len(nb) - 1)[None, :]
        # New a: na[:i+1] + nb[j+1:-1] + a's end; new b: nb[:j+1] + na[i+1:-1] + b's end.
        head_a = xb.copy()  # what follows nodes[i] of a: b's tail, ending at a's end
        head_a[-1] = xa[-1]
        head_b = xa.copy()
        head_b[-1] = xb[-1]
        delta = (
            t[xa[i], head_a[j + 1]]
            + t[xb[j], head_b[i + 1]]
            - t[xa[i], xa[i + 1]]
            - t[xb[j], xb[j + 1]]
        ).astype(np.float64)
        # Quick window screen (exact without breaks for equal shifts; checked below).
        ok = (dep_a[i] + t[xa[i], head_a[j + 1]] <= late_b[j + 1]) & (
            dep_b[j] + t[xb[j], head_b[i + 1]] <= late_a[i + 1]
        )
        dem = ins.demand
        agent_a, agent_b = self.p.agents[a], self.p.agents[b]
        ca = np.cumsum(np.concatenate(([0], dem[xa[1:-1]], [0])))
        cb = np.cumsum(np.concatenate(([0], dem[xb[1:-1]], [0])))
        if agent_a.capacity is not None:
            ok &= ca[i] + (cb[-1] - cb[j]) <= agent_a.capacity
        if agent_b.capacity is not None:
            ok &= cb[j] + (ca[-1] - ca[i]) <= agent_b.capacity
        delta[~ok] = np.inf
        better = np.argwhere(delta < 0)
        if len(better) == 0:
            return False
        vals = delta[better[:, 0], better[:, 1]]
        order = np.argsort(vals, kind="stable")[:MAX_CHECKS]
        for k in order:
            i0, j0 = int(better[k, 0]), int(better[k, 1])
            new_a = na[: i0 + 1] + nb[j0 + 1 : -1] + na[-1:]
            new_b = nb[: j0 + 1] + na[i0 + 1 : -1] + nb[-1:]
            va, vb = new_a[1:-1], new_b[1:-1]
            load_a = int(dem[va].sum()) if va else 0
            load_b = int(dem[vb].sum()) if vb else 0
            if (va and not ins.allowed[va, a].all()) or (vb and not ins.allowed[vb, b].all()):
                continue
            if (agent_a.capacity is not None and load_a > agent_a.capacity) or (
                agent_b.capacity is not None and load_b > agent_b.capacity
            ):
                continue
            if (agent_a.max_visits is not None and len(va) > agent_a.max_visits) or (
                agent_b.max_visits is not None and len(vb) > agent_b.max_visits
            ):
                continue
            sa = self.place(RouteState(a, new_a, ra.break_gap, load_a))
            sb = self.place(RouteState(b, new_b, rb.break_gap, load_b)) if sa else None
            if sa is not None and sb is not None:
                ins.routes[a], ins.routes[b] = sa, sb
                ins.where[va] = a
                ins.where[vb] = b
                return True
        return False
