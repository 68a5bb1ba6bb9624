"""Offline geocoding helpers: a replay adapter for geopy and a fake clock.

geopy geocoders take an ``adapter_factory``; :class:`Replay` is a real
``BaseSyncAdapter`` that answers each request with the next recorded-style answer
(JSON from ``tests/data/geocoding``), an HTTP error, or an exception such as geopy's
``GeocoderTimedOut`` (what geopy's own adapters raise on a socket timeout). No socket
is ever opened, so the real geopy parsing and error mapping run end to end.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from geopy.adapters import AdapterHTTPError, BaseSyncAdapter

from optimizer.coords import wgs84_to_bd09, wgs84_to_gcj02
from optimizer.domain import GeoPoint
from optimizer.geocoding.coords import CoordSystem
from tests.helpers import DATA_DIR

GEO_DATA = DATA_DIR / "geocoding"


@cache
def recorded(provider: str) -> dict[str, Any]:
    """The recorded-style answers of one provider, by case name."""
    return json.loads((GEO_DATA / f"{provider}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class HTTP:
    """A non-2xx answer."""

    status: int
    text: str = ""
    headers: dict[str, str] = field(default_factory=dict)


class Replay(BaseSyncAdapter):  # type: ignore[misc]
    """Answers requests in order; records every URL asked."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.urls: list[str] = []
        self.timeouts: list[float] = []
        self.headers: list[dict[str, str]] = []

    def factory(self) -> Callable[..., Replay]:
        """What to pass as geopy's ``adapter_factory``."""

        def make(*, proxies: Any, ssl_context: Any) -> Replay:
            return self

        return make

    def add(self, *answers: Any) -> None:
        self.answers.extend(answers)

    @property
    def calls(self) -> int:
        return len(self.urls)

    def get_json(self, url: str, *, timeout: float, headers: dict[str, str]) -> Any:
        self.urls.append(url)
        self.timeouts.append(timeout)
        self.headers.append(headers)
        if not self.answers:
            msg = f"unexpected request (no answer left): {url}"
            raise AssertionError(msg)
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        if isinstance(answer, HTTP):
            raise AdapterHTTPError(
                f"Non-successful status code {answer.status}",
                status_code=answer.status,
                headers=answer.headers,
                text=answer.text,
            )
        return json.loads(json.dumps(answer))  # a fresh copy, as from the wire

    def get_text(self, url: str, *, timeout: float, headers: dict[str, str]) -> str:
        return json.dumps(self.get_json(url, timeout=timeout, headers=headers))


class FakeClock:
    """Patched into geopy's RateLimiter seams (``_clock``/``_sleep``): no real waiting."""

    def __init__(self) -> None:
        self.now = 0.0  # a large start makes geopy spin on float rounding
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def install(self, limiter: Any) -> None:
        limiter._clock = self.clock
        limiter._sleep = self.sleep


def from_wgs84(point: GeoPoint, system: CoordSystem) -> tuple[float, float]:
    """The inverse of to_wgs84, from the converters the maps and links use."""
    convert = {CoordSystem.GCJ02: wgs84_to_gcj02, CoordSystem.BD09: wgs84_to_bd09}
    out = convert[system](point) if system in convert else point
    return (out.lat, out.lon)
