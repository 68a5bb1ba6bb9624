"""The regret-insertion start: each rule decided by a tiny instance; its routes verify."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from optimizer.bench.fielddays import day_problem, make_day
from optimizer.domain import TimeWindow
from optimizer.pipeline import plan_day
from optimizer.problem import build_problem
from optimizer.settings import Settings
from optimizer.solve.construct import Insertion, regret_routes, regret_starts, route_travel_s
from tests.helpers import DATE, FAST, at, hm, lunch, make_agent, make_visit, window
from tests.solve import test_localsearch as ls

ONE = replace(FAST, solver=replace(FAST.solver, solution_limit=1, workers=1))


def _problem(visits, agents):  # type: ignore[no-untyped-def]
    return build_problem(visits, agents, Settings().travel.model())


def test_higher_priority_first_when_time_is_short() -> None:
    agent = make_agent(shift=TimeWindow(hm(9), hm(10)))
    visits = (
        make_visit("V_low", location=at(0.5, 0), priority=1),
        make_visit("V_high", location=at(-0.5, 0), priority=3),
    )
    assert regret_routes(_problem(visits, (agent,))) == ((1,),)


def test_skills_pins_and_max_visits_are_respected() -> None:
    agents = (
        make_agent("A1", max_visits=1),
        make_agent("A2", skills=frozenset({"asset_appraisal"})),
    )
    visits = (
        make_visit("V_skill", skills=frozenset({"asset_appraisal"})),
        make_visit("V_pin", location=at(-1, 0), pinned_agent="A1"),
        make_visit("V_any", location=at(0, 1)),
    )
    routes = regret_routes(_problem(visits, agents))
    assert routes[0] == (1,)  # A1: only its pin, max one visit
    assert sorted(routes[1]) == [0, 2]


def test_windows_order_the_route_and_the_break_fits() -> None:
    agent = make_agent(break_rule=lunch(12, 13))
    visits = (
        make_visit("V_late", location=at(1, 0), window=window(14, 15)),
        make_visit("V_early", location=at(4, 0), window=window(9, 10)),
        make_visit("V_noon", location=at(2, 0), window=window(11.5, 12.5), duration_s=3600),
    )
    assert regret_routes(_problem(visits, (agent,))) == ((1, 2, 0),)


def test_rejects_a_bad_regret_k() -> None:
    with pytest.raises(ValueError, match="regret_k"):
        regret_routes(_problem((make_visit(),), (make_agent(),)), regret_k=0)


def test_starts_are_best_first_and_deterministic() -> None:
    problem = day_problem(*make_day(40, 3, seed=7))
    starts = regret_starts(problem)
    assert starts == regret_starts(problem)
    keys = [
        (-sum(problem.visits[i].priority for r in s for i in r), route_travel_s(problem, s))
        for s in starts
    ]
    assert keys == sorted(keys)


def test_a_generated_day_from_the_start_verifies() -> None:
    # plan_day raises VerificationError if the plan breaks any constraint.
    visits, agents = make_day(40, 3, seed=7)
    day = plan_day(visits, agents, ONE, date=DATE)
    start = regret_starts(day.problem)[0]
    priority = {v.visit_id: v.priority for v in day.problem.visits}
    from_start = sum(day.problem.visits[i].priority for r in start for i in r)
    assert sum(priority[vid] for vid in day.plan.assigned_ids) >= from_start


def test_idle_twins_are_priced_once_and_priced_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    """Agents alike in everything an empty route is priced on (one depot here) share
    one pricing; the prices and the plan are those of pricing each on its own."""
    problem = ls._problem(3, n=14, agents=4, wide=False, brk=ls.LUNCH)
    twins, alone = Insertion(problem), Insertion(problem)
    assert len(set(twins._twin)) == 1
    alone._twin = [(a,) for a in range(4)]
    calls: list[int] = []
    evaluate = Insertion._evaluate

    def counted(self: Insertion, route: object, candidates: object) -> object:
        calls.append(id(self))
        return evaluate(self, route, candidates)  # type: ignore[arg-type]

    monkeypatch.setattr(Insertion, "_evaluate", counted)
    twins._refresh_all()
    alone._refresh_all()
    assert calls.count(id(twins)) == 1
    assert calls.count(id(alone)) == 4
    for name in ("cost", "gap", "brk", "_valid"):
        np.testing.assert_array_equal(getattr(twins, name), getattr(alone, name))
    assert twins.build() == alone.build()
    # Homes of their own: every empty route is priced.
    assert len(set(Insertion(ls._problem(3, agents=4, homes=True))._twin)) == 4
