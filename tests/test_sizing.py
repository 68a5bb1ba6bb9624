"""A day's size: compact matrices, and a day too large refused before it is built (issue 11, item 12)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from optimizer import sizing
from optimizer.bench.synthetic import make_agents, make_visits
from optimizer.cli import main
from optimizer.domain import GeoPoint, Mode
from optimizer.errors import DayTooLargeError
from optimizer.pipeline import plan_day
from optimizer.problem import build_problem, subset
from optimizer.settings import Settings
from optimizer.solve.ortools import as_lists
from optimizer.travel.base import FixedMatrixProvider, TravelMatrix
from optimizer.travel.straight import StraightLineModel
from tests.helpers import ROOT, make_agent, make_visit

GIB = 1024**3
TINY = ROOT / "data" / "tiny"


def _no_matrices(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building a matrix fails the test: the refusal must come before any allocation."""

    def refuse(*_: Any) -> TravelMatrix:
        pytest.fail("a matrix was built for a day that does not fit")

    monkeypatch.setattr(StraightLineModel, "matrix", refuse)


# -- compact matrices ---------------------------------------------------------------


def test_the_problems_matrices_are_int32_one_pair_per_mode_used() -> None:
    agents = (make_agent("A1"), make_agent("A2", mode=Mode.WALK), make_agent("A3"))
    visits = tuple(make_visit(f"V{k}", location=GeoPoint(30.6 + k / 100, 104.0)) for k in range(5))
    problem = build_problem(visits, agents, StraightLineModel())
    assert set(problem.matrices) == {Mode.CAR, Mode.WALK}
    for m in problem.matrices.values():
        assert m.seconds.dtype == np.int32
        assert m.metres.dtype == np.int32
    # Straight-line metres do not depend on the mode: one array, not one per mode.
    assert problem.matrices[Mode.CAR].metres is problem.matrices[Mode.WALK].metres
    assert not np.array_equal(
        problem.matrices[Mode.CAR].seconds, problem.matrices[Mode.WALK].seconds
    )
    assert subset(problem, range(5)) is problem  # no second copy of the matrices


def test_any_provider_gives_int32_and_too_large_values_are_refused() -> None:
    points = [GeoPoint(30.0, 104.0), GeoPoint(30.1, 104.0)]
    wide = np.array([[0, 600], [700, 0]], dtype=np.int64)
    fixed = FixedMatrixProvider(wide, wide * 10, {p: k for k, p in enumerate(points)})
    m = fixed.matrix(points, Mode.CAR)
    assert m.seconds.dtype == m.metres.dtype == np.int32
    assert m.seconds.tolist() == wide.tolist()
    with pytest.raises(ValueError, match="Expected seconds values within"):
        TravelMatrix(seconds=wide * 2**32, metres=wide)


def test_banded_straight_line_matrix_equals_the_whole_one(monkeypatch: pytest.MonkeyPatch) -> None:
    team = make_agents(3, seed=1)
    points = [v.location for v in make_visits(60, team, seed=1) if v.location is not None]
    whole = StraightLineModel().matrix(points, Mode.CAR)
    monkeypatch.setattr("optimizer.travel.straight.BAND_CELLS", 7 * len(points))  # 7 rows a band
    banded = StraightLineModel().matrix(points, Mode.CAR)
    assert np.array_equal(whole.seconds, banded.seconds)
    assert np.array_equal(whole.metres, banded.metres)


def test_or_tools_lists_hold_the_same_values_with_shared_ints() -> None:
    rng = np.random.default_rng(3)
    travel = rng.integers(0, 5000, size=(40, 40)).astype(np.int32)
    service = rng.integers(0, 3600, size=40).tolist()
    extra = rng.integers(0, 900, size=40).tolist()
    assert as_lists(travel) == travel.astype(np.int64).tolist()
    assert as_lists(travel, row_add=service) == (travel + np.array(service)[:, None]).tolist()
    assert as_lists(travel, column_add=extra) == (travel + np.array(extra)[None, :]).tolist()
    rows = as_lists(travel)
    value = rows[0][1]
    same = [cell for row in rows for cell in row if cell == value]
    assert len(same) > 0 and all(cell is same[0] for cell in same)  # one object per value
    # Values beyond the table are converted plainly, and still exactly.
    huge = travel.copy()
    huge[0, 1] = 2**30
    assert as_lists(huge) == huge.astype(np.int64).tolist()


# -- the estimate and the refusal -----------------------------------------------------


def test_the_estimate_grows_with_the_square_of_the_points_and_with_modes() -> None:
    small = sizing.estimate_day_bytes(1_000, 1, 10)
    assert sizing.estimate_day_bytes(2_000, 1, 10) - sizing.BASE_BYTES > 3.9 * (
        small - sizing.BASE_BYTES
    )
    assert sizing.estimate_day_bytes(5_000, 2, 50) > sizing.estimate_day_bytes(5_000, 1, 50)
    # 100,000 visits: what the issue saw crash after allocating 73 GiB.
    assert sizing.estimate_day_bytes(100_000, 1, 100) > 300 * GIB


def test_check_day_fits_raises_a_typed_error_naming_the_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sizing, "available_memory_bytes", lambda: 8 * GIB)
    sizing.check_day_fits(1_000, 50, 2)  # about half a GiB: fits
    with pytest.raises(DayTooLargeError) as err:
        sizing.check_day_fits(100_000, 800, 2)
    e = err.value
    assert (e.visits, e.agents, e.available_bytes) == (100_000, 800, 8 * GIB)
    assert e.need_bytes == sizing.estimate_day_bytes(101_600, 2, 800)
    assert e.exit_code == 2
    assert "100,000 visits" in str(e) and "8.0 GiB is available" in str(e)
    assert "--regions" in str(e)


def test_no_probe_is_asked_for_an_ordinary_day(monkeypatch: pytest.MonkeyPatch) -> None:
    def probe() -> int:
        pytest.fail("the memory probe was asked for a small day")

    monkeypatch.setattr(sizing, "available_memory_bytes", probe)
    sizing.check_day_fits(500, 20, 2)


def test_the_memory_probe_reads_this_machine() -> None:
    available = sizing.available_memory_bytes()
    assert available is None or available > 0


def test_a_day_of_100000_visits_is_refused_before_any_matrix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _no_matrices(monkeypatch)
    team = make_agents(40, seed=5)
    some = make_visits(1_000, team, seed=5)
    visits = [replace(v, visit_id=f"{v.visit_id}-{k}") for k in range(100) for v in some]
    with pytest.raises(DayTooLargeError, match=r"100,000 visits and 40 agents need about"):
        plan_day(visits, team, Settings(), date=dt.date(2026, 12, 1))


def test_the_cli_refuses_a_day_too_large_with_exit_2_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_matrices(monkeypatch)
    monkeypatch.setattr(sizing, "NO_CHECK_BELOW_BYTES", 0)
    monkeypatch.setattr(sizing, "available_memory_bytes", lambda: 1024**2)  # 1 MiB free
    out = tmp_path / "out"
    argv = ["plan", str(TINY / "visits.csv"), str(TINY / "agents.csv"), "--out", str(out)]
    code = main([*argv, "--date", "2026-12-01", "--time-limit", "1", "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: the day is too large to plan in one piece: 6 visits")
    assert "GiB of memory and 0.0 GiB is available" in err
    assert "--regions" in err
    assert "Traceback" not in err and "this is a bug" not in err
    assert not out.exists()


def test_the_worker_is_sent_one_matrix_per_mode() -> None:
    import pickle

    from optimizer.solve.parallel import _without_distances

    agents = (make_agent("A1"), make_agent("A2", mode=Mode.WALK))
    visits = tuple(
        make_visit(f"V{k}", location=GeoPoint(30.6 + k / 1000, 104.0)) for k in range(200)
    )
    problem = build_problem(visits, agents, StraightLineModel())
    sent = _without_distances(problem)
    cells = sum(m.seconds.nbytes for m in problem.matrices.values())
    assert len(pickle.dumps(sent, protocol=5)) < 1.1 * cells
    for mode, m in sent.matrices.items():
        assert np.array_equal(m.seconds, problem.matrices[mode].seconds)
    assert problem.matrices[Mode.CAR].metres.any()  # the planner keeps its distances


def test_a_day_too_large_is_refused_before_geocoding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sizing, "NO_CHECK_BELOW_BYTES", 0)
    monkeypatch.setattr(sizing, "available_memory_bytes", lambda: 1024**2)

    class Geocoder:
        def geocode(self, *_: Any, **__: Any) -> None:
            pytest.fail("geocoding began for a day that does not fit")

    visits = (make_visit("V1", location=None, address="Chengdu 春熙路 1号"),)
    with pytest.raises(DayTooLargeError):
        plan_day(
            visits, (make_agent(),), Settings(), date=dt.date(2026, 12, 1), geocoder=Geocoder()
        )  # type: ignore[arg-type]
