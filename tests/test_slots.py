from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.domain import GeoPoint
from optimizer.inputs.events import Event, EventKind
from optimizer.replan import replan
from optimizer.slots import offer_slots, why_no_slot
from tests.helpers import HOME, H, synthetic_day, visit

DAY = synthetic_day(seed=11, n_visits=10)


def test_slots_are_sorted_cheapest_first_and_on_the_half_hour():
    slots = offer_slots(DAY, GeoPoint(HOME.lat + 0.01, HOME.lon), 30 * 60)
    assert slots
    assert [s.extra_travel_s for s in slots] == sorted(s.extra_travel_s for s in slots)
    for s in slots:
        assert s.window.start_s % 1800 == 0
        assert s.window.contains(s.start_s)


def test_no_slot_explains_why():
    assert offer_slots(DAY, HOME, 30 * 60, frozenset({"notary"})) == []
    assert "notary" in why_no_slot(DAY, 30 * 60, frozenset({"notary"}), H)


def test_every_offered_slot_is_served_when_booked():
    where = GeoPoint(HOME.lat + 0.01, HOME.lon + 0.01)
    slots = offer_slots(DAY, where, 30 * 60)
    assert slots
    for slot in slots[:3]:
        booked = visit("NEW", 0.01, 0.01, window=slot.window)
        result = replan(DAY, [Event(EventKind.NEW, 0, visit_id="NEW", visit=booked)], 0)
        assert "NEW" in {s.visit_id for r in result.day.plan.routes for s in r.stops}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    dlat=st.floats(-0.05, 0.05),
    dlon=st.floats(-0.05, 0.05),
    minutes=st.sampled_from([15, 30, 45, 90]),
    width=st.sampled_from([30, 60, 120]),
)
def test_no_offered_slot_breaks_an_existing_window(dlat, dlon, minutes, width):
    where = GeoPoint(HOME.lat + dlat, HOME.lon + dlon)
    windows = {v.visit_id: v.window for v in DAY.visits}
    for slot in offer_slots(DAY, where, minutes * 60, window_width_s=width * 60):
        assert slot.window.contains(slot.start_s)
        for r in slot.booked.routes:
            for s in r.stops:
                w = windows.get(s.visit_id)
                if w is not None:
                    assert w.contains(s.start_s)
            for a, b in zip(r.stops, r.stops[1:], strict=False):
                assert a.end_s <= b.arrive_s <= b.start_s


def test_cli_replan_and_slots(tmp_path, capsys):
    from optimizer.cli import main
    from optimizer.outputs.export import write_plan

    write_plan(DAY, tmp_path / "day")
    plan_json = str(tmp_path / "day" / "plan.json")
    code = main(["slots", plan_json, "--lat", "30.67", "--lon", "104.07", "--duration", "30"])
    assert code == 0
    assert "extra travel" in capsys.readouterr().out
    events = tmp_path / "events.csv"
    events.write_text("kind,visit_id,agent_id,at\ncancelled,V0001,,09:00\n")
    out = tmp_path / "r"
    code = main(["replan", plan_json, "--events", str(events), "--now", "09:00", "--out", str(out)])
    assert code == 0
    assert (out / "changes.csv").exists()
    assert (out / "plan.json").exists()
    assert "V0001" in capsys.readouterr().out


def test_an_agent_without_a_planned_break_is_offered_work_that_makes_one_owed():
    from optimizer.domain import BreakRule, TimeWindow
    from tests.helpers import agent, plan

    lunch = BreakRule(TimeWindow(12 * H, 13 * H), 45 * 60)
    day = plan(
        [visit("V1", 0.01, 0.0, window=TimeWindow(9 * H, 9 * H + 1800))],
        [agent("A1", break_rule=lunch)],
    )
    route = day.plan.route_of("A1")
    assert route is not None
    assert route.break_start_s is None  # back before lunch: no break owed
    slots = offer_slots(day, GeoPoint(HOME.lat, HOME.lon + 0.01), 30 * 60)
    afternoon = [s for s in slots if s.window.start_s >= 14 * H]
    assert afternoon
    for slot in afternoon:
        booked = slot.booked.route_of("A1")
        assert booked is not None
        assert booked.break_start_s is not None
        assert 12 * H <= booked.break_start_s <= 13 * H
