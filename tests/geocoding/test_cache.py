"""The persistent cache: checked before the rate limiter; a re-run costs no request."""

from __future__ import annotations

from pathlib import Path

import pytest
from geopy import exc as geopy_exc

from optimizer.domain import GeoPoint
from optimizer.errors import ConfigurationError, GeocodingServiceError
from optimizer.geocoding import open_geocoder
from optimizer.geocoding.base import GeocodeResult, LookupUnavailableError, Quality
from optimizer.geocoding.cache import CachedGeocoder, GeocodeCache
from optimizer.geocoding.providers import make_nominatim
from optimizer.geocoding.static import StaticGeocoder
from optimizer.settings import GeocoderSettings
from tests.helpers import FakeClock, Replay, recorded

UA = "fieldroute-tests (ops@example.org)"
HERE = GeocodeResult(GeoPoint(43.73, 7.42), Quality.HOUSE_NUMBER, "static")


def test_second_run_makes_zero_provider_calls(tmp_path: Path) -> None:
    found, none = recorded("nominatim")["found"], recorded("nominatim")["not_found"]
    addresses = ["Quai Antoine 1er 6, Monaco", "Nowhere 1", "Quai Antoine 1er 6, Monaco"]
    # First run: two distinct addresses, two requests (one found, one not found).
    replay = Replay(found, none)
    geo = make_nominatim(user_agent=UA, adapter_factory=replay.factory())
    clock = FakeClock()
    clock.install(geo.limiter)
    with GeocodeCache(tmp_path / "cache.sqlite") as cache:
        first = [CachedGeocoder(geo, cache).geocode(a) for a in addresses]
    assert replay.calls == 2
    # Second run, a new process in effect: a fresh geocoder, the same file.
    replay2 = Replay()  # any request would fail: no answers left
    geo2 = make_nominatim(user_agent=UA, adapter_factory=replay2.factory())
    clock2 = FakeClock()
    clock2.install(geo2.limiter)
    with GeocodeCache(tmp_path / "cache.sqlite") as cache:
        cached = CachedGeocoder(geo2, cache)
        second = [cached.geocode(a) for a in addresses]
        assert (cached.hits, cached.misses) == (3, 0)
    assert replay2.calls == 0
    assert clock2.sleeps == []  # a hit never reaches the rate limiter
    assert second == first
    assert second[1] is None  # "not found" is remembered too


def test_key_is_the_normalised_address(tmp_path: Path) -> None:
    inner = StaticGeocoder({"Rue Grimaldi 12, Monaco": HERE})
    with GeocodeCache(tmp_path / "c.sqlite") as cache:
        cached = CachedGeocoder(inner, cache)
        for spelling in (
            "Rue Grimaldi 12, Monaco",
            "rue  grimaldi #12 , MONACO",
            "Rue Grimaldi 12号，Monaco",
        ):
            assert cached.geocode(spelling) == HERE
    assert inner.calls == 1


def test_providers_do_not_share_answers(tmp_path: Path) -> None:
    a = StaticGeocoder({"x 1": HERE}, name="nominatim:https://a")
    b = StaticGeocoder({}, name="nominatim:https://b")
    with GeocodeCache(tmp_path / "c.sqlite") as cache:
        assert CachedGeocoder(a, cache).geocode("x 1") == HERE
        assert CachedGeocoder(b, cache).geocode("x 1") is None
    assert (a.calls, b.calls) == (1, 1)


def test_service_errors_are_not_cached(tmp_path: Path) -> None:
    replay = Replay(*[geopy_exc.GeocoderTimedOut("slow")] * 3, recorded("nominatim")["found"])
    geo = make_nominatim(user_agent=UA, adapter_factory=replay.factory())
    FakeClock().install(geo.limiter)
    with GeocodeCache(tmp_path / "c.sqlite") as cache:
        cached = CachedGeocoder(geo, cache)
        with pytest.raises(GeocodingServiceError):
            cached.geocode("Quai Antoine 1er 6")
        assert len(cache) == 0
        assert cached.geocode("Quai Antoine 1er 6") is not None  # asked again, answered
        assert len(cache) == 1


def test_offline_answers_from_the_cache_only(tmp_path: Path) -> None:
    settings = GeocoderSettings(
        provider="nominatim", user_agent=UA, cache_path=str(tmp_path / "c.sqlite")
    )
    replay = Replay(recorded("nominatim")["found"])
    with open_geocoder(settings, adapter_factory=replay.factory()) as geo:
        FakeClock().install(geo.inner.inner.limiter)  # type: ignore[attr-defined]
        assert geo.geocode("Quai Antoine 1er 6") is not None
    with open_geocoder(settings, offline=True) as geo:
        assert not geo.online
        assert geo.geocode("quai antoine 1er 6") is not None
        with pytest.raises(LookupUnavailableError, match="--offline forbids asking Nominatim"):
            geo.geocode("Some Other Street 9")
    assert replay.calls == 1


def test_a_broken_cache_file_is_a_configuration_error(tmp_path: Path) -> None:
    bad = tmp_path / "c.sqlite"
    bad.write_text("this is not a database " * 100, encoding="utf-8")
    with pytest.raises(ConfigurationError, match="cache_path"):
        GeocodeCache(bad)
