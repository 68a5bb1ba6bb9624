"""Random small instances always give a verified plan with every visit accounted for."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.domain import TimeWindow
from optimizer.pipeline import plan_day
from tests.helpers import DATE, FAST, at, hm, lunch, make_agent, make_visit

SETTINGS = replace(FAST, solver=replace(FAST.solver, time_limit_s=1))

coords = st.tuples(st.floats(-8, 8), st.floats(-8, 8))


@st.composite
def instances(draw: st.DrawFn) -> tuple:  # type: ignore[type-arg]
    n_agents = draw(st.integers(1, 3))
    agents = []
    for k in range(n_agents):
        start_h = draw(st.sampled_from([7.0, 8.0, 9.0]))
        length = draw(st.sampled_from([3.0, 6.0, 9.0]))
        agents.append(
            make_agent(
                f"A{k}",
                start=at(*draw(coords)),
                shift=TimeWindow(hm(start_h), hm(start_h + length)),
                break_rule=lunch(12, 13, 30) if draw(st.booleans()) else None,
                skills=frozenset(draw(st.sets(st.sampled_from(["x", "y"])))),
                max_visits=draw(st.one_of(st.none(), st.integers(0, 4))),
            )
        )
    visits = []
    for k in range(draw(st.integers(1, 9))):
        window = None
        if draw(st.booleans()):
            start = draw(st.integers(6 * 4, 18 * 4)) * 900
            window = TimeWindow(start, start + draw(st.sampled_from([0, 1800, 3600, 7200])))
        visits.append(
            make_visit(
                f"V{k}",
                location=at(*draw(coords)) if draw(st.integers(0, 9)) else None,
                window=window,
                duration_s=draw(st.sampled_from([600, 1800, 3600])),
                priority=draw(st.integers(1, 3)),
                skills=frozenset(draw(st.sets(st.sampled_from(["x", "y", "z"]), max_size=1))),
                pinned_agent=draw(
                    st.one_of(st.none(), st.sampled_from([a.agent_id for a in agents]))
                ),
            )
        )
    return tuple(visits), tuple(agents)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_random_instances_verify(instance: tuple) -> None:  # type: ignore[type-arg]
    visits, agents = instance
    day = plan_day(visits, agents, SETTINGS, date=DATE)  # raises if the verifier objects
    routed = [s.visit_id for r in day.plan.routes for s in r.stops]
    unassigned = [u.visit_id for u in day.plan.unassigned]
    assert sorted(routed + unassigned) == sorted(v.visit_id for v in visits)
    assert all(u.reason for u in day.plan.unassigned)
