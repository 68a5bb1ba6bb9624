"""Offline map pages, tile providers and their datum, the OSM credit."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from pathlib import Path

import folium
import pytest

from optimizer.domain import Agent, GeoPoint, Mode, TimeWindow, Visit
from optimizer.outputs.assets import inline_assets, remote_assets
from optimizer.outputs.maps import make_base_map, save_maps
from optimizer.outputs.tiles import tile_provider, wgs84_to_gcj02
from optimizer.pipeline import plan_day
from optimizer.settings import MapSettings, RoadsSettings, Settings
from optimizer.solve.params import SolverSettings
from optimizer.travel.straight import haversine_m

ROOT = Path(__file__).resolve().parents[2]
EXTRACT = ROOT / "data" / "liechtenstein" / "liechtenstein.osm.pbf"
VADUZ = GeoPoint(47.1410, 9.5215)
CHENGDU = GeoPoint(30.6586, 104.0647)

OTHER_HOST = re.compile(r"<script[^>]+src=|<link[^>]+stylesheet[^>]+href=[\"']?(https?:)?//", re.I)


def _page(fmap: folium.Map) -> str:
    return inline_assets(fmap.get_root().render())


def test_folium_page_is_made_self_contained() -> None:
    fmap = make_base_map([VADUZ, GeoPoint(47.16, 9.51)])
    folium.CircleMarker(VADUZ.as_latlon(), radius=5).add_to(fmap)
    folium.Marker(VADUZ.as_latlon(), icon=folium.DivIcon(html="<b>1</b>")).add_to(fmap)
    folium.LayerControl().add_to(fmap)
    raw = fmap.get_root().render()
    assert remote_assets(raw)  # folium links CDNs ...
    html = inline_assets(raw)
    assert remote_assets(html) == []  # ... and none are left
    assert "<script src=" not in html
    assert not OTHER_HOST.search(html)
    assert "Leaflet 1.9.4" in html
    assert "jquery" not in html.lower()
    assert "bootstrap" not in html.lower()
    assert "url(images/" not in html  # Leaflet's images are data URIs
    assert "tile.openstreetmap.org" in html  # tiles are the one thing fetched


def test_default_markers_work_offline() -> None:
    fmap = make_base_map([VADUZ])
    folium.Marker(VADUZ.as_latlon()).add_to(fmap)
    html = _page(fmap)
    assert "L.Icon.Default.imagePath = ''" in html
    assert "iconUrl: 'data:image/png;base64," in html


def test_page_that_needs_awesome_markers_is_refused() -> None:
    fmap = make_base_map([VADUZ])
    folium.Marker(VADUZ.as_latlon(), icon=folium.Icon(icon="home")).add_to(fmap)
    with pytest.raises(ValueError, match=r"folium\.Icon"):
        _page(fmap)


def test_unknown_remote_script_is_refused() -> None:
    html = '<html><head><script src="https://example.org/plugin.js"></script></head></html>'
    with pytest.raises(ValueError, match=re.escape("https://example.org/plugin.js")):
        inline_assets(html)


def test_local_assets_are_kept() -> None:
    html = '<script src="local.js"></script><link rel="stylesheet" href="site.css"/>'
    assert inline_assets(html) == html


def test_osm_credit_on_every_kind_of_map() -> None:
    for tiles in ("osm", "none", "amap"):
        html = _page(make_base_map([VADUZ], tiles))
        assert "OpenStreetMap" in html
        assert "contributors" in html


def test_no_tiles_draws_the_streets_instead() -> None:
    from optimizer.travel.extract import road_lines

    roads = road_lines(EXTRACT, (GeoPoint(47.13, 9.51), GeoPoint(47.15, 9.53)))
    html = _page(make_base_map([VADUZ], "none", roads=roads))
    assert "L.tileLayer" not in html
    assert "L.polyline" in html


def test_gcj02_shift_in_china_only() -> None:
    shifted = wgs84_to_gcj02(CHENGDU)
    metres = float(haversine_m([CHENGDU.as_latlon()], [shifted.as_latlon()])[0, 0])
    assert 100 < metres < 700  # the datum shift is a few hundred metres in China
    assert wgs84_to_gcj02(VADUZ) == VADUZ
    # Tiananmen: a published WGS-84 / GCJ-02 pair, to about a metre
    gcj = wgs84_to_gcj02(GeoPoint(39.908692, 116.397477))
    assert gcj.lat == pytest.approx(39.910092, abs=2e-5)
    assert gcj.lon == pytest.approx(116.403719, abs=2e-5)


def test_tile_providers_carry_their_datum() -> None:
    assert tile_provider("osm").crs == "WGS-84"
    assert tile_provider("tianditu").crs == "WGS-84"
    assert tile_provider("amap").crs == "GCJ-02"
    assert tile_provider("gaode") == tile_provider("amap")
    assert tile_provider("none").url is None
    assert tile_provider("amap").shift(CHENGDU) != CHENGDU
    assert tile_provider("tianditu").shift(CHENGDU) == CHENGDU
    with pytest.raises(ValueError, match="options are: osm, tianditu, amap, gaode, none"):
        tile_provider("google")


def test_tianditu_needs_its_key() -> None:
    with pytest.raises(ValueError, match="needs an API key"):
        make_base_map([CHENGDU], "tianditu")
    html = _page(make_base_map([CHENGDU], "tianditu", key="abc123"))
    assert "tk=abc123" in html


def _day(tmp_path: Path, maps: MapSettings) -> Path:
    visits = [
        Visit("V1", GeoPoint(30.67, 104.07), 1800),
        Visit("V2", GeoPoint(30.65, 104.05), 1800, TimeWindow(10 * 3600, 12 * 3600)),
    ]
    agents = [Agent("A1", CHENGDU, TimeWindow(8 * 3600, 17 * 3600), mode=Mode.CAR)]
    settings = replace(
        Settings(), maps=maps, solver=SolverSettings(time_limit_s=1, solution_limit=1)
    )
    day = plan_day(visits, agents, settings, date=dt.date(2026, 12, 1))
    save_maps(day, tmp_path)
    return tmp_path / "overview.html"


def test_saved_plan_maps_open_offline(tmp_path: Path) -> None:
    overview = _day(tmp_path, MapSettings())
    for page in tmp_path.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert remote_assets(html) == [], page.name
        assert not OTHER_HOST.search(html)
    assert "104.07" in overview.read_text(encoding="utf-8")


def test_plan_maps_on_gaode_tiles_shift_every_overlay(tmp_path: Path) -> None:
    html = _day(tmp_path, MapSettings(tiles="amap")).read_text(encoding="utf-8")
    assert "autonavi.com" in html
    shifted = wgs84_to_gcj02(GeoPoint(30.67, 104.07))
    assert f"{shifted.lat}, {shifted.lon}" in html
    assert "[30.67, 104.07]" not in html


def test_plan_maps_without_tiles_draw_the_extract(tmp_path: Path) -> None:
    settings = RoadsSettings()  # no extract: no streets, still a valid page
    visits = [Visit("V1", GeoPoint(47.1650, 9.5100), 1800)]
    agents = [Agent("A1", VADUZ, TimeWindow(8 * 3600, 17 * 3600))]
    base = Settings(solver=SolverSettings(time_limit_s=1, solution_limit=1))
    day = plan_day(
        visits,
        agents,
        replace(base, maps=MapSettings(tiles="none"), roads=settings),
        date=dt.date(2026, 12, 2),
    )
    day = replace(
        day,
        settings=replace(day.settings, roads=RoadsSettings(extract=str(EXTRACT))),
    )
    save_maps(day, tmp_path)
    html = (tmp_path / "overview.html").read_text(encoding="utf-8")
    assert "L.tileLayer" not in html
    assert html.count("L.polyline") >= 2  # streets + the route
    assert remote_assets(html) == []


def test_tile_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from optimizer.errors import ConfigurationError

    maps = MapSettings(tiles="tianditu", tiles_key_env="FIELDROUTE_TEST_TDT_KEY")
    monkeypatch.delenv("FIELDROUTE_TEST_TDT_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="FIELDROUTE_TEST_TDT_KEY is not set"):
        maps.tiles_key()
    monkeypatch.setenv("FIELDROUTE_TEST_TDT_KEY", "k123")
    assert maps.tiles_key() == "k123"
    assert MapSettings().tiles_key() == ""


def test_popups_work_without_jquery() -> None:
    # folium builds popup contents with jQuery's $(html); the inlined page must define it.
    fmap = folium.Map(location=[47.14, 9.52], tiles=None)
    folium.Marker([47.14, 9.52], popup=folium.Popup("<b>V1</b>")).add_to(fmap)
    html = inline_assets(fmap.get_root().render())
    assert "$(`<div" in html
    assert "window.$ = window.$ ||" in html
    assert "jquery" not in html.lower()
