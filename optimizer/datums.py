"""WGS-84, GCJ-02 (AMap, Tencent) and BD-09 (Baidu): one place for China's map datums.

Inside the product every point is WGS-84. Maps in mainland China publish shifted
coordinates by law: GCJ-02 and Baidu's BD-09 on top of it (0.3-1.4 km in the big cities).
Inputs flagged gcj02/bd09 and answers from Baidu/AMap are converted to WGS-84 once, before
they become a GeoPoint; links for Chinese map apps are converted back at the edge. The
conversion is the published one as implemented by prcoords (CC0; the only module that
imports it), whose fixed-point inverse is accurate to about 0.1 mm. Outside mainland
China both systems equal WGS-84, so such points pass through unchanged.
"""

from __future__ import annotations

from enum import StrEnum

import prcoords

from optimizer.domain import GeoPoint


def in_china(p: GeoPoint) -> bool:
    """Whether GCJ-02 shifts this point (prcoords' rough mainland bounding test)."""
    return bool(prcoords.sanity_in_china_p(prcoords.Coords(p.lat, p.lon)))


def wgs84_to_gcj02(p: GeoPoint) -> GeoPoint:
    """GCJ-02 ("Mars") coordinates for a WGS-84 point, as AMap and Tencent use."""
    if not in_china(p):
        return p
    c = prcoords.wgs_gcj(prcoords.Coords(p.lat, p.lon), False)
    return GeoPoint(c.lat, c.lon)


def wgs84_to_bd09(p: GeoPoint) -> GeoPoint:
    """BD-09 coordinates for a WGS-84 point (GCJ-02, then Baidu's own offset)."""
    if not in_china(p):
        return p
    c = prcoords.gcj_bd(prcoords.wgs_gcj(prcoords.Coords(p.lat, p.lon), False))
    return GeoPoint(c.lat, c.lon)


def gcj02_to_wgs84(p: GeoPoint) -> GeoPoint:
    """The WGS-84 point whose GCJ-02 is ``p`` (AMap answers, ``coord_system=gcj02``).

    prcoords' fixed-point inverse ("caijun 2014"): about 0.1 mm, well under the 0.1 m
    the geocoding tests hold it to.
    """
    if not in_china(p):
        return p
    c = prcoords.gcj_wgs_bored(prcoords.Coords(p.lat, p.lon))
    return GeoPoint(c.lat, c.lon)


def bd09_to_wgs84(p: GeoPoint) -> GeoPoint:
    """The WGS-84 point whose BD-09 is ``p`` (Baidu answers, ``coord_system=bd09``)."""
    if not in_china(p):
        return p
    c = prcoords.bd_wgs_bored(prcoords.Coords(p.lat, p.lon))
    return GeoPoint(c.lat, c.lon)


class CoordSystem(StrEnum):
    """The datum of a pair of coordinates."""

    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"

    @classmethod
    def parse(cls, text: str) -> CoordSystem:
        """Read ``wgs84``, ``gcj02`` or ``bd09`` (case, ``-`` and a ``ll`` suffix ignored).

        Raises
        ------
        ValueError
            Any other name; the message lists the options.
        """
        key = text.strip().casefold().replace("-", "").replace("_", "")
        key = key.removesuffix("ll")  # Baidu's own names: bd09ll, gcj02ll
        if key == "":
            return cls.WGS84
        try:
            return cls(key)
        except ValueError:
            options = ", ".join(c.value for c in cls)
            msg = f"unknown coordinate system {text!r}; expected one of: {options}"
            raise ValueError(msg) from None


def to_wgs84(lat: float, lon: float, system: CoordSystem) -> GeoPoint:
    """A point given in ``system`` as a WGS-84 :class:`GeoPoint`.

    Raises
    ------
    ValueError
        The coordinates are out of range.
    """
    point = GeoPoint(lat, lon)
    if system is CoordSystem.GCJ02:
        return gcj02_to_wgs84(point)
    if system is CoordSystem.BD09:
        return bd09_to_wgs84(point)
    return point
