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


@pytest.fixture(scope="module")
def tiny_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny") / "plan"
    tiny = ROOT / "data" / "tiny"
    args = ["plan", str(tiny / "visits.csv"), str(tiny / "agents.csv"), "--date", "2026-12-01"]
    assert main([*args, "--time-limit", "1", "--out", str(out), "-q"]) == 0
    return out / "plan.json"


def test_slots_refuses_a_point_outside_the_service_area(
    tiny_plan: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 10 item 8: Beijing against a Chengdu plan is a typo, not "cannot fit"."""
    code = main(["slots", str(tiny_plan), "--lat", "39.91", "--lon", "116.40", "--duration", "45"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert "error: --lat/--lon: (39.91, 116.4) lies outside the service area" in err
    assert "cannot fit" not in err and "Traceback" not in err
    inside = ["slots", str(tiny_plan), "--lat", "30.66", "--lon", "104.07", "--duration", "30"]
    assert main(inside) == 0
    assert "window" in capsys.readouterr().out


def test_slots_takes_an_address_located_as_plan_does(
    tiny_plan: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # the plan's settings name data/gazetteer.csv
    by_address = ["slots", str(tiny_plan), "--address", "Chengdu 春熙路 243号", "--duration", "30"]
    assert main(by_address) == 0
    shown = capsys.readouterr().out
    # the gazetteer puts that address at 30.660863,104.0951: the same answer as by point
    by_point = ["slots", str(tiny_plan), "--lat", "30.660863", "--lon", "104.0951"]
    assert main([*by_point, "--duration", "30"]) == 0
    assert capsys.readouterr().out == shown
    unknown = ["slots", str(tiny_plan), "--address", "Nowhere Lane 1", "--duration", "30"]
    assert main(unknown) == 2
    assert (
        "error: --address: address not geocoded: not found by gazetteer" in capsys.readouterr().err
    )
