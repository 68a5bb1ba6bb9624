"""Local search on :class:`optimizer.solve.construct.Insertion` routes: 2-opt, or-opt, 2-opt*.

Applied by optimizer.solve.lns to the routes a recreate changed. Moves never change which
visits are served (served priority stays), only their order and route, and a move is
kept only when it shortens travel and :meth:`Insertion.feasible` accepts every route
it touches (one feasibility model with the insertion). 2-opt and or-opt price every move
of a route and check the improving ones, best first, in one compiled call
(optimizer.solve.kernels); 2-opt* prices all tail swaps of two routes in one compiled call too. The first
feasible improving move is applied.

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

from optimizer.solve import kernels
from optimizer.solve.construct import Insertion, RouteState

IntArray = np.ndarray[Any, np.dtype[np.int64]]
#: An agent's part of a kernel call (optimizer.solve.kernels): matrix; earliest, latest
#: and service seconds per node; shift start and end; whether a break is owed; break
#: window start and end; break length.
KernelArgs = tuple[kernels.Matrix, IntArray, IntArray, IntArray, int, int, bool, int, int, int]

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

    def _args(self, a: int) -> KernelArgs:
        """The agent's part of a kernel call: matrix, windows, shift and break."""
        agent = self.p.agents[a]
        rule = agent.break_rule
        window = rule.window if rule is not None else None
        return (
            self.t[self.modes[a]],
            self.ins.early,
            self.ins.late,
            self.ins.service,
            agent.shift.start_s,
            agent.shift.end_s,
            rule is not None,  # Insertion's routes owe the break whenever there is one
            window.start_s if window is not None else 0,
            window.end_s if window is not None else 0,
            rule.duration_s if rule is not None else 0,
        )

    def place(self, route: RouteState) -> RouteState | None:
        """``route`` with its break where it fits best, or None if the route is infeasible.

        A route owing no break is only checked. For one owing a break, every gap is
        tried in one pass (:func:`optimizer.solve.kernels.placement`): the gap whose
        break lets the agent come home earliest among those where windows, break window
        and shift end hold (the earliest such gap on a tie). Same model as
        :meth:`Insertion.feasible` (the break starts when a stop's service ends or
        its window opens, on the leg or in the wait), so that method accepts the result.
        """
        where = kernels.placement(np.asarray(route.nodes, dtype=np.int64), *self._args(route.agent))
        return self._placed(route, route.nodes, where)

    def _placed(self, route: RouteState, nodes: list[int], where: int) -> RouteState | None:
        if where == kernels.INFEASIBLE:
            return None
        gap = None if where == kernels.NO_BREAK else where
        return RouteState(route.agent, nodes, gap, route.load)

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
        per_route = kernels.nearness(
            np.asarray(inner_a, dtype=np.int64),
            np.asarray(nodes, dtype=np.int64),
            np.asarray(starts, dtype=np.int64),
            t,
        )
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

    def _two_opt(self, a: int) -> bool:
        route = self.ins.routes[a]
        nodes = route.nodes
        if len(nodes) < 5:
            return False
        i, j, where = kernels.two_opt(np.asarray(nodes, dtype=np.int64), *self._args(a), MAX_CHECKS)
        if i < 0:
            return False
        return self._apply(a, nodes[: i + 1] + nodes[i + 1 : j + 1][::-1] + nodes[j + 1 :], where)

    def _or_opt(self, a: int) -> bool:
        route = self.ins.routes[a]
        nodes = route.nodes
        if len(nodes) < 4:
            return False
        s, e, p, where = kernels.or_opt(
            np.asarray(nodes, dtype=np.int64),
            *self._args(a),
            max_length=OR_OPT_MAX,
            max_checks=MAX_CHECKS,
        )
        if s < 0:
            return False
        seg = nodes[s : e + 1]
        rest = nodes[:s] + nodes[e + 1 :]
        at = p + 1 if p < s else p + 1 - len(seg)
        return self._apply(a, rest[:at] + seg + rest[at:], where)

    def _apply(self, a: int, nodes: list[int], where: int) -> bool:
        placed = self._placed(self.ins.routes[a], nodes, where)
        if placed is None:
            return False
        self.ins.routes[a] = placed
        return True

    # -- inter-route -------------------------------------------------------------------

    def _two_opt_star(self, a: int, b: int) -> bool:
        """Swap the tails of routes ``a`` and ``b`` (after nodes[i] of a, nodes[j] of b)."""
        ins = self.ins
        ra, rb = ins.routes[a], ins.routes[b]
        na, nb = ra.nodes, rb.nodes
        dep_a, late_a = self._times(a)
        dep_b, late_b = self._times(b)
        dem = ins.demand
        agent_a, agent_b = self.p.agents[a], self.p.agents[b]
        cuts_a, cuts_b = kernels.two_opt_star(
            np.asarray(na, dtype=np.int64),
            np.asarray(nb, dtype=np.int64),
            dep_a,
            late_a,
            dep_b,
            late_b,
            self.t[self.modes[a]],
            dem,
            -1 if agent_a.capacity is None else agent_a.capacity,
            -1 if agent_b.capacity is None else agent_b.capacity,
            MAX_CHECKS,
        )
        for i0, j0 in zip(cuts_a.tolist(), cuts_b.tolist(), strict=True):
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
