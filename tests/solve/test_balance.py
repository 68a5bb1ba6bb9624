"""Workload balance: below served priority, and it evens the loads it is asked to."""

from __future__ import annotations

from collections.abc import Sequence

from optimizer.bench.fielddays import DATE, day_problem, make_day
from optimizer.pipeline import plan_day
from optimizer.problem import RoutingProblem, build_problem
from optimizer.settings import Settings
from optimizer.solve.balance import imbalance_s, route_imbalance_s
from optimizer.solve.construct import Insertion, regret_routes, route_travel_s
from optimizer.solve.lns import improve
from optimizer.solve.params import SolverSettings
from optimizer.travel.straight import StraightLineModel
from tests.helpers import at, make_agent, make_visit


def _problem():  # type: ignore[no-untyped-def]
    agents = (make_agent("A1"), make_agent("A2"))
    visits = tuple(make_visit(f"V{k}", location=at(0.2 * k, 0)) for k in range(1, 7))
    return visits, agents


def test_imbalance_is_zero_when_even_and_grows_with_the_gap() -> None:
    visits, agents = _problem()
    problem = build_problem(visits, agents, StraightLineModel())
    unit = visits[0].duration_s
    assert imbalance_s(problem, "none", [5, 1], [9000, 1000]) == 0.0
    assert imbalance_s(problem, "visits", [3, 3], [0, 0]) == 0.0
    assert imbalance_s(problem, "visits", [5, 1], [0, 0]) == 4 * unit
    shift = agents[0].shift.end_s - agents[0].shift.start_s
    assert imbalance_s(problem, "utilisation", [1, 1], [shift // 2, shift // 2]) == 0.0
    assert imbalance_s(problem, "utilisation", [1, 0], [shift // 2, 0]) == shift // 2


def test_balance_by_visits_evens_the_counts_without_dropping_a_visit() -> None:
    visits, agents = _problem()

    def counts(balance: str) -> tuple[list[int], int]:
        solver = SolverSettings(
            time_limit_s=1.0, deterministic=True, work_limit=60, balance=balance
        )
        day = plan_day(visits, agents, Settings(solver=solver), date=DATE)
        routes = {r.agent_id: len(r.stops) for r in day.plan.routes}
        return sorted(routes.get(a.agent_id, 0) for a in agents), len(day.plan.unassigned)

    plain, dropped_plain = counts("none")
    even, dropped_even = counts("visits")
    assert dropped_plain == dropped_even == 0
    assert plain == [0, 6]  # all on one line: one agent does everything
    assert even == [3, 3]


def _imbalance(problem: RoutingProblem, balance: str, routes: Sequence[Sequence[int]]) -> float:
    """The imbalance of ``routes`` timed in the insertion model (what the search adds)."""
    ins = Insertion(problem)
    assert ins.load(routes)
    spans = []
    for r in ins.routes:
        if len(r.nodes) > 2:
            depart, _, back, _ = ins.schedule(r)
            spans.append((r.agent, len(r.nodes) - 2, depart, back))
    return route_imbalance_s(problem, balance, spans)


def test_a_balanced_search_keeps_the_priority_the_unbalanced_part_reached() -> None:
    # Oversubscribed: 4 agents cannot serve 120 visits. The balanced search first runs
    # half its iterations without the balance (the very same search as the plain call
    # below), then balances without ever serving less.
    problem = day_problem(*make_day(120, 4, seed=7))
    start = regret_routes(problem)
    far = 1e18
    plain = improve(problem, start, far, seed=3, max_iterations=40)
    for balance in ("visits", "utilisation"):
        even = improve(problem, start, far, seed=3, max_iterations=80, balance=balance)
        assert even.iterations == 80
        assert even.served_priority >= plain.served_priority
        # It starts from the plain search's routes: travel plus imbalance only drops.
        assert even.travel_s <= plain.travel_s + _imbalance(problem, balance, plain.routes)
        travel = route_travel_s(problem, even.routes)
        assert even.travel_s == travel + _imbalance(problem, balance, even.routes)
