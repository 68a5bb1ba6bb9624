"""locate(): located copies, a reason per visit that cannot be routed, agents' bases."""

from __future__ import annotations

import logging

import pytest

from optimizer.bench.geocoding import bench_geocoding
from optimizer.domain import GeoPoint
from optimizer.errors import GeocodingServiceError, InputError
from optimizer.geocoding.base import (
    GeocodeResult,
    LookupUnavailableError,
    Quality,
    UnavailableGeocoder,
)
from optimizer.geocoding.resolve import locate
from optimizer.geocoding.static import StaticGeocoder
from optimizer.pipeline import plan_day
from tests.helpers import BASE, DATE, FAST, at, make_agent, make_visit


def res(point: GeoPoint, quality: Quality = Quality.HOUSE_NUMBER) -> GeocodeResult:
    return GeocodeResult(point, quality, "static")


GEO = StaticGeocoder(
    {
        "春熙路 1号": res(at(1, 1)),
        "春熙路 2号": res(at(1, 1)),  # same point, different door: a warning
        "成华区 无名路 9号": res(at(0, 3), Quality.DISTRICT),
        "成华区": res(at(0, 3), Quality.DISTRICT),
        "Far Away Road 3": res(GeoPoint(31.5, 104.06)),  # ~93 km north
        "红星路三段 1号": res(BASE),
        "Office Nowhere 1": res(at(0, 0), Quality.CITY),
    }
)


def test_located_copies_and_reasons(caplog: pytest.LogCaptureFixture) -> None:
    visits = [
        make_visit("V1", location=None, address="春熙路 1号"),
        make_visit("V2", location=None, address="春熙路 2号"),
        make_visit("V3", location=None, address="成华区 无名路 9号"),
        make_visit("V4", location=None, address="成华区"),  # no door asked: fine
        make_visit("V5", location=None, address="Not In The List 5"),
        make_visit("V6", location=at(2, 2), address="given coordinates stay"),
        make_visit("V7", location=None, address="Far Away Road 3"),
    ]
    with caplog.at_level(logging.DEBUG, logger="optimizer"):
        result = locate(visits, [make_agent("A1")], GEO, service_radius_km=30)
    by_id = {v.visit_id: v for v in result.visits}
    assert by_id["V1"].location == at(1, 1) and by_id["V1"] is not visits[0]
    assert by_id["V4"].location == at(0, 3)
    assert by_id["V6"].location == at(2, 2)
    assert set(result.unlocated) == {"V3", "V5", "V7"}
    assert result.unlocated["V3"].startswith("address found only at district level")
    assert "--accept-coarse" in result.unlocated["V3"]
    assert result.unlocated["V5"].startswith("address not geocoded: not found by static")
    assert (
        "outside the service area" in result.unlocated["V7"]
        and "limit 30 km" in result.unlocated["V7"]
    )
    for vid in ("V3", "V5", "V7"):
        assert by_id[vid].location is None
    assert result.answers["V3"].quality is Quality.DISTRICT  # kept for review
    assert [v.visit_id for v in result.routable] == ["V1", "V2", "V4", "V6"]
    (warning,) = result.warnings
    assert "V1, V2" in warning and "same point" in warning
    # Logs name visits by id, never by address.
    assert "V5" in caplog.text
    for address in ("春熙路", "Not In The List", "Far Away", "成华区"):
        assert address not in caplog.text


def test_accept_coarse_routes_the_district_point() -> None:
    visits = [make_visit("V3", location=None, address="成华区 无名路 9号")]
    result = locate(visits, [make_agent()], GEO, accept_coarse=True)
    assert result.unlocated == {}
    assert result.visits[0].location == at(0, 3)


def test_service_bbox_applies_to_given_coordinates_too() -> None:
    box = (30.5, 103.9, 30.8, 104.2)
    visits = [
        make_visit("V1", location=at(1, 1)),
        make_visit("V2", location=GeoPoint(30.65, 114.06)),  # a typo in lon: 1,000 km east
        make_visit("V3", location=None, address="Far Away Road 3"),
    ]
    result = locate(visits, [make_agent()], GEO, service_bbox=box)
    assert set(result.unlocated) == {"V2", "V3"}
    assert result.unlocated["V2"].startswith("given coordinates lie outside the service area")
    assert result.unlocated["V3"].startswith("geocoded outside the service area")


def test_agents_bases_by_address() -> None:
    agents = [
        make_agent(
            "A1", start=None, start_address="红星路三段 1号", end_address="春熙路 1号", source_row=2
        ),
        make_agent("A2", start=None, start_address="Nowhere 1", source_row=3),
        make_agent("A3", start=None, start_address="Office Nowhere 1", source_row=4),
    ]
    with pytest.raises(InputError) as info:
        locate([], agents, GEO)
    issues = info.value.issues
    assert [(i.source, i.row, i.column) for i in issues] == [
        ("agents.csv", 3, "start_address"),
        ("agents.csv", 4, "start_address"),
    ]
    assert "agent A2's start cannot be located" in issues[0].problem
    assert "city level" in issues[1].problem
    ok = locate([], agents[:1], GEO)
    assert ok.agents[0].start == BASE and ok.agents[0].end == at(1, 1)


def test_unavailable_geocoder_gives_a_reason_not_an_error() -> None:
    geo = UnavailableGeocoder(
        "nominatim:https://x",
        "address not geocoded: not in the geocoding cache, and --offline forbids asking X",
    )
    result = locate([make_visit("V1", location=None, address="a 1")], [make_agent()], geo)
    assert "--offline" in result.unlocated["V1"]
    with pytest.raises(LookupUnavailableError):
        geo.geocode("a 1")


class Down:
    name = "nominatim:https://down"
    online = True

    def geocode(self, address: str) -> GeocodeResult | None:
        msg = "geocoding service Nominatim at down did not answer"
        raise GeocodingServiceError(msg)


def test_service_error_stops_the_run() -> None:
    with pytest.raises(GeocodingServiceError):
        locate([make_visit("V1", location=None, address="a 1")], [make_agent()], Down())


def test_plan_day_routes_located_visits_and_unassigns_the_rest() -> None:
    visits = (
        make_visit("V1", location=None, address="春熙路 1号"),
        make_visit("V2", location=None, address="Not In The List 5"),
        make_visit("V3", location=at(-1, 1)),
    )
    agents = (make_agent("A1", start=None, start_address="红星路三段 1号"),)
    day = plan_day(visits, agents, FAST, date=DATE, geocoder=GEO)
    assert set(day.plan.assigned_ids) == {"V1", "V3"}
    (unassigned,) = day.plan.unassigned
    assert unassigned.visit_id == "V2"
    assert unassigned.reason.startswith("address not geocoded: not found")
    assert day.agents[0].start == BASE
    assert day.geocoding is not None and day.geocoding.unlocated == {"V2": unassigned.reason}


def test_plan_day_without_geocoder_needs_coordinates_for_bases() -> None:
    agents = (make_agent("A1", start=None, start_address="红星路三段 1号", source_row=2),)
    with pytest.raises(InputError, match="row 2, column 'start_address'"):
        plan_day((make_visit("V1"),), agents, FAST, date=DATE)


def test_thousand_cached_addresses_under_one_second() -> None:
    figures = bench_geocoding(1000)
    assert figures["provider_calls"] == 0
    assert figures["located"] == 1000
    assert figures["seconds"] < 1.0, figures
