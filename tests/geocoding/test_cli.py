"""End to end: the sample day with visits and a base given only as addresses."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import geopy.geocoders
import pytest

from optimizer.cli import main
from tests.helpers import HTTP, ROOT, Replay, recorded

GAZETTEER = ROOT / "data/gazetteer.csv"
BY_ADDRESS = ("V0001", "V0002", "V0004", "V0007", "V0011", "V0016", "V0023", "V0031")
COARSE = "V0010"


def read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def write(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)


@pytest.fixture
def address_day(tmp_path: Path) -> dict[str, Path]:
    """The sample day; some visits and agent A01's base given only by address."""
    columns, visits = read(ROOT / "data/visits.csv")
    for row in visits:
        if row["visit_id"] in BY_ADDRESS:
            row["lat"] = row["lon"] = ""
        if row["visit_id"] == COARSE:
            row["address"], row["lat"], row["lon"] = "无名路 5号, 成华区", "", ""
    write(tmp_path / "visits.csv", columns, visits)
    a_columns, agents = read(ROOT / "data/agents.csv")
    agents[0]["start_lat"] = agents[0]["start_lon"] = ""
    agents[0]["start_address"] = "Chengdu 红星路三段 1号"
    write(tmp_path / "agents.csv", [*a_columns, "start_address"], agents)
    config = tmp_path / "fieldroute.toml"
    config.write_text(f'[geocoder]\ngazetteer_path = "{GAZETTEER.as_posix()}"\n', encoding="utf-8")
    return {"visits": tmp_path / "visits.csv", "agents": tmp_path / "agents.csv", "config": config}


def plan(files: dict[str, Path], out: Path, *extra: str) -> int:
    return main(
        [
            "plan",
            str(files["visits"]),
            str(files["agents"]),
            "--date",
            "2026-12-01",
            "--time-limit",
            "2",
            "--out",
            str(out),
            "--config",
            str(files["config"]),
            "-q",
            *extra,
        ]
    )


def test_sample_day_with_addresses_through_the_gazetteer(
    address_day: dict[str, Path], tmp_path: Path
) -> None:
    assert plan(address_day, tmp_path / "plan") == 0
    doc = json.loads((tmp_path / "plan" / "plan.json").read_text(encoding="utf-8"))
    reasons = {u["visit_id"]: u["reason"] for u in doc["unassigned"]}
    assert reasons[COARSE].startswith("address found only at district level by gazetteer")
    assert reasons["V0120"].startswith("address not geocoded: not found by gazetteer")
    for vid in BY_ADDRESS:
        assert not reasons.get(vid, "").startswith(("address", "geocoded")), vid
    # Located visits carry the gazetteer's coordinates into the itineraries.
    _, original = read(ROOT / "data/visits.csv")
    want = {
        r["visit_id"]: (float(r["lat"]), float(r["lon"]))
        for r in original
        if r["visit_id"] in BY_ADDRESS
    }
    _, stops = read(tmp_path / "plan" / "itineraries.csv")
    seen = {
        s["visit_id"]: (float(s["lat"]), float(s["lon"])) for s in stops if s["visit_id"] in want
    }
    assert seen and all(seen[v] == pytest.approx(want[v]) for v in seen)
    # A01's base was given as an address: the plan kept the gazetteer's point for it.
    _, agents = read(tmp_path / "plan" / "inputs" / "agents.csv")
    _, original_agents = read(ROOT / "data/agents.csv")
    assert (agents[0]["start_lat"], agents[0]["start_lon"]) == (
        original_agents[0]["start_lat"],
        original_agents[0]["start_lon"],
    )


def test_accept_coarse_routes_the_district_match(
    address_day: dict[str, Path], tmp_path: Path
) -> None:
    assert plan(address_day, tmp_path / "plan", "--accept-coarse") == 0
    doc = json.loads((tmp_path / "plan" / "plan.json").read_text(encoding="utf-8"))
    reasons = {u["visit_id"]: u["reason"] for u in doc["unassigned"]}
    assert not reasons.get(COARSE, "").startswith("address found only")


def test_geocode_command_writes_review_columns(
    address_day: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "located.csv"
    code = main(
        [
            "geocode",
            str(address_day["visits"]),
            "--out",
            str(out),
            "--config",
            str(address_day["config"]),
        ]
    )
    assert code == 0
    columns, rows = read(out)
    in_columns, in_rows = read(address_day["visits"])
    assert columns[: len(in_columns)] == in_columns
    assert columns[len(in_columns) :] == ["geo_source", "geo_quality", "geo_problem"]
    assert len(rows) == len(in_rows)
    by_id = {r["visit_id"]: r for r in rows}
    for vid in BY_ADDRESS:
        row = by_id[vid]
        assert (row["geo_source"], row["geo_quality"], row["geo_problem"]) == (
            "gazetteer",
            "house_number",
            "",
        )
        assert row["lat"] and row["lon"]
    coarse = by_id[COARSE]
    assert (coarse["lat"], coarse["geo_quality"]) == ("", "district")
    assert coarse["geo_problem"].startswith("address found only at district level")
    assert by_id["V0120"]["geo_problem"].startswith("address not geocoded")
    assert by_id["V0003"]["geo_source"] == "input"
    printed = capsys.readouterr().out
    assert f"{len(rows)} rows" in printed and str(out) in printed
    # The written file plans as it is: located rows now have coordinates.
    located = dict(address_day, visits=out)
    assert plan(located, tmp_path / "plan2") == 0


@pytest.fixture
def nominatim_config(tmp_path: Path) -> Path:
    config = tmp_path / "nominatim.toml"
    config.write_text(
        "[geocoder]\n"
        'provider = "nominatim"\n'
        'user_agent = "fieldroute-tests (ops@example.org)"\n'
        f'cache_path = "{(tmp_path / "cache.sqlite").as_posix()}"\n'
        "min_delay_s = 0\nerror_wait_s = 0\nmax_retries = 1\n",
        encoding="utf-8",
    )
    return config


def test_service_refusal_is_exit_3_with_a_clear_message(
    address_day: dict[str, Path],
    nominatim_config: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # One answer, then the server starts refusing: the answer is cached, the run stops.
    replay = Replay(recorded("nominatim")["found"], HTTP(429), HTTP(429))
    monkeypatch.setattr(geopy.geocoders.options, "default_adapter_factory", replay.factory())
    files = dict(address_day, config=nominatim_config)
    assert plan(files, tmp_path / "plan") == 3
    err = capsys.readouterr().err
    assert "Nominatim at nominatim.openstreetmap.org refused: too many requests" in err
    assert "Traceback" not in err and "not found" not in err
    assert not (tmp_path / "plan" / "plan.json").exists()
    assert replay.calls == 3
    # Offline, the cached answer is used and the rest wait for a later online run.
    assert plan(files, tmp_path / "plan", "--offline") == 0
    doc = json.loads((tmp_path / "plan" / "plan.json").read_text(encoding="utf-8"))
    reasons = [u["reason"] for u in doc["unassigned"]]
    assert any("--offline forbids asking Nominatim" in r for r in reasons)
    assert replay.calls == 3  # offline: not one more request


def test_missing_key_is_a_configuration_error(
    address_day: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("AMAP_KEY", raising=False)
    config = tmp_path / "amap.toml"
    config.write_text(
        f'[geocoder]\nprovider = "amap"\ncache_path = "{(tmp_path / "c.sqlite").as_posix()}"\n',
        encoding="utf-8",
    )
    assert plan(dict(address_day, config=config), tmp_path / "plan") == 2
    assert "$AMAP_KEY" in capsys.readouterr().err


def test_a_key_in_the_config_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[geocoder]\nprovider = "baidu"\napi_key = "abc"\n', encoding="utf-8")
    visits = ROOT / "data/tiny/visits.csv"
    assert (
        main(["geocode", str(visits), "--out", str(tmp_path / "o.csv"), "--config", str(config)])
        == 2
    )
    assert "environment variable" in capsys.readouterr().err
