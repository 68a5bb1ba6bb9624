"""The command line end to end: exit codes, messages, files written or not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from optimizer.cli import main
from tests.helpers import DATA_DIR, ROOT
from tests.inputs.test_load import BAD_CASES, _paths


def test_plan_sample_day_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plan"
    code = main(
        [
            "plan",
            str(ROOT / "data/visits.csv"),
            str(ROOT / "data/agents.csv"),
            "--date",
            "2026-12-01",
            "--time-limit",
            "3",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "visits unassigned" in printed and str(out) in printed
    doc = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert doc["date"] == "2026-12-01"
    assert doc["summary"]["visits"] == doc["summary"]["assigned"] + doc["summary"]["unassigned"]
    assert doc["travel"]["model"] == "straight-line"
    assert (out / "overview.html").exists() and (out / "itineraries.csv").exists()
    assert {p.name for p in (out / "inputs").iterdir()} == {
        "visits.csv",
        "agents.csv",
        "settings.json",
    }
    for route in doc["routes"]:
        assert (out / f"agent-{route['agent_id']}.html").exists()
    reasons = {u["reason"] for u in doc["unassigned"]}
    assert "no agent has the skill(s): notary" in reasons
    assert any(r.startswith("address not geocoded") for r in reasons)


@pytest.mark.parametrize(("name", "row", "column", "fragment"), BAD_CASES)
def test_bad_input_exit_2_one_line_nothing_written(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    row: int | None,
    column: str | None,
    fragment: str,
) -> None:
    out = tmp_path / "out"
    visits, agents = _paths(name)
    code = main(["plan", str(visits), str(agents), "--date", "2026-12-01", "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert name in err and fragment in err and "Traceback" not in err
    if column:
        assert f"column '{column}'" in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_unknown_setting_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "fieldroute.toml"
    config.write_text("[travel]\ndetour = 1.4\n", encoding="utf-8")
    ok = DATA_DIR / "ok"
    code = main(
        [
            "plan",
            str(ok / "visits.csv"),
            str(ok / "agents.csv"),
            "--config",
            str(config),
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2
    assert "unknown setting 'travel.detour'" in capsys.readouterr().err


def test_bad_date_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ok = DATA_DIR / "ok"
    code = main(
        [
            "plan",
            str(ok / "visits.csv"),
            str(ok / "agents.csv"),
            "--date",
            "1/12/2026",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2
    assert "expected YYYY-MM-DD" in capsys.readouterr().err


def test_settings_change_the_plan(tmp_path: Path) -> None:
    ok = DATA_DIR / "ok"
    config = tmp_path / "slow.toml"
    config.write_text(
        "[travel]\ndetour_factor = 2.0\n[travel.car]\nspeed_kmh = 10\n[solver]\ntime_limit_s = 1\n",
        encoding="utf-8",
    )
    code = main(
        [
            "plan",
            str(ok / "visits.csv"),
            str(ok / "agents.csv"),
            "--date",
            "2026-12-01",
            "--config",
            str(config),
            "--out",
            str(tmp_path / "o"),
            "-q",
        ]
    )
    assert code == 0
    doc = json.loads((tmp_path / "o" / "plan.json").read_text(encoding="utf-8"))
    # the older speed_kmh form: road km (great-circle x detour 2.0) at 10 km/h = 720 s/km
    assert doc["travel"]["detour_factor"] == 2.0 and doc["travel"]["s_per_km"]["car"] == 720
    assert doc["solver"]["time_limit_s"] == 1


def test_rerun_replaces_the_folder_whole(tmp_path: Path) -> None:
    ok = DATA_DIR / "ok"
    out = tmp_path / "o"
    out.mkdir()
    (out / "stale.txt").write_text("old", encoding="utf-8")
    args = [
        "plan",
        str(ok / "visits.csv"),
        str(ok / "agents.csv"),
        "--date",
        "2026-12-01",
        "--time-limit",
        "1",
        "--out",
        str(out),
        "-q",
    ]
    assert main(args) == 0
    assert not (out / "stale.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


def test_deterministic_plans_are_identical_and_a_bad_seed_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ok = DATA_DIR / "ok"
    base = ["plan", str(ok / "visits.csv"), str(ok / "agents.csv"), "--date", "2026-12-01"]
    flags = ["--time-limit", "0.3", "--seed", "5", "--deterministic", "-q"]
    docs = []
    for name in ("a", "b"):
        assert main([*base, *flags, "--out", str(tmp_path / name)]) == 0
        doc = json.loads((tmp_path / name / "plan.json").read_text(encoding="utf-8"))
        docs.append(doc["routes"])
    assert docs[0] == docs[1]
    capsys.readouterr()
    assert main([*base, "--seed", "-1", "--out", str(tmp_path / "c")]) == 2
    assert "--seed: solver.seed -1 must be >= 0" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()
