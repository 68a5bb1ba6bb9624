"""Map tile providers and the datum their tiles are drawn in (pure, no folium).

OSM and Tianditu tiles are WGS-84; AMap/Gaode tiles are GCJ-02, so every overlay
(markers, route lines, streets) must be shifted with :meth:`TileProvider.shift` before
it is drawn on them (:func:`optimizer.datums.wgs84_to_gcj02`). Outside China GCJ-02
equals WGS-84 and the shift does nothing.
``none`` draws no tiles (the streets of the OSM extract are drawn instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from optimizer.datums import wgs84_to_gcj02
from optimizer.domain import GeoPoint

__all__ = [
    "GCJ02",
    "OSM_ATTRIBUTION",
    "TILE_PROVIDERS",
    "WGS84",
    "TileProvider",
    "tile_provider",
    "wgs84_to_gcj02",
]

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
