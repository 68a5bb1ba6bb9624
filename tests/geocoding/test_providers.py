"""Real geopy geocoders (Nominatim, BaiduV3, AMap) driven offline through a replay adapter."""

from __future__ import annotations

from typing import Any

import pytest
from geopy import exc as geopy_exc

from optimizer.datums import CoordSystem
from optimizer.domain import GeoPoint
from optimizer.errors import ConfigurationError, GeocodingServiceError
from optimizer.geocoding.base import Quality
from optimizer.geocoding.providers import (
    PUBLIC_NOMINATIM,
    OnlineGeocoder,
    make_amap,
    make_baidu,
    make_nominatim,
)
from optimizer.travel.straight import haversine_m
from tests.helpers import HTTP, FakeClock, Replay, from_wgs84, recorded

UA = "fieldroute-tests (ops@example.org)"
ENV = {"BAIDU_MAPS_AK": "test-ak", "AMAP_KEY": "test-key"}


def distance_m(a: GeoPoint, b: GeoPoint) -> float:
    return float(haversine_m([a.lat, a.lon], [b.lat, b.lon])[0, 0])


def nominatim(replay: Replay, **kw: Any) -> OnlineGeocoder:
    geo = make_nominatim(user_agent=UA, adapter_factory=replay.factory(), **kw)
    FakeClock().install(geo.limiter)
    return geo


def baidu(replay: Replay, **kw: Any) -> OnlineGeocoder:
    geo = make_baidu(env=ENV, adapter_factory=replay.factory(), **kw)
    FakeClock().install(geo.limiter)
    return geo


def amap(replay: Replay, **kw: Any) -> OnlineGeocoder:
    geo = make_amap(env=ENV, adapter_factory=replay.factory(), **kw)
    FakeClock().install(geo.limiter)
    return geo


# --- found / not found / coarse -------------------------------------------------------


def test_nominatim_found_is_a_wgs84_house_number() -> None:
    replay = Replay(recorded("nominatim")["found"])
    result = nominatim(replay).geocode("Quai Antoine 1er 6, 98000 Monaco")
    assert result is not None
    assert (result.point.lat, result.point.lon) == (43.7329221, 7.4257905)
    assert result.quality is Quality.HOUSE_NUMBER
    assert result.source == "nominatim"
    url = replay.urls[0]
    assert url.startswith(f"https://{PUBLIC_NOMINATIM}/search?")
    assert "addressdetails=1" in url and "format=json" in url
    assert replay.headers[0]["User-Agent"] == UA
    assert replay.timeouts == [10.0]


@pytest.mark.parametrize(
    ("case", "quality"),
    [("street", Quality.STREET), ("coarse", Quality.DISTRICT)],
)
def test_nominatim_grades_by_place_rank(case: str, quality: Quality) -> None:
    result = nominatim(Replay(recorded("nominatim")[case])).geocode("anything 5")
    assert result is not None
    assert result.quality is quality


def test_nominatim_not_found_is_none_not_an_error() -> None:
    assert nominatim(Replay(recorded("nominatim")["not_found"])).geocode("Nowhere 1") is None


def test_nominatim_own_server_and_country_codes() -> None:
    replay = Replay(recorded("nominatim")["found"])
    geo = nominatim(replay, domain="127.0.0.1:8088", scheme="http", country_codes=("mc",))
    assert geo.geocode("x 1") is not None
    assert replay.urls[0].startswith("http://127.0.0.1:8088/search?")
    assert "countrycodes=mc" in replay.urls[0]
    assert geo.name == "nominatim:http://127.0.0.1:8088"


def test_baidu_found_is_converted_from_bd09() -> None:
    replay = Replay(recorded("baidu")["found"])
    result = baidu(replay).geocode("北京市东城区东长安街")
    assert result is not None
    # The BD-09 answer is Tiananmen at WGS-84 (39.907375, 116.391349).
    assert result.point.lat == pytest.approx(39.907375, abs=2e-6)
    assert result.point.lon == pytest.approx(116.391349, abs=2e-6)
    assert result.quality is Quality.HOUSE_NUMBER
    assert result.source == "baidu"
    assert "api.map.baidu.com/geocoding/v3/" in replay.urls[0]
    assert "ak=test-ak" in replay.urls[0]


def test_baidu_coarse_and_not_found() -> None:
    replay = Replay(recorded("baidu")["coarse"], recorded("baidu")["not_found"])
    geo = baidu(replay)
    coarse = geo.geocode("北京市东城区 99号")
    assert coarse is not None and coarse.quality is Quality.DISTRICT
    # Baidu says "no result" with status 1; geopy alone would call it a server error.
    assert geo.geocode("不存在的地址 1号") is None


def test_amap_found_is_converted_from_gcj02() -> None:
    replay = Replay(recorded("amap")["found"])
    result = amap(replay, city="010").geocode("北京市朝阳区阜通东大街6号")
    assert result is not None
    # Shifting the WGS-84 answer forward gives back AMap's GCJ-02 116.483038,39.990633.
    lat, lon = from_wgs84(result.point, CoordSystem.GCJ02)
    assert (lat, lon) == (pytest.approx(39.990633, abs=1e-8), pytest.approx(116.483038, abs=1e-8))
    assert 300 < distance_m(result.point, GeoPoint(39.990633, 116.483038)) < 800
    assert result.quality is Quality.HOUSE_NUMBER
    assert result.source == "amap"
    url = replay.urls[0]
    assert url.startswith("https://restapi.amap.com/v3/geocode/geo?")
    assert "key=test-key" in url and "city=010" in url


def test_amap_coarse_and_not_found() -> None:
    replay = Replay(recorded("amap")["coarse"], recorded("amap")["not_found"])
    geo = amap(replay)
    coarse = geo.geocode("北京市朝阳区 6号")
    assert coarse is not None and coarse.quality is Quality.DISTRICT
    assert geo.geocode("不存在的地址 1号") is None


# --- service errors: named provider, what to do, never "not found" ------------------------


SERVICE_ERRORS = [
    # provider, answers (retries included), message fragments, requests made
    (
        "nominatim",
        [HTTP(429), HTTP(429), HTTP(429)],
        ["Nominatim at nominatim.openstreetmap.org", "too many requests", "min_delay_s"],
        3,
    ),
    ("nominatim", [HTTP(403, "blocked")], ["Nominatim", "refused", "user_agent"], 1),
    (
        "nominatim",
        [geopy_exc.GeocoderTimedOut("timed out")] * 3,
        ["Nominatim", "did not answer within 10 s", "--offline"],
        3,
    ),
    ("nominatim", [HTTP(503), HTTP(503), HTTP(503)], ["Nominatim", "did not answer"], 3),
    ("baidu", ["quota"], ["Baidu Maps", "quota is used up", "cached"], 1),
    ("baidu", ["bad_key"], ["Baidu Maps", "refused the key in $BAIDU_MAPS_AK", "check the key"], 1),
    ("baidu", ["server_error"], ["Baidu Maps", "failed"], 1),
    ("baidu", [geopy_exc.GeocoderTimedOut("timed out")] * 3, ["Baidu Maps", "did not answer"], 3),
    ("amap", ["quota"], ["AMap (Gaode)", "quota is used up"], 1),
    ("amap", ["bad_key"], ["AMap (Gaode)", "refused the key in $AMAP_KEY"], 1),
    ("amap", ["too_fast", "too_fast", "too_fast"], ["AMap (Gaode)", "too many requests"], 3),
    ("amap", [geopy_exc.GeocoderUnavailable("refused")] * 3, ["AMap (Gaode)", "unreachable"], 3),
]


@pytest.mark.parametrize(("provider", "answers", "fragments", "requests"), SERVICE_ERRORS)
def test_service_errors_are_translated(
    provider: str, answers: list[Any], fragments: list[str], requests: int
) -> None:
    data = recorded(provider)
    replay = Replay(*[data[a] if isinstance(a, str) else a for a in answers])
    geo = {"nominatim": nominatim, "baidu": baidu, "amap": amap}[provider](replay)
    with pytest.raises(GeocodingServiceError) as info:
        geo.geocode("somewhere 1")
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message
    assert "not found" not in message
    assert info.value.exit_code == 3
    assert isinstance(info.value.__cause__, geopy_exc.GeopyError)
    assert replay.calls == requests  # only transient failures are retried
    assert "test-ak" not in message and "test-key" not in message


def test_a_transient_failure_is_retried_then_answered() -> None:
    replay = Replay(geopy_exc.GeocoderTimedOut("slow"), recorded("nominatim")["found"])
    geo = make_nominatim(user_agent=UA, adapter_factory=replay.factory(), error_wait_s=5)
    clock = FakeClock()
    clock.install(geo.limiter)
    assert geo.geocode("Quai Antoine 1er 6") is not None
    assert replay.calls == 2
    assert clock.sleeps == [5]  # error_wait_s, patched: no real waiting


# --- rate limit ----------------------------------------------------------------------------


def test_public_nominatim_is_held_to_one_request_per_second() -> None:
    found = recorded("nominatim")["found"]
    replay = Replay(found, found, found)
    geo = make_nominatim(user_agent=UA, adapter_factory=replay.factory(), min_delay_s=0.1)
    clock = FakeClock()
    clock.install(geo.limiter)
    for address in ("a 1", "b 2", "c 3"):
        geo.geocode(address)
    assert geo.limiter.min_delay_seconds == 1.0
    assert clock.sleeps == [1.0, 1.0]


def test_own_nominatim_server_may_go_faster() -> None:
    found = recorded("nominatim")["found"]
    replay = Replay(found, found)
    geo = make_nominatim(
        user_agent=UA, adapter_factory=replay.factory(), domain="geo.internal", min_delay_s=0.1
    )
    clock = FakeClock()
    clock.install(geo.limiter)
    geo.geocode("a 1")
    clock.now += 0.02
    geo.geocode("b 2")
    assert clock.sleeps == [pytest.approx(0.08)]


# --- configuration -------------------------------------------------------------------------


@pytest.mark.parametrize("agent", ["", "   ", "my_app/1", "my-application"])
def test_nominatim_needs_a_real_user_agent(agent: str) -> None:
    with pytest.raises(ConfigurationError, match="user_agent"):
        make_nominatim(user_agent=agent, adapter_factory=Replay().factory())


@pytest.mark.parametrize(("make", "var"), [(make_baidu, "BAIDU_MAPS_AK"), (make_amap, "AMAP_KEY")])
def test_keys_come_from_the_named_environment_variable(make: Any, var: str) -> None:
    with pytest.raises(ConfigurationError, match=rf"\${var}"):
        make(env={}, adapter_factory=Replay().factory())
    with pytest.raises(ConfigurationError, match=r"\$MY_KEY"):
        make(env={var: "x"}, api_key_env="MY_KEY", adapter_factory=Replay().factory())
    assert make(env={"MY_KEY": "k"}, api_key_env="MY_KEY", adapter_factory=Replay().factory())


def test_retry_log_does_not_show_the_address(caplog: pytest.LogCaptureFixture) -> None:
    replay = Replay(geopy_exc.GeocoderTimedOut("slow"), recorded("nominatim")["found"])
    geo = nominatim(replay)
    with caplog.at_level("DEBUG"):
        geo.geocode("Secret Street 7, Monaco")
    assert "Secret" not in caplog.text


def test_the_network_guard_catches_a_real_geocoder(request: pytest.FixtureRequest) -> None:
    # geopy's own HTTP adapter, no replay: the guard refuses the connection, geopy
    # reports the service unreachable, and the attempt is recorded even so.
    attempts: list[str] = request.getfixturevalue("_no_network")
    geo = make_nominatim(user_agent=UA, max_retries=0, timeout_s=1)
    with pytest.raises(GeocodingServiceError, match="Nominatim"):
        geo.geocode("Quai Antoine 1er 6")
    assert attempts, "the guard saw no connection attempt"
    attempts.clear()  # this test wanted the attempt; any other test fails on one
