"""WGS-84 <-> GCJ-02 <-> BD-09 against the published formula, to 0.1 m."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from optimizer.datums import CoordSystem, to_wgs84
from optimizer.datums import in_china as _in_china
from optimizer.domain import GeoPoint
from optimizer.inputs.load import parse_visits
from tests.helpers import from_wgs84


def in_china(lat: float, lon: float) -> bool:
    return _in_china(GeoPoint(lat, lon))


TOLERANCE_M = 0.1

#: WGS-84 landmark -> GCJ-02 -> BD-09, computed with the published algorithm
#: (Krasovsky a = 6378245, ee = 0.00669342162296594323; BD-09: x_pi = pi * 3000 / 180,
#: offsets 0.0065/0.006), transcribed independently of the converter in
#: :func:`_published_wgs_to_gcj` below.
LANDMARKS = [
    (
        "Tiananmen, Beijing",
        (39.907375, 116.391349),
        (39.90877629, 116.39759019),
        (39.91511983, 116.40396303),
    ),
    (
        "Oriental Pearl Tower, Shanghai",
        (31.239704, 121.499754),
        (31.23769014, 121.50418692),
        (31.24333894, 121.51079621),
    ),
    (
        "Canton Tower, Guangzhou",
        (23.106374, 113.324553),
        (23.10377221, 113.32997431),
        (23.10947722, 113.33653044),
    ),
    (
        "Tianfu Square, Chengdu",
        (30.657401, 104.065796),
        (30.65497937, 104.06830348),
        (30.66100853, 104.07480031),
    ),
    (
        "Shenzhen Civic Center",
        (22.543099, 114.057868),
        (22.54038176, 114.06298196),
        (22.54604041, 114.06953197),
    ),
]


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def _published_wgs_to_gcj(lat: float, lon: float) -> tuple[float, float]:
    """The published GCJ-02 algorithm, line for line."""
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlon += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlon += (
        (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    )
    rad = lat / 180.0 * math.pi
    magic = 1 - ee * math.sin(rad) ** 2
    sq = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((a * (1 - ee)) / (magic * sq) * math.pi)
    dlon = (dlon * 180.0) / (a / sq * math.cos(rad) * math.pi)
    return lat + dlat, lon + dlon


@pytest.mark.parametrize(("name", "wgs", "gcj", "bd"), LANDMARKS)
def test_forward_matches_the_published_values(
    name: str, wgs: tuple[float, float], gcj: tuple[float, float], bd: tuple[float, float]
) -> None:
    point = GeoPoint(*wgs)
    assert metres(from_wgs84(point, CoordSystem.GCJ02), gcj) < TOLERANCE_M, name
    assert metres(from_wgs84(point, CoordSystem.BD09), bd) < TOLERANCE_M, name
    assert metres(_published_wgs_to_gcj(*wgs), gcj) < 0.01  # the table is the formula's


@pytest.mark.parametrize(("name", "wgs", "gcj", "bd"), LANDMARKS)
def test_inverse_recovers_wgs84(
    name: str, wgs: tuple[float, float], gcj: tuple[float, float], bd: tuple[float, float]
) -> None:
    from_gcj = to_wgs84(*gcj, CoordSystem.GCJ02)
    from_bd = to_wgs84(*bd, CoordSystem.BD09)
    assert metres((from_gcj.lat, from_gcj.lon), wgs) < TOLERANCE_M, name
    assert metres((from_bd.lat, from_bd.lon), wgs) < TOLERANCE_M, name
    # The shifts themselves are what the issue says: GCJ-02 hundreds of metres, BD-09 about 1 km.
    assert 250 < metres(wgs, gcj) < 800
    assert 800 < metres(wgs, bd) < 1500


def test_round_trips_over_china() -> None:
    worst = 0.0
    for lat10 in range(190, 530, 17):
        for lon10 in range(760, 1340, 23):
            point = GeoPoint(lat10 / 10, lon10 / 10)
            for system in (CoordSystem.GCJ02, CoordSystem.BD09):
                back = to_wgs84(*from_wgs84(point, system), system)
                worst = max(worst, metres((back.lat, back.lon), (point.lat, point.lon)))
                assert (
                    metres(
                        from_wgs84(point, CoordSystem.GCJ02),
                        _published_wgs_to_gcj(point.lat, point.lon),
                    )
                    < 0.1
                )
    assert worst < TOLERANCE_M


def test_outside_china_nothing_moves() -> None:
    monaco = GeoPoint(43.7329221, 7.4257905)
    assert not in_china(monaco.lat, monaco.lon)
    for system in CoordSystem:
        assert to_wgs84(monaco.lat, monaco.lon, system) == monaco
        assert from_wgs84(monaco, system) == (monaco.lat, monaco.lon)


@pytest.mark.parametrize(
    ("text", "system"),
    [
        ("wgs84", "wgs84"),
        ("WGS-84", "wgs84"),
        ("", "wgs84"),
        ("gcj02", "gcj02"),
        ("GCJ-02", "gcj02"),
        ("gcj02ll", "gcj02"),
        ("bd09", "bd09"),
        ("BD-09", "bd09"),
        ("bd09ll", "bd09"),
    ],
)
def test_parse_names(text: str, system: str) -> None:
    assert CoordSystem.parse(text) == system


def test_parse_unknown_lists_the_options() -> None:
    with pytest.raises(ValueError, match="expected one of: wgs84, gcj02, bd09"):
        CoordSystem.parse("mercator")


def test_loader_converts_coord_system_column_at_the_boundary() -> None:
    _, wgs, gcj, bd = LANDMARKS[3]
    frame = pd.DataFrame(
        {
            "visit_id": ["V1", "V2", "V3", "V4"],
            "lat": [str(wgs[0]), str(gcj[0]), str(bd[0]), str(gcj[0])],
            "lon": [str(wgs[1]), str(gcj[1]), str(bd[1]), str(gcj[1])],
            "coord_system": ["", "gcj02", "bd09", "mars"],
        },
        index=pd.RangeIndex(2, 6),
    )
    with pytest.raises(Exception, match="row 5, column 'coord_system'"):
        parse_visits(frame, "visits.csv")
    visits = parse_visits(frame.iloc[:3], "visits.csv")
    for v in visits:
        assert v.location is not None
        assert metres((v.location.lat, v.location.lon), wgs) < TOLERANCE_M
    # The file-wide default applies where the row says nothing.
    default = parse_visits(
        frame.iloc[1:2].assign(coord_system=""), "visits.csv", coord_system=CoordSystem.GCJ02
    )
    assert default[0].location is not None
    assert metres((default[0].location.lat, default[0].location.lon), wgs) < TOLERANCE_M
