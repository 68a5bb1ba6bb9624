"""optimizer.horizon: several days at once, hard date rules never broken."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.bench.horizon import _lateness
from optimizer.day import HorizonPlan
from optimizer.domain import Agent, DaySet, Visit
from optimizer.errors import ConfigurationError
from optimizer.horizon import EARLIEST_AFTER, horizon_dates, plan_horizon, reorder_days
from optimizer.plan import Route, Stop
from optimizer.settings import Settings
from optimizer.solve.params import SolverSettings
from tests.helpers import at, hm, make_agent, make_visit, window

MON = dt.date(2026, 11, 30)
QUICK = Settings(
    solver=SolverSettings(
        time_limit_s=1, metaheuristic="GREEDY_DESCENT", workers=1, solution_limit=50
    )
)
DAYS = horizon_dates(MON, 3, frozenset(range(5)))


def test_horizon_dates_skip_non_working_days() -> None:
    fri = dt.date(2026, 12, 4)
    assert horizon_dates(fri, 3, frozenset(range(5))) == (
        fri,
        dt.date(2026, 12, 7),
        dt.date(2026, 12, 8),
    )
    assert horizon_dates(fri, 2, frozenset(range(7)))[1] == dt.date(2026, 12, 5)


def _check(visits: Sequence[Visit], agents: Sequence[Agent], hp: HorizonPlan) -> None:
    """Every visit exactly once; every placement inside its dates, on a working day."""
    ids = [e.visit_id for e in hp.entries]
    assert ids == [v.visit_id for v in visits]
    by_id = {v.visit_id: v for v in visits}
    agent_of = {a.agent_id: a for a in agents}
    routed = [s.visit_id for d in hp.days for r in d.plan.routes for s in r.stops]
    assert len(routed) == len(set(routed))
    placed = {e.visit_id for e in hp.entries if e.date is not None}
    assert placed == set(routed)
    for day in hp.days:
        for r in day.plan.routes:
            assert agent_of[r.agent_id].works_on(day.plan.date)
            for s in r.stops:
                assert by_id[s.visit_id].allowed_on(day.plan.date)
    for e in hp.entries:
        assert (e.date is None) == bool(e.reason)


def test_due_and_earliest_dates_and_days_off_are_hard() -> None:
    tue, wed = DAYS[1], DAYS[2]
    visits = [
        make_visit("due-mon", location=at(1, 0), due_date=MON),
        make_visit("from-wed", location=at(0, 1), earliest_date=wed),
        make_visit("pinned-a2", location=at(1, 1), pinned_agent="A2"),
        make_visit("later", location=at(2, 0), earliest_date=dt.date(2026, 12, 10)),
        make_visit("past", location=at(2, 1), due_date=dt.date(2026, 11, 27)),
    ]
    agents = [
        make_agent("A1"),
        make_agent("A2", days_off=DaySet(dates=frozenset({MON, wed}))),
    ]
    hp = plan_horizon(visits, agents, QUICK, dates=DAYS, travel=QUICK.travel.model())
    _check(visits, agents, hp)
    got = {e.visit_id: e for e in hp.entries}
    assert got["due-mon"].date == MON
    assert got["from-wed"].date == wed
    assert (got["pinned-a2"].date, got["pinned-a2"].agent_id) == (tue, "A2")
    assert got["later"].reason == EARLIEST_AFTER
    assert "before the horizon" in (got["past"].reason or "")
    assert [d.plan.date for d in hp.days] == list(DAYS)


def test_reason_names_the_due_date_when_time_runs_out() -> None:
    # One agent, a 2-hour day, three 90-minute visits all due on Monday.
    agent = make_agent("A1", shift=window(9, 11))
    visits = [
        make_visit(f"V{k}", location=at(0.5, k * 0.1), duration_s=90 * 60, due_date=MON)
        for k in range(3)
    ]
    hp = plan_horizon(visits, [agent], QUICK, dates=DAYS, travel=QUICK.travel.model())
    _check(visits, [agent], hp)
    reasons = {e.reason for e in hp.unassigned}
    assert len(hp.unassigned) == 2
    assert reasons == {f"no able agent has time before the due date {MON}"}


def test_pinned_agent_off_all_allowed_days() -> None:
    agents = [make_agent("A1"), make_agent("A2", days_off=DaySet(weekdays=frozenset({0})))]
    visits = [
        make_visit("V1", pinned_agent="A2", due_date=MON),
        make_visit("V2", pinned_agent="A9"),
    ]
    hp = plan_horizon(visits, agents, QUICK, dates=DAYS, travel=QUICK.travel.model())
    assert hp.entries[0].reason == f"pinned to agent A2, who does not work between {MON} and {MON}"
    assert hp.entries[1].reason == "pinned to agent A9, who is not in the agents file"


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000))
def test_generated_horizons_never_break_the_hard_rules(seed: int) -> None:
    rng = random.Random(seed)
    agents = [
        make_agent(
            f"A{k}",
            start=at(rng.uniform(-3, 3), rng.uniform(-3, 3)),
            shift=window(8, rng.choice([11, 13, 17])),
            days_off=DaySet(dates=frozenset(d for d in DAYS if rng.random() < 0.3)),
        )
        for k in range(rng.randint(1, 3))
    ]
    visits = []
    for k in range(rng.randint(1, 12)):
        lo = rng.randint(-1, 4)
        hi = lo + rng.randint(0, 3)
        earliest = MON + dt.timedelta(days=lo) if rng.random() < 0.5 else None
        due = MON + dt.timedelta(days=hi) if rng.random() < 0.6 else None
        if earliest and due and earliest > due:
            earliest = None
        visits.append(
            make_visit(
                f"V{k}",
                location=at(rng.uniform(-4, 4), rng.uniform(-4, 4)),
                duration_s=rng.choice([30, 60, 120]) * 60,
                earliest_date=earliest,
                due_date=due,
                pinned_agent=rng.choice([None, None, None, "A0"]),
            )
        )
    hp = plan_horizon(visits, agents, QUICK, dates=DAYS, travel=QUICK.travel.model())
    _check(visits, agents, hp)


@pytest.mark.parametrize("n", [0, -1])
def test_horizon_dates_rejects_no_days(n: int) -> None:
    with pytest.raises(ValueError, match="n >= 1"):
        horizon_dates(MON, n, frozenset(range(5)))


def test_sooner_due_goes_earlier_and_preferred_day_is_kept() -> None:
    # One 90-minute visit fits a day; urgency decides Monday, the wish Wednesday.
    agent = make_agent("A1", shift=window(9, 11))
    visits = [
        make_visit("free", location=at(0.5, 0), duration_s=90 * 60),
        make_visit("wed", location=at(0.5, 0.1), duration_s=90 * 60, preferred_days=frozenset({2})),
        make_visit("urgent", location=at(0.5, 0.2), duration_s=90 * 60, due_date=DAYS[2]),
    ]
    hp = plan_horizon(visits, [agent], QUICK, dates=DAYS, travel=QUICK.travel.model())
    _check(visits, [agent], hp)
    got = {e.visit_id: e.date for e in hp.entries}
    assert got == {"urgent": DAYS[0], "free": DAYS[1], "wed": DAYS[2]}


def test_reorder_days_moves_whole_routes_only_where_dates_allow() -> None:
    agent = make_agent("A1")
    by_id = {
        "late": make_visit("late", earliest_date=DAYS[2]),
        "due": make_visit("due", due_date=DAYS[1]),
    }

    def route(vid: str, day: dt.date) -> Route:
        stop = Stop(vid, 1, hm(9), hm(9), hm(9.5), 600, 1000)
        return Route(f"A1@{day}", hm(8.8), hm(9.7), (stop,), 600, 1000)

    routes = [route("due", DAYS[1]), route("late", DAYS[2])]
    out = reorder_days(routes, [agent], by_id, DAYS)
    assert [[s.visit_id for r in out[d] for s in r.stops] for d in DAYS] == [["due"], [], ["late"]]
    assert {r.agent_id for d in DAYS for r in out[d]} == {"A1"}


def test_horizon_workdays_setting() -> None:
    s = Settings.from_dict({"horizon": {"workdays": ["Mon", "sat"]}})
    assert s.horizon.weekdays == frozenset({0, 5})
    assert Settings.from_dict(s.to_dict()).horizon == s.horizon
    assert Settings().horizon.weekdays == frozenset(range(5))
    with pytest.raises(ConfigurationError, match=r"horizon\.workdays"):
        Settings.from_dict({"horizon": {"workdays": ["funday"]}})


def test_bench_lateness_counts_unserved_as_late_past_the_horizon() -> None:
    visits = [
        make_visit("on-time", due_date=DAYS[1]),
        make_visit("late", due_date=DAYS[0]),
        make_visit("never", due_date=DAYS[2]),
        make_visit("no-due"),
    ]
    served = {"on-time": DAYS[0], "late": DAYS[2]}
    assert _lateness(visits, served, DAYS) == (3, 1, 2 + 1)


def test_published_days_keep_their_visits_and_take_no_others() -> None:
    agents = [make_agent("A1"), make_agent("A2")]
    visits = [
        make_visit("kept", location=at(1, 0)),
        make_visit("new", location=at(0, 1)),
        make_visit("only-mon", location=at(1, 1), due_date=MON),
        make_visit("agent-left", location=at(2, 0)),
    ]
    keep = {"kept": (MON, "A2"), "agent-left": (MON, "A9"), "gone": (MON, "A1")}
    hp = plan_horizon(
        visits, agents, QUICK, dates=DAYS, travel=QUICK.travel.model(), keep=keep, published=1
    )
    _check(visits, agents, hp)
    got = {e.visit_id: e for e in hp.entries}
    assert (got["kept"].date, got["kept"].agent_id) == (MON, "A2")
    assert got["new"].date in DAYS[1:]
    assert got["agent-left"].date in DAYS[1:]  # its agent is gone: planned afresh
    assert got["only-mon"].reason == (
        f"its dates allow only published days ({MON} to {MON}), which keep their plan"
    )
    monday = hp.days[0].plan
    assert [s.visit_id for r in monday.routes for s in r.stops] == ["kept"]


def test_a_rerun_keeps_visits_on_their_previous_open_day() -> None:
    agent = make_agent("A1")
    visits = [make_visit("V1", due_date=DAYS[2]), make_visit("V2", location=at(0, 2))]
    travel = QUICK.travel.model()
    fresh = plan_horizon(visits, [agent], QUICK, dates=DAYS, travel=travel)
    assert fresh.entries[0].date == MON  # due inside the horizon: as early as possible
    again = plan_horizon(
        visits,
        [agent],
        QUICK,
        dates=DAYS,
        travel=travel,
        previous_days={"V1": DAYS[2], "V2": DAYS[1]},
    )
    assert [e.date for e in again.entries] == [DAYS[2], DAYS[1]]


def _split_plan(visits: Sequence[Visit], agents: Sequence[Agent], split: dict[str, int]):  # type: ignore[no-untyped-def]
    """The agent-day model of ``visits`` with each visit on the vehicle ``split`` names."""
    from optimizer.horizon import _expand
    from optimizer.plan import SolverInfo, build_plan
    from optimizer.problem import build_problem
    from optimizer.solve.ortools import lns_assignment

    day_visits, day_agents = _expand(visits, agents, DAYS, DAYS, {}, {})
    problem = build_problem(day_visits, day_agents, QUICK.travel.model())
    routes: list[list[int]] = [[] for _ in day_agents]
    for i, v in enumerate(day_visits):
        routes[split[v.visit_id]].append(i)
    assignment = lns_assignment(problem, routes, QUICK.solver, 0.0)
    info = SolverInfo("ortools", "TEST", 1, 0.0, assignment.objective)
    plan = build_plan(
        problem, assignment, {}, date=DAYS[0], timezone="Asia/Shanghai", solver=info, travel={}
    )
    return plan, problem, day_visits


def test_area_pass_serves_an_agents_area_on_fewer_days() -> None:
    from optimizer.horizon import _consolidated, area_of

    visits = [
        make_visit("V1", location=at(0.1, 0.1)),
        make_visit("V2", location=at(0.2, 0.1)),
        make_visit("V3", location=at(0.1, 0.2)),
        make_visit("FAR", location=at(8, 8)),
    ]
    assert len({area_of(v.location) for v in visits[:3] if v.location}) == 1
    # vehicles: A1 on Mon, Tue, Wed (one agent): V1, V2 Mon; V3 Tue; FAR Wed
    plan, problem, day_visits = _split_plan(
        visits, [make_agent("A1")], {"V1": 0, "V2": 0, "V3": 1, "FAR": 2}
    )
    moved = _consolidated(plan, problem, day_visits, {}, QUICK, DAYS)
    days = {s.visit_id: r.agent_id for r in moved.routes for s in r.stops}
    assert days["V3"] == days["V1"] == days["V2"]  # the area on one day
    assert days["FAR"] == plan.route_of(days["FAR"]).agent_id  # type: ignore[union-attr]
    assert len(moved.assigned_ids) == 4


def test_area_pass_never_moves_a_visit_against_its_due_date() -> None:
    from optimizer.horizon import _consolidated

    visits = [
        make_visit("V1", location=at(0.1, 0.1)),
        make_visit("V2", location=at(0.2, 0.1)),
        make_visit("V3", location=at(0.1, 0.2), due_date=DAYS[2]),
    ]
    # V1, V2 on Wed (the area's busiest day), V3 on Tue: Wed is allowed for V3 (its due
    # date) but later, and "due sooner goes earlier" ranks above the area rule.
    plan, problem, day_visits = _split_plan(visits, [make_agent("A1")], {"V1": 2, "V2": 2, "V3": 1})
    moved = _consolidated(plan, problem, day_visits, {}, QUICK, DAYS)
    days = {s.visit_id: r.agent_id for r in moved.routes for s in r.stops}
    assert days["V3"].endswith(DAYS[1].isoformat())
