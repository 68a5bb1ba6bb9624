"""Hand edits (optimizer.edits): what a move breaks, and re-planning around locks."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.day import DayPlan
from optimizer.domain import TimeWindow
from optimizer.edits import (
    HAND_UNASSIGNED,
    REFUSED_CODES,
    EditResult,
    LockError,
    Move,
    apply_move,
    reoptimise,
)
from optimizer.verify import check_accounting, check_plan
from tests.helpers import DATE, FAST, H, agent, lunch, synthetic_day, visit


def _at(h: float, m: float = 0) -> int:
    return round(h * H + m * 60)


def _exact(h: float, m: float = 0) -> TimeWindow:
    return TimeWindow(_at(h, m), _at(h, m))


def _plan_small() -> DayPlan:
    """A1 (8-17, lunch 12-13, 45 min) and A2 (8-14, no break, skill 'asset'), close by.

    V1 (11:00-12:00) and V3 (15:00-16:00) are pinned to A1; V2 (12:15 sharp, an hour)
    cannot join them on A1 without lunch at work, so it goes to A2; V4 (9:00-9:30) and
    V5 (two hours, any time) need 'asset' (A2 only); V6 (half an hour) fits anywhere.
    """
    from optimizer.pipeline import plan_day

    agents = [
        agent("A1", break_rule=lunch(12, 13, 45)),
        agent("A2", skills=frozenset({"asset"}), shift=TimeWindow(_at(8), _at(14))),
    ]
    visits = [
        visit("V1", 0.004, 0.0, duration_s=H, window=_exact(11), pinned_agent="A1"),
        visit("V2", 0.0, 0.004, duration_s=H, window=_exact(12, 15)),
        visit(
            "V3",
            -0.004,
            0.0,
            duration_s=H,
            window=TimeWindow(_at(15), _at(15, 30)),
            pinned_agent="A1",
        ),
        visit(
            "V4", 0.0, -0.004, skills=frozenset({"asset"}), window=TimeWindow(_at(9), _at(9, 30))
        ),
        visit("V5", 0.003, 0.003, duration_s=2 * H, skills=frozenset({"asset"})),
        visit("V6", -0.003, 0.003),
    ]
    return plan_day(visits, agents, FAST, date=DATE)


SMALL = _plan_small()


def _move(day: DayPlan, vid: str, to: str | None, position: int | None = None) -> EditResult:
    return apply_move(day.problem, day.visits, day.plan, Move(vid, to, position))


def _agent_of(day: DayPlan, vid: str) -> str | None:
    return next((r.agent_id for r in day.plan.routes for s in r.stops if s.visit_id == vid), None)


def test_small_day_is_as_designed():
    assert not SMALL.plan.unassigned
    assert _agent_of(SMALL, "V2") == "A2"
    assert _agent_of(SMALL, "V4") == "A2"
    assert _agent_of(SMALL, "V5") == "A2"


def test_a_move_that_breaks_a_window_names_it():
    result = _move(SMALL, "V5", "A2", 0)  # two hours from 8:00: V4 (9:00-9:30) is late
    assert not result.ok
    window = [v for v in result.violations if v.code == "window"]
    assert [(v.visit_id, v.agent_id) for v in window] == [("V4", "A2")]
    assert "09:00-09:30" in window[0].message
    assert "would arrive at 10:" in window[0].message
    assert check_plan(result.plan, SMALL.visits, SMALL.problem)  # the verifier agrees


def test_a_move_through_lunch_names_the_break():
    result = _move(SMALL, "V2", "A1")
    assert not result.ok
    assert [v.code for v in result.violations] == ["break"]
    brk = result.violations[0]
    assert brk.agent_id == "A1"
    assert "12:00-13:00" in brk.message
    assert "45-min" in brk.message
    assert check_plan(result.plan, SMALL.visits, SMALL.problem)


def test_a_move_past_the_shift_end_names_the_shift():
    result = _move(SMALL, "V5", "A2", 2)  # after V2 (12:15-13:15): two more hours
    assert not result.ok
    assert [v.code for v in result.violations] == ["shift"]
    assert result.violations[0].agent_id == "A2"
    assert "14:00" in result.violations[0].message
    route = result.plan.route_of("A2")
    assert route is not None
    assert [s.visit_id for s in route.stops] == ["V4", "V2", "V5"]
    assert route.return_s > _at(14)


def test_a_move_to_an_unskilled_agent_names_the_skill():
    result = _move(SMALL, "V4", "A1")
    assert not result.ok
    skill = [v for v in result.violations if v.code == "skill"]
    assert [(v.visit_id, v.agent_id) for v in skill] == [("V4", "A1")]
    assert "asset" in skill[0].message


def test_a_move_of_a_pinned_visit_names_the_pin():
    result = _move(SMALL, "V1", "A2")
    assert not result.ok
    assert "pinned" in {v.code for v in result.violations}


def test_a_legal_move_is_ok_and_passes_the_verifier():
    other = "A2" if _agent_of(SMALL, "V6") == "A1" else "A1"
    result = _move(SMALL, "V6", other)
    assert result.ok, result.violations
    assert result.violations == ()
    assert check_plan(result.plan, SMALL.visits, SMALL.problem) == []
    assert _agent_of(replace(SMALL, plan=result.plan), "V6") == other
    # The stops left on the other route keep their times (nothing to push).
    before = {s.visit_id: s.start_s for r in SMALL.plan.routes for s in r.stops}
    after = {s.visit_id: s.start_s for r in result.plan.routes for s in r.stops}
    assert all(after[v] == before[v] for v in after if v != "V6")


def test_unassign_by_hand_and_back():
    out = _move(SMALL, "V6", None)
    assert out.ok
    assert next(u for u in out.plan.unassigned if u.visit_id == "V6").reason == HAND_UNASSIGNED
    back = apply_move(SMALL.problem, SMALL.visits, out.plan, Move("V6", "A2", None))
    assert back.ok, back.violations
    assert not back.plan.unassigned


@pytest.mark.parametrize(
    ("move", "code"),
    [
        (Move("NOPE", "A1", None), "unknown_visit"),
        (Move("V5", "A9", None), "unknown_agent"),
        (Move("V5", "A1", 7), "position"),
        (Move("V5", "A1", -1), "position"),
    ],
)
def test_a_move_naming_nothing_real_is_refused_and_changes_nothing(move, code):
    result = apply_move(SMALL.problem, SMALL.visits, SMALL.plan, move)
    assert not result.ok
    assert [v.code for v in result.violations] == [code]
    assert result.plan == SMALL.plan


DAY = synthetic_day(seed=11, n_visits=14, n_agents=3)
AGENTS = [a.agent_id for a in DAY.agents]
IDS = [v.visit_id for v in DAY.visits]


@settings(
    max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    vid=st.sampled_from(IDS),
    to=st.sampled_from([*AGENTS, None]),
    position=st.one_of(st.none(), st.integers(0, 8)),
)
def test_ok_exactly_when_the_verifier_accepts(vid, to, position):
    result = apply_move(DAY.problem, DAY.visits, DAY.plan, Move(vid, to, position))
    codes = {v.code for v in result.violations}
    assert check_accounting(result.plan, DAY.visits) == []
    if codes & REFUSED_CODES:
        assert result.plan == DAY.plan
        return
    errors = check_plan(result.plan, DAY.visits, DAY.problem)
    assert result.ok == (not errors), (result.violations, errors)
    if to is not None:
        route = result.plan.route_of(to)
        assert route is not None
        ids = [s.visit_id for s in route.stops]
        assert vid in ids
        if position is not None:
            assert ids.index(vid) == position


def _check_reoptimised(day: DayPlan, plan, locked):
    assert check_plan(plan, day.visits, day.problem) == []
    seen = [s.visit_id for r in plan.routes for s in r.stops] + [
        u.visit_id for u in plan.unassigned
    ]
    assert sorted(seen) == sorted(v.visit_id for v in day.visits)
    for vid, agent_id in locked.items():
        route = plan.route_of(agent_id)
        assert route is not None
        assert vid in [s.visit_id for s in route.stops]


def test_reoptimise_keeps_locked_visits_with_their_agent_in_order():
    moved = apply_move(DAY.problem, DAY.visits, DAY.plan, Move(IDS[0], AGENTS[-1], 0))
    edited = moved.plan if moved.ok else DAY.plan
    locked = {s.visit_id: r.agent_id for r in edited.routes for s in r.stops[:3]}
    plan = reoptimise(DAY.problem, DAY.visits, edited, locked, FAST, 1.0)
    _check_reoptimised(DAY, plan, locked)
    for r in edited.routes:
        want = [s.visit_id for s in r.stops if s.visit_id in locked]
        new = plan.route_of(r.agent_id)
        assert new is not None
        assert [s.visit_id for s in new.stops if s.visit_id in locked] == want


def test_reoptimise_keeps_hand_unassigned_visits_out():
    out = apply_move(DAY.problem, DAY.visits, DAY.plan, Move(IDS[1], None, None))
    plan = reoptimise(DAY.problem, DAY.visits, out.plan, {}, FAST, 1.0)
    _check_reoptimised(DAY, plan, {})
    assert IDS[1] in {u.visit_id for u in plan.unassigned if u.reason == HAND_UNASSIGNED}


def test_reoptimise_refuses_locks_that_break_a_rule():
    broken = _move(SMALL, "V2", "A1")
    locked = {"V1": "A1", "V2": "A1", "V3": "A1"}
    with pytest.raises(LockError, match="lunch break") as err:
        reoptimise(SMALL.problem, SMALL.visits, broken.plan, locked, FAST, 1.0)
    assert [v.code for v in err.value.violations] == ["break"]


def test_cli_move_checks_saves_and_refuses(tmp_path, capsys):
    from optimizer.cli import MOVE_REFUSED, main
    from optimizer.outputs.export import write_plan
    from optimizer.reopen import open_plan

    folder = tmp_path / "day"
    write_plan(SMALL, folder, share=True)
    before = (folder / "plan.json").read_bytes()
    assert main(["move", str(folder), "V2", "--to", "A1", "--check"]) == MOVE_REFUSED
    captured = capsys.readouterr()
    assert "break: A1 would work through the lunch break" in captured.out
    assert "Not saved" in captured.err
    assert main(["move", str(folder), "V2", "--to", "A1"]) == MOVE_REFUSED
    assert (folder / "plan.json").read_bytes() == before
    other = "A2" if _agent_of(SMALL, "V6") == "A1" else "A1"
    assert main(["move", str(folder), "V6", "--to", other, "--check"]) == 0
    assert (folder / "plan.json").read_bytes() == before
    assert main(["move", str(folder), "V6", "--to", other, "--position", "0"]) == 0
    assert "Saved" in capsys.readouterr().out
    assert (folder / "plan.json").stat().st_mode & 0o004  # still shared, as written
    saved = open_plan(folder / "plan.json")
    route = saved.plan.route_of(other)
    assert route is not None
    assert route.stops[0].visit_id == "V6"
    assert check_plan(saved.plan, saved.visits, saved.problem) == []
    assert main(["move", str(folder), "V6", "--unassign"]) == 0
    saved = open_plan(folder / "plan.json")
    assert [u.visit_id for u in saved.plan.unassigned] == ["V6"]


@pytest.mark.parametrize(
    "argv",
    [
        ["NOPE", "--to", "A1"],
        ["V6", "--to", "A9"],
        ["V6", "--to", "A1", "--position", "9"],
        ["V6", "--unassign", "--position", "0"],
    ],
)
def test_cli_move_naming_nothing_real_exits_2(tmp_path, capsys, argv):
    from optimizer.cli import main
    from optimizer.outputs.export import write_plan

    folder = tmp_path / "day"
    write_plan(SMALL, folder)
    before = (folder / "plan.json").read_bytes()
    assert main(["move", str(folder), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "Traceback" not in err
    assert (folder / "plan.json").read_bytes() == before


def test_reoptimise_keeps_the_hand_order_the_solver_would_undo():
    from optimizer.pipeline import plan_day

    line = [visit(f"L{k}", 0.0, 0.01 * k) for k in range(1, 5)]  # 1 km apart, eastwards
    day = plan_day(line, [agent("A1")], FAST, date=DATE)
    assert not day.plan.unassigned
    moved = apply_move(day.problem, day.visits, day.plan, Move("L1", "A1", 2))
    assert moved.ok, moved.violations
    route = moved.plan.route_of("A1")
    assert route is not None
    order = [s.visit_id for s in route.stops]
    assert order[2] == "L1"  # a detour the solver would take out
    locked = dict.fromkeys(order, "A1")
    plan = reoptimise(day.problem, day.visits, moved.plan, locked, FAST, 1.0)
    _check_reoptimised(day, plan, locked)
    new = plan.route_of("A1")
    assert new is not None
    assert [s.visit_id for s in new.stops if s.visit_id in locked] == order
    free = reoptimise(day.problem, day.visits, moved.plan, {}, FAST, 1.0)
    assert free.route_of("A1").distance_m < new.distance_m  # the lock has a price


def test_reoptimise_keeps_the_start_when_the_solver_finds_nothing(monkeypatch):
    import optimizer.solve.ortools
    from optimizer.errors import SolverError

    def no_plan(*_args, **_kwargs):
        msg = "OR-Tools returned no plan (status FAIL)"
        raise SolverError(msg)

    monkeypatch.setattr(optimizer.solve.ortools, "solve", no_plan)
    locked = {s.visit_id: r.agent_id for r in DAY.plan.routes for s in r.stops[:2]}
    plan = reoptimise(DAY.problem, DAY.visits, DAY.plan, locked, FAST, 1.0)
    _check_reoptimised(DAY, plan, locked)
    assert plan.solver.status == "START_KEPT"
    assert sorted(plan.assigned_ids) == sorted(DAY.plan.assigned_ids)  # the plan was valid


def test_a_locked_visit_cannot_be_moved_until_unlocked():
    locked = {"V1": "A1"}
    result = apply_move(SMALL.problem, SMALL.visits, SMALL.plan, Move("V1", "A1", 1), locked=locked)
    assert [v.code for v in result.violations] == ["locked"]
    assert result.plan == SMALL.plan
    free = apply_move(SMALL.problem, SMALL.visits, SMALL.plan, Move("V6", "A1", 0), locked=locked)
    assert "locked" not in {v.code for v in free.violations}


ROUTED = [(s.visit_id, r.agent_id) for r in DAY.plan.routes for s in r.stops]


@settings(
    max_examples=5, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    picks=st.lists(st.sampled_from(ROUTED), min_size=1, max_size=6, unique=True),
    vid=st.sampled_from(IDS),
    to=st.sampled_from(AGENTS),
)
def test_reoptimise_keeps_every_lock_and_passes_the_verifier(picks, vid, to):
    moved = apply_move(DAY.problem, DAY.visits, DAY.plan, Move(vid, to, None))
    edited = moved.plan if moved.ok else DAY.plan
    where = {s.visit_id: r.agent_id for r in edited.routes for s in r.stops}
    locked = {v: where[v] for v, _ in picks if v in where}
    plan = reoptimise(DAY.problem, DAY.visits, edited, locked, FAST, 0.5)
    _check_reoptimised(DAY, plan, locked)
    for r in edited.routes:
        new = plan.route_of(r.agent_id)
        want = [s.visit_id for s in r.stops if s.visit_id in locked]
        got = [s.visit_id for s in new.stops if s.visit_id in locked] if new else []
        assert got == want


def test_capacity_and_max_visits_are_named():
    from optimizer.pipeline import plan_day

    agents = [agent("A1", capacity=3, max_visits=2), agent("A2")]
    visits = [
        visit("C1", 0.002, 0.0, demand=2, pinned_agent="A1"),
        visit("C2", 0.0, 0.002, demand=2),
        visit("C3", -0.002, 0.0),
        visit("C4", 0.0, -0.002, pinned_agent="A1"),
    ]
    day = plan_day(visits, agents, FAST, date=DATE)
    assert not day.plan.unassigned
    assert _agent_of(day, "C2") == "A2"
    result = _move(day, "C2", "A1")
    codes = {v.code for v in result.violations}
    assert codes == {"capacity", "max_visits"}
    text = " ".join(v.message for v in result.violations)
    assert "capacity 3" in text
    assert "max_visits 2" in text
    assert check_plan(result.plan, day.visits, day.problem)


def test_cli_reoptimise_keeps_the_locks_and_saves(tmp_path, capsys):
    from optimizer.cli import main
    from optimizer.outputs.export import write_plan
    from optimizer.reopen import open_plan

    folder = tmp_path / "day"
    write_plan(DAY, folder)
    route = DAY.plan.routes[0]
    locks = [s.visit_id for s in route.stops[:2]]
    argv = ["reoptimise", str(folder), "--time-limit", "1"]
    assert main([*argv, *(x for vid in locks for x in ("--lock", vid))]) == 0
    assert f"around {len(locks)} locked visit(s)" in capsys.readouterr().out
    saved = open_plan(folder / "plan.json")
    assert check_plan(saved.plan, saved.visits, saved.problem) == []
    kept = saved.plan.route_of(route.agent_id)
    assert kept is not None
    assert [s.visit_id for s in kept.stops if s.visit_id in locks] == locks
    assert main([*argv, "--lock", "NOPE"]) == 2
    assert "NOPE" in capsys.readouterr().err


def test_cli_reoptimise_refuses_locks_that_break_a_rule(tmp_path, capsys):
    from optimizer.cli import main
    from optimizer.edits import LockError
    from optimizer.outputs.export import write_plan

    broken = _move(SMALL, "V2", "A1")
    folder = tmp_path / "day"
    write_plan(replace(SMALL, plan=broken.plan), folder)  # as if saved by hand, unchecked
    before = (folder / "plan.json").read_bytes()
    argv = ["reoptimise", str(folder), "--lock", "V1", "--lock", "V2", "--lock", "V3"]
    assert main(argv) == LockError.exit_code
    assert "lunch break" in capsys.readouterr().err
    assert (folder / "plan.json").read_bytes() == before


def test_what_no_typed_check_names_the_verifier_still_reports(monkeypatch):
    import optimizer.edits

    monkeypatch.setattr(optimizer.edits, "route_violations", lambda *_a, **_k: [])
    result = _move(SMALL, "V5", "A2", 0)  # breaks V4's window; no typed check now sees it
    assert not result.ok
    assert {v.code for v in result.violations} == {"verify"}
    assert any("V4" in v.message and "outside its window" in v.message for v in result.violations)
