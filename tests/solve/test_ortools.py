"""One tiny instance per constraint: each is decided by that constraint alone."""

from __future__ import annotations

from dataclasses import replace

from optimizer.domain import TimeWindow
from optimizer.pipeline import plan_day
from optimizer.plan import NOT_ENOUGH_TIME
from tests.helpers import DATE, FAST, at, hm, lunch, make_agent, make_visit, window


def _plan(visits, agents, settings=FAST):  # type: ignore[no-untyped-def]
    return plan_day(visits, agents, settings, date=DATE).plan


def _order(plan, agent_id="A1"):  # type: ignore[no-untyped-def]
    route = plan.route_of(agent_id)
    return [s.visit_id for s in route.stops] if route else []


def test_windows_force_the_order() -> None:
    # V_far is on the way out, but its window is late: it must come second.
    visits = (
        make_visit("V_late", location=at(1, 0), window=window(14, 15)),
        make_visit("V_early", location=at(4, 0), window=window(9, 10)),
    )
    plan = _plan(visits, (make_agent(),))
    assert _order(plan) == ["V_early", "V_late"]
    starts = {s.visit_id: s.start_s for s in plan.routes[0].stops}
    assert hm(9) <= starts["V_early"] <= hm(10)
    assert hm(14) <= starts["V_late"] <= hm(15)


def test_short_shift_forces_a_drop_of_the_lower_priority() -> None:
    agent = make_agent(shift=TimeWindow(hm(9), hm(10)))
    visits = (
        make_visit("V_low", location=at(0.5, 0), priority=1),
        make_visit("V_high", location=at(-0.5, 0), priority=3),
    )
    plan = _plan(visits, (agent,))
    assert _order(plan) == ["V_high"]
    assert [(u.visit_id, u.reason) for u in plan.unassigned] == [("V_low", NOT_ENOUGH_TIME)]


def test_skills_and_pins_choose_the_agent() -> None:
    agents = (make_agent("A1"), make_agent("A2", skills=frozenset({"asset_appraisal"})))
    visits = (
        make_visit("V_skill", skills=frozenset({"asset_appraisal"})),
        make_visit("V_pin", location=at(-1, 0), pinned_agent="A1"),
    )
    plan = _plan(visits, agents)
    assert _order(plan, "A2") == ["V_skill"]
    assert _order(plan, "A1") == ["V_pin"]


def test_max_visits_caps_a_route() -> None:
    visits = tuple(make_visit(f"V{k}", location=at(k * 0.3, 0)) for k in range(4))
    plan = _plan(visits, (make_agent(max_visits=2),))
    assert len(_order(plan)) == 2
    assert {u.reason for u in plan.unassigned} == {"every able agent already has their max_visits"}


def test_capacity_limits_the_load() -> None:
    visits = tuple(make_visit(f"V{k}", location=at(k * 0.3, 0), demand=3) for k in range(3))
    plan = _plan(visits, (make_agent(capacity=7),))
    assert len(_order(plan)) == 2
    assert len(plan.unassigned) == 1


def test_break_is_taken_when_the_route_spans_its_window() -> None:
    # Visits at 11:30 and 13:30 force the agent to be out across the 12-13 break window.
    visits = (
        make_visit("V1", location=at(1, 0), window=window(11.5, 11.5)),
        make_visit("V2", location=at(1.2, 0), window=window(13.5, 13.5)),
    )
    plan = _plan(visits, (make_agent(break_rule=lunch(12, 13, 45)),))
    route = plan.routes[0]
    assert route.break_start_s is not None and route.break_end_s is not None
    assert hm(12) <= route.break_start_s <= hm(13)
    assert route.break_end_s - route.break_start_s == 45 * 60


def test_break_not_owed_for_a_morning_route() -> None:
    visits = (make_visit("V1", location=at(1, 0), window=window(9, 9.5)),)
    plan = _plan(visits, (make_agent(break_rule=lunch(12, 13, 45)),))
    route = plan.routes[0]
    assert route.break_start_s is None
    assert route.return_s < hm(12)


def test_break_blocks_a_visit_that_cannot_fit_around_it() -> None:
    # A 60-min break must start at 12:00 exactly; a 45-minute visit starting at 11:45
    # runs into it, and the agent cannot be back before the break either.
    agent = make_agent(shift=TimeWindow(hm(11.5), hm(13.5)), break_rule=lunch(12, 12, 60))
    visits = (
        make_visit("V1", location=at(0.1, 0), window=window(11.75, 11.75), duration_s=45 * 60),
    )
    plan = _plan(visits, (agent,))
    assert plan.routes == ()
    assert [u.visit_id for u in plan.unassigned] == ["V1"]


def test_higher_priority_wins_when_only_one_fits() -> None:
    # Both need 10:00 exactly and are far apart: one agent can do only one.
    visits = (
        make_visit("V_a", location=at(5, 0), window=window(10, 10), priority=1),
        make_visit("V_b", location=at(-5, 0), window=window(10, 10), priority=2),
    )
    plan = _plan(visits, (make_agent(),))
    assert _order(plan) == ["V_b"]


def test_same_settings_same_plan() -> None:
    visits = tuple(make_visit(f"V{k}", location=at(k % 3, k // 3)) for k in range(9))
    agents = (make_agent("A1"), make_agent("A2", start=at(2, 2)))
    settings = replace(FAST, solver=replace(FAST.solver, solution_limit=50))
    first = _plan(visits, agents, settings)
    second = _plan(visits, agents, settings)
    assert [(r.agent_id, _order(first, r.agent_id)) for r in first.routes] == [
        (r.agent_id, _order(second, r.agent_id)) for r in second.routes
    ]


def _solve_locked(visits, agents, locks, lock_order=()):  # type: ignore[no-untyped-def]
    from optimizer.problem import build_problem
    from optimizer.solve.ortools import solve

    problem = build_problem(visits, agents, FAST.travel.model())
    result = solve(problem, FAST.solver, locks=locks, lock_order=lock_order)
    return {
        problem.agents[r.agent_index].agent_id: [problem.visits[i].visit_id for i in r.visits]
        for r in result.routes
    }, [problem.visits[i].visit_id for i in result.dropped]


def test_a_locked_visit_is_served_by_its_agent_even_at_a_higher_cost() -> None:
    # V sits at A2's base and far from A1's: free, A2 takes it; locked to A1, A1 must.
    agents = (make_agent("A1", start=at(10, 0)), make_agent("A2"))
    visits = (make_visit("V", location=at(0, 0.2)),)
    free, _ = _solve_locked(visits, agents, locks=(None,))
    assert free["A2"] == ["V"]
    locked, _ = _solve_locked(visits, agents, locks=(0,))
    assert locked["A1"] == ["V"]
    assert locked["A2"] == []


def test_a_locked_visit_is_never_dropped() -> None:
    # Time for one visit only: free, the higher priority wins; the locked one is kept.
    agent = make_agent(shift=TimeWindow(hm(9), hm(10)))
    visits = (
        make_visit("V_low", location=at(0.5, 0), priority=1),
        make_visit("V_high", location=at(-0.5, 0), priority=3),
    )
    routes, dropped = _solve_locked(visits, (agent,), locks=(0, None))
    assert routes["A1"] == ["V_low"]
    assert dropped == ["V_high"]


def test_lock_order_keeps_the_dispatchers_order() -> None:
    # Out and back along a line, both orders cost the same: the lock order alone decides.
    visits = (make_visit("V_near", location=at(1, 0)), make_visit("V_far", location=at(3, 0)))
    agents = (make_agent(),)
    for chain, want in (((1, 0), ["V_far", "V_near"]), ((0, 1), ["V_near", "V_far"])):
        routes, _ = _solve_locked(visits, agents, locks=(0, 0), lock_order=(chain,))
        assert routes["A1"] == want
