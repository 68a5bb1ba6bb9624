"""Road data (OSRM) on real OpenStreetMap data: build, matrices, reasons, CLI.

The streets of central Liechtenstein (Vaduz, Schaan, Triesenberg and the mountains
east of them) are cut from the sample extract and prepared once per test session into
a temporary folder; everything else reuses them.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from optimizer.cli import main
from optimizer.domain import Agent, GeoPoint, Mode, TimeWindow, Visit
from optimizer.errors import RoadDataError
from optimizer.pipeline import plan_day, travel_provider
from optimizer.settings import RoadsSettings, Settings
from optimizer.solve.params import SolverSettings
from optimizer.travel.base import ROAD_PROFILES
from optimizer.travel.extract import addresses, clip_extract, road_lines
from optimizer.travel.osrm import OsrmProvider
from optimizer.travel.prepare import build_roads, check_osm_file, ensure_roads, is_built, roads_path
from optimizer.travel.straight import StraightLineModel

ROOT = Path(__file__).resolve().parents[2]
FULL_EXTRACT = ROOT / "data" / "liechtenstein" / "liechtenstein.osm.pbf"
BOX = (GeoPoint(47.10, 9.49), GeoPoint(47.18, 9.62))

#: A mountain lake (Sass-Seelein, 1,950 m): the nearest road for a car is ~570 m away.
LAKE = GeoPoint(47.11117, 9.60688)
#: Lake Como, 120 km south of the extract: off the map.
OFF_MAP = GeoPoint(46.0, 9.25)
VADUZ = GeoPoint(47.1410, 9.5215)


@pytest.fixture(scope="session")
def extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The streets inside BOX, cut from the Liechtenstein extract with osmium."""
    return clip_extract(FULL_EXTRACT, tmp_path_factory.mktemp("osm") / "central.osm.pbf", BOX)


@pytest.fixture(scope="session")
def road_data(extract: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Car, bicycle and foot data for the cut, built once per session."""
    return ensure_roads(extract, ROAD_PROFILES, tmp_path_factory.mktemp("roads"))


@pytest.fixture(scope="session")
def provider(road_data: dict[str, Path]) -> OsrmProvider:
    return OsrmProvider(road_data)


@pytest.fixture(scope="session")
def vaduz_points() -> list[GeoPoint]:
    """Ten real addresses in and around Vaduz, where one-way streets and a ring road
    make some trips longer one way than the other."""
    near = [
        a.location
        for a in addresses(FULL_EXTRACT)
        if abs(a.location.lat - VADUZ.lat) < 0.02 and abs(a.location.lon - VADUZ.lon) < 0.03
    ]
    assert len(near) >= 40
    return near[:: len(near) // 10][:10]


# ----------------------------------------------------------------- preparation


def test_clip_keeps_the_streets_in_the_box(extract: Path) -> None:
    lines = road_lines(extract)
    assert 300 < len(lines) < len(road_lines(FULL_EXTRACT))
    assert all(any(_inside(p) for p in line) for line in lines)


def _inside(p: GeoPoint) -> bool:
    return BOX[0].lat <= p.lat <= BOX[1].lat and BOX[0].lon <= p.lon <= BOX[1].lon


def test_build_leaves_stamped_data_and_is_not_redone(
    extract: Path, road_data: dict[str, Path], tmp_path: Path
) -> None:
    base = road_data["car"]
    assert base == roads_path(extract, "car", base.parent.parent)
    stamp = json.loads((base.parent / "build.json").read_text(encoding="utf-8"))
    assert stamp["profile"] == "car"
    assert stamp["algorithm"] == "CH"
    assert is_built(extract, "car", base.parent.parent)
    before = Path(f"{base}.hsgr").stat().st_mtime_ns
    ensure_roads(extract, ["car"], base.parent.parent)
    assert Path(f"{base}.hsgr").stat().st_mtime_ns == before
    assert not is_built(extract, "car", tmp_path)


def test_build_reports_progress_and_replaces_stale_data(extract: Path, tmp_path: Path) -> None:
    lines: list[str] = []
    (tmp_path / "car").mkdir()
    (tmp_path / "car" / "build.json").write_text("{}", encoding="utf-8")  # stale stamp
    path = build_roads(extract, "car", tmp_path, lines.append, threads=2)
    assert Path(f"{path}.hsgr").is_file()
    assert any("osrm-extract" in line for line in lines)
    assert any("osrm-contract" in line for line in lines)
    assert lines[-1].startswith("[car] road data ready")
    assert not list(tmp_path.glob("*building*"))


def test_build_into_a_folder_with_dots_in_its_name(extract: Path, tmp_path: Path) -> None:
    out = tmp_path / "roads.v1"
    path = build_roads(extract, "car", out, threads=2)
    assert path == out / "car" / "central.osrm"
    assert OsrmProvider({"car": path}).matrix([VADUZ, GeoPoint(47.165, 9.51)], Mode.CAR).size == 2
    # OSRM cuts its paths at the first '.osm': such a folder is refused up front
    with pytest.raises(RoadDataError, match=r"path contains '\.osm'"):
        build_roads(extract, "car", tmp_path / "central.osm" / "roads")


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("visits.csv", b"visit_id,lat,lon\nV1,47.1,9.5\n", "looks like a text file"),
        ("region.osm.pbf", gzip.compress(b"<osm></osm>"), "looks like a gzip file"),
        ("region.osm.pbf", b"", "file is empty"),
        ("region.osm", b"<html><body>404</body></html>", "without an <osm> root"),
        ("region.osm.pbf", b'{"type": "FeatureCollection"}', "looks like JSON"),
    ],
)
def test_refuses_a_file_that_is_not_an_osm_extract(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(RoadDataError, match=f"not an OpenStreetMap extract|{expected}") as err:
        build_roads(path, "car", tmp_path / "roads")
    assert expected in str(err.value)
    assert str(path) in str(err.value)
    assert not (tmp_path / "roads").exists()


def test_accepts_osm_xml_and_missing_file_is_named(tmp_path: Path) -> None:
    xml = tmp_path / "tiny.osm"
    xml.write_text("<?xml version='1.0'?>\n<osm version='0.6'></osm>\n", encoding="utf-8")
    check_osm_file(xml)
    with pytest.raises(RoadDataError, match=r"nowhere\.osm\.pbf: file not found"):
        check_osm_file(tmp_path / "nowhere.osm.pbf")


def test_unknown_profile_lists_the_options(tmp_path: Path) -> None:
    with pytest.raises(RoadDataError, match="'truck' is unknown; options are: car, bicycle, foot"):
        build_roads(FULL_EXTRACT, "truck", tmp_path)


# ---------------------------------------------------------------------- matrix


def test_car_matrix_10x10_properties(provider: OsrmProvider, vaduz_points: list[GeoPoint]) -> None:
    m = provider.matrix(vaduz_points, Mode.CAR)
    assert m.seconds.shape == m.metres.shape == (10, 10)
    assert m.seconds.dtype == m.metres.dtype == np.int32  # compact (issue 11, item 12)
    assert m.unreachable == {}
    assert np.all(np.diag(m.seconds) == 0)
    assert np.all(np.diag(m.metres) == 0)
    off = ~np.eye(10, dtype=bool)
    assert np.all(m.seconds[off] > 0)
    assert np.all(m.metres[off] > 0)
    # one-way streets: some trips take longer one way than back
    assert (m.seconds != m.seconds.T).any()
    assert (m.metres != m.metres.T).any()
    # nothing faster than 130 km/h over any pair
    assert np.all(m.metres[off] / m.seconds[off] <= 130 / 3.6)


@pytest.mark.parametrize("mode", [Mode.CAR, Mode.EBIKE, Mode.WALK])
def test_road_legs_run_door_to_door(
    provider: OsrmProvider, vaduz_points: list[GeoPoint], mode: Mode
) -> None:
    """Issue 10 item 10: each leg is the road between the snapped points plus the
    walked access leg at both ends, so no leg is shorter than the line between doors."""
    from optimizer.travel.osrm import ACCESS_WALK_KMH
    from optimizer.travel.straight import haversine_m

    snaps = provider.snaps(vaduz_points, mode)
    assert snaps is not None
    access = np.array([s.distance_m for s in snaps])
    assert access.max() > 15  # real doors lie off the road: the test has something to see
    door = provider.matrix(vaduz_points, mode)
    road = provider.matrix([s.location for s in snaps], mode)  # road point to road point
    walk_s = (access[:, None] + access[None, :]) / (ACCESS_WALK_KMH / 3.6)
    off = ~np.eye(len(vaduz_points), dtype=bool)
    # the road points snap onto themselves (to a metre), so road[] is the bare road leg
    assert np.all(np.abs(door.seconds - road.seconds - walk_s)[off] <= 3)
    assert np.all(np.abs(door.metres - road.metres - (access[:, None] + access[None, :]))[off] <= 3)
    coords = np.array([p.as_latlon() for p in vaduz_points])
    straight_m = haversine_m(coords, coords)
    assert np.all(door.metres[off] >= np.floor(straight_m[off]) - 1)


def test_the_same_door_twice_costs_nothing(
    provider: OsrmProvider, vaduz_points: list[GeoPoint]
) -> None:
    a, b = vaduz_points[:2]
    m = provider.matrix([a, b, a], Mode.CAR)
    assert m.seconds[0, 2] == m.seconds[2, 0] == m.metres[0, 2] == 0
    assert m.seconds[0, 1] == m.seconds[2, 1] > 0


def test_solver_and_verifier_time_the_access_leg(
    extract: Path, road_data: dict[str, Path], vaduz_points: list[GeoPoint]
) -> None:
    """The planned arrival holds at the door: the plan's legs carry the access walk, and
    the verifier rejects an arrival timed only to the road point."""
    from optimizer.travel.osrm import ACCESS_WALK_KMH
    from optimizer.verify import check_plan

    out = next(iter(road_data.values())).parent.parent
    settings = replace(
        Settings(timezone="Europe/Vaduz"),
        roads=RoadsSettings(extract=str(extract), dir=str(out)),
        solver=SolverSettings(time_limit_s=2, solution_limit=1),
    )
    visits = tuple(
        Visit(f"V{i}", p, 15 * 60, window=TimeWindow(8 * 3600, 16 * 3600))
        for i, p in enumerate(vaduz_points[1:4], 1)
    )
    agents = (Agent("A1", vaduz_points[0], TimeWindow(8 * 3600, 17 * 3600)),)
    day = plan_day(visits, agents, settings, date=dt.date(2026, 12, 2))
    route = day.plan.route_of("A1")
    assert route is not None
    assert len(route.stops) == 3
    snaps = OsrmProvider(road_data).snaps([v.location for v in visits], Mode.CAR)  # type: ignore[misc]
    assert snaps is not None
    at_door = {v.visit_id: s.distance_m for v, s in zip(visits, snaps, strict=True)}
    for stop in route.stops:
        assert stop.travel_s >= at_door[stop.visit_id] / (ACCESS_WALK_KMH / 3.6)
    assert check_plan(day.plan, visits, day.problem) == []
    first = route.stops[0]
    walk = int(at_door[first.visit_id] / (ACCESS_WALK_KMH / 3.6))
    assert walk >= 5
    early = replace(first, arrive_s=first.arrive_s - walk, start_s=first.start_s - walk)
    road_only = replace(route, stops=(early, *route.stops[1:]))
    plan = replace(day.plan, routes=(road_only,))
    assert any(first.visit_id in v for v in check_plan(plan, visits, day.problem))


def test_modes_map_to_profiles_and_ebike_is_faster_than_bicycle(
    road_data: dict[str, Path], vaduz_points: list[GeoPoint]
) -> None:
    plain = OsrmProvider(road_data, ebike_speed_factor=1.0)
    ebike = OsrmProvider(road_data, ebike_speed_factor=2.0)
    from optimizer.travel.osrm import ACCESS_WALK_KMH

    bike_s = plain.matrix(vaduz_points, Mode.EBIKE).seconds
    ebike_s = ebike.matrix(vaduz_points, Mode.EBIKE).seconds
    # The factor speeds up the ride, not the walk from the road to the door.
    snaps = plain.snaps(vaduz_points, Mode.EBIKE)
    assert snaps is not None
    access = np.array([s.distance_m for s in snaps])
    walk = (access[:, None] + access[None, :]) / (ACCESS_WALK_KMH / 3.6)
    np.fill_diagonal(walk, 0)
    np.testing.assert_allclose(ebike_s - walk, (bike_s - walk) / 2, atol=1)
    walk_s = plain.matrix(vaduz_points, Mode.WALK).seconds
    car_s = plain.matrix(vaduz_points, Mode.CAR).seconds
    off = ~np.eye(10, dtype=bool)
    assert np.median(walk_s[off]) > np.median(bike_s[off]) > np.median(car_s[off])
    assert plain.profile_for(Mode.EBIKE) == "bicycle"
    assert plain.profile_for(Mode.WALK) == "foot"


def test_point_in_a_lake_or_off_the_map_gets_its_reason(
    provider: OsrmProvider, vaduz_points: list[GeoPoint]
) -> None:
    points = [*vaduz_points[:3], LAKE, OFF_MAP]
    m = provider.matrix(points, Mode.CAR)
    assert set(m.unreachable) == {3, 4}
    assert m.unreachable[3].startswith("no road within 5")
    assert "m of the given coordinates (car road data; the limit is 300 m)" in m.unreachable[3]
    far = int(m.unreachable[4].split()[3])
    assert far > 100_000
    assert np.isfinite(m.seconds).all()
    # on foot the lake is within reach of a path
    assert 3 not in provider.matrix(points, Mode.WALK).unreachable


def test_snap_limit_is_configurable(road_data: dict[str, Path]) -> None:
    strict = OsrmProvider(road_data, snap_limit_m=1.0)
    m = strict.matrix([VADUZ, GeoPoint(47.1650, 9.5100)], Mode.CAR)
    assert all("the limit is 1 m" in r for r in m.unreachable.values())


def test_unconnected_points_are_named_not_planned(provider: OsrmProvider) -> None:
    # OSRM's null for a pair without a route: the point missing most connections goes.
    durations = np.array(
        [[0, 10, np.nan, 12], [11, 0, np.nan, 9], [np.nan, np.nan, 0, np.nan], [12, 9, np.nan, 0]]
    )
    snaps = provider.snaps([VADUZ] * 4, Mode.CAR)
    assert snaps is not None
    reasons = provider._unreachable("car", snaps, durations)
    assert list(reasons) == [2]
    assert reasons[2].startswith("no car route to or from 6 connections with the 3 other points")


def test_transit_stays_straight_line_and_says_so(
    provider: OsrmProvider, vaduz_points: list[GeoPoint]
) -> None:
    m = provider.matrix(vaduz_points, Mode.TRANSIT)
    expected = StraightLineModel().matrix(vaduz_points, Mode.TRANSIT)
    np.testing.assert_array_equal(m.seconds, expected.seconds)
    d = provider.describe()
    assert d["model"] == "osrm"
    assert d["modes"]["transit"]["model"] == "straight-line"
    assert d["modes"]["ebike"] == {"model": "osrm", "profile": "bicycle", "speed_factor": 1.3}
    assert "transit estimated from straight-line distances" in d["note"]
    assert d["straight_line"]["note"] == "travel times estimated from straight-line distances"


def test_mode_without_prepared_profile_falls_back(road_data: dict[str, Path]) -> None:
    only_car = OsrmProvider({"car": road_data["car"]})
    pts = [VADUZ, GeoPoint(47.1650, 9.5100)]
    walk = only_car.matrix(pts, Mode.WALK)
    np.testing.assert_array_equal(walk.seconds, StraightLineModel().matrix(pts, Mode.WALK).seconds)
    only_car.matrix(pts, Mode.CAR)
    note = only_car.describe()["note"]
    assert note.startswith("travel times from OpenStreetMap roads (OSRM car profile)")
    assert "walk estimated from straight-line distances" in note


def test_missing_prepared_data_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(RoadDataError, match="run: fieldroute roads build"):
        OsrmProvider({"car": tmp_path / "car" / "x.osrm"})


def test_route_geometry_follows_the_roads(
    provider: OsrmProvider, vaduz_points: list[GeoPoint]
) -> None:
    stops = vaduz_points[:4]
    line = provider.route_geometry(stops, Mode.CAR)
    assert line[0] == stops[0]
    assert line[-1] == stops[-1]
    assert len(line) > 10 * len(stops)
    straight = provider.route_geometry(stops, Mode.TRANSIT)
    assert straight == stops


def test_route_geometry_with_an_unroutable_leg_draws_it_straight(
    provider: OsrmProvider,
) -> None:
    line = provider.route_geometry([VADUZ, OFF_MAP], Mode.CAR)
    assert line[0] == VADUZ
    assert line[-1] == OFF_MAP


def test_road_lines_for_a_map_without_tiles() -> None:
    box = (GeoPoint(47.13, 9.51), GeoPoint(47.15, 9.53))
    lines = road_lines(FULL_EXTRACT, box)
    assert 50 < len(lines) < 2000
    assert all(len(line) >= 2 for line in lines)


# -------------------------------------------------------- settings and pipeline


def test_roads_settings_from_toml_resolve_paths(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg" / "fieldroute.toml"
    cfg.parent.mkdir()
    cfg.write_text(
        '[roads]\nextract = "x.osm.pbf"\ndir = "prepared"\nprofiles = "car"\nsnap_limit_m = 150\n',
        encoding="utf-8",
    )
    s = Settings.from_toml(cfg)
    assert s.roads.extract == str(cfg.parent / "x.osm.pbf")
    assert s.roads.dir == str(cfg.parent / "prepared")
    assert s.roads.profiles == ("car",)
    assert s.roads.snap_limit_m == 150
    assert Settings.from_dict(s.to_dict()).roads == s.roads


@pytest.mark.parametrize(
    ("table", "match"),
    [
        ("[roads]\nprofile = 'car'\n", "unknown setting 'roads.profile'"),
        ("[roads]\nprofiles = ['truck']\n", "'truck' is unknown; options are: car, bicycle, foot"),
        ("[roads]\nsnap_limit_m = 0\n", "roads.snap_limit_m 0 is out of range"),
        ("[maps]\ntiles = 'google'\n", "maps.tiles 'google' is unknown; options are: osm"),
        ("[maps]\ntiles = 'tianditu'\n", "needs a key: set maps.tiles_key_env"),
        ("[maps]\ntiles_key = 'abc'\n", "unknown setting 'maps.tiles_key'"),
    ],
)
def test_bad_roads_or_maps_settings_are_named(tmp_path: Path, table: str, match: str) -> None:
    cfg = tmp_path / "fieldroute.toml"
    cfg.write_text(table, encoding="utf-8")
    with pytest.raises(ValueError, match=match):
        Settings.from_toml(cfg)


def test_without_road_data_the_straight_line_model_is_used_and_labelled() -> None:
    provider = travel_provider(Settings())
    assert isinstance(provider, StraightLineModel)
    assert provider.describe()["note"] == "travel times estimated from straight-line distances"


def _tiny_day() -> tuple[list[Visit], list[Agent]]:
    visits = [
        Visit("V1", GeoPoint(47.1650, 9.5100), 1800, TimeWindow(9 * 3600, 12 * 3600)),
        Visit("V2", GeoPoint(47.1040, 9.5270), 1800),
        Visit("V3", LAKE, 1800),
    ]
    agents = [Agent("A1", VADUZ, TimeWindow(8 * 3600, 17 * 3600))]
    return visits, agents


def test_plan_on_roads_names_osrm_and_unassigns_the_lake(
    extract: Path, road_data: dict[str, Path]
) -> None:
    out = next(iter(road_data.values())).parent.parent
    settings = replace(
        Settings(timezone="Europe/Vaduz"),
        roads=RoadsSettings(extract=str(extract), dir=str(out)),
        solver=SolverSettings(time_limit_s=2, solution_limit=1),
    )
    visits, agents = _tiny_day()
    day = plan_day(visits, agents, settings, date=dt.date(2026, 12, 2))
    assert day.plan.travel["model"] == "osrm"
    assert day.plan.travel["note"] == "travel times from OpenStreetMap roads (OSRM car profile)"
    assert [u.visit_id for u in day.plan.unassigned] == ["V3"]
    assert day.plan.unassigned[0].reason.startswith("no road within 5")
    line = day.route_lines["A1"]
    assert line[0] == VADUZ
    assert line[-1] == VADUZ
    assert len(line) > 20  # along the roads, not 4 straight points


def test_plan_without_roads_says_straight_line() -> None:
    settings = Settings(solver=SolverSettings(time_limit_s=2, solution_limit=1))
    visits, agents = _tiny_day()
    day = plan_day(visits, agents, settings, date=dt.date(2026, 12, 2))
    assert day.plan.travel["model"] == "straight-line"
    assert day.plan.travel["note"] == "travel times estimated from straight-line distances"
    assert len(day.route_lines["A1"]) == 2 + len(day.plan.routes[0].stops)


# ------------------------------------------------------------------------ CLI


def test_cli_roads_build(extract: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["roads", "build", str(extract), "--profile", "car", "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert rc == 0
    assert "[car] osrm-extract" in err
    assert str(tmp_path / "car" / "central.osrm") in out
    assert "[roads]" in out


def test_cli_roads_build_refuses_other_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("hello", encoding="utf-8")
    rc = main(["roads", "build", str(bad), "--out", str(tmp_path / "roads")])
    err = capsys.readouterr().err
    assert rc == 3
    assert "not an OpenStreetMap extract" in err


def test_osrm_null_becomes_nan() -> None:
    from optimizer.travel.osrm import _to_array

    out = _to_array([[0.0, None], [3.5, 0.0]])
    assert out.shape == (2, 2)
    assert np.isnan(out[0, 1])
    assert out[1, 0] == 3.5


def test_cli_plan_on_roads_then_reopen(
    extract: Path, road_data: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from optimizer.outputs.assets import remote_assets
    from optimizer.reopen import open_plan
    from optimizer.verify import check_plan

    (tmp_path / "visits.csv").write_text(
        "visit_id,lat,lon,window_start,window_end\n"
        "V1,47.1650,9.5100,09:00,12:00\nV2,47.1040,9.5270,,\nV3,47.11117,9.60688,,\n",
        encoding="utf-8",
    )
    (tmp_path / "agents.csv").write_text(
        "agent_id,start_lat,start_lon,shift_start,shift_end,mode\n"
        "A1,47.1410,9.5215,08:00,17:00,car\nA2,47.1410,9.5215,08:00,17:00,transit\n",
        encoding="utf-8",
    )
    roads_dir = next(iter(road_data.values())).parent.parent
    config = tmp_path / "fieldroute.toml"
    config.write_text(
        f'[plan]\ntimezone = "Europe/Vaduz"\n[roads]\nextract = "{extract}"\n'
        f'dir = "{roads_dir}"\n[solver]\nworkers = 1\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    args = [str(tmp_path / "visits.csv"), str(tmp_path / "agents.csv"), "--config", str(config)]
    rc = main(["plan", *args, "--date", "2026-12-02", "--time-limit", "1", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    doc = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    travel = doc["travel"]
    assert travel["model"] == "osrm"
    assert "transit estimated from straight-line distances" in travel["note"]
    assert travel["modes"]["car"] == {"model": "osrm", "profile": "car"}
    reasons = {u["visit_id"]: u["reason"] for u in doc["unassigned"]}
    assert reasons.get("V3", "").startswith("no road within 5") or "V3" in {
        s["visit_id"] for r in doc["routes"] if r["agent_id"] == "A2" for s in r["stops"]
    }
    for page in out.glob("*.html"):
        assert remote_assets(page.read_text(encoding="utf-8")) == [], page.name
    day = open_plan(out / "plan.json")
    assert check_plan(day.plan, day.visits, day.problem) == []


def test_roads_build_snippet_works_from_where_the_toml_lives(
    extract: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 10 item 8: paths given relative to the shell's folder, snippet pasted into a
    TOML somewhere else: the settings read from it name the built data."""
    work = tmp_path / "work"
    (work / "osm").mkdir(parents=True)
    (work / "osm" / "central.osm.pbf").write_bytes(extract.read_bytes())
    monkeypatch.chdir(work)
    rc = main(["roads", "build", "osm/central.osm.pbf", "--profile", "car", "--out", "roads"])
    assert rc == 0
    out = capsys.readouterr().out
    snippet = out[out.index("[roads]") :]
    elsewhere = tmp_path / "config" / "fieldroute.toml"
    elsewhere.parent.mkdir()
    elsewhere.write_text("\n".join(line.strip() for line in snippet.splitlines()), "utf-8")
    monkeypatch.chdir(tmp_path)
    roads = Settings.from_toml(elsewhere).roads
    assert roads.extract is not None
    assert Path(roads.extract).is_file()
    assert is_built(Path(roads.extract), "car", Path(roads.dir))


def test_shipped_liechtenstein_config_draws_streets_offline() -> None:
    """Issue 10 item 8: the README's picture (tiles = none) is what the sample makes."""
    settings = Settings.from_toml(ROOT / "data" / "liechtenstein" / "fieldroute.toml")
    assert settings.maps.tiles == "none"
    assert settings.roads.extract is not None
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "tiles = none](docs/liechtenstein-roads.png)" in readme
