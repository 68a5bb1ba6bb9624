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
from optimizer.travel import DEFAULT_PROFILES, ModeProfile, StraightLineModel

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
    """Straight-line travel model: great-circle km x ``detour_factor`` at a mode speed."""

    detour_factor: float = 1.3
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


GEOCODER_PROVIDERS = ("gazetteer", "nominatim", "baidu", "amap")
COORD_SYSTEMS = ("wgs84", "gcj02", "bd09")
_DEFAULT_KEY_ENV = {"baidu": "BAIDU_MAPS_AK", "amap": "AMAP_KEY"}


@dataclass(frozen=True, slots=True)
class GeocoderSettings:
    """``[geocoder]``: which provider locates addresses, and how answers are checked.

    Keys are never read from the file: ``api_key_env`` names the environment variable
    that holds one (default ``BAIDU_MAPS_AK`` for baidu, ``AMAP_KEY`` for amap).
    """

    provider: str = "gazetteer"
    gazetteer_path: str = "data/gazetteer.csv"
    cache_path: str = "data/geocode-cache.sqlite"
    #: Nominatim: a real application name and contact (its usage policy).
    user_agent: str = ""
    domain: str = "nominatim.openstreetmap.org"
    scheme: str = "https"
    country_codes: tuple[str, ...] = ()
    api_key_env: str = ""
    security_key_env: str = ""
    #: AMap: a city name, citycode or adcode that narrows every search.
    city: str = ""
    #: Seconds between two requests (the public Nominatim is held to >= 1).
    min_delay_s: float = 1.0
    max_retries: int = 2
    error_wait_s: float = 5.0
    timeout_s: float = 10.0
    #: Route visits found only at district/city level although a door was given.
    accept_coarse: bool = False
    #: Datum of lat/lon columns in the input files, unless a row's coord_system says.
    coord_system: str = "wgs84"
    #: Service area as (south, west, north, east) in WGS-84 degrees.
    service_bbox: tuple[float, float, float, float] | None = None
    #: Service area as a radius around any agent's base.
    service_radius_km: float | None = None

    def __post_init__(self) -> None:
        if self.provider not in GEOCODER_PROVIDERS:
            msg = f"geocoder.provider {self.provider!r} is unknown; options are: {', '.join(GEOCODER_PROVIDERS)}"
            raise ConfigurationError(msg)
        if self.scheme not in ("http", "https"):
            msg = f"geocoder.scheme {self.scheme!r} is unknown; options are: http, https"
            raise ConfigurationError(msg)
        if self.coord_system not in COORD_SYSTEMS:
            msg = f"geocoder.coord_system {self.coord_system!r} is unknown; options are: {', '.join(COORD_SYSTEMS)}"
            raise ConfigurationError(msg)
        for name in ("min_delay_s", "error_wait_s"):
            if getattr(self, name) < 0:
                msg = f"geocoder.{name} {getattr(self, name)!r} must be >= 0"
                raise ConfigurationError(msg)
        if not 0 < self.timeout_s <= 300:
            msg = f"geocoder.timeout_s {self.timeout_s!r} is out of range; expected 0 < seconds <= 300"
            raise ConfigurationError(msg)
        if not 0 <= self.max_retries <= 10:
            msg = f"geocoder.max_retries {self.max_retries!r} is out of range; expected 0 to 10"
            raise ConfigurationError(msg)
        if self.service_bbox is not None:
            box = self.service_bbox
            ok = len(box) == 4 and -90 <= box[0] < box[2] <= 90 and -180 <= box[1] < box[3] <= 180
            if not ok:
                msg = f"geocoder.service_bbox {list(box)!r} is not a box; expected [south, west, north, east] in degrees, south < north and west < east"
                raise ConfigurationError(msg)
        if self.service_radius_km is not None and self.service_radius_km <= 0:
            msg = f"geocoder.service_radius_km {self.service_radius_km!r} must be > 0"
            raise ConfigurationError(msg)

    @property
    def key_env(self) -> str:
        """The environment variable holding the provider's key."""
        return self.api_key_env or _DEFAULT_KEY_ENV.get(self.provider, "")

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], source: str) -> GeocoderSettings:
        raw = dict(raw)
        for secret in ("api_key", "key", "ak", "security_key", "sk"):
            if secret in raw:
                msg = (
                    f"{source}: [geocoder] {secret} is not read from a file; put the key "
                    "in an environment variable and name it with api_key_env"
                )
                raise ConfigurationError(msg)
        _no_unknown(raw, _field_names(cls), "geocoder.", source)
        for name in ("country_codes", "service_bbox"):
            if name in raw:
                if not isinstance(raw[name], list | tuple):
                    msg = f"{source}: geocoder.{name} must be a list"
                    raise ConfigurationError(msg)
                raw[name] = tuple(raw[name])
        try:
            if "service_bbox" in raw:
                raw["service_bbox"] = tuple(float(v) for v in raw["service_bbox"])
            return replace(cls(), **raw)
        except (TypeError, ValueError) as err:  # ConfigurationError is a ValueError
            msg = f"{source}: {err}"
            raise ConfigurationError(msg) from None


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a plan depends on besides the two input files."""

    timezone: str = "Asia/Shanghai"
    output_dir: str = "maps"
    travel: TravelSettings = field(default_factory=TravelSettings)
    solver: SolverSettings = field(default_factory=SolverSettings)
    geocoder: GeocoderSettings = field(default_factory=GeocoderSettings)

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
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "settings") -> Settings:
        top = dict(data)
        travel_raw = dict(_table(top.pop("travel", {}), "travel", source))
        solver_raw = _table(top.pop("solver", {}), "solver", source)
        plan_raw = _table(top.pop("plan", {}), "plan", source)
        geocoder = GeocoderSettings.from_dict(
            _table(top.pop("geocoder", {}), "geocoder", source), source
        )
        _no_unknown(top, {}, "", source)
        profiles = dict(DEFAULT_PROFILES)
        for mode in Mode:
            if mode.value in travel_raw:
                raw = _table(travel_raw.pop(mode.value), f"travel.{mode.value}", source)
                _no_unknown(
                    raw,
                    {"speed_kmh": 0, "overhead_s": 0},
                    f"travel.{mode.value}.",
                    source,
                )
                base = profiles[mode]
                try:
                    profiles[mode] = ModeProfile(
                        float(raw.get("speed_kmh", base.speed_kmh)),
                        int(raw.get("overhead_s", base.overhead_s)),
                    )
                except (TypeError, ValueError) as err:
                    msg = f"{source}: [travel.{mode.value}] {err}"
                    raise ConfigurationError(msg) from None
        _no_unknown(travel_raw, {"detour_factor": 0}, "travel.", source)
        _no_unknown(solver_raw, _field_names(SolverSettings), "solver.", source)
        _no_unknown(plan_raw, {"timezone": 0, "output_dir": 0}, "plan.", source)
        try:
            travel = TravelSettings(float(travel_raw.get("detour_factor", 1.3)), profiles)
            solver = replace(SolverSettings(), **solver_raw)
            return cls(travel=travel, solver=solver, geocoder=geocoder, **plan_raw)
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
            travel[mode.value] = {"speed_kmh": p.speed_kmh, "overhead_s": p.overhead_s}
        solver = {
            f.name: getattr(self.solver, f.name)
            for f in fields(SolverSettings)
            if getattr(self.solver, f.name) is not None
        }
        geocoder = {
            f.name: list(v) if isinstance(v, tuple) else v
            for f in fields(GeocoderSettings)
            if (v := getattr(self.geocoder, f.name)) is not None
        }
        return {
            "plan": {"timezone": self.timezone, "output_dir": self.output_dir},
            "travel": travel,
            "solver": solver,
            "geocoder": geocoder,
        }


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
