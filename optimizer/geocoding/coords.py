"""China's coordinate systems, converted at the boundary.

Inside the product every point is WGS-84. Maps in mainland China publish shifted
coordinates by law: GCJ-02 ("Mars coordinates", AMap, Tencent) and Baidu's BD-09 on
top of it; the shift is 0.3-0.7 km for GCJ-02 and 0.5-1.4 km for BD-09 in the big
cities. Answers from Baidu and AMap, and input columns flagged ``gcj02``/``bd09``,
are converted here, once, before they become a :class:`GeoPoint`.

Converter: `prcoords <https://github.com/Artoria2e5/PRCoords>`_ (through
:mod:`optimizer.coords`, the one module that imports it) rather than eviltransform. Both are small pure-Python ports of the same published algorithm;
prcoords keeps its published constants (Krasovsky 1940 ``a = 6378245``), where
eviltransform swaps in the WGS-84 radius, and its inverse is the fixed-point
("caijun 2014") iteration accurate to about 0.1 mm, where eviltransform's bisection
stops at 1e-6 degrees (about 0.1 m). It is CC0, so it adds no licence terms.

Outside mainland China both systems equal WGS-84 (the providers answer in WGS-84
there), so points outside the published rectangle pass through unchanged.
"""

from __future__ import annotations

from enum import StrEnum

from optimizer import coords as _prc
from optimizer.domain import GeoPoint


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
        return _prc.gcj02_to_wgs84(point)
    if system is CoordSystem.BD09:
        return _prc.bd09_to_wgs84(point)
    return point
