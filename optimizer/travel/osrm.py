"""Road data: OSRM preparation and an in-process OSRM travel provider.

This is the only module that imports ``osrm`` (osrm-bindings) and ``osmium``.

Preparation (:func:`build_roads`) runs the ``osrm-extract`` and ``osrm-contract`` tools
shipped inside the osrm-bindings wheel (``osrm/bin/``) with the wheel's own car, bicycle
and foot profiles, and leaves ``<out_dir>/<profile>/<stem>.osrm*`` plus a ``build.json``
stamp naming the source file's SHA-256, so stale data is rebuilt and fresh data is not.
Contraction hierarchies (CH) are used because they answer many-to-many tables fastest.

Travel (:class:`OsrmProvider`) asks OSRM's Table service for durations and distances and
its Route service for route lines, in-process (no server). Agent modes map to profiles:

====== ============================================================================
car    OSRM ``car``
ebike  OSRM ``bicycle``, durations divided by ``ebike_speed_factor`` (the profile
       rides at 15 km/h; an e-bike at ~20 km/h is a factor of 1.3)
walk   OSRM ``foot``
transit straight-line estimate with a per-trip overhead (no timetable data offline)
====== ============================================================================

A mode whose profile has no prepared data also falls back to the straight-line model,
and :meth:`OsrmProvider.describe` says so. A point whose nearest road is further than
``snap_limit_m`` away, or that no route connects to the other points, is reported in
:attr:`TravelMatrix.unreachable` with a reason instead of being planned on a wrong time.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from optimizer.domain import GeoPoint, Mode
from optimizer.errors import RoadDataError
from optimizer.travel.base import (
    DEFAULT_EBIKE_SPEED_FACTOR,
    DEFAULT_SNAP_LIMIT_M,
    MATRIX_DTYPE,
    MODE_BY_PROFILE,
    MODE_PROFILES,
    ROAD_PROFILES,
    TravelMatrix,
)
from optimizer.travel.prepare import check_roads_folder, osrm_version
from optimizer.travel.straight import SAME_PLACE_M, StraightLineModel, haversine_m

logger = logging.getLogger(__name__)

#: Speed of the access leg between a door and the point where OSRM meets the road
#: (the snap distance), added at both ends of every road leg. It is walked for every
#: mode: a car or an e-bike stays where the road is (what lies between road and door
#: is a yard, a footpath the profile does not route, a building), and a walking agent
#: walks it anyway. 5 km/h is the walking speed of OSRM's own foot profile.
ACCESS_WALK_KMH = 5.0


# --------------------------------------------------------------------------- tools


# ----------------------------------------------------------------- checking input


# ------------------------------------------------------------------- preparation


# ---------------------------------------------------------------------- travel


FloatMatrix = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Snap:
    """Where OSRM placed a point on its road network, and how far it moved it."""

    location: GeoPoint
    distance_m: float


class OsrmProvider:
    """Travel matrices and route lines from prepared OSRM data, in-process.

    Parameters
    ----------
    datasets
        Prepared data per profile (``{"car": Path("roads/car/x.osrm"), ...}``), as
        returned by :func:`build_roads` / :func:`ensure_roads`.
    snap_limit_m
        A point whose nearest road (for the mode's profile) is further away than this
        is unreachable, with reason ``no road within N m of the given coordinates``.
    ebike_speed_factor
        E-bike speed relative to the bicycle profile's (durations are divided by it).
    fallback
        Straight-line model for transit, for modes without prepared data, and to fill
        the (unused) entries of pairs OSRM cannot route.
    """

    __slots__ = ("_engines", "_used", "datasets", "ebike_speed_factor", "fallback", "snap_limit_m")

    def __init__(
        self,
        datasets: Mapping[str, Path],
        *,
        snap_limit_m: float = DEFAULT_SNAP_LIMIT_M,
        ebike_speed_factor: float = DEFAULT_EBIKE_SPEED_FACTOR,
        fallback: StraightLineModel | None = None,
    ) -> None:
        unknown = sorted(set(datasets) - set(ROAD_PROFILES))
        if unknown:
            msg = f"road profile {unknown[0]!r} is unknown; options are: {', '.join(ROAD_PROFILES)}"
            raise RoadDataError(msg)
        if not datasets:
            msg = "no road data given; expected at least one prepared profile"
            raise RoadDataError(msg)
        for profile, base in datasets.items():
            check_roads_folder(Path(base).parent)
            if not Path(f"{base}.hsgr").is_file():
                msg = (
                    f"{base}: no prepared {profile} road data (expected {base}.hsgr); "
                    "run: fieldroute roads build <extract.osm.pbf>"
                )
                raise RoadDataError(msg)
        if not snap_limit_m > 0:
            msg = f"Expected a positive snap limit, got {snap_limit_m}."
            raise ValueError(msg)
        if not 0.2 <= ebike_speed_factor <= 5.0:
            msg = f"Expected an e-bike speed factor in [0.2, 5], got {ebike_speed_factor}."
            raise ValueError(msg)
        self.datasets = {p: Path(b) for p, b in datasets.items()}
        self.snap_limit_m = float(snap_limit_m)
        self.ebike_speed_factor = float(ebike_speed_factor)
        self.fallback = fallback or StraightLineModel()
        self._engines: dict[str, Any] = {}
        self._used: set[Mode] = set()  # modes asked for, so describe() names only those

    # -- which model serves a mode

    def profile_for(self, mode: Mode) -> str | None:
        """The OSRM profile used for ``mode``, or None for the straight-line model."""
        profile = MODE_PROFILES[mode]
        return profile if profile in self.datasets else None

    def _speed_factor(self, mode: Mode) -> float:
        return self.ebike_speed_factor if mode is Mode.EBIKE else 1.0

    def raw_table(self, points: Sequence[GeoPoint], profile: str) -> None:
        """One bare Table request, durations and distances: what ``make bench`` times
        to tell OSRM's own cost from the matrix assembly around it."""
        import osrm

        params = osrm.TableParameters(
            coordinates=[(p.lon, p.lat) for p in points],
            annotations=["duration", "distance"],
            generate_hints=False,
        )
        self._engine(profile).Table(params)

    def _engine(self, profile: str) -> Any:
        engine = self._engines.get(profile)
        if engine is None:
            import osrm

            try:
                engine = osrm.OSRM(
                    storage_config=str(self.datasets[profile]),
                    algorithm="CH",
                    use_shared_memory=False,
                    max_locations_distance_table=100_000,
                    max_locations_viaroute=100_000,
                    max_results_nearest=1,
                )
            except RuntimeError as err:
                msg = f"{self.datasets[profile]}: cannot load {profile} road data ({err})"
                raise RoadDataError(msg) from err
            self._engines[profile] = engine
        return engine

    def load(self) -> None:
        """Load every profile now (otherwise each loads on first use)."""
        for profile in self.datasets:
            self._engine(profile)

    # -- TravelProvider

    def matrix(self, points: Sequence[GeoPoint], mode: Mode) -> TravelMatrix:
        """Road travel seconds and metres over ``points`` for ``mode``.

        Door to door: OSRM's road time and distance between the snapped points plus the
        walked access leg at each end (:data:`ACCESS_WALK_KMH`), so an arrival time holds
        at the door and no leg is shorter than the straight line between the doors.
        Seconds are rounded up, metres to the nearest metre; the same place is zero.
        """
        self._used.add(mode)
        profile = self.profile_for(mode)
        if profile is None or len(points) == 0:
            return self.fallback.matrix(points, mode)
        durations, distances, snaps = self._table(profile, points)
        unreachable = self._unreachable(profile, snaps, durations)
        missing = ~np.isfinite(durations) | ~np.isfinite(distances)
        if missing.any():
            # Only pairs touching an unreachable point are missing; the solver never
            # uses them, but it needs finite numbers everywhere.
            straight = self.fallback.matrix(points, mode)
            durations = np.where(missing, straight.seconds, durations)
            distances = np.where(missing, straight.metres, distances)
        road_s = durations / self._speed_factor(mode)
        # OSRM times the road between the two snapped points; the way from each door to
        # its road point is walked (see ACCESS_WALK_KMH), at both ends of every leg.
        access_m = np.array([s.distance_m for s in snaps], dtype=np.float64)
        access = np.where(missing, 0.0, access_m[:, None] + access_m[None, :])
        seconds_f = road_s + access / (ACCESS_WALK_KMH / 3.6)
        seconds = np.ceil(seconds_f - 1e-9).astype(MATRIX_DTYPE)
        metres = np.rint(distances + access).astype(MATRIX_DTYPE)
        # The same door twice (an agent's start and end, two visits at one address):
        # nobody walks out to the road and back.
        same = _same_place(points)
        seconds[same] = 0
        metres[same] = 0
        return TravelMatrix(seconds=seconds, metres=metres, unreachable=unreachable)

    def snaps(self, points: Sequence[GeoPoint], mode: Mode) -> list[Snap] | None:
        """Where each point meets the mode's roads (Nearest); None for straight-line modes."""
        profile = self.profile_for(mode)
        if profile is None:
            return None
        import osrm

        engine = self._engine(profile)
        out = []
        for p in points:
            params = osrm.NearestParameters(coordinates=[(p.lon, p.lat)], generate_hints=False)
            try:
                result = engine.Nearest(params)
            except RuntimeError as err:
                msg = f"OSRM nearest ({profile}) failed for {p}: {err}"
                raise RoadDataError(msg) from err
            out.append(_snap(result["waypoints"][0]))
        return out

    def _table(
        self, profile: str, points: Sequence[GeoPoint]
    ) -> tuple[FloatMatrix, FloatMatrix, list[Snap]]:
        import osrm

        if len(points) == 1:  # OSRM's table wants two or more coordinates
            snaps = self.snaps(points, MODE_BY_PROFILE[profile]) or []
            return np.zeros((1, 1)), np.zeros((1, 1)), snaps
        params = osrm.TableParameters(
            coordinates=[(p.lon, p.lat) for p in points],
            annotations=["duration", "distance"],
            generate_hints=False,
        )
        try:
            result = self._engine(profile).Table(params)
        except RuntimeError as err:
            msg = f"OSRM table ({profile}, {len(points)} points) failed: {err}"
            raise RoadDataError(msg) from err
        snaps = [_snap(w) for w in result["sources"]]
        return _to_array(result["durations"]), _to_array(result["distances"]), snaps

    def _unreachable(
        self, profile: str, snaps: Sequence[Snap], durations: FloatMatrix
    ) -> dict[int, str]:
        reasons: dict[int, str] = {}
        limit = self.snap_limit_m
        for i, snap in enumerate(snaps):
            if snap.distance_m > limit:
                reasons[i] = (
                    f"no road within {int(snap.distance_m)} m of the given coordinates "
                    f"({profile} road data; the limit is {limit:g} m)"
                )
        # Pairs OSRM cannot route (islands, private or one-way-only access): drop the
        # points that miss most connections until the rest are all connected.
        missing = ~np.isfinite(durations)
        for i in reasons:
            missing[i, :] = False
            missing[:, i] = False
        n = len(snaps)
        while missing.any():
            counts = missing.sum(axis=0) + missing.sum(axis=1)
            worst = int(np.argmax(counts))
            others = n - 1 - len(reasons)
            reasons[worst] = (
                f"no {profile} route to or from {int(counts[worst])} connections with "
                f"the {others} other points (the roads here are not connected)"
            )
            missing[worst, :] = False
            missing[:, worst] = False
        return reasons

    def route_geometry(self, points: Sequence[GeoPoint], mode: Mode) -> list[GeoPoint]:
        """The line along the roads through ``points`` in order (Route service).

        Straight segments for straight-line modes and for legs OSRM cannot route.
        The line begins and ends at the given points, not at their snapped positions.
        """
        profile = self.profile_for(mode)
        if profile is None or len(points) < 2:
            return list(points)
        line = self._route(profile, points)
        if line is None:  # some leg has no route: do it leg by leg
            line = []
            for a, b in itertools.pairwise(points):
                leg = self._route(profile, [a, b]) or [a, b]
                line.extend(leg if not line else leg[1:])
        return [points[0], *line, points[-1]]

    def _route(self, profile: str, points: Sequence[GeoPoint]) -> list[GeoPoint] | None:
        import osrm

        params = osrm.RouteParameters(
            coordinates=[(p.lon, p.lat) for p in points],
            geometries="geojson",
            overview="full",
            generate_hints=False,
        )
        try:
            result = self._engine(profile).Route(params)
        except RuntimeError as err:
            logger.debug("OSRM route (%s) failed: %s", profile, err)
            return None
        coords = result["routes"][0]["geometry"]["coordinates"]
        return [GeoPoint(float(c[1]), float(c[0])) for c in coords]

    def describe(self) -> dict[str, Any]:
        """plan.json's ``travel`` block: OSRM profiles, and any straight-line modes.

        ``note`` says in words what the times rest on; when a mode that was used (or
        any mode, before the first matrix) falls back to straight lines, it says so.
        """
        modes: dict[str, Any] = {}
        straight: list[str] = []
        used = self._used or set(Mode)
        for mode in Mode:
            profile = self.profile_for(mode)
            if profile is None:
                modes[mode.value] = {
                    "model": "straight-line",
                    "note": "travel times estimated from straight-line distances",
                }
                if mode in used:
                    straight.append(mode.value)
            else:
                entry: dict[str, Any] = {"model": "osrm", "profile": profile}
                if self._speed_factor(mode) != 1.0:
                    entry["speed_factor"] = self._speed_factor(mode)
                modes[mode.value] = entry
        profiles = sorted({p for m in used if (p := self.profile_for(m)) is not None})
        note = "travel times from OpenStreetMap roads (OSRM " + (", ".join(profiles) or "-")
        note += " profile" + ("s" if len(profiles) != 1 else "") + ")"
        if straight:
            note += (
                f"; travel times for {', '.join(straight)} estimated from straight-line distances"
            )
        return {
            "model": "osrm",
            "note": note,
            # Names only: a plan folder must not carry paths of the machine it was made on.
            "profiles": {
                p: f"{Path(b).parent.name}/{Path(b).name}" for p, b in sorted(self.datasets.items())
            },
            "osrm_bindings": osrm_version(),
            "snap_limit_m": self.snap_limit_m,
            "access_leg": {
                "speed_kmh": ACCESS_WALK_KMH,
                "note": "door to road point (snap distance) walked at both ends of every road leg",
            },
            "modes": modes,
            "straight_line": self.fallback.describe(),
        }


def _same_place(points: Sequence[GeoPoint]) -> npt.NDArray[np.bool_]:
    """Pairs of points at the very same place (the diagonal included)."""
    coords = np.array([(p.lat, p.lon) for p in points], dtype=np.float64)
    return np.asarray(haversine_m(coords, coords) <= SAME_PLACE_M, dtype=np.bool_)


def _snap(waypoint: Any) -> Snap:
    lon, lat = waypoint["location"]
    return Snap(GeoPoint(float(lat), float(lon)), float(waypoint["distance"]))


def _to_array(rows: Any) -> FloatMatrix:
    """osrm.Array of rows -> float matrix; OSRM's null (no route) becomes NaN."""
    n = len(rows)
    try:
        # One pass over the wrapper objects: the fastest way the bindings allow.
        flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.float64)
    except TypeError:  # a null somewhere: go row by row, None -> NaN
        return np.array([list(row) for row in rows], dtype=np.float64).reshape(n, -1)
    return flat.reshape(n, -1)


# --------------------------------------------------------------- roads as lines
