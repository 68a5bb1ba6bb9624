"""Straight-line travel estimates: great-circle distance, overhead plus seconds per km per mode.

The offline default provider; every output that rests on it says so."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from optimizer.domain import GeoPoint, Mode
from optimizer.travel.base import MATRIX_DTYPE, TravelMatrix

EARTH_RADIUS_M = 6_371_008.8


#: A trip's fixed overhead above two hours is a typo, and would overflow the matrices.
MAX_OVERHEAD_S = 7200


@dataclass(frozen=True, slots=True)
class ModeProfile:
    """Straight-line estimate for one mode: ``overhead_s + s_per_km x great-circle km``.

    ``overhead_s`` is a fixed cost per trip (parking, getting in and out, waiting for
    transit); it is not charged for staying at the same point. ``s_per_km`` is seconds
    per great-circle kilometre, so the road detour is already inside it.
    """

    s_per_km: float
    overhead_s: int = 0

    def __post_init__(self) -> None:
        if not 10.0 <= self.s_per_km <= 7200.0:
            msg = f"Expected 10 to 7200 seconds per km (360 to 0.5 km/h), got {self.s_per_km}."
            raise ValueError(msg)
        if not 0 <= self.overhead_s <= MAX_OVERHEAD_S:
            msg = f"Expected a non-negative overhead of at most {MAX_OVERHEAD_S} s, got {self.overhead_s} s."
            raise ValueError(msg)

    @classmethod
    def from_speed(
        cls, speed_kmh: float, overhead_s: int = 0, detour_factor: float = 1.0
    ) -> ModeProfile:
        """The older form: road km (great-circle km x detour) at ``speed_kmh``."""
        if not 0 < speed_kmh <= 200:
            msg = f"Expected a speed in (0, 200] km/h, got {speed_kmh}."
            raise ValueError(msg)
        return cls(3600.0 * detour_factor / speed_kmh, overhead_s)

    @property
    def speed_kmh(self) -> float:
        """Equivalent speed along the straight line (km/h), overhead left out."""
        return 3600.0 / self.s_per_km


#: Calibrated against OSRM (car, bicycle and foot profiles) on address-to-address
#: trips in three OSM extracts: Liechtenstein, Monaco and central Helsinki (400
#: addresses each, all pairs; median absolute percentage error minimised over the
#: pooled pairs; see optimizer/bench_roads.py and docs/roads.md). The e-bike rides
#: the bicycle profile sped up by the default e-bike factor 1.3. Transit is not
#: measured (no timetables offline): 10 minutes to reach a stop and wait, then 20
#: km/h along the straight line.
DEFAULT_PROFILES: Mapping[Mode, ModeProfile] = {
    Mode.CAR: ModeProfile(91.0, overhead_s=125),
    Mode.EBIKE: ModeProfile(227.0, overhead_s=170),
    Mode.WALK: ModeProfile(868.0, overhead_s=20),
    Mode.TRANSIT: ModeProfile(180.0, overhead_s=600),
}


#: Cells per band of rows while filling a matrix: 32 MB per float64 temporary, and
#: days up to 2,000 points in one band (the same arithmetic as one whole matrix).
BAND_CELLS = 4_000_000


#: Points closer than this are the same place: no trip, no overhead.
SAME_PLACE_M = 1.0


#: Road metres per great-circle metre (median over the same car trips); only the
#: distance matrix uses it, travel times do not.
DEFAULT_DETOUR_FACTOR = 1.3


def _unit_vectors(points: npt.ArrayLike) -> npt.NDArray[np.float64]:
    p = np.radians(np.asarray(points, dtype=np.float64).reshape(-1, 2))
    cos_lat = np.cos(p[:, 0])
    return np.column_stack([cos_lat * np.cos(p[:, 1]), cos_lat * np.sin(p[:, 1]), np.sin(p[:, 0])])


def haversine_m(a: npt.ArrayLike, b: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Great-circle metres between every row of ``a`` and every row of ``b``.

    ``a`` is (n, 2) and ``b`` is (m, 2) arrays of (lat, lon) degrees; result is (n, m).
    Computed from the chord between unit vectors, whose squared length is one matrix
    product: ten times faster than the textbook haversine on 2,000 points and within
    0.2 m of it.
    """
    ua, ub = _unit_vectors(a), _unit_vectors(b)
    chord_sq = (ua**2).sum(axis=1)[:, None] + (ub**2).sum(axis=1)[None, :] - 2.0 * (ua @ ub.T)
    chord = np.sqrt(np.clip(chord_sq, 0.0, 4.0))
    return np.asarray(2.0 * EARTH_RADIUS_M * np.arcsin(chord / 2.0), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class StraightLineModel:
    """Travel time ``overhead + s_per_km x great-circle km`` per mode.

    Distances are great-circle metres times ``detour_factor``. Travel seconds are
    rounded UP so that a plan that is feasible in whole seconds is feasible in real
    time too. Every output that rests on it says "travel times estimated from
    straight-line distances".
    """

    detour_factor: float = DEFAULT_DETOUR_FACTOR
    profiles: Mapping[Mode, ModeProfile] = field(default_factory=lambda: dict(DEFAULT_PROFILES))

    def __post_init__(self) -> None:
        if not 1.0 <= self.detour_factor <= 5.0:
            msg = f"Expected a detour factor in [1, 5], got {self.detour_factor}."
            raise ValueError(msg)

    def matrix(self, points: Sequence[GeoPoint], mode: Mode) -> TravelMatrix:
        """Matrices filled a band of rows at a time, straight into int32.

        Whole, the float64 steps would take six times the room of the result (1.2 GB
        of temporaries at 5,000 points); a band of :data:`BAND_CELLS` cells bounds them.
        """
        profile = self.profiles[mode]
        coords = np.array([(p.lat, p.lon) for p in points], dtype=np.float64)
        n = len(coords)
        seconds = np.empty((n, n), dtype=MATRIX_DTYPE)
        metres = np.empty((n, n), dtype=MATRIX_DTYPE)
        rows = max(1, BAND_CELLS // max(n, 1))
        for lo in range(0, n, rows):
            hi = min(n, lo + rows)
            diagonal = (np.arange(hi - lo), np.arange(lo, hi))
            great_circle_m = haversine_m(coords[lo:hi], coords)
            great_circle_m[diagonal] = 0.0
            seconds_f = profile.s_per_km * great_circle_m / 1000.0
            # A trip costs the overhead; staying put (the same point, to rounding) does not.
            seconds_f += np.where(great_circle_m > SAME_PLACE_M, profile.overhead_s, 0)
            band = np.ceil(seconds_f - 1e-9)
            band[diagonal] = 0
            seconds[lo:hi] = band
            metres[lo:hi] = np.rint(great_circle_m * self.detour_factor)
        return TravelMatrix(seconds=seconds, metres=metres)

    def describe(self) -> dict[str, Any]:
        return {
            "model": "straight-line",
            "note": "travel times estimated from straight-line distances",
            "formula": "overhead_s + s_per_km x great-circle km",
            "detour_factor": self.detour_factor,
            "s_per_km": {m.value: p.s_per_km for m, p in self.profiles.items()},
            "overhead_s": {m.value: p.overhead_s for m, p in self.profiles.items()},
            "speeds_kmh": {m.value: round(p.speed_kmh, 1) for m, p in self.profiles.items()},
        }

    def route_geometry(self, points: Sequence[GeoPoint], mode: Mode) -> list[GeoPoint]:
        """Straight segments: this model knows no roads."""
        return list(points)
