"""A persistent answer cache in front of any geocoder, checked before the rate limiter.

Keyed by (provider name, normalised address): "Rue Grimaldi #12, Monaco" and
"rue grimaldi 12 , MONACO" are one entry. "Not found" answers are kept too, so a
re-run of the same list sends no request at all; correcting an address changes its
key and asks again. Service errors are never cached.

SQLite (standard library, one file, safe across processes) rather than a CSV: a run
that stops half-way (quota, network) keeps every answer it got, committed one by one.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from optimizer.domain import GeoPoint
from optimizer.errors import ConfigurationError
from optimizer.geocoding.base import Geocoder, GeocodeResult, Quality, normalize_address

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    provider  TEXT NOT NULL,
    key       TEXT NOT NULL,
    found     INTEGER NOT NULL,
    lat       REAL,
    lon       REAL,
    quality   TEXT,
    source    TEXT,
    stored_at TEXT NOT NULL,
    PRIMARY KEY (provider, key)
) WITHOUT ROWID
"""


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    """A stored answer; ``result`` None means the provider said "not found"."""

    result: GeocodeResult | None


class GeocodeCache:
    """The SQLite file behind :class:`CachedGeocoder`.

    Raises
    ------
    ConfigurationError
        The file cannot be opened or is not a cache (``[geocoder] cache_path``).
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path))
            self._db.execute(_SCHEMA)
            self._db.commit()
        except (sqlite3.Error, OSError) as err:
            msg = f"geocode cache {str(path)!r} cannot be opened ({err}); fix or delete it, or set [geocoder] cache_path"
            raise ConfigurationError(msg) from None

    def get(self, provider: str, key: str) -> CachedAnswer | None:
        """The stored answer, or None when this address was never asked."""
        row = self._db.execute(
            "SELECT found, lat, lon, quality, source FROM answers WHERE provider = ? AND key = ?",
            (provider, key),
        ).fetchone()
        if row is None:
            return None
        found, lat, lon, quality, source = row
        if not found:
            return CachedAnswer(None)
        return CachedAnswer(GeocodeResult(GeoPoint(lat, lon), Quality(quality), source))

    def put(self, provider: str, key: str, result: GeocodeResult | None) -> None:
        """Store one answer and commit it at once (a crash keeps what was paid for)."""
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        values: tuple[object, ...]
        if result is None:
            values = (provider, key, 0, None, None, None, None, stamp)
        else:
            values = (
                provider,
                key,
                1,
                result.point.lat,
                result.point.lon,
                result.quality.value,
                result.source,
                stamp,
            )
        self._db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?)", values)
        self._db.commit()

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM answers").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> GeocodeCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class CachedGeocoder:
    """Answers from the cache when it can; otherwise asks ``inner`` and stores the answer.

    The inner geocoder holds the rate limiter, so a hit never waits. ``hits`` and
    ``misses`` count this run's lookups.
    """

    def __init__(self, inner: Geocoder, cache: GeocodeCache) -> None:
        self.inner = inner
        self.cache = cache
        self.hits = 0
        self.misses = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def online(self) -> bool:
        return self.inner.online

    def geocode(self, address: str) -> GeocodeResult | None:
        """Look up ``address``; see :meth:`Geocoder.geocode`."""
        key = normalize_address(address)
        if not key:
            return None
        answer = self.cache.get(self.inner.name, key)
        if answer is not None:
            self.hits += 1
            return answer.result
        self.misses += 1
        result = self.inner.geocode(address)  # errors propagate, uncached
        self.cache.put(self.inner.name, key, result)
        return result
