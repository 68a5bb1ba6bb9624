"""Road data preparation: OSRM's extract and contract tools on an OSM extract, keyed by its SHA-256.

The tools ship inside the osrm-bindings wheel (osrm/bin/) with its car, bicycle and foot
profiles; the result is <out_dir>/<profile>/<stem>.osrm* plus a build.json stamp, so stale
data is rebuilt and fresh data is not."""

from __future__ import annotations

import bz2
import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from optimizer.errors import RoadDataError
from optimizer.travel.base import ROAD_PROFILES

logger = logging.getLogger(__name__)

_STAMP = "build.json"


_OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2")


Progress = Callable[[str], None]


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
