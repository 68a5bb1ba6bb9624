"""Address normalisation, gazetteer matching and building a gazetteer from OSM data."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.cli import main
from optimizer.domain import GeoPoint
from optimizer.errors import InputError
from optimizer.geocoding.base import Quality, has_house_number, normalize_address
from optimizer.geocoding.gazetteer import (
    GazetteerEntry,
    GazetteerGeocoder,
    parse_gazetteer,
    read_gazetteer,
    write_gazetteer,
)
from optimizer.geocoding.osmextract import build_gazetteer
from tests.helpers import ROOT

MONACO_PBF = ROOT.parent / "shared/osm/monaco.osm.pbf"


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Rue Grimaldi 12, Monaco", "rue grimaldi 12,monaco"),
        ("  RUE  GRIMALDI   #12 ,MONACO ", "rue grimaldi 12,monaco"),  # spaces, case, '#'
        ("Rue Grimaldi No. 12, Monaco", "rue grimaldi 12,monaco"),
        ("Ｒｕｅ Ｇｒｉｍａｌｄｉ １２，Ｍｏｎａｃｏ", "rue grimaldi 12,monaco"),  # full-width
        ("Théâtre Princesse Grace", "theatre princesse grace"),  # Latin accents
        ("Rue Grimaldi 12, Apt 4B, Monaco", "rue grimaldi 12,monaco"),  # unit part
        ("12 Main St, 3rd floor", "12 main st"),
        ("Avenue de la Costa 7, 2e étage", "avenue de la costa 7"),
        ("Städtle 35, Top 3", "stadtle 35"),
        ("成都市春熙路２４３号", "成都市春熙路243"),  # full-width digits, 号
        ("成都市春熙路243号5楼502室", "成都市春熙路243"),  # floor and room stripped
        ("北京市朝阳区阜通东大街6号院3号楼2单元501室", "北京市朝阳区阜通东大街6院"),
        ("Quai Antoine 1er", "quai antoine 1er"),  # "1er" is part of the name
    ],
)
def test_normalize_address(raw: str, key: str) -> None:
    assert normalize_address(raw) == key


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("Quai Antoine 1er 6, 98000 Monaco", True),
        ("6 Quai Antoine 1er", True),
        ("Quai Antoine 1er, 98000 Monaco", False),  # postcode + town is not a door
        ("Städtle, 9490 Vaduz", False),
        ("成都市春熙路243号", True),
        ("成都市锦江区", False),
        ("Monte-Carlo", False),
    ],
)
def test_has_house_number(address: str, expected: bool) -> None:
    assert has_house_number(address) is expected


def entry(
    address: str, lat: float, lon: float, quality: Quality = Quality.HOUSE_NUMBER
) -> GazetteerEntry:
    return GazetteerEntry(address, GeoPoint(lat, lon), quality)


@pytest.fixture
def small() -> GazetteerGeocoder:
    return GazetteerGeocoder(
        [
            entry("Quai Antoine 1er 6, 98000 Monaco", 43.7329221, 7.4257905),
            entry("Quai Antoine 1er, La Condamine", 43.7330219, 7.4251026, Quality.STREET),
            entry("Landstrasse 5, 9494 Schaan", 47.1669, 9.5100),
            entry("Landstrasse, Schaan", 47.1637, 9.5086, Quality.STREET),
            entry("Landstrasse, Triesen", 47.1037, 9.5248, Quality.STREET),
            entry("Vaduz", 47.1393, 9.5228, Quality.DISTRICT),
            entry("Monte-Carlo", 43.7403, 7.4266, Quality.DISTRICT),
            entry("Vaduz, Gastankstelle", 47.1255, 9.5204, Quality.PLACE),
            entry("成都市春熙路243号", 30.660863, 104.0951),
        ]
    )


@pytest.mark.parametrize(
    ("query", "expected", "quality"),
    [
        (
            "Quai Antoine 1er 6, 98000 Monaco",
            (43.7329221, 7.4257905),
            Quality.HOUSE_NUMBER,
        ),  # exact
        (
            "quai antoine 1er #6,98000 MONACO",
            (43.7329221, 7.4257905),
            Quality.HOUSE_NUMBER,
        ),  # normalised
        (
            "6 Quai Antoine 1er, Monaco",
            (43.7329221, 7.4257905),
            Quality.HOUSE_NUMBER,
        ),  # number first
        ("Quai Antoine 1er 6, Apt 2", (43.7329221, 7.4257905), Quality.HOUSE_NUMBER),
        (
            "Quai Antoine 1er 99, La Condamine",
            (43.7330219, 7.4251026),
            Quality.STREET,
        ),  # street fallback
        ("Rue Inconnue 5, Monte-Carlo", (43.7403, 7.4266), Quality.DISTRICT),  # town fallback
        ("Landstrasse 5, Schaan, Liechtenstein", (47.1669, 9.5100), Quality.HOUSE_NUMBER),
        ("Landstrasse 7, Triesen", (47.1037, 9.5248), Quality.STREET),
        ("Landstrasse 5, Vaduz", (47.1393, 9.5228), Quality.DISTRICT),  # never Schaan's door
        ("Vaduz, Gastankstelle", (47.1255, 9.5204), Quality.PLACE),  # a name with a comma
        ("成都市春熙路２４３号 3楼301室", (30.660863, 104.0951), Quality.HOUSE_NUMBER),
    ],
)
def test_gazetteer_matching(
    small: GazetteerGeocoder, query: str, expected: tuple[float, float], quality: Quality
) -> None:
    result = small.geocode(query)
    assert result is not None, query
    assert (result.point.lat, result.point.lon) == expected
    assert result.quality is quality
    assert result.source == "gazetteer"


@pytest.mark.parametrize("query", ["Landstrasse", "Landstrasse 9", "Nowhere 1", "", "Apt 4"])
def test_gazetteer_unknown_or_ambiguous_is_none(small: GazetteerGeocoder, query: str) -> None:
    # "Landstrasse" alone is in two villages 6 km apart: ambiguous, never a guess.
    assert small.geocode(query) is None


def test_gazetteer_reads_its_own_output_and_old_extracts(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    write_gazetteer([entry("Quai Antoine 1er 6, 98000 Monaco", 43.7329221, 7.4257905)], path)
    assert read_gazetteer(path).geocode("Quai Antoine 1er 6") is not None
    old = tmp_path / "old.csv"
    old.write_text(
        "kind,name,housenumber,street,postcode,city,label,lat,lon\n"
        'address,Stars n Bars,6,Quai Antoine 1er,98000,Monaco,"Quai Antoine 1er 6, 98000 Monaco",43.7329221,7.4257905\n'
        "street,Boulevard des Moulins,,,,,Boulevard des Moulins,43.7416601,7.4268942\n",
        encoding="utf-8",
    )
    g = read_gazetteer(old)
    assert g.geocode("Stars n Bars") is not None  # the name is a second key
    street = g.geocode("Boulevard des Moulins")
    assert street is not None and street.quality is Quality.STREET


def test_gazetteer_coord_system_column_is_converted() -> None:
    rows = [
        {
            "address": "天府广场",
            "lat": "30.65497937",
            "lon": "104.06830348",
            "coord_system": "gcj02",
        }
    ]
    (e,) = parse_gazetteer(rows, "g.csv")
    assert e.point.lat == pytest.approx(30.657401, abs=1e-6)


def test_gazetteer_bad_rows_reported_at_once() -> None:
    rows = [
        {"address": "a 1", "lat": "x", "lon": "7", "quality": ""},
        {"address": "b 2", "lat": "43", "lon": "7", "quality": "door"},
        {"address": "c 3", "lat": "95", "lon": "7", "quality": ""},
    ]
    with pytest.raises(InputError) as info:
        parse_gazetteer(rows, "g.csv")
    where = [(i.row, i.column) for i in info.value.issues]
    assert where == [(2, "lat"), (3, "quality"), (4, "lat")]
    assert "expected one of: house_number" in str(info.value)


def test_missing_gazetteer_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="fieldroute gazetteer build"):
        read_gazetteer(tmp_path / "none.csv")


OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="test">
  <node id="1" lat="43.7402961" lon="7.4265590" version="1"><tag k="place" v="suburb"/><tag k="name" v="Monte-Carlo"/></node>
  <node id="2" lat="43.7311424" lon="7.4197576" version="1"><tag k="place" v="city"/><tag k="name" v="Monaco"/></node>
  <node id="3" lat="43.7329221" lon="7.4257905" version="1">
    <tag k="addr:housenumber" v="6"/><tag k="addr:street" v="Quai Antoine 1er"/>
    <tag k="addr:postcode" v="98000"/><tag k="amenity" v="bar"/><tag k="name" v="Stars n Bars"/></node>
  <node id="4" lat="43.7410" lon="7.4260" version="1"/>
  <node id="5" lat="43.7420" lon="7.4280" version="1"/>
  <node id="6" lat="43.7430" lon="7.4290" version="1"/>
  <node id="7" lat="43.7375749" lon="7.4261692" version="1"><tag k="amenity" v="theatre"/><tag k="name" v="Théatre Princesse Grace"/></node>
  <way id="10" version="1"><nd ref="4"/><nd ref="5"/><nd ref="6"/><tag k="highway" v="primary"/><tag k="name" v="Boulevard des Moulins"/></way>
</osm>
"""


def test_build_from_an_osm_extract(tmp_path: Path) -> None:
    osm = tmp_path / "tiny.osm"
    osm.write_text(OSM_XML, encoding="utf-8")
    entries, report = build_gazetteer(osm)
    assert (report.addresses, report.places, report.pois, report.streets) == (1, 2, 1, 1)
    g = GazetteerGeocoder(entries)
    door = g.geocode("Quai Antoine 1er 6, 98000 Monaco")
    assert door is not None and door.quality is Quality.HOUSE_NUMBER
    assert g.geocode("Stars n Bars") is not None
    theatre = g.geocode("Theatre Princesse Grace")
    assert theatre is not None and theatre.quality is Quality.PLACE
    street = g.geocode("Boulevard des Moulins 10, Monte-Carlo")
    assert street is not None and street.quality is Quality.STREET
    assert street.point == GeoPoint(43.7420, 7.4280)  # a node of the street, near its middle
    town = g.geocode("Monaco")
    assert town is not None and town.quality is Quality.CITY


def test_gazetteer_build_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    osm = tmp_path / "tiny.osm"
    osm.write_text(OSM_XML, encoding="utf-8")
    out = tmp_path / "gaz.csv"
    assert main(["gazetteer", "build", str(osm), "--out", str(out)]) == 0
    assert "OpenStreetMap contributors" in capsys.readouterr().out
    assert read_gazetteer(out).geocode("Quai Antoine 1er 6") is not None
    assert main(["gazetteer", "build", str(tmp_path / "missing.osm.pbf"), "--out", str(out)]) == 2


@pytest.mark.skipif(not MONACO_PBF.exists(), reason="shared/osm not beside the checkout")
def test_build_from_the_monaco_extract() -> None:
    entries, report = build_gazetteer(MONACO_PBF)
    assert report.addresses == 62 and report.streets > 500 and report.places > 20
    g = GazetteerGeocoder(entries)
    result = g.geocode("Quai Antoine 1er 6, 98000 Monaco")
    assert result is not None and result.point == GeoPoint(43.7329221, 7.4257905)
