"""Benchmark: locate 1,000 visits whose addresses are all in the geocode cache.

The bar (issue 5) is under one second. ``bench_geocoding()`` returns the figures as a
dict, for ``fieldroute bench`` / ``make bench`` or on its own::

    .venv/bin/python -m optimizer.bench.geocoding
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from optimizer.domain import Agent, GeoPoint, TimeWindow, Visit
from optimizer.geocoding.base import GeocodeResult, Quality
from optimizer.geocoding.cache import CachedGeocoder, GeocodeCache
from optimizer.geocoding.resolve import locate
from optimizer.geocoding.static import StaticGeocoder

BAR_S = 1.0


class _MustNotAsk:
    """The provider behind the cache: any call means the cache failed."""

    name = "nominatim:https://nominatim.openstreetmap.org"
    online = True

    def __init__(self) -> None:
        self.calls = 0

    def geocode(self, address: str) -> GeocodeResult | None:
        self.calls += 1
        return None


def _addresses(n: int) -> list[tuple[str, GeoPoint]]:
    # Distinct streets and doors around Chengdu's centre (invented addresses).
    out = []
    for i in range(n):
        street = ("春熙路", "玉林路", "天府大道", "建设路", "科华北路")[i % 5]
        point = GeoPoint(30.60 + (i % 40) * 0.003, 104.00 + (i // 40) * 0.004)
        out.append((f"Chengdu {street} {i + 1}号", point))
    return out


def bench_geocoding(n: int = 1000) -> dict[str, float | int | bool]:
    """Fill a cache with ``n`` answers, then time ``locate()`` over ``n`` visits.

    Returns ``addresses``, ``seconds`` (the timed locate), ``per_address_us``,
    ``provider_calls`` (must be 0) and ``under_bar`` (seconds < 1).
    """
    addresses = _addresses(n)
    answers = {a: GeocodeResult(p, Quality.HOUSE_NUMBER, "nominatim") for a, p in addresses}
    agent = Agent("A1", GeoPoint(30.66, 104.06), TimeWindow(8 * 3600, 17 * 3600))
    visits = [Visit(f"V{i:04d}", None, 1800, address=a) for i, (a, _) in enumerate(addresses)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cache.sqlite"
        with GeocodeCache(path) as cache:  # a first, online run in effect
            filler = CachedGeocoder(StaticGeocoder(answers, name=_MustNotAsk.name), cache)
            for a, _ in addresses:
                filler.geocode(a)
        provider = _MustNotAsk()
        with GeocodeCache(path) as cache:  # the re-run: a fresh process opens the file
            geocoder = CachedGeocoder(provider, cache)
            start = time.perf_counter()
            result = locate(visits, [agent], geocoder)
            seconds = time.perf_counter() - start
    located = len(result.routable)
    return {
        "addresses": n,
        "located": located,
        "seconds": round(seconds, 4),
        "per_address_us": round(seconds / n * 1e6, 1),
        "provider_calls": provider.calls,
        "under_bar": seconds < BAR_S and provider.calls == 0 and located == n,
    }


if __name__ == "__main__":
    print(json.dumps(bench_geocoding(), indent=2))
