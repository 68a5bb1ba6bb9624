"""Property tests of re-planning and slots over generated days and events (issue 10).

Fixed seed, small count in ``make test``; ``FIELDROUTE_PROPERTY_EXAMPLES`` raises the
count (``make bench`` runs them with more).
"""

import os
from dataclasses import replace

from hypothesis import HealthCheck, example, given, seed, settings
from hypothesis import strategies as st

from optimizer.domain import GeoPoint, TimeWindow
from optimizer.inputs.events import Event, EventKind
from optimizer.replan import replan
from optimizer.slots import offer_slots
from optimizer.verify import check_plan
from tests.helpers import HOME, H, synthetic_day, visit

EXAMPLES = int(os.environ.get("FIELDROUTE_PROPERTY_EXAMPLES", "0")) or None


def _settings(default: int) -> settings:
    return settings(
        max_examples=EXAMPLES or default,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )


def assignment(p):
    return {s.visit_id: r.agent_id for r in p.routes for s in r.stops}


def works_through_break(route, rule) -> bool:
    """Out while the whole break window passes with no room to take it at the base."""
    if rule is None:
        return False
    ws, we = rule.window.start_s, rule.window.end_s
    left_after_lunch = route.depart_s >= ws + rule.duration_s
    back_for_lunch = route.return_s <= we
    return not (left_after_lunch or back_for_lunch)


def assert_breaks_held(day):
    agents = {a.agent_id: a for a in day.agents}
    for r in day.plan.routes:
        rule = agents[r.agent_id].break_rule
        if works_through_break(r, rule):
            assert r.break_start_s is not None, f"{r.agent_id} works through its break window"
            assert rule.window.start_s <= r.break_start_s <= rule.window.end_s
            assert r.break_end_s - r.break_start_s == rule.duration_s
            for s in r.stops:
                assert s.end_s <= r.break_start_s or r.break_end_s <= s.start_s


# --------------------------------------------------------- no events: nothing moves


@seed(10)
@_settings(5)
@given(day_seed=st.integers(0, 1000), now_h=st.sampled_from([8, 9.5, 10, 11.5, 12, 13, 14]))
@example(day_seed=89, now_h=12)
@example(day_seed=174, now_h=12)
@example(day_seed=563, now_h=12)
def test_no_event_replan_returns_the_same_assignment(day_seed, now_h):
    day = synthetic_day(seed=day_seed, n_visits=8)
    now = round(now_h * H)
    first = replan(day, [], now)
    second = replan(day, [], now)
    for result in (first, second):
        assert assignment(result.day.plan) == assignment(day.plan)
        assert result.changes == ()
        for r in day.plan.routes:
            kept = result.day.plan.route_of(r.agent_id)
            assert kept is not None
            assert [s.visit_id for s in kept.stops] == [s.visit_id for s in r.stops]
        assert_breaks_held(result.day)
    assert first.day.plan.routes == second.day.plan.routes


# ------------------------------------------- an offered slot, booked, is served there


@seed(11)
@_settings(4)
@given(
    day_seed=st.integers(0, 1000),
    now_h=st.sampled_from([8, 9, 10.5, 11.5, 12.5, 14]),
    dlat=st.floats(-0.03, 0.03),
    dlon=st.floats(-0.03, 0.03),
    minutes=st.sampled_from([20, 30, 45, 60]),
    pick=st.integers(0, 1000),
)
def test_every_offered_slot_booked_and_replanned_is_served_by_the_offered_agent(
    day_seed, now_h, dlat, dlon, minutes, pick
):
    day = synthetic_day(seed=day_seed, n_visits=8)
    now = round(now_h * H)
    where = GeoPoint(HOME.lat + dlat, HOME.lon + dlon)
    slots = offer_slots(day, where, minutes * 60, now_s=now)
    for slot in {0: slots[0], 1: slots[pick % len(slots)]}.values() if slots else ():
        booked = visit(
            "NEW",
            dlat,
            dlon,
            window=slot.window,
            duration_s=minutes * 60,
            pinned_agent=slot.agent_id,
        )
        result = replan(day, [Event(EventKind.NEW, now, visit_id="NEW", visit=booked)], now)
        route = result.day.plan.route_of(slot.agent_id)
        assert route is not None
        stop = next((s for s in route.stops if s.visit_id == "NEW"), None)
        assert stop is not None, f"slot {slot.window} of {slot.agent_id} not served"
        assert slot.window.contains(stop.start_s)
        assert_breaks_held(result.day)


# --------------------------------------- every re-planned day passes the verifier


@st.composite
def day_and_events(draw):
    day = synthetic_day(seed=draw(st.integers(0, 1000)), n_visits=10)
    now = round(draw(st.sampled_from([9.5, 10.5, 11.5, 12.25, 13, 14.5])) * H)
    events = []
    routes = day.plan.routes
    for r in routes:
        past = [s for s in r.stops if s.start_s < now]
        later = [s for s in r.stops if s.start_s >= now]
        what = draw(st.sampled_from(["none", "late", "done", "failed", "at"]))
        if past and what in ("late", "done"):
            s = past[-1]
            delay = draw(st.sampled_from([0, 10, 25, 50])) * 60
            start = min(s.start_s + delay, now)
            kind = EventKind.STARTED if what == "late" else EventKind.DONE
            v = next(x for x in day.visits if x.visit_id == s.visit_id)
            at_s = start if kind is EventKind.STARTED else min(start + v.duration_s, now)
            events.append(Event(kind, at_s, visit_id=s.visit_id))
        elif past and what == "failed":
            events.append(
                Event(
                    EventKind.FAILED, min(past[-1].start_s + 300, now), visit_id=past[-1].visit_id
                )
            )
        elif what == "at" and past:
            events.append(
                Event(
                    EventKind.AGENT_AT,
                    now - 600,
                    agent_id=r.agent_id,
                    position=GeoPoint(HOME.lat + 0.01, HOME.lon - 0.01),
                )
            )
        if later and draw(st.booleans()):
            events.append(
                Event(EventKind.CANCELLED, now - 60, visit_id=draw(st.sampled_from(later)).visit_id)
            )
    if draw(st.booleans()):
        start = -(-(now + 1800) // 1800) * 1800
        new = visit(
            "N1",
            draw(st.floats(-0.03, 0.03)),
            draw(st.floats(-0.03, 0.03)),
            window=TimeWindow(start, min(start + 2 * H, 17 * H)),
            priority=draw(st.integers(1, 5)),
        )
        events.append(Event(EventKind.NEW, now - 60, visit_id="N1", visit=new))
    return day, events, now


@seed(12)
@_settings(5)
@given(case=day_and_events())
def test_every_replanned_day_passes_the_verifier_and_keeps_its_break(case):
    day, events, now = case
    result = replan(day, events, now)  # verifies the whole day itself, or raises
    new = result.day
    ids = {v.visit_id for v in new.visits}
    placed = [s.visit_id for r in new.plan.routes for s in r.stops]
    placed += [u.visit_id for u in new.plan.unassigned]
    assert sorted(placed) == sorted(ids)
    assert all(u.reason for u in new.plan.unassigned)
    assert_breaks_held(new)
    # Whoever gets a new notice is told a window that opens after now plus the lead.
    lead = new.settings.notices.lead_min * 60
    for c in result.changes:
        if c.notify and c.new_start_s is not None:
            assert c.new_start_s >= now + lead, c
    # Visits still to do: inside their window, never before now.
    reported = {e.visit_id for e in events if e.kind in (EventKind.DONE, EventKind.STARTED)}
    windows = {v.visit_id: v.window for v in new.visits}
    old_start = {s.visit_id: s.start_s for r in day.plan.routes for s in r.stops}
    for r in new.plan.routes:
        for s in r.stops:
            if s.visit_id in reported or old_start.get(s.visit_id, now) < now:
                continue
            assert s.start_s >= now
            w = windows[s.visit_id]
            assert w is None or w.contains(s.start_s)
    # A re-planned day with nothing reported late re-checks as a plain plan.
    if not any(
        e.kind in (EventKind.DONE, EventKind.STARTED, EventKind.FAILED, EventKind.AGENT_AT)
        for e in events
    ):
        assert check_plan(new.plan, new.visits, new.problem) == []


def test_verifier_refuses_a_replanned_route_without_its_break():
    day = synthetic_day(seed=5, n_visits=10)
    result = replan(day, [], 10 * H)
    agents = {a.agent_id: a for a in day.agents}
    route = next(
        r
        for r in result.day.plan.routes
        if r.break_start_s is not None and works_through_break(r, agents[r.agent_id].break_rule)
    )
    broken = replace(
        result.day.plan,
        routes=tuple(
            replace(r, break_start_s=None, break_end_s=None) if r is route else r
            for r in result.day.plan.routes
        ),
    )
    errors = check_plan(broken, result.day.visits, result.day.problem)
    assert any("no break" in e for e in errors)
