"""WGS-84 to the coordinate systems Chinese map apps use: GCJ-02 (AMap) and BD-09 (Baidu).

The plan holds WGS-84. AMap expects GCJ-02 and Baidu Maps BD-09; a WGS-84 point
given to them lands a few hundred metres off. The conversion is the published one, as
implemented by the ``prcoords`` library (the only module that imports it). Outside
mainland China GCJ-02 equals WGS-84, so such points are returned unchanged.
"""

from __future__ import annotations

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
