"""The command line end to end: exit codes, messages, files written or not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from optimizer.cli import main
from optimizer.outputs.folder import _MARKER_TEXT, MARKER, agent_file
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
        assert (out / agent_file(route["agent_id"], "html")).exists()
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
    # A plan folder of an earlier run (its marker says so) is replaced whole, extras too.
    (out / "stale.txt").write_text("old", encoding="utf-8")
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


def test_plan_days_writes_a_folder_per_day_and_the_horizon(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    visits = tmp_path / "visits.csv"
    visits.write_text(
        "visit_id,lat,lon,duration_min,due_date,earliest_date\n"
        "V1,30.66,104.07,30,2026-12-01,\n"
        "V2,30.67,104.08,30,,2026-12-03\n"
        "V3,30.65,104.06,30,,2026-12-20\n"
        "V4,30.66,104.09,30,2026-12-02,\n",
        encoding="utf-8",
    )
    agents = tmp_path / "agents.csv"
    agents.write_text(
        "agent_id,start_lat,start_lon,shift_start,shift_end,days_off\n"
        "A1,30.66,104.06,08:00,17:00,2026-12-01\n"
        "A2,30.66,104.06,08:00,17:00,wed\n",
        encoding="utf-8",
    )
    out = tmp_path / "week"
    args = ["plan", str(visits), str(agents), "--days", "3", "--date", "2026-12-01"]
    code = main([*args, "--time-limit", "1", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == [
        ".fieldroute",  # the marker: a folder FieldRoute wrote, so a re-run may replace it
        "2026-12-01",
        "2026-12-02",
        "2026-12-03",
        "horizon.csv",
        "horizon.json",
    ]
    for day in ("2026-12-01", "2026-12-02", "2026-12-03"):
        doc = json.loads((out / day / "plan.json").read_text(encoding="utf-8"))
        assert doc["date"] == day
        assert (out / day / "overview.html").exists()
    rows = {
        r["visit_id"]: r
        for r in json.loads((out / "horizon.json").read_text(encoding="utf-8"))["visits"]
    }
    assert list(rows) == ["V1", "V2", "V3", "V4"]
    assert (rows["V1"]["date"], rows["V1"]["agent_id"]) == ("2026-12-01", "A2")  # A1 is off
    assert (rows["V2"]["date"], rows["V2"]["agent_id"]) == ("2026-12-03", "A1")  # A2 off Wed
    assert rows["V3"]["status"] == "unassigned"
    assert rows["V3"]["reason"] == "earliest date after the horizon"
    assert rows["V4"]["date"] in ("2026-12-01", "2026-12-02")
    assert (out / "horizon.csv").read_text(encoding="utf-8-sig").startswith("visit_id,date,")


def test_plan_days_out_of_range_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["plan", str(ROOT / "data/tiny/visits.csv"), str(ROOT / "data/tiny/agents.csv")]
    out = tmp_path / "never"
    assert main([*args, "--days", "0", "--out", str(out)]) == 2
    assert "--days 0" in capsys.readouterr().err
    assert not out.exists()


def test_plan_days_rerun_keeps_the_published_day_and_measures_churn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    visits = tmp_path / "visits.csv"
    rows = [f"V{k},30.6{k},104.0{k},60,,\n" for k in range(1, 9)]
    visits.write_text(
        "visit_id,lat,lon,duration_min,due_date,earliest_date\n" + "".join(rows), encoding="utf-8"
    )
    agents = tmp_path / "agents.csv"
    agents.write_text(
        "agent_id,start_lat,start_lon,shift_start,shift_end\nA1,30.64,104.04,08:00,12:00\n",
        encoding="utf-8",
    )
    out = tmp_path / "week"
    args = ["plan", str(visits), str(agents), "--days", "3", "--date", "2026-12-01"]
    args += ["--time-limit", "1", "--out", str(out)]
    assert main(args) == 0
    first = json.loads((out / "horizon.json").read_text(encoding="utf-8"))
    day1 = {r["visit_id"] for r in first["visits"] if r["date"] == "2026-12-01"}
    assert day1 and first["summary"]["churn"] is None
    capsys.readouterr()
    assert main(args) == 0
    assert "previously planned visits changed day" in capsys.readouterr().out
    second = json.loads((out / "horizon.json").read_text(encoding="utf-8"))
    assert {r["visit_id"] for r in second["visits"] if r["date"] == "2026-12-01"} == day1
    moved = [r["visit_id"] for r in second["visits"] if r["day_changed"]]
    assert second["day_changed"] == moved
    assert second["summary"]["churn"] == round(len(moved) / first["summary"]["planned"], 4)
    assert not set(moved) & day1


def test_plan_days_unreadable_previous_horizon_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "week"
    out.mkdir()
    (out / MARKER).write_text(_MARKER_TEXT, encoding="utf-8")  # a folder FieldRoute wrote
    (out / "horizon.json").write_text("{not json", encoding="utf-8")
    args = ["plan", str(ROOT / "data/tiny/visits.csv"), str(ROOT / "data/tiny/agents.csv")]
    assert main([*args, "--days", "2", "--date", "2026-12-01", "--out", str(out)]) == 2
    assert "cannot read the published horizon" in capsys.readouterr().err


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


def test_slots_days_offers_later_days_when_the_day_is_full(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    visits = tmp_path / "visits.csv"
    visits.write_text(
        "visit_id,lat,lon,duration_min,due_date,earliest_date\n"
        "V1,30.66,104.07,110,2026-12-01,\n",  # fills A1's first day (08:00-10:00)
        encoding="utf-8",
    )
    agents = tmp_path / "agents.csv"
    agents.write_text(
        "agent_id,start_lat,start_lon,shift_start,shift_end\nA1,30.66,104.07,08:00,10:00\n",
        encoding="utf-8",
    )
    out = tmp_path / "week"
    args = ["plan", str(visits), str(agents), "--days", "2", "--date", "2026-12-01"]
    assert main([*args, "--time-limit", "1", "--out", str(out)]) == 0
    capsys.readouterr()
    ask = ["--lat", "30.661", "--lon", "104.071", "--duration", "30"]
    day1 = str(out / "2026-12-01" / "plan.json")
    assert main(["slots", day1, *ask]) == 0
    assert capsys.readouterr().out.startswith("No slot")  # one day: only "No slot"
    assert main(["slots", day1, *ask, "--days", "2"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("2026-12-01: No slot")
    assert "The earliest windows on later days:" in text
    later = [line for line in text.splitlines() if line.startswith("2026-12-02")]
    assert later and later[0].startswith("2026-12-02  08:00-09:00  A1")
    assert len(later) <= 3
    # the second day has room itself: its own windows, as without --days
    day2 = str(out / "2026-12-02" / "plan.json")
    assert main(["slots", day2, *ask, "--days", "2"]) == 0
    alone = capsys.readouterr().out
    assert main(["slots", day2, *ask]) == 0
    assert alone == capsys.readouterr().out
    assert main(["slots", str(out / "horizon.json"), *ask, "--days", "2"]) == 0
    assert "2026-12-02  08:00-09:00  A1" in capsys.readouterr().out


def test_slots_days_needs_a_horizon_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "day"
    args = ["plan", str(ROOT / "data/tiny/visits.csv"), str(ROOT / "data/tiny/agents.csv")]
    assert main([*args, "--date", "2026-12-01", "--time-limit", "1", "--out", str(out)]) == 0
    capsys.readouterr()
    ask = ["--lat", "30.661", "--lon", "104.071", "--duration", "30", "--days", "3"]
    assert main(["slots", str(out / "plan.json"), *ask]) == 2
    assert "--days needs a day of a horizon folder" in capsys.readouterr().err
