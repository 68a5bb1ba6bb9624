"""The verifier must catch hand-made broken plans, each broken in one way."""

from __future__ import annotations

from dataclasses import replace

import pytest

from optimizer.day import DayPlan
from optimizer.plan import Plan, Route, Unassigned
from optimizer.verify import check_plan


def _check(day: DayPlan, plan: Plan) -> list[str]:
    return check_plan(plan, day.visits, day.problem)


def _edit_route(plan: Plan, agent_id: str, **changes: object) -> Plan:
    routes = tuple(replace(r, **changes) if r.agent_id == agent_id else r for r in plan.routes)  # type: ignore[arg-type]
    return replace(plan, routes=routes)


def _edit_stop(plan: Plan, visit_id: str, **changes: object) -> Plan:
    routes = []
    for r in plan.routes:
        stops = tuple(replace(s, **changes) if s.visit_id == visit_id else s for s in r.stops)  # type: ignore[arg-type]
        routes.append(replace(r, stops=stops))
    return replace(plan, routes=tuple(routes))


def _route_with(plan: Plan, visit_id: str) -> Route:
    return next(r for r in plan.routes if any(s.visit_id == visit_id for s in r.stops))


def test_the_real_plan_is_valid(small_day: DayPlan) -> None:
    assert _check(small_day, small_day.plan) == []
    assert len(small_day.plan.routes) == 2


def test_every_visit_accounted_for(small_day: DayPlan) -> None:
    plan = small_day.plan
    lost = replace(plan, unassigned=plan.unassigned[1:])
    assert any("appears 0 times" in e for e in _check(small_day, lost))
    twice = replace(plan, unassigned=(*plan.unassigned, Unassigned("V1", "duplicate")))
    assert any("V1 appears 2 times" in e for e in _check(small_day, twice))
    no_reason = replace(plan, unassigned=tuple(replace(u, reason=" ") for u in plan.unassigned))
    assert any("has no reason" in e for e in _check(small_day, no_reason))


@pytest.mark.parametrize(
    ("field", "delta", "fragment"),
    [
        ("start_s", +4 * 3600, "outside its window"),
        ("travel_s", -60, "the matrix says"),
        ("arrive_s", -120, "recomputed"),
        ("end_s", +60, "expected 1800 s"),
    ],
)
def test_stop_level_breakage(small_day: DayPlan, field: str, delta: int, fragment: str) -> None:
    stop = next(s for s in _route_with(small_day.plan, "V1").stops if s.visit_id == "V1")
    broken = _edit_stop(small_day.plan, "V1", **{field: getattr(stop, field) + delta})
    assert any(fragment in e for e in _check(small_day, broken))


def test_start_before_arrival(small_day: DayPlan) -> None:
    stop = next(s for s in _route_with(small_day.plan, "V1").stops if s.visit_id == "V1")
    broken = _edit_stop(
        small_day.plan, "V1", start_s=stop.arrive_s - 60, end_s=stop.arrive_s - 60 + 1800
    )
    assert any("before arriving" in e for e in _check(small_day, broken))


def test_shift_bounds(small_day: DayPlan) -> None:
    route = small_day.plan.routes[0]
    late = _edit_route(small_day.plan, route.agent_id, return_s=20 * 3600)
    assert any("after the shift ends" in e for e in _check(small_day, late))
    early = _edit_route(small_day.plan, route.agent_id, depart_s=6 * 3600)
    assert any("before the shift starts" in e for e in _check(small_day, early))


def test_skill_and_pin(small_day: DayPlan) -> None:
    plan = small_day.plan
    a1, a2 = plan.route_of("A1"), plan.route_of("A2")
    assert a1 is not None and a2 is not None
    # Rename the agents of the two routes: skills and the pin are then broken.
    swapped = replace(plan, routes=(replace(a1, agent_id="A2"), replace(a2, agent_id="A1")))
    errors = _check(small_day, swapped)
    assert any("lacks skills" in e for e in errors)


def test_missing_break_is_caught(small_day: DayPlan) -> None:
    route = small_day.plan.route_of("A1")
    assert route is not None and route.break_start_s is not None
    broken = _edit_route(small_day.plan, "A1", break_start_s=None, break_end_s=None)
    assert any("no break" in e for e in _check(small_day, broken))
    short = _edit_route(small_day.plan, "A1", break_end_s=route.break_start_s + 60)
    assert any("break lasts" in e for e in _check(small_day, short))


def test_break_overlapping_a_visit(small_day: DayPlan) -> None:
    route = small_day.plan.route_of("A1")
    assert route is not None
    stop = route.stops[0]
    broken = _edit_route(
        small_day.plan, "A1", break_start_s=stop.start_s, break_end_s=stop.start_s + 45 * 60
    )
    assert any("overlaps a visit" in e or "outside" in e for e in _check(small_day, broken))


def test_max_visits(small_day: DayPlan) -> None:
    agents = tuple(replace(a, max_visits=1) for a in small_day.problem.agents)
    problem = replace(small_day.problem, agents=agents)
    errors = check_plan(small_day.plan, small_day.visits, problem)
    assert any("more than max_visits 1" in e for e in errors)
