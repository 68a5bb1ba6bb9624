import os
from dataclasses import replace

from hypothesis import HealthCheck, example, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from optimizer.clock import arrival_window
from optimizer.domain import TimeWindow
from optimizer.inputs.events import Event, EventKind
from optimizer.outputs.export import write_plan
from optimizer.outputs.folder import agent_file, notice_file
from optimizer.reopen import open_plan
from optimizer.replan import replan
from optimizer.verify import check_plan
from tests.helpers import H, agent, plan, synthetic_day, visit


def assignment(p):
    return {s.visit_id: r.agent_id for r in p.routes for s in r.stops}


def test_notice_window_is_on_the_half_hour_inside_the_appointment():
    free = arrival_window(10 * H + 20 * 60, H, None)
    assert free.contains(10 * H + 20 * 60)
    assert free.start_s % 1800 == 0
    assert free.end_s - free.start_s == H
    w = arrival_window(9 * H + 5 * 60, H, TimeWindow(9 * H, 10 * H))
    assert w.start_s == 9 * H
    assert w.contains(9 * H + 5 * 60)


def test_reopen_round_trip(tmp_path):
    day = synthetic_day(seed=3)
    write_plan(day, tmp_path / "day")
    again = open_plan(tmp_path / "day" / "plan.json")
    assert assignment(again.plan) == assignment(day.plan)
    assert [s.start_s for r in again.plan.routes for s in r.stops] == [
        s.start_s for r in day.plan.routes for s in r.stops
    ]
    assert check_plan(again.plan, again.visits, again.problem) == []


def test_done_visits_never_move():
    day = synthetic_day(seed=5)
    route = max(day.plan.routes, key=lambda r: len(r.stops))
    first, second = route.stops[0], route.stops[1]
    now = second.start_s + 60
    events = [Event(EventKind.DONE, first.end_s, visit_id=first.visit_id)]
    new = replan(day, events, now).day.plan
    for old_route in day.plan.routes:
        fixed = [s for s in old_route.stops if s.start_s < now]
        kept = new.route_of(old_route.agent_id)
        assert kept is not None
        assert list(kept.stops[: len(fixed)]) == fixed


def test_cancelled_visit_frees_time_for_a_waiting_visit():
    # One agent, two visits that both need the whole 10-12 slot; V1 is kept first.
    team = [agent("A1", shift=TimeWindow(9 * H, 13 * H))]
    visits = [
        visit("V1", 0.01, 0.0, window=TimeWindow(10 * H, 10 * H), duration_s=2 * H, priority=3),
        visit("V2", 0.0, 0.01, window=TimeWindow(10 * H, 10 * H), duration_s=2 * H, priority=1),
    ]
    day = plan(visits, team)
    assert assignment(day.plan) == {"V1": "A1"}
    result = replan(day, [Event(EventKind.CANCELLED, 9 * H, visit_id="V1")], 9 * H)
    assert assignment(result.day.plan) == {"V2": "A1"}
    reasons = {u.visit_id: u.reason for u in result.day.plan.unassigned}
    assert reasons["V1"].startswith("cancelled")


def test_new_urgent_visit_is_inserted_and_displaces_lower_priority():
    team = [agent("A1", shift=TimeWindow(9 * H, 13 * H))]
    visits = [visit("V1", 0.01, 0.0, window=TimeWindow(10 * H, 10 * H), duration_s=2 * H)]
    day = plan(visits, team)
    urgent = visit("U1", 0.0, 0.01, window=TimeWindow(10 * H, 10 * H), duration_s=2 * H, priority=5)
    result = replan(day, [Event(EventKind.NEW, 9 * H, visit_id="U1", visit=urgent)], 9 * H)
    assert assignment(result.day.plan) == {"U1": "A1"}
    reasons = {u.visit_id: u.reason for u in result.day.plan.unassigned}
    assert reasons["V1"] == "displaced by urgent visit U1"
    notified = {c.visit_id for c in result.changes if c.notify}
    assert notified == {"V1", "U1"}


def test_new_visit_inserted_when_it_fits():
    day = synthetic_day(seed=2, n_visits=6)
    new = visit("N1", 0.005, 0.005, window=TimeWindow(14 * H, 16 * H), priority=2)
    result = replan(day, [Event(EventKind.NEW, 10 * H, visit_id="N1", visit=new)], 10 * H)
    assert "N1" in assignment(result.day.plan)


def test_agent_off_moves_remaining_visits_or_gives_a_reason():
    day = synthetic_day(seed=4, n_visits=10)
    gone = day.plan.routes[0].agent_id
    now = 11 * H
    events = [Event(EventKind.AGENT_OFF, now, agent_id=gone)]
    result = replan(day, events, now)
    new = result.day.plan
    remaining = [s.visit_id for s in day.plan.routes[0].stops if s.start_s >= now]
    assert remaining
    after = assignment(new)
    reasons = {u.visit_id: u.reason for u in new.unassigned}
    for vid in remaining:
        if vid in after:
            assert after[vid] != gone
        else:
            assert "left for the day" in reasons[vid]
    route = new.route_of(gone)
    assert route is None or all(s.start_s < now for s in route.stops)


def test_failed_visit_listed_for_a_new_appointment():
    day = synthetic_day(seed=6, n_visits=6)
    stop = day.plan.routes[0].stops[0]
    result = replan(
        day, [Event(EventKind.FAILED, stop.start_s + 60, visit_id=stop.visit_id)], stop.end_s
    )
    assert result.new_appointment == (stop.visit_id,)
    assert stop.visit_id not in assignment(result.day.plan)


@hypothesis_seed(7)
@settings(
    max_examples=int(os.environ.get("FIELDROUTE_PROPERTY_EXAMPLES", "0")) or 4,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(seed=st.integers(0, 1000), now_h=st.sampled_from([8, 10, 12, 14]))
@example(seed=89, now_h=12)
@example(seed=174, now_h=12)
@example(seed=563, now_h=12)
def test_no_events_keeps_the_assignment(seed, now_h):
    day = synthetic_day(seed=seed, n_visits=8)
    result = replan(day, [], now_h * H)
    assert assignment(result.day.plan) == assignment(day.plan)
    assert {c.change for c in result.changes} <= {"start outside the told window"}
    for r in day.plan.routes:
        kept = result.day.plan.route_of(r.agent_id)
        assert kept is not None
        assert [s.visit_id for s in kept.stops] == [s.visit_id for s in r.stops]


def test_replan_output_reopens(tmp_path):
    day = synthetic_day(seed=8, n_visits=8)
    result = replan(day, [], 10 * H)
    write_plan(result.day, tmp_path / "r")
    again = open_plan(tmp_path / "r" / "plan.json")
    assert assignment(again.plan) == assignment(result.day.plan)
    assert replace(again.plan.solver, objective=0).engine == "ortools"


def test_cli_replan_rewrites_only_what_changed(tmp_path, capsys):
    import csv

    from optimizer.cli import main
    from optimizer.replan import changed_routes

    day = synthetic_day(seed=5, n_visits=16, n_agents=3)
    write_plan(day, tmp_path / "day")
    first = day.plan.routes[0].stops[-1].visit_id
    events = tmp_path / "events.csv"
    events.write_text(f"kind,visit_id,agent_id,at\ncancelled,{first},,08:00\n")
    out = tmp_path / "r"
    code = main(
        [
            "replan",
            str(tmp_path / "day" / "plan.json"),
            "--events",
            str(events),
            "--now",
            "08:00",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    again = open_plan(out / "plan.json")
    changed = changed_routes(day.plan, again.plan)
    assert changed  # the cancelled visit's route changed
    assert {p.name for p in out.glob("agent-*.html")} == {
        agent_file(a, "html") for a in changed if again.plan.route_of(a)
    }
    assert {p.name for p in out.glob("agent-*.ics")} == {
        agent_file(a, "ics") for a in changed if again.plan.route_of(a)
    }
    with (out / "changes.csv").open(encoding="utf-8-sig") as fh:
        notify = {
            r["visit_id"] for r in csv.DictReader(fh) if r["notify"] in ("True", "true", "yes", "1")
        }
    with (out / "notices.csv").open(encoding="utf-8-sig") as fh:
        noticed = {r["visit_id"] for r in csv.DictReader(fh)}
    assert noticed == notify
    assert {p.name for p in (out / "notices").glob("*.txt")} <= {notice_file(v) for v in notify}
    assert "the others stand as they were" in capsys.readouterr().out
