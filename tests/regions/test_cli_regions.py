"""``fieldroute plan --regions``: one plan folder for the day, input errors, exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from optimizer.cli import main
from optimizer.regions import engine as engine_module
from optimizer.regions.engine import RegionTask
from optimizer.solve.assignment import Assignment
from tests.regions.days import NationalDay, write_day


def _config(folder: Path) -> Path:
    """Work-limited single searches, so that the runs are quick and repeatable."""
    path = folder / "fieldroute.toml"
    path.write_text(
        "[solver]\nworkers = 1\ndeterministic = true\n\n[notices]\ndesk_phone = '028-1234'\n",
        encoding="utf-8",
    )
    return path


def _args(visits: Path, agents: Path, out: Path, *extra: str) -> list[str]:
    return [
        "plan",
        str(visits),
        str(agents),
        "--date",
        "2026-12-01",
        "--time-limit",
        "1",
        "--config",
        str(_config(visits.parent)),
        "--out",
        str(out),
        "--offline",
        *extra,
    ]


@pytest.mark.parametrize("mode", ["column", "auto"])
def test_plan_by_regions_writes_one_verified_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], three_cities: NationalDay, mode: str
) -> None:
    visits, agents = write_day(three_cities, tmp_path / "in")
    out = tmp_path / "out"
    assert main(_args(visits, agents, out, "--regions", mode)) == 0
    printed = capsys.readouterr().out
    assert "Regions: 3 regions" in printed
    doc = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    routed = [s["visit_id"] for r in doc["routes"] for s in r["stops"]]
    unassigned = [u["visit_id"] for u in doc["unassigned"]]
    assert sorted(routed + unassigned) == sorted(v.visit_id for v in three_cities.visits)
    assert (out / "overview.html").exists()
    pages = list(out.glob("agent-*.html"))
    assert len(pages) == len({r["agent_id"] for r in doc["routes"]})


def test_empty_region_cell_is_exit_2_naming_file_row_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], three_cities: NationalDay
) -> None:
    visits, agents = write_day(three_cities, tmp_path / "in")
    lines = agents.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].rsplit(",", 1)[0] + ","  # agent on row 4 loses its region
    agents.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(_args(visits, agents, out, "--regions", "column")) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "agents.csv, row 4, column 'region'" in err and "Traceback" not in err
    assert not out.exists()


def test_missing_region_column_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], three_cities: NationalDay
) -> None:
    visits, agents = write_day(three_cities, tmp_path / "in", region=False)
    assert main(_args(visits, agents, tmp_path / "out", "--regions", "column")) == 2
    assert "visits.csv, row 1, column 'region': missing column 'region'" in capsys.readouterr().err


def test_a_region_that_cannot_be_solved_is_exit_4_with_the_plan_written(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    three_cities: NationalDay,
) -> None:
    real = engine_module.solve_region
    lost = sorted({c for k, c in three_cities.city.items()})[1]

    def broken(task: RegionTask) -> Assignment:
        if task.region == lost:
            msg = "solver crashed"
            raise RuntimeError(msg)
        return real(task)

    monkeypatch.setattr(engine_module, "solve_region", broken)
    visits, agents = write_day(three_cities, tmp_path / "in")
    out = tmp_path / "out"
    assert main(_args(visits, agents, out, "--regions", "column")) == 4
    err = capsys.readouterr().err
    assert f"region {lost} could not be solved (RuntimeError: solver crashed)" in err
    doc = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    reasons = {u["visit_id"]: u["reason"] for u in doc["unassigned"]}
    mine = [v for v, c in three_cities.city.items() if c == lost and v.startswith("V")]
    assert all(reasons[v].startswith(f"region {lost} could not be solved:") for v in mine)
    assert doc["routes"], "the other regions are planned"


def test_engine_ray_without_ray_is_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    three_cities: NationalDay,
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    visits, agents = write_day(three_cities, tmp_path / "in")
    out = tmp_path / "out"
    assert main(_args(visits, agents, out, "--regions", "auto", "--engine", "ray")) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "error: --engine ray needs Ray, which is not installed: pip install 'fieldroute[ray]' "
        "(or use --engine local)"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (["--engine", "local"], "use them with --regions"),
        (["--ray-address", "auto"], "use them with --regions"),
        (["--regions", "auto", "--days", "2"], "cannot be used with --days"),
        (["--regions", "auto", "--book"], "cannot be used with --book"),
    ],
)
def test_region_flags_that_do_not_fit_are_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    three_cities: NationalDay,
    flags: list[str],
    fragment: str,
) -> None:
    visits, agents = write_day(three_cities, tmp_path / "in")
    assert main(_args(visits, agents, tmp_path / "out", *flags)) == 2
    assert fragment in capsys.readouterr().err
