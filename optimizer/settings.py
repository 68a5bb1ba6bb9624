"""Settings: frozen dataclasses with documented defaults, read from an optional TOML.

Missing keys fall back to the defaults; unknown keys raise ConfigurationError naming
the key, so a typo never silently does nothing. Command-line flags override the file.
"""

from __future__ import annotations

import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from optimizer.domain import Mode
from optimizer.errors import ConfigurationError
from optimizer.roads import DEFAULT_EBIKE_SPEED_FACTOR, DEFAULT_SNAP_LIMIT_M, ROAD_PROFILES
from optimizer.tiles import TILE_PROVIDERS
from optimizer.travel import (
    DEFAULT_DETOUR_FACTOR,
    DEFAULT_PROFILES,
    ModeProfile,
    StraightLineModel,
)

FIRST_SOLUTIONS = (
    "AUTOMATIC",
    "PATH_CHEAPEST_ARC",
    "PARALLEL_CHEAPEST_INSERTION",
    "LOCAL_CHEAPEST_INSERTION",
    "SAVINGS",
    "CHRISTOFIDES",
)
METAHEURISTICS = (
    "AUTOMATIC",
    "GUIDED_LOCAL_SEARCH",
    "SIMULATED_ANNEALING",
    "TABU_SEARCH",
    "GREEDY_DESCENT",
)


@dataclass(frozen=True, slots=True)
class TravelSettings:
    """Straight-line model: ``overhead_s + s_per_km x great-circle km`` per mode.

    ``detour_factor`` turns great-circle metres into estimated road metres for the
    distance matrix only.
    """

    detour_factor: float = DEFAULT_DETOUR_FACTOR
    profiles: Mapping[Mode, ModeProfile] = field(default_factory=lambda: dict(DEFAULT_PROFILES))

    def __post_init__(self) -> None:
        if not 1.0 <= self.detour_factor <= 5.0:
            msg = (
                f"travel.detour_factor {self.detour_factor!r} is out of range; expected 1.0 to 5.0"
            )
            raise ConfigurationError(msg)

    def model(self) -> StraightLineModel:
        return StraightLineModel(self.detour_factor, dict(self.profiles))


@dataclass(frozen=True, slots=True)
class RoadsSettings:
    """Road data for OSRM travel times and route lines (``[roads]``).

    ``extract`` names an OSM extract (.osm.pbf); it is prepared into ``dir`` on first
    use (one sub-folder per profile) and reused while the extract is unchanged. Without
    an extract every mode uses the straight-line model. Relative paths in a TOML file
    are taken from the file's folder.
    """

    extract: str | None = None
    dir: str = "roads"
    #: OSRM profiles to prepare; a mode whose profile is left out is straight-line.
    profiles: tuple[str, ...] = ROAD_PROFILES
    #: A point further than this from the nearest road is unassigned, with a reason.
    snap_limit_m: float = DEFAULT_SNAP_LIMIT_M
    #: E-bike speed relative to OSRM's bicycle profile (15 km/h).
    ebike_speed_factor: float = DEFAULT_EBIKE_SPEED_FACTOR

    def __post_init__(self) -> None:
        for profile in self.profiles:
            if profile not in ROAD_PROFILES:
                msg = f"roads.profiles: {profile!r} is unknown; options are: {', '.join(ROAD_PROFILES)}"
                raise ConfigurationError(msg)
        if not self.profiles:
            msg = "roads.profiles is empty; expected one or more of: " + ", ".join(ROAD_PROFILES)
            raise ConfigurationError(msg)
        if not 0 < self.snap_limit_m <= 100_000:
            msg = f"roads.snap_limit_m {self.snap_limit_m!r} is out of range; expected metres > 0"
            raise ConfigurationError(msg)
        if not 0.2 <= self.ebike_speed_factor <= 5.0:
            msg = f"roads.ebike_speed_factor {self.ebike_speed_factor!r} is out of range; expected 0.2 to 5"
            raise ConfigurationError(msg)

    @property
    def enabled(self) -> bool:
        return self.extract is not None


@dataclass(frozen=True, slots=True)
class MapSettings:
    """Map pages (``[maps]``): tile provider, with its coordinate system.

    ``tiles`` is one of ``osm``, ``tianditu`` (needs ``tiles_key``), ``amap``/``gaode``
    (GCJ-02: every overlay is shifted) or ``none`` (streets drawn from the extract).
    """

    tiles: str = "osm"
    tiles_key: str = ""

    def __post_init__(self) -> None:
        if self.tiles not in TILE_PROVIDERS:
            msg = f"maps.tiles {self.tiles!r} is unknown; options are: {', '.join(TILE_PROVIDERS)}"
            raise ConfigurationError(msg)
        if TILE_PROVIDERS[self.tiles].needs_key and not self.tiles_key:
            msg = f"maps.tiles {self.tiles!r} needs maps.tiles_key (the provider's API key)"
            raise ConfigurationError(msg)


@dataclass(frozen=True, slots=True)
class SolverSettings:
    """OR-Tools search settings. Defaults chosen on benchmark evidence (docs/benchmarks.md)."""

    time_limit_s: float = 10.0
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    #: Stop early once this many solutions were found (tests use 1 for determinism).
    solution_limit: int | None = None
    #: Cost per agent who goes out, in seconds of travel: favours fewer, fuller routes.
    vehicle_fixed_cost_s: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.time_limit_s <= 24 * 3600:
            msg = f"solver.time_limit_s {self.time_limit_s!r} is out of range; expected a number of seconds > 0"
            raise ConfigurationError(msg)
        if self.first_solution not in FIRST_SOLUTIONS:
            msg = f"solver.first_solution {self.first_solution!r} is unknown; options are: {', '.join(FIRST_SOLUTIONS)}"
            raise ConfigurationError(msg)
        if self.metaheuristic not in METAHEURISTICS:
            msg = f"solver.metaheuristic {self.metaheuristic!r} is unknown; options are: {', '.join(METAHEURISTICS)}"
            raise ConfigurationError(msg)
        if self.solution_limit is not None and self.solution_limit < 1:
            msg = f"solver.solution_limit {self.solution_limit!r} must be >= 1"
            raise ConfigurationError(msg)
        if self.vehicle_fixed_cost_s < 0:
            msg = f"solver.vehicle_fixed_cost_s {self.vehicle_fixed_cost_s!r} must be >= 0"
            raise ConfigurationError(msg)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a plan depends on besides the two input files."""

    timezone: str = "Asia/Shanghai"
    output_dir: str = "maps"
    travel: TravelSettings = field(default_factory=TravelSettings)
    solver: SolverSettings = field(default_factory=SolverSettings)
    roads: RoadsSettings = field(default_factory=RoadsSettings)
    maps: MapSettings = field(default_factory=MapSettings)

    def __post_init__(self) -> None:
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            msg = f"timezone {self.timezone!r} is unknown; expected an IANA name such as 'Asia/Shanghai'"
            raise ConfigurationError(msg) from None

    @classmethod
    def from_toml(cls, path: Path) -> Settings:
        """Read a TOML file; see README "Settings" for every key and its default."""
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            msg = f"{path}: config file not found"
            raise ConfigurationError(msg) from None
        except tomllib.TOMLDecodeError as err:
            msg = f"{path}: not valid TOML ({err})"
            raise ConfigurationError(msg) from None
        return cls.from_dict(data, source=str(path), base_dir=path.parent)

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        source: str = "settings",
        base_dir: Path | None = None,
    ) -> Settings:
        """Settings from parsed TOML; relative road paths are taken from ``base_dir``."""
        top = dict(data)
        travel_raw = dict(_table(top.pop("travel", {}), "travel", source))
        solver_raw = _table(top.pop("solver", {}), "solver", source)
        plan_raw = _table(top.pop("plan", {}), "plan", source)
        roads_raw = dict(_table(top.pop("roads", {}), "roads", source))
        maps_raw = _table(top.pop("maps", {}), "maps", source)
        _no_unknown(top, {}, "", source)
        detour = travel_raw.get("detour_factor", DEFAULT_DETOUR_FACTOR)
        profiles = dict(DEFAULT_PROFILES)
        for mode in Mode:
            if mode.value in travel_raw:
                raw = _table(travel_raw.pop(mode.value), f"travel.{mode.value}", source)
                known = {"s_per_km": 0, "overhead_s": 0, "speed_kmh": 0}
                _no_unknown(raw, known, f"travel.{mode.value}.", source)
                profiles[mode] = _mode_profile(raw, profiles[mode], detour, mode, source)
        _no_unknown(travel_raw, {"detour_factor": 0}, "travel.", source)
        _no_unknown(solver_raw, _field_names(SolverSettings), "solver.", source)
        _no_unknown(plan_raw, {"timezone": 0, "output_dir": 0}, "plan.", source)
        _no_unknown(roads_raw, _field_names(RoadsSettings), "roads.", source)
        _no_unknown(maps_raw, _field_names(MapSettings), "maps.", source)
        for key in ("extract", "dir"):
            if isinstance(roads_raw.get(key), str) and base_dir is not None:
                roads_raw[key] = str(base_dir / roads_raw[key])
        if "profiles" in roads_raw:
            value = roads_raw["profiles"]
            roads_raw["profiles"] = (value,) if isinstance(value, str) else tuple(value)
        try:
            travel = TravelSettings(float(detour), profiles)
            solver = replace(SolverSettings(), **solver_raw)
            roads = replace(RoadsSettings(), **roads_raw)
            maps = replace(MapSettings(), **maps_raw)
            return cls(travel=travel, solver=solver, roads=roads, maps=maps, **plan_raw)
        except ConfigurationError as err:
            msg = f"{source}: {err}"
            raise ConfigurationError(msg) from None
        except (TypeError, ValueError) as err:
            msg = f"{source}: {err}"
            raise ConfigurationError(msg) from None

    def to_dict(self) -> dict[str, Any]:
        """Inverse of :meth:`from_dict`: kept beside a plan so it can be re-opened."""
        travel: dict[str, Any] = {"detour_factor": self.travel.detour_factor}
        for mode, p in self.travel.profiles.items():
            travel[mode.value] = {"s_per_km": p.s_per_km, "overhead_s": p.overhead_s}
        roads: dict[str, Any] = {
            f.name: getattr(self.roads, f.name)
            for f in fields(RoadsSettings)
            if getattr(self.roads, f.name) is not None
        }
        roads["profiles"] = list(self.roads.profiles)
        solver = {
            f.name: getattr(self.solver, f.name)
            for f in fields(SolverSettings)
            if getattr(self.solver, f.name) is not None
        }
        return {
            "plan": {"timezone": self.timezone, "output_dir": self.output_dir},
            "travel": travel,
            "solver": solver,
            "roads": roads,
            "maps": {"tiles": self.maps.tiles, "tiles_key": self.maps.tiles_key},
        }


def _mode_profile(
    raw: Mapping[str, Any], base: ModeProfile, detour: Any, mode: Mode, source: str
) -> ModeProfile:
    """``s_per_km`` + ``overhead_s``; the older ``speed_kmh`` (road km at that speed,
    road km = great-circle km x detour_factor) is still read."""
    try:
        overhead = int(raw.get("overhead_s", base.overhead_s))
        if "s_per_km" in raw and "speed_kmh" in raw:
            msg = "give s_per_km or speed_kmh, not both"
            raise ValueError(msg)
        if "speed_kmh" in raw:
            return ModeProfile.from_speed(float(raw["speed_kmh"]), overhead, float(detour))
        return ModeProfile(float(raw.get("s_per_km", base.s_per_km)), overhead)
    except (TypeError, ValueError) as err:
        msg = f"{source}: [travel.{mode.value}] {err}"
        raise ConfigurationError(msg) from None


def _field_names(cls: type) -> dict[str, int]:
    return {f.name: 0 for f in fields(cls)}


def _table(value: Any, name: str, source: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        msg = f"{source}: [{name}] must be a table"
        raise ConfigurationError(msg)
    return dict(value)


def _no_unknown(raw: Mapping[str, Any], known: Mapping[str, Any], prefix: str, source: str) -> None:
    unknown = sorted(set(raw) - set(known))
    if unknown:
        options = ", ".join(f"{prefix}{k}" for k in known) or "(none)"
        msg = f"{source}: unknown setting '{prefix}{unknown[0]}'; known here: {options}"
        raise ConfigurationError(msg)
