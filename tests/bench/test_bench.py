"""Smoke run of the benchmark harness: one Solomon instance, 2 s, FieldRoute only.

The instance and its BKS row are copied into tests/data so that no network and no
../shared checkout is needed. The benchmark figures themselves are in docs/benchmarks.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.bench.run import BenchConfig, run
from optimizer.solve.params import SolverSettings

DATA = Path(__file__).resolve().parents[1] / "data"


def test_literature_instance_converts_with_dimacs_matrix() -> None:
    pytest.importorskip("vrplib")
    from optimizer.bench.literature import load_instance, read_bks

    inst = load_instance(DATA / "solomon" / "C101.vrp", read_bks(DATA / "bks.csv"))
    assert len(inst.visits) == 100
    assert len(inst.agents) == 25
    assert inst.bks == pytest.approx(827.3)
    # node 1 (40, 50) to node 2 (45, 68): sqrt(349) = 18.68... -> 18.6 -> 186
    assert inst.travel.seconds[0, 1] == 186


def test_bench_smoke_one_instance_two_seconds() -> None:
    pytest.importorskip("vrplib")
    lines: list[str] = []
    config = BenchConfig(
        sets=("solomon",),
        instances=("C101",),
        time_limit_s=2.0,
        engines=("fieldroute",),
        root=DATA,
        solver=SolverSettings(workers=1),
    )
    assert run(config, out=lines.append) == 0
    text = "\n".join(lines)
    assert "| C101 | fieldroute |" in text
    assert "INFEASIBLE" not in text
    assert "NOT ALL SERVED" not in text


def _day(name: str, engine: str, priority: int, travel: float) -> object:
    from optimizer.bench.fielddays import DayResult

    return DayResult(name, engine, 10, priority, travel, 1.0, 2, engine == "fieldroute")


def test_field_verdict_is_priority_first_then_travel() -> None:
    from optimizer.bench.run import field_verdicts

    results = [
        _day("300/15 seed 1", "fieldroute", 400, 1500.0),
        _day("300/15 seed 1", "vroom", 400, 1600.0),  # equal priority, less travel: met
        _day("300/15 seed 2", "fieldroute", 401, 1900.0),
        _day("300/15 seed 2", "vroom", 400, 1600.0),  # more priority, more travel: met
        _day("300/15 seed 5", "fieldroute", 400, 1700.0),
        _day("300/15 seed 5", "vroom", 400, 1600.0),  # equal priority, more travel: missed
        _day("300/15 seed 5", "vroom unbounded", 402, 1550.0),
    ]
    text = field_verdicts(results)
    assert "| 300/15 | 2/3 |" in text
    assert "s5: 400/1700 vs 400/1600 (unbounded 402/1550) MISSED" in text
    assert "s1: 400/1500 vs 400/1600;" in text


class _Conn:
    def __init__(self) -> None:
        self.sent: list[tuple[str, object]] = []

    def send(self, item: tuple[str, object]) -> None:
        self.sent.append(item)

    def close(self) -> None:
        pass


def _rejects() -> object:
    from optimizer.errors import VerificationError

    raise VerificationError(["A1: arrives after the window"])


def _fails() -> object:
    raise ValueError("boom")


def test_a_verifier_rejection_is_told_apart_from_a_failed_solve() -> None:
    from optimizer.bench.run import _child

    conn = _Conn()
    _child(_rejects, (), conn)
    _child(_fails, (), conn)
    assert [status for status, _ in conn.sent] == ["rejected", "error"]


def test_vroom_gets_two_threads_and_runs_unbounded() -> None:
    pytest.importorskip("vroom")
    from optimizer.bench.fielddays import day_problem, make_day
    from optimizer.bench.peers import solve_vroom, totals

    visits, agents = make_day(30, 3, seed=1)
    problem = day_problem(visits, agents)
    bounded = solve_vroom(problem, 1.0)
    unbounded = solve_vroom(problem, None)
    assert bounded.note == "exploration 5, 2 thread(s)"
    assert totals(problem, unbounded.routes).served > 0
    used = {a for a, r in enumerate(unbounded.routes) if r}
    assert set(unbounded.spans) == used
    assert all(0 < span <= 9 * 3600 for span in unbounded.spans.values())


def test_memory_bench_reports_peaks_and_the_estimate_of_a_small_day() -> None:
    from optimizer.bench.memory import measure

    figures = measure(60, time_limit_s=0.5)
    assert figures["visits"] == 60 and figures["agents"] == 10
    assert 0 < figures["peak_planner_gib"] < figures["estimate_gib"] + 1
    assert figures["peak_worker_gib"] > 0


def test_horizon_bench_files_are_the_generated_week(tmp_path: Path) -> None:
    """The CLI timing plans the same week as the in-process run (files round-trip)."""
    from optimizer.bench.horizon import FIRST, WORKDAYS, make_horizon, write_inputs
    from optimizer.horizon import horizon_dates
    from optimizer.inputs.load import read_inputs

    dates = horizon_dates(FIRST, 5, WORKDAYS)
    visits, agents = make_horizon(40, 4, 1, dates)
    read = read_inputs(*write_inputs(visits, agents, tmp_path))
    fields = ("visit_id", "due_date", "earliest_date", "window", "duration_s", "skills")
    assert [tuple(getattr(v, f) for f in fields) for v in read.visits] == [
        tuple(getattr(v, f) for f in fields) for v in visits
    ]
    assert [(a.agent_id, a.days_off, a.shift, a.break_rule) for a in read.agents] == [
        (a.agent_id, a.days_off, a.shift, a.break_rule) for a in agents
    ]
