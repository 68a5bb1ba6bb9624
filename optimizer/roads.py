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

import bz2
import contextlib
import hashlib
import itertools
import json
import logging
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from optimizer.domain import GeoPoint, Mode
from optimizer.errors import RoadDataError
from optimizer.travel import StraightLineModel, TravelMatrix

logger = logging.getLogger(__name__)

#: OSRM profiles that ship with osrm-bindings and that FieldRoute prepares.
ROAD_PROFILES = ("car", "bicycle", "foot")

#: Which OSRM profile serves each agent mode; None means straight-line estimate.
MODE_PROFILES: Mapping[Mode, str | None] = {
    Mode.CAR: "car",
    Mode.EBIKE: "bicycle",
    Mode.WALK: "foot",
    Mode.TRANSIT: None,
}

MODE_BY_PROFILE: Mapping[str, Mode] = {p: m for m, p in MODE_PROFILES.items() if p}

DEFAULT_SNAP_LIMIT_M = 300.0
DEFAULT_EBIKE_SPEED_FACTOR = 1.3

#: Highway values drawn as the base layer when a map has no tiles.
DRAWN_HIGHWAYS = frozenset(
    {
        "motorway", "trunk", "primary", "secondary", "tertiary", "unclassified",
        "residential", "living_street", "motorway_link", "trunk_link", "primary_link",
        "secondary_link", "tertiary_link", "service", "pedestrian",
    }
)  # fmt: skip

_STAMP = "build.json"
_OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2")

Progress = Callable[[str], None]


# --------------------------------------------------------------------------- tools


def osrm_package_dir() -> Path:
    """Folder of the installed ``osrm`` package (holds ``bin/`` and ``share/profiles``).

    Raises
    ------
    RoadDataError
        When osrm-bindings is not installed.
    """
    try:
        import osrm
    except ImportError as err:
        msg = "osrm-bindings is not installed; run: pip install osrm-bindings (Python 3.12+)"
        raise RoadDataError(msg) from err
    return Path(osrm.__file__).parent


def osrm_tool(name: str) -> Path:
    """Path of an OSRM command-line tool shipped in the wheel, e.g. ``osrm-extract``."""
    exe = osrm_package_dir() / "bin" / name
    if exe.is_file():
        return exe
    found = shutil.which(name)
    if found:
        return Path(found)
    msg = f"{name} not found in {exe.parent} nor on PATH; reinstall osrm-bindings"
    raise RoadDataError(msg)


def profile_script(profile: str) -> Path:
    """The wheel's Lua script for ``profile`` (car, bicycle, foot)."""
    if profile not in ROAD_PROFILES:
        msg = f"road profile {profile!r} is unknown; options are: {', '.join(ROAD_PROFILES)}"
        raise RoadDataError(msg)
    return osrm_package_dir() / "share" / "profiles" / f"{profile}.lua"


def osrm_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("osrm-bindings")
    except PackageNotFoundError:
        return "unknown"


# ----------------------------------------------------------------- checking input


def check_osm_file(path: Path) -> None:
    """Refuse anything that is not an OSM extract (PBF, XML or bzip2'd XML).

    Looks at the first bytes only: a PBF starts with a ``BlobHeader`` of type
    ``OSMHeader``; an XML file has an ``<osm`` root element.

    Raises
    ------
    RoadDataError
        Naming the file and what was found instead.
    """
    if not path.exists():
        msg = f"{path}: file not found; expected an OpenStreetMap extract (.osm.pbf)"
        raise RoadDataError(msg)
    if not path.is_file():
        msg = f"{path}: is not a file; expected an OpenStreetMap extract (.osm.pbf)"
        raise RoadDataError(msg)
    with path.open("rb") as f:
        head = f.read(4096)
    if not head:
        msg = f"{path}: file is empty; expected an OpenStreetMap extract (.osm.pbf)"
        raise RoadDataError(msg)
    if _looks_like_pbf(head) or _looks_like_osm_xml(head):
        return
    if head.startswith(b"BZh"):
        with contextlib.suppress(OSError, EOFError, ValueError), bz2.open(path) as z:
            if _looks_like_osm_xml(z.read(4096)):
                return
    what = _describe_bytes(head)
    msg = (
        f"{path}: not an OpenStreetMap extract ({what}); expected an .osm.pbf file "
        "such as a Geofabrik or BBBike download"
    )
    raise RoadDataError(msg)


def _looks_like_pbf(head: bytes) -> bool:
    # 4-byte big-endian BlobHeader size, then protobuf field 1 (type) = "OSMHeader".
    if len(head) < 16:
        return False
    size = int.from_bytes(head[:4], "big")
    return 0 < size < 64 * 1024 and head[4] == 0x0A and head[6:15] == b"OSMHeader"


def _looks_like_osm_xml(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith((b"<?xml", b"<osm")) and b"<osm" in text


def _describe_bytes(head: bytes) -> str:
    signatures = {
        b"PK\x03\x04": "a zip archive",
        b"\x1f\x8b": "a gzip file",
        b"%PDF": "a PDF document",
        b"\x89PNG": "a PNG image",
        b"SQLite format 3": "an SQLite database",
    }
    for magic, name in signatures.items():
        if head.startswith(magic):
            return f"looks like {name}"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith((b"{", b"[")):
        return "looks like JSON"
    if text.startswith(b"<"):
        return "an XML/HTML file without an <osm> root element"
    if b"\x00" in head[:512]:
        return "unrecognised binary content"
    try:
        head[:512].decode("utf-8")
    except UnicodeDecodeError:
        return "unrecognised binary content"
    return "looks like a text file"


# ------------------------------------------------------------------- preparation


def roads_path(pbf_path: Path, profile: str, out_dir: Path) -> Path:
    """Base path of the prepared data: ``<out_dir>/<profile>/<stem>.osrm``."""
    return out_dir / profile / f"{_stem(pbf_path)}.osrm"


def _stem(pbf_path: Path) -> str:
    name = pbf_path.name
    for suffix in _OSM_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    else:
        name = pbf_path.stem
    # OSRM derives its file names by cutting the base path at a dot: keep none in it.
    return re.sub(r"[^\w-]", "_", name) or "roads"


def check_roads_folder(folder: Path) -> None:
    """OSRM finds its files by cutting the path at the first ``.osm``: refuse such a
    folder up front, with a clear message, instead of a cryptic OSRM error later.

    Raises
    ------
    RoadDataError
        The folder's absolute path contains ``.osm`` (``.osrm`` too).
    """
    text = str(folder.resolve())
    if ".osm" in text:
        msg = (
            f"{folder}: OSRM cannot use a road data folder whose path contains '.osm' "
            f"({text}); choose another folder (e.g. roads/)"
        )
        raise RoadDataError(msg)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_built(pbf_path: Path, profile: str, out_dir: Path) -> bool:
    """Prepared data exists for this very extract (same SHA-256) and OSRM version."""
    base = roads_path(pbf_path, profile, out_dir)
    stamp = base.parent / _STAMP
    try:
        info = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(info, dict)
        and info.get("profile") == profile
        and info.get("osrm_bindings") == osrm_version()
        and info.get("source_sha256") == file_sha256(pbf_path)
        and Path(f"{base}.hsgr").is_file()
    )


def build_roads(
    pbf_path: Path,
    profile: str = "car",
    out_dir: Path = Path("roads"),
    progress: Progress | None = None,
    *,
    threads: int | None = None,
) -> Path:
    """Prepare an OSM extract for routing with one profile (osrm-extract + contract).

    Parameters
    ----------
    pbf_path
        OpenStreetMap extract (.osm.pbf; .osm and .osm.bz2 work too).
    profile
        ``car``, ``bicycle`` or ``foot``.
    out_dir
        Folder that receives ``<profile>/<stem>.osrm*`` and ``<profile>/build.json``.
        Files are built in a temporary sibling folder and moved in place at the end,
        so an interrupted build never leaves half-prepared data behind.
    progress
        Called with one short line per step (the CLI prints them).
    threads
        Threads for the OSRM tools; default: all CPUs.

    Returns
    -------
    Path
        Base path of the prepared data, to hand to :class:`OsrmProvider`.

    Raises
    ------
    RoadDataError
        The file is not an OSM extract, the profile is unknown, or a tool failed.
    """
    say = progress or (lambda line: logger.info("%s", line))
    pbf_path = Path(pbf_path)
    check_osm_file(pbf_path)
    script = profile_script(profile)
    check_roads_folder(out_dir)
    final = roads_path(pbf_path, profile, out_dir)
    threads = threads or os.cpu_count() or 1
    work = out_dir / f"{profile}-building-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    try:
        work.mkdir(parents=True)
    except OSError as err:
        msg = f"{out_dir}: cannot create the road data folder ({err.strerror})"
        raise RoadDataError(msg) from err
    started = time.perf_counter()
    # The tools run inside the work folder on a relative base name: OSRM cuts paths at
    # the first dot it meets, so a dotted folder name anywhere above would break it.
    steps = (
        ("extract", [osrm_tool("osrm-extract"), "-p", script, "-t", threads,
                     pbf_path.resolve(), "-o", final.name]),
        ("contract", [osrm_tool("osrm-contract"), "-t", threads, final.name]),
    )  # fmt: skip
    peak_kb = 0
    try:
        for step, argv in steps:
            say(f"[{profile}] osrm-{step} {pbf_path.name} ...")
            t0 = time.perf_counter()
            peak_kb = max(peak_kb, _run_tool([str(a) for a in argv], profile, step, work))
            say(f"[{profile}] osrm-{step} done in {time.perf_counter() - t0:.1f} s")
        stamp = {
            "source": str(pbf_path),
            "source_sha256": file_sha256(pbf_path),
            "profile": profile,
            "algorithm": "CH",
            "osrm_bindings": osrm_version(),
            "seconds": round(time.perf_counter() - started, 2),
            "peak_memory_mib": round(peak_kb / 1024, 1),
        }
        (work / _STAMP).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
        shutil.rmtree(final.parent, ignore_errors=True)
        work.rename(final.parent)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    say(f"[{profile}] road data ready in {time.perf_counter() - started:.1f} s: {final}")
    return final


def _run_tool(argv: list[str], profile: str, step: str, cwd: Path) -> int:
    """Run one OSRM tool; its log goes to our debug log. Returns peak RSS (KiB)."""
    tail: list[str] = []
    peak_kb = 0
    try:
        with subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            cwd=cwd,
        ) as proc:
            assert proc.stdout is not None
            for raw in proc.stdout:
                line = raw.rstrip()
                logger.debug("osrm-%s: %s", step, line)
                tail = [*tail[-14:], line]
                if "RAM: peak bytes used:" in line:
                    with contextlib.suppress(ValueError):
                        peak_kb = int(line.rsplit(":", 1)[1]) // 1024
            rc = proc.wait()
    except OSError as err:
        msg = f"cannot run {argv[0]}: {err.strerror}"
        raise RoadDataError(msg) from err
    if rc != 0:
        errors = [t for t in tail if "[error]" in t] or tail[-5:]
        detail = "\n  ".join(errors)
        msg = f"osrm-{step} ({profile}) failed with exit code {rc}:\n  {detail}"
        raise RoadDataError(msg)
    return peak_kb


def ensure_roads(
    pbf_path: Path,
    profiles: Sequence[str],
    out_dir: Path,
    progress: Progress | None = None,
) -> dict[str, Path]:
    """Prepared data for each profile, building what is missing or stale."""
    out: dict[str, Path] = {}
    for profile in profiles:
        if not is_built(pbf_path, profile, out_dir):
            build_roads(pbf_path, profile, out_dir, progress)
        out[profile] = roads_path(pbf_path, profile, out_dir)
    return out


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

        Seconds are rounded up, metres to the nearest metre; the diagonal is zero.
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
        seconds = np.ceil(durations / self._speed_factor(mode) - 1e-9).astype(np.int64)
        metres = np.rint(distances).astype(np.int64)
        np.fill_diagonal(seconds, 0)
        np.fill_diagonal(metres, 0)
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
            "modes": modes,
            "straight_line": self.fallback.describe(),
        }


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
