"""Build a gazetteer from an OpenStreetMap extract: the only pyosmium import.

``fieldroute gazetteer build region.osm.pbf`` reads, in one pass:

* addresses: nodes and ways with ``addr:housenumber`` + ``addr:street``, written as
  "Street 12, postcode town" (quality ``house_number``; a way's point is the mean of
  its nodes), and the object's name as a second row when it has one;
* named places: ``place=city/town`` (``city``), ``suburb/village/hamlet/...``
  (``district``);
* named points of interest (amenity, shop, tourism, office, craft, healthcare) as
  ``place``;
* named streets, as "Street, nearest town or suburb" at the way node nearest the
  middle of the street's ways there (``street``).

Data derived from OSM is under the ODbL: keep "© OpenStreetMap contributors" with it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import osmium

from optimizer.domain import GeoPoint
from optimizer.errors import InputError, Issue
from optimizer.geocoding.base import Quality
from optimizer.geocoding.gazetteer import AMBIGUOUS_M, GazetteerEntry

_POI_KEYS = ("amenity", "shop", "tourism", "office", "craft", "healthcare")
_CITY_PLACES = frozenset({"city", "town", "municipality"})
_DISTRICT_PLACES = frozenset(
    {"suburb", "quarter", "neighbourhood", "village", "hamlet", "locality", "borough"}
)
#: Places used to tell apart streets of one name in different towns.
_TOWN_PLACES = frozenset({"city", "town", "village", "suburb", "hamlet"})
_STREET_HIGHWAYS = frozenset(
    {
        "motorway",
        "trunk",
        "primary",
        "secondary",
        "tertiary",
        "unclassified",
        "residential",
        "living_street",
        "pedestrian",
        "service",
        "road",
        "primary_link",
        "secondary_link",
        "tertiary_link",
        "track",
        "footway",
        "steps",
    }
)


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build found, for the command's one-line summary."""

    addresses: int
    places: int
    pois: int
    streets: int
    skipped_duplicates: int

    @property
    def total(self) -> int:
        return self.addresses + self.places + self.pois + self.streets


def _mean(points: list[tuple[float, float]]) -> tuple[float, float]:
    return (
        sum(p[0] for p in points) / len(points),
        sum(p[1] for p in points) / len(points),
    )


def _dist2(a: tuple[float, float], b: tuple[float, float]) -> float:
    x = (b[1] - a[1]) * math.cos(math.radians((a[0] + b[0]) / 2))
    return x * x + (b[0] - a[0]) ** 2


def _way_points(way: osmium.osm.Way) -> list[tuple[float, float]]:
    pts = []
    for node in way.nodes:
        loc = node.location
        if loc.valid():
            pts.append((loc.lat, loc.lon))
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts.pop()  # a closed way repeats its first node
    return pts


def build_gazetteer(pbf: Path) -> tuple[list[GazetteerEntry], BuildReport]:
    """Read ``pbf`` and return the gazetteer entries it holds.

    Raises
    ------
    InputError
        The file is missing or is not an OSM extract pyosmium can read.
    """
    if not pbf.is_file():
        raise InputError(
            [Issue(str(pbf), None, None, None, "OSM extract not found; expected a .osm.pbf file")]
        )
    addresses: list[GazetteerEntry] = []
    places: list[GazetteerEntry] = []
    pois: list[GazetteerEntry] = []
    towns: list[tuple[str, tuple[float, float]]] = []
    town_parts: list[tuple[str, str]] = []  # (postcode, city) per address
    street_ways: list[tuple[str, list[tuple[float, float]]]] = []
    wanted = osmium.filter.KeyFilter("addr:housenumber", "place", "highway", *_POI_KEYS)
    try:
        processor = osmium.FileProcessor(str(pbf)).with_locations().with_filter(wanted)
        for obj in processor:
            # Multipolygon addresses are rare; nodes and ways cover most.
            if isinstance(obj, osmium.osm.Node):
                pts = [(obj.location.lat, obj.location.lon)]
            elif isinstance(obj, osmium.osm.Way):
                pts = _way_points(obj)
            else:
                continue
            if not pts:
                continue
            tags = obj.tags
            name = (tags.get("name") or "").strip()
            is_way = isinstance(obj, osmium.osm.Way)
            if is_way and name and tags.get("highway") in _STREET_HIGHWAYS:
                street_ways.append((name, pts))
                continue
            point = _mean(pts)
            number, street = tags.get("addr:housenumber"), tags.get("addr:street")
            if number and street:
                text = f"{street.strip()} {number.strip()}"
                postcode = tags.get("addr:postcode") or ""
                city = tags.get("addr:city") or ""
                aliases = (name,) if name else ()
                addresses.append(
                    GazetteerEntry(text, GeoPoint(*point), Quality.HOUSE_NUMBER, aliases)
                )
                town_parts.append((postcode.strip(), city.strip()))
                continue
            place = tags.get("place")
            if name and place in _CITY_PLACES | _DISTRICT_PLACES:
                quality = Quality.CITY if place in _CITY_PLACES else Quality.DISTRICT
                places.append(GazetteerEntry(name, GeoPoint(*point), quality))
                if place in _TOWN_PLACES:
                    towns.append((name, point))
                continue
            if name and any(k in tags for k in _POI_KEYS):
                pois.append(GazetteerEntry(name, GeoPoint(*point), Quality.PLACE))
    except RuntimeError as err:
        raise InputError(
            [Issue(str(pbf), None, None, None, f"cannot be read as an OSM extract ({err})")]
        ) from None

    streets = _streets(street_ways, towns)
    entries: list[GazetteerEntry] = []
    for entry, (postcode, city) in zip(addresses, town_parts, strict=True):
        # Without addr:city, the nearest town keeps "Landstrasse 5" in Schaan from
        # answering "Landstrasse 5, Vaduz".
        city = city or _nearest_town(towns, (entry.point.lat, entry.point.lon))
        town = f"{postcode} {city}".strip()
        text = f"{entry.address}, {town}" if town else entry.address
        entries.append(GazetteerEntry(text, entry.point, entry.quality))
        entries.extend(GazetteerEntry(a, entry.point, Quality.PLACE) for a in entry.aliases)
    entries += places + pois + streets
    unique, skipped = _drop_near_duplicates(entries)
    report = BuildReport(len(addresses), len(places), len(pois), len(streets), skipped)
    return unique, report


def _nearest_town(towns: list[tuple[str, tuple[float, float]]], p: tuple[float, float]) -> str:
    return min(towns, key=lambda t: _dist2(t[1], p))[0] if towns else ""


def _streets(
    ways: list[tuple[str, list[tuple[float, float]]]],
    towns: list[tuple[str, tuple[float, float]]],
) -> list[GazetteerEntry]:
    groups: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for name, pts in ways:
        town = _nearest_town(towns, pts[len(pts) // 2])
        groups[(name, town)].extend(pts)
    out = []
    for (name, town), pts in sorted(groups.items()):
        centre = _mean(pts)
        nearest = min(pts, key=lambda p: _dist2(p, centre))  # a point on the street
        text = f"{name}, {town}" if town else name
        out.append(GazetteerEntry(text, GeoPoint(*nearest), Quality.STREET))
    return out


def _drop_near_duplicates(entries: list[GazetteerEntry]) -> tuple[list[GazetteerEntry], int]:
    """One row per (text, spot): a shop mapped as node and building is one place."""
    seen: dict[str, list[GeoPoint]] = defaultdict(list)
    out, skipped = [], 0
    limit2 = (AMBIGUOUS_M / 111_000) ** 2
    for e in entries:
        key = e.address.casefold()
        p = (e.point.lat, e.point.lon)
        if any(_dist2((q.lat, q.lon), p) < limit2 for q in seen[key]):
            skipped += 1
            continue
        seen[key].append(e.point)
        out.append(e)
    return out, skipped
