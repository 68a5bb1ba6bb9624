"""WGS-84 -> GCJ-02 -> BD-09 against published values, and the deep links that carry them."""

from __future__ import annotations

import math
from urllib.parse import parse_qs, urlsplit

import pytest

from optimizer.datums import wgs84_to_bd09, wgs84_to_gcj02
from optimizer.domain import GeoPoint, Mode
from optimizer.outputs.agent_page import nav_links

# Published in the README of the coordtransform library (wandergis/coordtransform), the
# reference implementation of the GCJ-02/BD-09 formulas, for a point beside Tiananmen
# (116.404 E, 39.915 N): wgs84togcj02 -> [116.41024449916938, 39.91640428150164],
# gcj02tobd09 -> [116.41036949371029, 39.92133699351021].
TIANANMEN = GeoPoint(39.915, 116.404)
TIANANMEN_GCJ = GeoPoint(39.91640428150164, 116.41024449916938)
TIANANMEN_GCJ_AS_INPUT_BD = GeoPoint(39.92133699351021, 116.41036949371029)
# The same library's output for the whole chain WGS-84 -> BD-09 of that point, and for
# WGS-84 -> GCJ-02 of Chunxi Road, Chengdu (computed with coordtransform 2.1.2).
TIANANMEN_BD = GeoPoint(39.922699552216216, 116.41662724378733)
CHUNXI = GeoPoint(30.660863, 104.0951)
CHUNXI_GCJ = GeoPoint(30.658466179484655, 104.09764087500169)


def metres(a: GeoPoint, b: GeoPoint) -> float:
    """Haversine distance."""
    r = 6_371_008.8
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))


@pytest.mark.parametrize(
    ("wgs", "expected"),
    [(TIANANMEN, TIANANMEN_GCJ), (CHUNXI, CHUNXI_GCJ)],
    ids=["tiananmen", "chunxi"],
)
def test_gcj02_matches_published_formula_within_1m(wgs: GeoPoint, expected: GeoPoint) -> None:
    assert metres(wgs84_to_gcj02(wgs), expected) < 1.0


def test_bd09_matches_published_formula_within_1m() -> None:
    assert metres(wgs84_to_bd09(TIANANMEN), TIANANMEN_BD) < 1.0


def test_gcj_to_bd_step_matches_published_example() -> None:
    # The README example feeds the point itself as GCJ-02: undo our first step to check the second.
    from optimizer import datums as coords

    bd = coords.prcoords.gcj_bd(coords.prcoords.Coords(TIANANMEN.lat, TIANANMEN.lon))
    assert metres(GeoPoint(bd.lat, bd.lon), TIANANMEN_GCJ_AS_INPUT_BD) < 1.0


def test_conversion_shifts_hundreds_of_metres_in_china() -> None:
    # Sanity: the shift is real (a WGS-84 point in AMap lands 100-700 m off).
    assert 100 < metres(TIANANMEN, wgs84_to_gcj02(TIANANMEN)) < 700
    assert metres(wgs84_to_gcj02(TIANANMEN), wgs84_to_bd09(TIANANMEN)) > 500


def test_outside_china_unchanged_and_warning_free() -> None:
    london = GeoPoint(51.5, -0.12)
    assert wgs84_to_gcj02(london) == london
    assert wgs84_to_bd09(london) == london


def _point(text: str, order: str) -> GeoPoint:
    a, b = (float(x) for x in text.split(",")[:2])
    return GeoPoint(b, a) if order == "lonlat" else GeoPoint(a, b)


#: The agent's last place before Tiananmen: Wangfujing, about 1.5 km east.
WANGFUJING = GeoPoint(39.9139, 116.4110)


def test_deep_links_carry_each_apps_datum() -> None:
    links = nav_links(TIANANMEN, "V001", origin=WANGFUJING, origin_label="V000")
    amap = parse_qs(urlsplit(links["amap"]).query)
    assert amap["coordinate"] == ["gaode"]
    assert metres(_point(amap["to"][0], "lonlat"), TIANANMEN_GCJ) < 1.0
    baidu = parse_qs(urlsplit(links["baidu"]).query)
    assert baidu["coord_type"] == ["bd09ll"]
    to = baidu["destination"][0].split("|")[0].removeprefix("latlng:")
    assert metres(_point(to, "latlon"), TIANANMEN_BD) < 1.0
    start = baidu["origin"][0].split("|")[0].removeprefix("latlng:")
    assert metres(_point(start, "latlon"), wgs84_to_bd09(WANGFUJING)) < 1.0
    apple = parse_qs(urlsplit(links["apple"]).query)
    assert metres(_point(apple["destination"][0], "latlon"), TIANANMEN) < 1.0
    google = parse_qs(urlsplit(links["google"]).query)
    assert metres(_point(google["destination"][0], "latlon"), TIANANMEN) < 1.0


MODE_WORDS = {
    Mode.CAR: {"amap": "car", "baidu": "driving", "apple": "driving", "google": "driving"},
    Mode.EBIKE: {"amap": "ride", "baidu": "riding", "apple": "cycling", "google": "bicycling"},
    Mode.WALK: {"amap": "walk", "baidu": "walking", "apple": "walking", "google": "walking"},
    Mode.TRANSIT: {"amap": "bus", "baidu": "transit", "apple": "transit", "google": "transit"},
}
MODE_KEY = {"amap": "mode", "baidu": "mode", "apple": "mode", "google": "travelmode"}


@pytest.mark.parametrize("mode", list(Mode))
def test_deep_links_open_directions_in_the_agents_mode(mode: Mode) -> None:
    """Issue 10 item 9: directions (not a marker) by the agent's way of travelling."""
    links = nav_links(TIANANMEN, "V001", mode, origin=WANGFUJING, origin_label="V000")
    assert set(links) == {"amap", "baidu", "apple", "google"}
    for app, url in links.items():
        parts = urlsplit(url)
        assert parse_qs(parts.query)[MODE_KEY[app]] == [MODE_WORDS[mode][app]], app
    assert urlsplit(links["amap"]).path == "/navigation"
    assert urlsplit(links["baidu"]).path == "/direction"
    assert urlsplit(links["apple"]).path == "/directions"
    assert urlsplit(links["google"]).path == "/maps/dir/"
    assert "marker" not in " ".join(links.values())


def test_no_baidu_link_without_a_place_to_start_from() -> None:
    assert set(nav_links(TIANANMEN, "V001", Mode.WALK)) == {"amap", "apple", "google"}


def test_deep_links_send_only_the_visit_id() -> None:
    links = nav_links(TIANANMEN, "V001", origin=WANGFUJING, origin_label="V000")
    for url in links.values():
        assert "V001" in url or "maps.apple" in url or "google" in url
        assert "%E" not in url  # no Chinese text (names, addresses) in any link
