"""Addresses to WGS-84 points: providers, cache, checks.

``open_geocoder(settings.geocoder, offline=...)`` builds the configured provider
behind the persistent cache; ``resolve.locate(...)`` locates and checks visits and
agents. Only ``providers.py`` imports geopy and only ``osmextract.py`` pyosmium.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from optimizer.geocoding.base import (
    Geocoder,
    GeocodeResult,
    Quality,
    UnavailableGeocoder,
    normalize_address,
    offline_reason,
)
from optimizer.geocoding.cache import CachedGeocoder, GeocodeCache
from optimizer.geocoding.resolve import LocateResult, locate
from optimizer.settings import GeocoderSettings

__all__ = [
    "GeocodeResult",
    "Geocoder",
    "LocateResult",
    "Quality",
    "locate",
    "normalize_address",
    "open_geocoder",
]

_LABELS = {"baidu": "Baidu Maps", "amap": "AMap (Gaode)"}


class _Lazy:
    """The configured geocoder, opened on the first lookup.

    A plan whose visits all have coordinates never reads the gazetteer, opens the
    cache or needs a key; one that does gets the same errors at its first lookup.
    """

    def __init__(
        self,
        settings: GeocoderSettings,
        offline: bool,
        env: Mapping[str, str] | None,
        adapter_factory: Any,
        stack: ExitStack,
    ) -> None:
        self._settings = settings
        self._offline = offline
        self._env = env
        self._adapter_factory = adapter_factory
        self._stack = stack
        self._inner: Geocoder | None = None

    @property
    def name(self) -> str:
        from optimizer.geocoding.providers import provider_name

        s = self._settings
        if s.provider == "gazetteer":
            return f"gazetteer:{Path(s.gazetteer_path).name}"
        return provider_name(s.provider, domain=s.domain, scheme=s.scheme)

    @property
    def online(self) -> bool:
        return self._settings.provider != "gazetteer" and not self._offline

    @property
    def inner(self) -> Geocoder:
        if self._inner is None:
            self._inner = _build(
                self._settings, self._offline, self._env, self._adapter_factory, self._stack
            )
        return self._inner

    def geocode(self, address: str) -> GeocodeResult | None:
        return self.inner.geocode(address)


@contextmanager
def open_geocoder(
    settings: GeocoderSettings,
    *,
    offline: bool = False,
    env: Mapping[str, str] | None = None,
    adapter_factory: Any = None,
) -> Iterator[Geocoder]:
    """The configured geocoder, opened at its first lookup; the cache is closed on exit.

    ``gazetteer`` is read from ``gazetteer_path`` and used as it is (it is local and
    a team edits it, so its answers are not cached). Online providers sit behind the
    SQLite cache at ``cache_path``; with ``offline`` they are replaced by a stand-in
    that answers from the cache only and opens no socket.

    Raises (at the first lookup)
    ----------------------------
    ConfigurationError
        Missing user agent or key, unreadable cache.
    InputError
        The gazetteer file is missing or has bad rows.
    """
    with ExitStack() as stack:
        yield _Lazy(settings, offline, env, adapter_factory, stack)


def _build(
    settings: GeocoderSettings,
    offline: bool,
    env: Mapping[str, str] | None,
    adapter_factory: Any,
    stack: ExitStack,
) -> Geocoder:
    if settings.provider == "gazetteer":
        from optimizer.geocoding.gazetteer import read_gazetteer

        path = Path(settings.gazetteer_path)
        if not path.exists():
            # Visits then go to unassigned with this reason and the day is still
            # planned; an agent's base by address becomes an input problem.
            reason = (
                f"address not geocoded: no gazetteer at {path}; build one with "
                "'fieldroute gazetteer build region.osm.pbf', configure [geocoder], or add lat/lon"
            )
            return UnavailableGeocoder(f"gazetteer:{path.name}", reason)
        return read_gazetteer(path)
    from optimizer.geocoding import providers

    name = providers.provider_name(
        settings.provider, domain=settings.domain, scheme=settings.scheme
    )
    inner: Geocoder
    if offline:
        label = _LABELS.get(settings.provider, f"Nominatim at {settings.domain}")
        inner = UnavailableGeocoder(name, offline_reason(label))
    else:
        inner = _online(settings, env if env is not None else os.environ, adapter_factory)
    cache = stack.enter_context(GeocodeCache(Path(settings.cache_path)))
    return CachedGeocoder(inner, cache)


def _online(settings: GeocoderSettings, env: Mapping[str, str], adapter_factory: Any) -> Geocoder:
    from optimizer.geocoding import providers

    common: dict[str, Any] = {
        "min_delay_s": settings.min_delay_s,
        "max_retries": settings.max_retries,
        "error_wait_s": settings.error_wait_s,
        "timeout_s": settings.timeout_s,
        "adapter_factory": adapter_factory,
    }
    if settings.provider == "nominatim":
        return providers.make_nominatim(
            user_agent=settings.user_agent,
            domain=settings.domain,
            scheme=settings.scheme,
            country_codes=settings.country_codes,
            **common,
        )
    if settings.provider == "baidu":
        return providers.make_baidu(
            env=env,
            api_key_env=settings.key_env,
            security_key_env=settings.security_key_env,
            **common,
        )
    return providers.make_amap(env=env, api_key_env=settings.key_env, city=settings.city, **common)
