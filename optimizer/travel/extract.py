"""OSM extract readers: streets as lines (maps without tiles), address points, clipping.

Only osmium is used here; nothing in this module routes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optimizer.domain import GeoPoint
from optimizer.errors import RoadDataError
from optimizer.travel.prepare import check_osm_file

#: Highway values drawn as the base layer when a map has no tiles.
DRAWN_HIGHWAYS = frozenset(
    {
        "motorway", "trunk", "primary", "secondary", "tertiary", "unclassified",
        "residential", "living_street", "motorway_link", "trunk_link", "primary_link",
        "secondary_link", "tertiary_link", "service", "pedestrian",
    }
)  # fmt: skip


def road_lines(
    pbf_path: Path,
    bounds: tuple[GeoPoint, GeoPoint] | None = None,
    *,
    highways: frozenset[str] = DRAWN_HIGHWAYS,
) -> list[list[GeoPoint]]:
    """Streets of an OSM extract as polylines, for a map drawn without tiles.

    ``bounds`` (south-west, north-east) keeps only ways with a node inside it.
    """
    import osmium

    check_osm_file(pbf_path)
    lines: list[list[GeoPoint]] = []
    try:
        processor = (
            osmium.FileProcessor(str(pbf_path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for obj in processor:
            if not isinstance(obj, osmium.osm.Way) or obj.tags.get("highway") not in highways:
                continue
            pts = [
                GeoPoint(n.location.lat, n.location.lon) for n in obj.nodes if n.location.valid()
            ]
            if len(pts) >= 2 and (bounds is None or any(_inside(p, bounds) for p in pts)):
                lines.append(pts)
    except RuntimeError as err:
        msg = f"{pbf_path}: cannot read roads ({err})"
        raise RoadDataError(msg) from err
    return lines


def _inside(p: GeoPoint, bounds: tuple[GeoPoint, GeoPoint]) -> bool:
    sw, ne = bounds
    return sw.lat <= p.lat <= ne.lat and sw.lon <= p.lon <= ne.lon


def address_points(pbf_path: Path) -> list[GeoPoint]:
    """Locations of addressed objects (``addr:housenumber``) and buildings in an extract.

    Addresses come first, then buildings without an address; ways count at the mean of
    their nodes. Used to place realistic test and benchmark points.
    """
    import osmium

    check_osm_file(pbf_path)
    addressed: list[GeoPoint] = []
    buildings: list[GeoPoint] = []
    try:
        processor = osmium.FileProcessor(
            str(pbf_path), osmium.osm.NODE | osmium.osm.WAY
        ).with_locations()
        for obj in processor:
            tags = obj.tags
            has_address = "addr:housenumber" in tags
            if not has_address and "building" not in tags:
                continue
            point = _object_point(obj)
            if point is None:
                continue
            (addressed if has_address else buildings).append(point)
    except RuntimeError as err:
        msg = f"{pbf_path}: cannot read addresses ({err})"
        raise RoadDataError(msg) from err
    return addressed + buildings


def _object_point(obj: Any) -> GeoPoint | None:
    """A node's position or a way's centroid (to 1 cm); None for anything else."""
    import osmium

    if isinstance(obj, osmium.osm.Node):
        return GeoPoint(obj.location.lat, obj.location.lon)
    if isinstance(obj, osmium.osm.Way):
        locs = [n.location for n in obj.nodes if n.location.valid()]
        if locs:
            return GeoPoint(
                round(sum(x.lat for x in locs) / len(locs), 7),
                round(sum(x.lon for x in locs) / len(locs), 7),
            )
    return None


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address found in an OSM extract (``addr:*`` tags)."""

    street: str
    housenumber: str
    postcode: str
    city: str
    location: GeoPoint

    @property
    def label(self) -> str:
        place = " ".join(x for x in (self.postcode, self.city) if x)
        return f"{self.street} {self.housenumber}" + (f", {place}" if place else "")


def addresses(pbf_path: Path) -> list[Address]:
    """Every node or way with ``addr:street`` and ``addr:housenumber``, in file order."""
    import osmium

    check_osm_file(pbf_path)
    out: list[Address] = []
    try:
        processor = (
            osmium.FileProcessor(str(pbf_path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.KeyFilter("addr:housenumber"))
        )
        for obj in processor:
            tags = obj.tags
            if "addr:street" not in tags:
                continue
            point = _object_point(obj)
            if point is None:
                continue
            out.append(
                Address(
                    tags["addr:street"],
                    tags["addr:housenumber"],
                    tags.get("addr:postcode") or "",
                    tags.get("addr:city") or "",
                    point,
                )
            )
    except RuntimeError as err:
        msg = f"{pbf_path}: cannot read addresses ({err})"
        raise RoadDataError(msg) from err
    return out


def clip_extract(pbf_path: Path, out_path: Path, bounds: tuple[GeoPoint, GeoPoint]) -> Path:
    """Cut the streets of an extract to a box (a small test extract, a city of a country).

    Keeps every ``highway`` way with a node inside the box, whole (with all its nodes),
    so streets leaving the box still end somewhere. Everything else (buildings,
    addresses, relations such as turn restrictions) is left out.
    """
    import osmium

    check_osm_file(pbf_path)
    out_path.unlink(missing_ok=True)
    try:
        with osmium.BackReferenceWriter(str(out_path), ref_src=str(pbf_path)) as writer:
            processor = (
                osmium.FileProcessor(str(pbf_path), osmium.osm.NODE | osmium.osm.WAY)
                .with_locations()
                .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
                .with_filter(osmium.filter.KeyFilter("highway"))
            )
            for way in processor:
                if isinstance(way, osmium.osm.Way) and any(
                    n.location.valid() and _inside(GeoPoint(n.lat, n.lon), bounds)
                    for n in way.nodes
                ):
                    writer.add_way(way)
    except RuntimeError as err:
        msg = f"{pbf_path}: cannot cut to {bounds} ({err})"
        raise RoadDataError(msg) from err
    return out_path
