"""Map tile providers and the datum their tiles are drawn in (pure, no folium).

OSM and Tianditu tiles are WGS-84; AMap/Gaode tiles are GCJ-02, so every overlay
(markers, route lines, streets) must be shifted with :meth:`TileProvider.shift` before
it is drawn on them. Outside China GCJ-02 equals WGS-84 and the shift does nothing.
``none`` draws no tiles (the streets of the OSM extract are drawn instead).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from optimizer.domain import GeoPoint

OSM_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)
WGS84 = "WGS-84"
GCJ02 = "GCJ-02"


@dataclass(frozen=True, slots=True)
class TileProvider:
    """A tile source and the datum its tiles are drawn in.

    ``url`` is a Leaflet URL template (``{s}``, ``{z}``, ``{x}``, ``{y}``; ``{key}`` is
    replaced by the API key); None means no tiles.
    """

    name: str
    url: str | None
    attribution: str
    crs: str = WGS84
    subdomains: str = "abc"
    max_zoom: int = 19
    needs_key: bool = False
    #: Second layer drawn over the tiles (Tianditu's labels).
    labels_url: str | None = None

    def shift(self, point: GeoPoint) -> GeoPoint:
        """Where a WGS-84 point must be drawn on these tiles."""
        if self.crs == GCJ02:
            return wgs84_to_gcj02(point)
        return point

    def shift_all(self, points: Sequence[GeoPoint]) -> list[GeoPoint]:
        return [self.shift(p) for p in points]


_TIANDITU = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
    "&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}"
)
_AMAP = TileProvider(
    name="amap",
    url=(
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
        "&style=8&x={x}&y={y}&z={z}"
    ),
    attribution="&copy; AutoNavi (高德地图)",
    crs=GCJ02,
    subdomains="1234",
    max_zoom=18,
)

TILE_PROVIDERS: dict[str, TileProvider] = {
    "osm": TileProvider(
        name="osm",
        url="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        attribution=OSM_ATTRIBUTION,
        subdomains="",
    ),
    "tianditu": TileProvider(
        name="tianditu",
        url=_TIANDITU.replace("{layer}", "vec"),
        labels_url=_TIANDITU.replace("{layer}", "cva"),
        attribution="&copy; 天地图 Tianditu",
        subdomains="01234567",
        max_zoom=18,
        needs_key=True,
    ),
    "amap": _AMAP,
    "gaode": _AMAP,
    "none": TileProvider(name="none", url=None, attribution=OSM_ATTRIBUTION),
}


def tile_provider(name: str) -> TileProvider:
    """Look a provider up by its ``[maps] tiles`` name.

    Raises
    ------
    ValueError
        For an unknown name, listing the known ones.
    """
    try:
        return TILE_PROVIDERS[name]
    except KeyError:
        msg = f"tile provider {name!r} is unknown; options are: {', '.join(TILE_PROVIDERS)}"
        raise ValueError(msg) from None


# ------------------------------------------------------------------ GCJ-02

_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323


def in_china(point: GeoPoint) -> bool:
    """Rough mainland-China box where GCJ-02 differs from WGS-84."""
    return 73.66 < point.lon < 135.05 and 3.86 < point.lat < 53.55


def wgs84_to_gcj02(point: GeoPoint) -> GeoPoint:
    """WGS-84 to GCJ-02 (the obfuscated datum of AMap/Gaode and Tencent tiles).

    The published forward formula; its error is under a metre. Outside China the
    point is returned unchanged.
    """
    if not in_china(point):
        return point
    x, y = point.lon - 105.0, point.lat - 35.0
    dlat = _gcj_lat(x, y)
    dlon = _gcj_lon(x, y)
    radlat = math.radians(point.lat)
    magic = 1 - _GCJ_EE * math.sin(radlat) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1 - _GCJ_EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrt_magic * math.cos(radlat) * math.pi)
    return GeoPoint(point.lat + dlat, point.lon + dlon)


def _gcj_lat(x: float, y: float) -> float:
    pi = math.pi
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * pi) + 20.0 * math.sin(2.0 * x * pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * pi) + 40.0 * math.sin(y / 3.0 * pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * pi) + 320 * math.sin(y * pi / 30.0)) * 2.0 / 3.0
    return ret


def _gcj_lon(x: float, y: float) -> float:
    pi = math.pi
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * pi) + 20.0 * math.sin(2.0 * x * pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * pi) + 40.0 * math.sin(x / 3.0 * pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * pi) + 300.0 * math.sin(x / 30.0 * pi)) * 2.0 / 3.0
    return ret
