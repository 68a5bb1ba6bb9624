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
