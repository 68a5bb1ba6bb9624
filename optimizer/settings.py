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
    "SEQUENTIAL_CHEAPEST_INSERTION",
    "LOCAL_CHEAPEST_COST_INSERTION",
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
    #: Searches run at once, each from another first solution; the better plan is kept.
    #: 2 uses both cores of a 2-core machine; 1 is a single in-process search.
    workers: int = 2
    #: First-solution strategy of the second search (None: see optimizer.parallel).
    second_first_solution: str | None = None

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
        if self.workers not in (1, 2):
            msg = f"solver.workers {self.workers!r} is unsupported; expected 1 or 2"
            raise ConfigurationError(msg)
        if (
            self.second_first_solution is not None
            and self.second_first_solution not in FIRST_SOLUTIONS
        ):
            msg = f"solver.second_first_solution {self.second_first_solution!r} is unknown; options are: {', '.join(FIRST_SOLUTIONS)}"
            raise ConfigurationError(msg)
        if self.vehicle_fixed_cost_s < 0:
            msg = f"solver.vehicle_fixed_cost_s {self.vehicle_fixed_cost_s!r} must be >= 0"
            raise ConfigurationError(msg)


LANGS = ("zh", "en")


@dataclass(frozen=True, slots=True)
class NoticeSettings:
    """Borrower notices (README "Borrower notices").

    ``window_min`` is the width of the arrival window a notice promises; ``desk_phone``
    is the dispatch desk's number printed in every notice (never an agent's own);
    ``template`` is an optional path to a notice template, where ``{lang}`` in the path
    is replaced by the language (the packaged defaults are used when it is empty).
    """

    lang: str = "zh"
    window_min: int = 60
    desk_phone: str = ""
    template: str = ""

    def __post_init__(self) -> None:
        if self.lang not in LANGS:
            msg = f"notices.lang {self.lang!r} is unknown; options are: {', '.join(LANGS)}"
            raise ConfigurationError(msg)
        if not 20 <= self.window_min <= 240 or self.window_min % 10:
            msg = (
                f"notices.window_min {self.window_min!r} is out of range; "
                "expected a multiple of 10 from 20 to 240 minutes"
            )
            raise ConfigurationError(msg)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a plan depends on besides the two input files."""

    timezone: str = "Asia/Shanghai"
    output_dir: str = "maps"
    travel: TravelSettings = field(default_factory=TravelSettings)
    solver: SolverSettings = field(default_factory=SolverSettings)
    notices: NoticeSettings = field(default_factory=NoticeSettings)

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
        notices_raw = _table(top.pop("notices", {}), "notices", source)
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
        _no_unknown(notices_raw, _field_names(NoticeSettings), "notices.", source)
        try:
            travel = TravelSettings(float(travel_raw.get("detour_factor", 1.3)), profiles)
            solver = replace(SolverSettings(), **solver_raw)
            notices = replace(NoticeSettings(), **notices_raw)
            return cls(travel=travel, solver=solver, notices=notices, **plan_raw)
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
        return {
            "plan": {"timezone": self.timezone, "output_dir": self.output_dir},
            "travel": travel,
            "solver": solver,
            "notices": {f.name: getattr(self.notices, f.name) for f in fields(NoticeSettings)},
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
