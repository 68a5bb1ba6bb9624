"""A fast constructive start: priority-first regret insertion, its inner loops compiled.

The routes it builds respect visit windows, shifts, skills and pins, max_visits,
capacity and the break. The break lies between two stops: it starts when the first
one ends or when its window opens, whichever is later, so it may fall on the leg or in
the wait before the next appointment; leg and break add up. That is the verifier's rule
and OR-Tools' (a break interval in the gap between two services, beside the travel),
so any schedule found here is one both accept; the first model, "right after a stop,
before the leg", refused routes VROOM found on road days (docs/benchmarks.md, round
7). They seed OR-Tools' local search through ``solve(..., initial_routes=...)``.

Selection rule: among unrouted visits, take the one with the highest
``priority * priority_weight_s + regret - cheapest``, where ``cheapest`` is its
cheapest feasible insertion (added travel seconds) and ``regret`` the sum of the
differences to its next ``regret_k - 1`` best routes (a visit that fits one route only
gets the large ``priority_weight_s`` as regret). Only the route that received a visit
is re-evaluated after each insertion, so the whole build is ``O(visits^2 * gaps)``
work, done by optimizer.solve.kernels (route times, insertion prices, the pick).

The same insertion (:class:`Insertion`) recreates routes in optimizer.solve.lns's
ruin-and-recreate search: it can start from given routes, remove visits and fill
again, so both share one feasibility model.

Pure: no OR-Tools, no clock, no randomness.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from optimizer.feasibility import able_agents
from optimizer.problem import RoutingProblem
from optimizer.solve import kernels

IntArray = np.ndarray[Any, np.dtype[np.int64]]
FloatArray = np.ndarray[Any, np.dtype[np.float64]]

_INF = float("inf")


@dataclass(slots=True)
class RouteState:
    """One agent's route under construction: real nodes, and the gap holding the break."""

    agent: int
    nodes: list[int]  # start node, visits..., end node
    break_gap: int | None  # the break follows nodes[break_gap]; None: no break owed
    load: int = 0

    def copy(self) -> RouteState:
        return RouteState(self.agent, list(self.nodes), self.break_gap, self.load)


@dataclass(frozen=True, slots=True)
class _Best:
    """Best insertion of every candidate into one route: cost, gap, break-before flag."""

    cost: FloatArray
    gap: IntArray
    break_before: np.ndarray[Any, np.dtype[np.bool_]]


class Insertion:
    """Routes being filled by priority-first regret insertion.

    Starts empty (or from :meth:`load`); :meth:`remove` takes visits out again and
    :meth:`fill` inserts unrouted visits until none fits. The break lies in the gap
    after a stop (see the module docstring): every route it holds can be
    timed by :meth:`schedule`.
    """

    def __init__(
        self, problem: RoutingProblem, regret_k: int = 3, priority_weight_s: int = 3600
    ) -> None:
        self.p = problem
        self.k = regret_k
        self.weight = priority_weight_s
        n = problem.num_visits
        self.n = n
        n_points = len(problem.points)
        self.service = np.zeros(n_points, dtype=np.int64)
        self.early = np.zeros(n_points, dtype=np.int64)
        self.late = np.zeros(n_points, dtype=np.int64)
        for i, v in enumerate(problem.visits):
            w = problem.window(i)
            self.service[i] = v.duration_s
            self.early[i], self.late[i] = w.start_s, w.end_s
        self.priority = np.array([v.priority for v in problem.visits], dtype=np.int64)
        self.demand = np.array([v.demand for v in problem.visits], dtype=np.int64)
        self.routes = [self._empty_route(a) for a in range(len(problem.agents))]
        self.allowed = np.zeros((n, len(problem.agents)), dtype=bool)
        for i in range(n):
            self.allowed[i, able_agents(problem, i)] = True
        for a, agent in enumerate(problem.agents):
            for node in problem.matrices[agent.mode].unreachable:
                if node < n:
                    self.allowed[node, a] = False
        #: Agents whose empty routes price every visit the same (same mode, ends, shift,
        #: break, limits and able visits) share a key: a fill prices one empty route per
        #: key and copies its column to the others (a Solomon fleet is mostly idle
        #: twins; pricing each cost most of a recreate, docs/benchmarks.md round 8).
        self._twin = [self._twin_key(a) for a in range(len(problem.agents))]
        self.cost = np.full((n, len(problem.agents)), _INF)
        self.gap = np.zeros((n, len(problem.agents)), dtype=np.int64)
        self.brk = np.zeros((n, len(problem.agents)), dtype=bool)
        self.unrouted = np.ones(n, dtype=bool)
        self.where = np.full(n, -1, dtype=np.int64)  # agent serving each visit, -1: none
        #: Extra cost of inserting into a route, e.g. to steer visits towards lighter
        #: routes when balancing (optimizer.solve.lns); None: travel alone.
        self.bias: Callable[[RouteState], float] | None = None
        # What _refresh last evaluated per route, and which rows of cost[:, a] still
        # hold that evaluation: a recreate after a small ruin then prices only the
        # visits the ruin freed in the routes it left alone (the profile's hot spot,
        # docs/benchmarks.md round 6). Route times are kept per route the same way.
        self._priced: list[tuple[tuple[int, ...], int | None, int] | None] = [None] * len(
            problem.agents
        )
        self._valid = np.zeros((n, len(problem.agents)), dtype=bool)
        self._timed: list[tuple[tuple[int, ...], int | None, IntArray, IntArray] | None] = [
            None
        ] * len(problem.agents)

    def _twin_key(self, a: int) -> tuple[object, ...]:
        agent = self.p.agents[a]
        rule = agent.break_rule
        t = self.p.matrices[agent.mode].seconds
        n = len(self.p.visits)
        start, end = self.p.start_node(a), self.p.end_node(a)
        return (
            agent.mode,
            # Each agent has its own home nodes: their legs to and from the visits are
            # what an empty route's prices depend on (equal when the homes coincide).
            t[start, :n].tobytes(),
            t[:n, end].tobytes(),
            int(t[start, end]),
            agent.shift.start_s,
            agent.shift.end_s,
            None if rule is None else (rule.window.start_s, rule.window.end_s, rule.duration_s),
            agent.capacity,
            agent.max_visits,
            self.allowed[:, a].tobytes(),
        )

    def _empty_route(self, a: int) -> RouteState:
        agent = self.p.agents[a]
        owed = agent.break_rule is not None
        return RouteState(a, [self.p.start_node(a), self.p.end_node(a)], 0 if owed else None)

    # -- state -------------------------------------------------------------------------

    def visits(self) -> tuple[tuple[int, ...], ...]:
        """Visit indices per agent (agent order)."""
        return tuple(tuple(r.nodes[1:-1]) for r in self.routes)

    def snapshot(self) -> list[RouteState]:
        return [r.copy() for r in self.routes]

    def restore(self, routes: Sequence[RouteState]) -> None:
        """Go back to routes taken by :meth:`snapshot` (costs are recomputed by fill)."""
        self.routes = [r.copy() for r in routes]
        self.unrouted[:] = True
        self.where[:] = -1
        for r in self.routes:
            visits = r.nodes[1:-1]
            self.unrouted[visits] = False
            self.where[visits] = r.agent

    def load(self, routes: Sequence[Sequence[int]]) -> bool:
        """Take ``routes`` (visit indices per agent) as the current routes.

        Each route's break goes into the first gap where the route is feasible in this
        module's model. False (and nothing changed) if some route has no such gap or
        breaks a rule checked here (skills, pins, max_visits, capacity).
        """
        states: list[RouteState] = []
        for a, visits in enumerate(routes):
            agent = self.p.agents[a]
            nodes = [self.p.start_node(a), *visits, self.p.end_node(a)]
            load = int(self.demand[list(visits)].sum()) if visits else 0
            if (
                (visits and not self.allowed[list(visits), a].all())
                or (agent.max_visits is not None and len(visits) > agent.max_visits)
                or (agent.capacity is not None and load > agent.capacity)
            ):
                return False
            gaps: list[int | None] = (
                [None] if agent.break_rule is None else list(range(len(nodes) - 1))
            )
            state = next(
                (s for g in gaps if self.feasible(s := RouteState(a, nodes, g, load))),
                None,
            )
            if state is None:
                return False
            states.append(state)
        self.restore(states)
        return True

    def remove(self, u: int) -> None:
        """Take visit ``u`` out of its route (the break stays between the same stops)."""
        a = int(self.where[u])
        if a < 0:
            return
        route = self.routes[a]
        k = route.nodes.index(u)
        del route.nodes[k]
        if route.break_gap is not None and k <= route.break_gap:
            route.break_gap -= 1
        route.load -= int(self.demand[u])
        self.unrouted[u] = True
        self.where[u] = -1

    def feasible(self, route: RouteState) -> bool:
        """Windows, shift end and break window hold for ``route`` in this model."""
        agent = self.p.agents[route.agent]
        dep, _ = self._times(route)
        nodes = route.nodes
        for k in range(1, len(nodes) - 1):
            if dep[k] - self.service[nodes[k]] > self.late[nodes[k]]:
                return False
        rule = agent.break_rule
        g = route.break_gap
        if (
            g is not None
            and rule is not None
            and max(int(dep[g]), rule.window.start_s) > rule.window.end_s
        ):
            return False
        return int(dep[-1]) <= agent.shift.end_s

    def schedule(self, route: RouteState) -> tuple[int, list[int], int, int | None]:
        """(depart, service starts, return, break start) of a feasible route.

        Earliest times, except the departure: as late as the first stop allows (the
        rule of optimizer.solve.ortools._extract). The break starts when the stop before it
        ends, not before its window (on the leg or in the wait if that is later).
        """
        agent = self.p.agents[route.agent]
        t = self.p.matrices[agent.mode].seconds
        dep, _ = self._times(route)
        nodes = route.nodes
        starts = [int(dep[k] - self.service[nodes[k]]) for k in range(1, len(nodes) - 1)]
        rule = agent.break_rule
        brk = None
        if route.break_gap is not None and rule is not None:
            brk = max(int(dep[route.break_gap]), rule.window.start_s)
        depart = agent.shift.start_s
        if starts:
            first_leg = int(t[nodes[0], nodes[1]])
            latest = starts[0] - first_leg
            if brk is not None and route.break_gap == 0:
                latest = min(brk, latest - rule.duration_s) if rule is not None else latest
            depart = max(depart, latest)
        return depart, starts, int(dep[-1]), brk

    def travel_s(self) -> int:
        total = 0
        for r in self.routes:
            if len(r.nodes) > 2:
                t = self.p.matrices[self.p.agents[r.agent].mode].seconds
                total += int(t[r.nodes[:-1], r.nodes[1:]].sum())
        return total

    def served_priority(self) -> int:
        return int(self.priority[~self.unrouted].sum())

    def route_travel_s(self, a: int) -> int:
        """Travel seconds of route ``a``, to and from home."""
        r = self.routes[a]
        if len(r.nodes) <= 2:
            return 0
        t = self.p.matrices[self.p.agents[r.agent].mode].seconds
        return int(t[r.nodes[:-1], r.nodes[1:]].sum())

    def relocate(self, u: int, b: int) -> bool:
        """Move visit ``u`` into route ``b`` at its cheapest feasible place.

        False, and nothing changed, when it fits nowhere in ``b`` or when the route it
        leaves would break a rule (possible without the triangle inequality).
        """
        a = int(self.where[u])
        if a < 0 or a == b or not self.allowed[u, b]:
            return False
        old_a, old_b = self.routes[a].copy(), self.routes[b].copy()
        self.remove(u)
        best = self._evaluate(self.routes[b], np.array([u], dtype=np.int64))
        if not np.isfinite(best.cost[0]) or not self.feasible(self.routes[a]):
            self.routes[a], self.routes[b] = old_a, old_b
            self.unrouted[u] = False
            self.where[u] = a
            return False
        self.gap[u, b] = best.gap[0]
        self.brk[u, b] = best.break_before[0]
        self._insert(u, b)
        return True

    # -- insertion ---------------------------------------------------------------------

    def _times(self, route: RouteState) -> tuple[IntArray, IntArray]:
        """(earliest departure after each node, latest arrival at each node).

        Kept per agent while the route's stops and break gap stay the same.
        """
        key = tuple(route.nodes)
        hit = self._timed[route.agent]
        if hit is not None and hit[0] == key and hit[1] == route.break_gap:
            return hit[2], hit[3]
        dep, latest = self._route_times(route)
        self._timed[route.agent] = (key, route.break_gap, dep, latest)
        return dep, latest

    def _route_times(self, route: RouteState) -> tuple[IntArray, IntArray]:
        agent = self.p.agents[route.agent]
        rule = agent.break_rule
        gap = -1 if route.break_gap is None or rule is None else route.break_gap
        window = rule.window if rule is not None else None
        dep, latest = kernels.route_times(
            np.asarray(route.nodes, dtype=np.int64),
            self.p.matrices[agent.mode].seconds,
            self.early,
            self.late,
            self.service,
            agent.shift.start_s,
            agent.shift.end_s,
            gap,
            window.start_s if window is not None else 0,
            window.end_s if window is not None else 0,
            rule.duration_s if rule is not None else 0,
        )
        return dep, latest

    def _evaluate(self, route: RouteState, candidates: IntArray) -> _Best:
        """Cheapest feasible insertion of each candidate in ``route`` (inf: none)."""
        a = route.agent
        agent = self.p.agents[a]
        dep, latest = self._times(route)
        rule = agent.break_rule
        gap = -1 if route.break_gap is None or rule is None else route.break_gap
        window = rule.window if rule is not None else None
        cost, best_gap, before = kernels.insertion_costs(
            np.asarray(route.nodes, dtype=np.int64),
            dep,
            latest,
            self.p.matrices[agent.mode].seconds,
            candidates,
            self.early,
            self.late,
            self.service,
            gap,
            window.start_s if window is not None else 0,
            window.end_s if window is not None else 0,
            rule.duration_s if rule is not None else 0,
        )
        if agent.max_visits is not None and len(route.nodes) - 2 >= agent.max_visits:
            cost[:] = _INF
        if agent.capacity is not None:
            cost[route.load + self.demand[candidates] > agent.capacity] = _INF
        cost[~self.allowed[candidates, a]] = _INF
        return _Best(cost, best_gap, before)

    def _refresh(self, a: int) -> None:
        route = self.routes[a]
        key = (tuple(route.nodes), route.break_gap, route.load)
        wanted = self.unrouted & self.allowed[:, a]
        if self.bias is None and self._priced[a] == key:
            # Same route as last priced: only the rows priced since are missing.
            wanted &= ~self._valid[:, a]
        else:
            self.cost[:, a] = _INF
            self._valid[:, a] = False
            self._priced[a] = key
        candidates = np.flatnonzero(wanted).astype(np.int64)
        if len(candidates) == 0:
            return
        best = self._evaluate(route, candidates)
        self.cost[candidates, a] = best.cost if self.bias is None else best.cost + self.bias(route)
        self.gap[candidates, a] = best.gap
        self.brk[candidates, a] = best.break_before
        self._valid[candidates, a] = True

    def _refresh_all(self) -> None:
        """:meth:`_refresh` every route, an empty twin's prices copied (``_twin``)."""
        priced: dict[tuple[object, ...], int] = {}
        for a, route in enumerate(self.routes):
            if self.bias is None and len(route.nodes) == 2:
                twin = priced.get(self._twin[a])
                if twin is not None:
                    self.cost[:, a] = self.cost[:, twin]
                    self.gap[:, a] = self.gap[:, twin]
                    self.brk[:, a] = self.brk[:, twin]
                    self._valid[:, a] = self._valid[:, twin]
                    self._priced[a] = (tuple(route.nodes), route.break_gap, route.load)
                    continue
                priced[self._twin[a]] = a
            self._refresh(a)

    def _insert(self, u: int, a: int) -> None:
        route = self.routes[a]
        g = int(self.gap[u, a])
        route.nodes.insert(g + 1, u)
        if route.break_gap is not None and (
            g < route.break_gap or (g == route.break_gap and not self.brk[u, a])
        ):
            route.break_gap += 1
        route.load += int(self.demand[u])
        self.unrouted[u] = False
        self.where[u] = a
        self.cost[u, :] = _INF
        self._valid[u, :] = False

    def _pick(self) -> tuple[int, int] | None:
        u, a = kernels.pick(self.cost, self.unrouted, self.priority, self.k, float(self.weight))
        return None if u < 0 else (int(u), int(a))

    def fill(self, regret_k: int | None = None, *, stop: Callable[[], bool] | None = None) -> bool:
        """Insert unrouted visits, best score first, until none fits anywhere.

        ``regret_k`` overrides the constructor's for this fill. ``stop`` is asked
        between insertions; False when it stopped the fill early (routes stay valid).
        """
        if regret_k is not None:
            self.k = regret_k
        self._refresh_all()
        while (choice := self._pick()) is not None:
            if stop is not None and stop():
                return False
            u, a = choice
            self._insert(u, a)
            self._refresh(a)
        return True

    def build(self, stop: Callable[[], bool] | None = None) -> tuple[tuple[int, ...], ...]:
        self.fill(stop=stop)
        return self.visits()


def regret_routes(
    problem: RoutingProblem,
    *,
    regret_k: int = 3,
    priority_weight_s: int = 3600,
    stop: Callable[[], bool] | None = None,
) -> tuple[tuple[int, ...], ...]:
    """Visit indices per agent (agent order), built by priority-first regret insertion.

    ``stop`` is asked between insertions: when it says so, the routes built so far
    are returned (valid, with fewer visits).
    """
    if regret_k < 1:
        msg = f"Expected regret_k >= 1, got {regret_k}."
        raise ValueError(msg)
    if not problem.agents or not problem.num_visits:
        return tuple(() for _ in problem.agents)
    return Insertion(problem, regret_k, priority_weight_s).build(stop)


#: (regret_k, priority_weight_s) of the starts :func:`regret_starts` builds; chosen on
#: field-day seeds 3-4 (docs/benchmarks.md).
START_VARIANTS: tuple[tuple[int, int], ...] = ((4, 1800), (3, 1800), (2, 1800), (1, 1800))


def route_travel_s(problem: RoutingProblem, routes: tuple[tuple[int, ...], ...]) -> int:
    """Total travel seconds of ``routes`` (visit indices per agent), to and from home."""
    total = 0
    for a, visits in enumerate(routes):
        if not visits:
            continue
        nodes = [problem.start_node(a), *visits, problem.end_node(a)]
        total += sum(problem.travel_s(a, i, j) for i, j in pairwise(nodes))
    return total


def regret_starts(
    problem: RoutingProblem,
    variants: tuple[tuple[int, int], ...] = START_VARIANTS,
    *,
    stop: Callable[[], bool] | None = None,
    whole_first: bool = False,
) -> list[tuple[tuple[int, ...], ...]]:
    """One start per variant, best first: most served priority, then least travel.

    With ``stop`` (a deadline), at least one start comes back and no variant is begun
    once it says so: on a large day under CPU pressure the builds alone can outlast
    the search's budget. ``whole_first``: the first variant is built to the end
    whatever ``stop`` says (the plan of a search that must return one).
    """
    starts: list[tuple[tuple[int, ...], ...]] = []
    for k, w in variants:
        if starts and stop is not None and stop():
            break
        partial = None if whole_first and not starts else stop
        routes = regret_routes(problem, regret_k=k, priority_weight_s=w, stop=partial)
        if routes not in starts:
            starts.append(routes)

    def key(routes: tuple[tuple[int, ...], ...]) -> tuple[int, int]:
        served = sum(problem.visits[i].priority for r in routes for i in r)
        return (-served, route_travel_s(problem, routes))

    return sorted(starts, key=key)
