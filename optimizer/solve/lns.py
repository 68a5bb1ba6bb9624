"""Ruin and recreate around the regret insertion: a pure Python/numpy improvement phase.

Each iteration removes 10-30 served visits (at random, a geographic cluster around a
random visit, the costliest detours, or a whole short route) and lets
:class:`optimizer.solve.construct.Insertion` (the regret start's own insertion, so one
feasibility model) fill every route again from all unserved visits, with a random
regret depth; 2-opt, or-opt and 2-opt* (optimizer.solve.localsearch) then improve the
routes the recreate changed, breaks moved with the visits, and a second fill serves
what the time saved now lets in; the same moves polish the best plan at the end. The
candidate
replaces the current routes under simulated annealing on
``travel - priority_weight * served priority`` (the weight exceeds any travel saving by
default, so served priority never drops); the best routes are kept lexicographically
(served priority first, then travel).

Used where OR-Tools cannot search from the constructive start (large days) and as the
second search of optimizer.solve.parallel (docs/benchmarks.md). Deterministic for a seed
and an iteration count; ``deadline`` (a ``time.time()`` value) only stops it early.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from optimizer.problem import RoutingProblem
from optimizer.solve.balance import route_imbalance_s
from optimizer.solve.construct import Insertion, RouteState
from optimizer.solve.localsearch import LocalSearch

Routes = tuple[tuple[int, ...], ...]


@dataclass(frozen=True, slots=True)
class LnsSettings:
    """Knobs of the search (defaults chosen on field-day seeds 3-4 and C101/R103)."""

    min_remove: int = 10
    max_remove: int = 30
    #: Never remove more than this share of the served visits at once.
    max_remove_share: float = 0.3
    #: Start temperature, in seconds of travel per served visit (average leg scale).
    start_temperature: float = 0.3
    #: Temperature at the deadline, as a share of the start temperature.
    end_temperature_share: float = 0.01
    #: Seconds of travel one priority unit is worth in the acceptance criterion.
    priority_weight_s: int = 10**9
    #: Priority weight of the recreate's regret insertion (construct.START_VARIANTS).
    insertion_weight_s: int = 1800
    #: Relative weights of the ruin operators: random, cluster, worst, route.
    operator_weights: tuple[float, float, float, float] = (1.0, 2.0, 1.0, 0.3)
    #: Improve each recreate with 2-opt / or-opt / 2-opt* (optimizer.solve.localsearch) on the
    #: routes it changed, before acceptance.
    local_search: bool = True
    #: In that per-iteration local search, also move routes owing a break (with their
    #: break). Off in rounds 6-7 (2.5x fewer iterations, slightly less priority); on
    #: since round 8: compiled 2-opt* made it cost a fifth of the iterations, and with
    #: ``refill`` the room it makes is served (docs/benchmarks.md round 8).
    break_moves: bool = True
    #: Fill again after a local search that moved stops: shorter routes may take a
    #: visit that did not fit before (an oversubscribed day's routes are full). Field-day
    #: tuning seeds at equal time: +5 (80/5), +9 (300/15) served priority, less travel.
    refill: bool = True
    #: Local search on every route of the best plan at the end, routes owing a break
    #: included (break moved with the visits), then the refill: travel only ever drops,
    #: served priority only ever rises.
    polish: bool = True
    #: Share of the time (or of the iterations) a balanced search first spends without
    #: the balance: it reaches the served priority of an unbalanced search, and the
    #: balance then only reshapes routes at that priority (the acceptance never lets it
    #: drop). Balancing from the start cost 1-2 % of served priority at 10-60 s
    #: (docs/benchmarks.md, round 7).
    balance_after_share: float = 0.5
    #: Share of the time to the deadline kept for the polish.
    polish_share: float = 0.03


#: The second chain when both searches are ruin-and-recreate (optimizer.solve.parallel):
#: the same search, accepting worse travel more readily. Hot chains escape the deep
#: local optima of wide-window days (Solomon R2/RC2: one tuning instance gave the same
#: 1.72 % on four seeds at 0.3, 0.88 % at 2.0) and lose on tight windows (RC101), so
#: the pair runs one of each: best of two went from 0.71 % (both at 0.3) to 0.52 % on
#: the Solomon tuning instances, served priority and travel unchanged on field days
#: (docs/benchmarks.md, round 8). Served priority is never traded at any temperature.
HOT = LnsSettings(start_temperature=2.0)


@dataclass(frozen=True, slots=True)
class LnsResult:
    routes: Routes
    served_priority: int
    #: Travel seconds, plus the workload imbalance when balancing (optimizer.solve.balance).
    travel_s: int
    iterations: int
    improvements: int


class _Search:
    def __init__(
        self, problem: RoutingProblem, seed: int, settings: LnsSettings, balance: str = "none"
    ) -> None:
        self.p = problem
        self.balance = balance
        self.s = settings
        self.rng = np.random.default_rng(seed)
        self.ins = Insertion(problem, 3, settings.insertion_weight_s)
        if balance != "none":
            self.ins.bias = self._bias
        shifts = [a.shift.end_s - a.shift.start_s for a in problem.agents]
        self._shift = shifts
        self._unit = sum(v.duration_s for v in problem.visits) / max(1, problem.num_visits)
        # Closeness of visits for the cluster ruin: travel time of the first agent's
        # mode, both ways (modes differ by speed, hardly by order).
        mode = problem.agents[0].mode
        # Read from the matrix per seed visit (:meth:`_closeness`): a whole n x n copy
        # took 16 bytes per cell on a large day (issue 11, item 12).
        self._seconds = problem.matrices[mode].seconds

    def _bias(self, route: RouteState) -> float:
        """Insertion surcharge when balancing: one mean visit's time into a route above
        the even load, the same as a saving into one below (the L1 imbalance's slope)."""
        routes = self.ins.routes
        if self.balance == "visits":
            mean = sum(len(r.nodes) - 2 for r in routes) / len(routes)
            return self._unit if len(route.nodes) - 2 >= mean else -self._unit
        spans = [self._span(r) for r in routes]
        share = sum(spans) / max(1, sum(self._shift))
        above = self._span(route) >= share * self._shift[route.agent]
        return self._unit if above else -self._unit

    def _span(self, route: RouteState) -> int:
        if len(route.nodes) <= 2:
            return 0
        depart, _, back, _ = self.ins.schedule(route)
        return back - depart

    def cost(self) -> float:
        """Travel plus the workload imbalance (optimizer.solve.balance), in seconds."""
        travel = float(self.ins.travel_s())
        if self.balance == "none":
            return travel
        routes = []
        for r in self.ins.routes:
            n = len(r.nodes) - 2
            if n:
                depart, _, back, _ = self.ins.schedule(r)
                routes.append((r.agent, n, depart, back))
        return travel + route_imbalance_s(self.p, self.balance, routes)

    def energy(self) -> float:
        return self.cost() - float(self.s.priority_weight_s) * self.ins.served_priority()

    def _closeness(self, seed: int, others: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Travel seconds from ``seed`` to each of ``others`` and back."""
        t = self._seconds
        both: npt.NDArray[np.int64] = t[seed, others].astype(np.int64) + t[others, seed]
        return both

    def ruin(self) -> None:
        served = np.flatnonzero(~self.ins.unrouted)
        if len(served) == 0:
            return
        cap = max(1, int(len(served) * self.s.max_remove_share))
        lo = min(self.s.min_remove, cap)
        q = int(self.rng.integers(lo, max(lo, min(self.s.max_remove, cap)) + 1))
        w = np.array(self.s.operator_weights, dtype=np.float64)
        op = int(self.rng.choice(len(w), p=w / w.sum()))
        if op == 0:
            chosen = self.rng.choice(served, size=min(q, len(served)), replace=False)
        elif op == 1:
            seed_visit = int(self.rng.integers(self.p.num_visits))
            order = served[np.argsort(self._closeness(seed_visit, served), kind="stable")]
            chosen = order[:q]
        elif op == 2:
            gain = self._removal_gain(served)
            order = served[np.argsort(-gain, kind="stable")]
            # Randomised worst removal: index floor(len * r^3) favours the worst.
            picks: list[int] = []
            pool = list(order)
            while len(picks) < q and pool:
                k = int(len(pool) * self.rng.random() ** 3)
                picks.append(pool.pop(k))
            chosen = np.array(picks, dtype=np.int64)
        else:
            used = [r for r in self.ins.routes if len(r.nodes) > 2]
            sizes = np.array([len(r.nodes) for r in used], dtype=np.float64)
            # Shorter routes more likely: weight 1 / size^2.
            pr = 1.0 / sizes**2
            route = used[int(self.rng.choice(len(used), p=pr / pr.sum()))]
            chosen = np.array(route.nodes[1:-1], dtype=np.int64)
        for u in chosen:
            self.ins.remove(int(u))

    def _removal_gain(self, served: np.ndarray) -> np.ndarray:
        gain = np.zeros(len(served), dtype=np.float64)
        pos = {int(u): k for k, u in enumerate(served)}
        for r in self.ins.routes:
            if len(r.nodes) <= 2:
                continue
            t = self.p.matrices[self.p.agents[r.agent].mode].seconds
            nodes = np.array(r.nodes, dtype=np.int64)
            prev, mid, nxt = nodes[:-2], nodes[1:-1], nodes[2:]
            g = t[prev, mid] + t[mid, nxt] - t[prev, nxt]
            for u, x in zip(mid, g, strict=True):
                gain[pos[int(u)]] = float(x)
        return gain


def improve(
    problem: RoutingProblem,
    routes: Sequence[Sequence[int]],
    deadline: float,
    seed: int = 0,
    *,
    max_iterations: int | None = None,
    balance: str = "none",
    settings: LnsSettings | None = None,
    strict_deadline: bool = False,
) -> LnsResult:
    """Ruin-and-recreate from ``routes`` (visit indices per agent) until ``deadline``.

    ``strict_deadline`` also asks the clock in the first fill and inside every local
    search (optimizer.solve.parallel's worker: it must end at the deadline however
    loaded the machine); without it those run to the end, as the main search expects.

    Never returns routes worse than ``routes`` (served priority, then travel); returns
    them unchanged when they do not fit construct's model or nothing improved. With a
    ``balance``, the first ``balance_after_share`` of the search runs without it and
    the rest balances from the routes found, never below their served priority.
    """
    cfg = settings or LnsSettings()
    if balance != "none" and 0 < cfg.balance_after_share < 1:
        return _balance_after_priority(
            problem, routes, deadline, seed, max_iterations, balance, cfg, strict_deadline
        )
    start: Routes = tuple(tuple(r) for r in routes)
    if not problem.agents or not problem.num_visits:
        return LnsResult(start, 0, 0, 0, 0)
    search = _Search(problem, seed, cfg, balance)
    ins = search.ins
    if not ins.load(start):
        prio = sum(problem.visits[i].priority for r in start for i in r)
        return LnsResult(start, prio, _travel(problem, start), 0, 0)

    def stop() -> bool:
        return time.time() >= deadline

    clock = stop if max_iterations is None else None
    strict = clock if strict_deadline else None
    ins.fill(1, stop=strict)  # cheap: whatever still fits goes in
    current = ins.snapshot()
    cur_energy = search.energy()
    best = current
    best_key = (ins.served_priority(), -search.cost())
    start_key = best_key
    served = max(1, int((~ins.unrouted).sum()))
    t0 = cfg.start_temperature * ins.travel_s() / served
    t_end = t0 * cfg.end_temperature_share
    began = time.time()
    span = max(1e-6, deadline - began)
    iterations = improvements = 0
    ls = LocalSearch(ins, breaks=cfg.break_moves) if cfg.local_search else None
    # 2-opt* moves stops between routes on travel alone, which would undo a balance.
    inter = balance == "none"

    def settle(
        moves: LocalSearch, touched: Iterable[int], k: int, fill_stop: Callable[[], bool] | None
    ) -> None:
        """Local search on ``touched``; if it moved stops, the refill (``cfg.refill``):
        the time it saved may take a visit that did not fit before. With every visit
        served (Solomon, GH) there is nothing to price."""
        if moves.run(touched, inter=inter, stop=strict) and cfg.refill and ins.unrouted.any():
            ins.fill(k, stop=fill_stop)

    if ls is not None:
        settle(ls, range(len(ins.routes)), 1, strict)
        current = ins.snapshot()
        cur_energy = search.energy()
        best = current
        best_key = (ins.served_priority(), -search.cost())

    # The polish gets the last few percent of the time.
    search_end = deadline - (cfg.polish_share * span if cfg.polish and ls is not None else 0.0)
    while (max_iterations is None or iterations < max_iterations) and time.time() < search_end:
        iterations += 1
        search.ruin()
        k = int(search.rng.integers(1, 5))
        if not ins.fill(k, stop=clock):
            break
        touched = [
            a
            for a, (r, c) in enumerate(zip(ins.routes, current, strict=True))
            if r.nodes != c.nodes or r.break_gap != c.break_gap
        ]
        # Only without triangle inequality; routes the recreate left alone stay feasible.
        if not all(ins.feasible(ins.routes[a]) for a in touched):
            ins.restore(current)
            continue
        if ls is not None:
            settle(ls, touched, k, clock)  # the loop's own fill keeps its clock
        energy = search.energy()
        frac = (
            min(1.0, (time.time() - began) / span)
            if max_iterations is None
            else iterations / max_iterations
        )
        temp = t0 * (t_end / t0) ** frac if t0 > 0 else 0.0
        threshold = -temp * math.log(max(1e-12, float(search.rng.random()))) if temp > 0 else 0.0
        if energy < cur_energy + threshold:
            current, cur_energy = ins.snapshot(), energy
            key = (ins.served_priority(), -search.cost())
            if key > best_key:
                best, best_key = current, key
                improvements += 1
        else:
            ins.restore(current)
    if cfg.polish and ls is not None and not (strict is not None and strict()):
        ins.restore(best)
        settle(LocalSearch(ins), range(len(ins.routes)), 1, strict)
        key = (ins.served_priority(), -search.cost())
        if key > best_key:
            best, best_key = ins.snapshot(), key
    if best_key <= start_key:
        return LnsResult(start, start_key[0], round(-start_key[1]), iterations, 0)
    routes_out = tuple(tuple(r.nodes[1:-1]) for r in best)
    return LnsResult(routes_out, best_key[0], round(-best_key[1]), iterations, improvements)


def _balance_after_priority(
    problem: RoutingProblem,
    routes: Sequence[Sequence[int]],
    deadline: float,
    seed: int,
    max_iterations: int | None,
    balance: str,
    cfg: LnsSettings,
    strict_deadline: bool,
) -> LnsResult:
    """:func:`improve` without the balance for ``balance_after_share`` of the time (or
    iterations), then with it from the routes found: the balance never costs priority."""
    share = cfg.balance_after_share
    now = time.time()
    split = now + share * max(0.0, deadline - now)
    first_iterations = rest = None
    if max_iterations is not None:
        first_iterations = round(share * max_iterations)
        rest = max_iterations - first_iterations
    single = replace(cfg, balance_after_share=0.0)
    first = improve(
        problem,
        routes,
        split,
        seed,
        max_iterations=first_iterations,
        settings=single,
        strict_deadline=strict_deadline,
    )
    second = improve(
        problem,
        first.routes,
        deadline,
        seed + 1,
        max_iterations=rest,
        balance=balance,
        settings=single,
        strict_deadline=strict_deadline,
    )
    return replace(
        second,
        iterations=first.iterations + second.iterations,
        improvements=first.improvements + second.improvements,
    )


def states(problem: RoutingProblem, routes: Routes) -> list[RouteState] | None:
    """Routes in construct's model (break gaps placed), or None when they do not fit."""
    ins = Insertion(problem)
    return ins.snapshot() if ins.load(routes) else None


def _travel(problem: RoutingProblem, routes: Routes) -> int:
    from optimizer.solve.construct import route_travel_s

    return route_travel_s(problem, routes)
