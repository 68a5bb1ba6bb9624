"""Addresses to WGS-84 points: providers, cache, checks.

``open_geocoder(settings.geocoder, offline=...)`` builds the configured provider
behind the persistent cache; ``resolve.locate(...)`` locates and checks visits and
agents. Only ``providers.py`` imports geopy and only ``osmextract.py`` pyosmium.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from optimizer.geocoding.base import (
    GeocodeResult,
    Geocoder,
    OfflineGeocoder,
    Quality,
    normalize_address,
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


@contextmanager
def open_geocoder(
    settings: GeocoderSettings,
    *,
    offline: bool = False,
    env: Mapping[str, str] | None = None,
    adapter_factory: Any = None,
) -> Iterator[Geocoder]:
    """The configured geocoder, ready to use; the cache is closed on exit.

    ``gazetteer`` is read from ``gazetteer_path`` and used as it is (it is local and
    a team edits it, so its answers are not cached). Online providers sit behind the
    SQLite cache at ``cache_path``; with ``offline`` they are replaced by a stand-in
    that answers from the cache only and opens no socket.

    Raises
    ------
    ConfigurationError
        Missing user agent or key, unreadable cache.
    InputError
        The gazetteer file is missing or has bad rows.
    """
    if settings.provider == "gazetteer":
        from optimizer.geocoding.gazetteer import read_gazetteer

        yield read_gazetteer(Path(settings.gazetteer_path))
        return
    from optimizer.geocoding import providers

    name = providers.provider_name(settings.provider, domain=settings.domain, scheme=settings.scheme)
    inner: Geocoder
    if offline:
        label = _LABELS.get(settings.provider, f"Nominatim at {settings.domain}")
        inner = OfflineGeocoder(name, label)
    else:
        inner = _online(settings, env if env is not None else os.environ, adapter_factory)
    with GeocodeCache(Path(settings.cache_path)) as cache:
        yield CachedGeocoder(inner, cache)


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
            env=env, api_key_env=settings.key_env, security_key_env=settings.security_key_env, **common
        )
    return providers.make_amap(env=env, api_key_env=settings.key_env, city=settings.city, **common)
