"""The offline default: a CSV of known addresses and places that a team keeps.

Columns: ``address,lat,lon`` and optionally ``quality`` (house_number, place, street,
district, city) and ``coord_system`` (wgs84, gcj02, bd09). Files made by
``fieldroute gazetteer build`` and the older ``kind,name,...,label,lat,lon`` extracts
(``label`` as the address, ``kind`` giving the quality, ``name`` as an extra key)
are read too.

Matching, first hit wins:

1. the address exactly as written in the file (trimmed);
2. the normalised address (:func:`~optimizer.geocoding.base.normalize_address`);
3. the same with trailing parts dropped ("…, 98000 Monaco" -> "…") and with the
   door number moved to the other end ("6 Quai X" <-> "Quai X 6");
4. the street without its door number (a ``street`` match);
5. a later part alone, e.g. the town (a ``district``/``city`` match, which the
   quality check flags when a house number was asked for).

A key shared by rows more than :data:`AMBIGUOUS_M` apart is ambiguous and never
matched on its own ("Landstrasse" in every village); a longer key still is.
"""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from optimizer.datums import CoordSystem, to_wgs84
from optimizer.domain import GeoPoint
from optimizer.errors import InputError, Issue
from optimizer.geocoding.base import (
    GeocodeResult,
    Quality,
    address_parts,
    swapped_number,
    without_house_number,
)

logger = logging.getLogger(__name__)

#: Two rows with one key further apart than this make the key ambiguous.
AMBIGUOUS_M = 250.0

_KIND_QUALITY = {
    "address": Quality.HOUSE_NUMBER,
    "street": Quality.STREET,
    "place=city": Quality.CITY,
    "place=town": Quality.CITY,
    "place=municipality": Quality.CITY,
}
_DISTRICT_PLACES = (
    "suburb",
    "quarter",
    "neighbourhood",
    "village",
    "hamlet",
    "locality",
    "borough",
    "city_block",
    "isolated_dwelling",
)


@dataclass(frozen=True, slots=True)
class GazetteerEntry:
    """One row: an address or place name and its WGS-84 point."""

    address: str
    point: GeoPoint
    quality: Quality
    aliases: tuple[str, ...] = ()


def _distance_m(a: GeoPoint, b: GeoPoint) -> float:
    # Equirectangular is plenty for "are these two rows the same place".
    x = math.radians(b.lon - a.lon) * math.cos(math.radians((a.lat + b.lat) / 2))
    y = math.radians(b.lat - a.lat)
    return 6_371_008.8 * math.hypot(x, y)


def _row_keys(text: str, quality: Quality) -> Iterator[str]:
    """Every key a row is indexed under: its parts' prefixes, numbers at both ends.

    Only addresses and streets are cut into prefixes: a name such as "Vaduz,
    Gastankstelle" is one name, not a town and a part.
    """
    parts = address_parts(text)
    if not parts:
        return
    shortest = len(parts) if quality in (Quality.PLACE, Quality.DISTRICT, Quality.CITY) else 1
    for k in range(len(parts), shortest - 1, -1):
        yield ",".join(parts[:k])
        swapped = swapped_number(parts[0])
        if swapped:
            yield ",".join((swapped, *parts[1:k]))


def query_keys(address: str) -> Iterator[tuple[str, bool, tuple[str, ...]]]:
    """Keys to try for a query, most specific first.

    Each comes with ``fallback`` (True for a street without its number or a town
    alone: the row found carries its own quality, so a coarse answer is flagged, never
    passed off as a door) and the query parts the key left out, which must not
    contradict the row found (see :func:`_compatible`).
    """
    parts = address_parts(address)
    if not parts:
        return
    first, rest = parts[0], parts[1:]
    for k in range(len(rest), -1, -1):
        yield ",".join((first, *rest[:k])), False, rest[k:]
    street = without_house_number(first)
    if street and street != first:
        for k in range(len(rest), -1, -1):
            yield ",".join((street, *rest[:k])), True, rest[k:]
    for i, part in enumerate(rest):
        others = rest[:i] + rest[i + 1 :]
        yield part, True, others
        town = without_house_number(part)
        if town and town != part:
            yield town, True, others


def _compatible(dropped: tuple[str, ...], entry: GazetteerEntry) -> bool:
    """A row found by a shortened key must share a word with some left-out part.

    "Hauptstrasse 5, Triesen" must not match "Hauptstrasse 5, 9490 Vaduz"; but
    "Städtle 35, Vaduz, Liechtenstein" matches "Städtle 35, 9490 Vaduz", and a row
    that names no town ("Avenue de Verdun 196") contradicts nothing.
    """
    if not dropped:
        return True
    entry_words = {w for part in address_parts(entry.address)[1:] for w in part.split()}
    if not entry_words:
        return True
    return any(entry_words.intersection(part.split()) for part in dropped)


class GazetteerGeocoder:
    """An in-memory index over gazetteer entries. Pure: no IO after construction."""

    online = False

    def __init__(self, entries: Iterable[GazetteerEntry], *, name: str = "gazetteer") -> None:
        self._name = name
        self._exact: dict[str, GazetteerEntry] = {}
        self._keys: dict[str, GazetteerEntry | None] = {}  # None: ambiguous
        self.size = 0
        for entry in entries:
            self.size += 1
            self._exact.setdefault(entry.address.strip().casefold(), entry)
            for text in (entry.address, *entry.aliases):
                for key in dict.fromkeys(_row_keys(text, entry.quality)):
                    self._add(key, entry)

    def _add(self, key: str, entry: GazetteerEntry) -> None:
        if key not in self._keys:
            self._keys[key] = entry
            return
        known = self._keys[key]
        if known is not None and _distance_m(known.point, entry.point) > AMBIGUOUS_M:
            self._keys[key] = None
        elif known is not None and _rank(entry.quality) < _rank(known.quality):
            self._keys[key] = entry  # a house number beats a street of the same name

    @property
    def name(self) -> str:
        return self._name

    def geocode(self, address: str) -> GeocodeResult | None:
        """Look ``address`` up; None when no key matches unambiguously."""
        entry = self._exact.get(address.strip().casefold())
        if entry is None:
            entry = self._lookup(address)
        if entry is None:
            return None
        return GeocodeResult(entry.point, entry.quality, "gazetteer")

    def _lookup(self, address: str) -> GazetteerEntry | None:
        for key, fallback, dropped in query_keys(address):
            entry = self._keys.get(key)
            if entry is None or not _compatible(dropped, entry):
                continue
            if fallback and entry.quality is Quality.HOUSE_NUMBER:
                # A number-less key that lands on one door is not evidence for the
                # door that was asked for; only streets and places answer fallbacks.
                continue
            return entry
        return None


def _rank(quality: Quality) -> int:
    return list(Quality).index(quality)


def _quality_from_kind(kind: str) -> Quality:
    kind = kind.strip().casefold()
    if kind in _KIND_QUALITY:
        return _KIND_QUALITY[kind]
    if kind.startswith("place=") and kind.removeprefix("place=") in _DISTRICT_PLACES:
        return Quality.DISTRICT
    if kind.startswith("highway="):
        return Quality.STREET
    return Quality.PLACE


def parse_gazetteer(rows: Iterable[Mapping[str, str]], source: str) -> list[GazetteerEntry]:
    """Rows of a gazetteer CSV (all strings) as entries; every bad row reported at once.

    Raises
    ------
    InputError
        Missing columns, bad coordinates or an unknown quality, with row and column.
    """
    issues: list[Issue] = []
    entries: list[GazetteerEntry] = []
    rows = list(rows)
    columns = set(rows[0]) if rows else set()
    address_col = "address" if "address" in columns or not rows else "label"
    for col in (address_col, "lat", "lon"):
        if rows and col not in columns:
            found = ", ".join(sorted(c for c in columns if c)) or "(none)"
            issues.append(
                Issue(source, None, None, None, f"missing column '{col}'; found: {found}")
            )
    if issues:
        raise InputError(issues)
    for row_no, row in enumerate(rows, start=2):
        address = (row.get(address_col) or "").strip()
        if not address:
            continue
        try:
            lat, lon = float(row["lat"]), float(row["lon"])
        except (TypeError, ValueError):
            issues.append(
                Issue(
                    source,
                    row_no,
                    "lat",
                    f"{row.get('lat')},{row.get('lon')}",
                    "is not a pair of numbers; expected decimal degrees",
                )
            )
            continue
        try:
            system = CoordSystem.parse(row.get("coord_system") or "")
        except ValueError as err:
            issues.append(Issue(source, row_no, "coord_system", None, str(err)))
            continue
        try:
            point = to_wgs84(lat, lon, system)
        except ValueError:
            issues.append(
                Issue(
                    source,
                    row_no,
                    "lat",
                    f"{lat},{lon}",
                    "is out of range; expected lat -90..90, lon -180..180",
                )
            )
            continue
        raw_quality = (row.get("quality") or "").strip()
        if raw_quality:
            try:
                quality = Quality(raw_quality.casefold())
            except ValueError:
                options = ", ".join(q.value for q in Quality)
                issues.append(
                    Issue(
                        source,
                        row_no,
                        "quality",
                        raw_quality,
                        f"is unknown; expected one of: {options}",
                    )
                )
                continue
        else:
            quality = _quality_from_kind(row.get("kind") or "")
        name = (row.get("name") or "").strip()
        aliases = (name,) if name and name != address and quality is not Quality.STREET else ()
        entries.append(GazetteerEntry(address, point, quality, aliases))
    if issues:
        raise InputError(issues)
    return entries


def read_gazetteer(path: Path) -> GazetteerGeocoder:
    """Open a gazetteer CSV (UTF-8, an Excel BOM is fine) and index it.

    Raises
    ------
    InputError
        The file is missing or has bad rows.
    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError:
        problem = "gazetteer file not found; build one with 'fieldroute gazetteer build region.osm.pbf' or set [geocoder] gazetteer_path"
        raise InputError([Issue(str(path), None, None, None, problem)]) from None
    entries = parse_gazetteer(rows, path.name)
    logger.info("gazetteer %s: %d entries", path.name, len(entries))
    return GazetteerGeocoder(entries, name=f"gazetteer:{path.name}")


def write_gazetteer(entries: Iterable[GazetteerEntry], path: Path) -> int:
    """Write entries as ``address,lat,lon,quality`` (WGS-84, 7 decimals ~ 1 cm)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["address", "lat", "lon", "quality"])
        for e in entries:
            writer.writerow(
                [e.address, f"{e.point.lat:.7f}", f"{e.point.lon:.7f}", e.quality.value]
            )
            n += 1
    return n
