"""Settings: frozen dataclasses with documented defaults, read from an optional TOML.

Missing keys fall back to the defaults; unknown keys raise ConfigurationError naming
the key, so a typo never silently does nothing. Command-line flags override the file.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from optimizer.clock import parse_hhmm
from optimizer.domain import WEEKDAYS, Mode
from optimizer.errors import ConfigurationError
from optimizer.outputs.tiles import TILE_PROVIDERS
from optimizer.regions.params import RegionSettings
from optimizer.solve.params import SolverSettings
from optimizer.travel.base import DEFAULT_EBIKE_SPEED_FACTOR, DEFAULT_SNAP_LIMIT_M, ROAD_PROFILES
from optimizer.travel.straight import (
    DEFAULT_DETOUR_FACTOR,
    DEFAULT_PROFILES,
    ModeProfile,
    StraightLineModel,
)

#: Largest cost a setting may name, in seconds of travel (a week): the solver adds
#: such costs up in 64 bits, and anything larger is a typo.
MAX_COST_S = 7 * 24 * 3600


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

    ``tiles`` is one of ``osm``, ``tianditu``, ``amap``/``gaode`` (GCJ-02: every overlay
    is shifted) or ``none`` (streets drawn from the ``[roads]`` extract). A provider that
    needs a key (Tianditu) reads it from the environment variable named by
    ``tiles_key_env``: keys never live in a config file.
    """

    tiles: str = "osm"
    tiles_key_env: str = ""

    def __post_init__(self) -> None:
        if self.tiles not in TILE_PROVIDERS:
            msg = f"maps.tiles {self.tiles!r} is unknown; options are: {', '.join(TILE_PROVIDERS)}"
            raise ConfigurationError(msg)
        if TILE_PROVIDERS[self.tiles].needs_key and not self.tiles_key_env:
            msg = (
                f"maps.tiles {self.tiles!r} needs a key: set maps.tiles_key_env to the name "
                "of the environment variable that holds it"
            )
            raise ConfigurationError(msg)

    def tiles_key(self) -> str:
        """The tile key from the environment ('' when none is needed).

        Raises
        ------
        ConfigurationError
            The provider needs a key and the variable is unset or empty.
        """
        if not TILE_PROVIDERS[self.tiles].needs_key:
            return ""
        key = os.environ.get(self.tiles_key_env, "")
        if not key:
            msg = (
                f"maps.tiles {self.tiles!r}: environment variable {self.tiles_key_env} "
                "is not set; it must hold the provider's key"
            )
            raise ConfigurationError(msg)
        return key


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
    #: Minutes between sending a notice and the earliest window it may promise: a
    #: re-plan at 11:20 never tells a borrower "10:30-11:30" (issue 10).
    lead_min: int = 30
    #: Neutral wording of document names by language (``[notices.documents.zh]``,
    #: ``"征信报告" = "个人资料"``), over the packaged table in optimizer.outputs.notices.
    documents: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        table = self.documents
        ok = isinstance(table, Mapping) and all(
            lang in LANGS
            and isinstance(names, Mapping)
            and all(
                isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in names.items()
            )
            for lang, names in table.items()
        )
        if not ok:
            msg = (
                "notices.documents must hold one table per language (zh, en) mapping "
                "document names to non-empty neutral wording"
            )
            raise ConfigurationError(msg)
        if self.lang not in LANGS:
            msg = f"notices.lang {self.lang!r} is unknown; options are: {', '.join(LANGS)}"
            raise ConfigurationError(msg)
        if not 0 <= self.lead_min <= 240:
            msg = f"notices.lead_min {self.lead_min!r} is out of range; expected 0 to 240 minutes"
            raise ConfigurationError(msg)
        if not 20 <= self.window_min <= 240 or self.window_min % 10:
            msg = (
                f"notices.window_min {self.window_min!r} is out of range; "
                "expected a multiple of 10 from 20 to 240 minutes"
            )
            raise ConfigurationError(msg)


@dataclass(frozen=True, slots=True)
class ReplanSettings:
    """Re-planning during the day (``[replan]``): how much a change to a told plan costs.

    Costs are in seconds of travel, the objective's unit: with the defaults, moving a
    visit to another agent is worth it only to save more than 30 minutes of travel.
    """

    #: Cost of serving a remaining visit with another agent than planned.
    agent_change_cost_s: int = 1800
    #: Cost per second a visit's start lies outside the window told to the borrower.
    told_window_cost_per_s: int = 1
    #: Search time for a re-plan (someone is waiting for it).
    time_limit_s: float = 5.0

    def __post_init__(self) -> None:
        for name in ("agent_change_cost_s", "told_window_cost_per_s"):
            if not 0 <= getattr(self, name) <= MAX_COST_S:
                msg = f"replan.{name} {getattr(self, name)!r} is out of range; expected 0 to {MAX_COST_S}"
                raise ConfigurationError(msg)
        if not 0 < self.time_limit_s <= 24 * 3600:
            msg = f"replan.time_limit_s {self.time_limit_s!r} is out of range; expected seconds > 0"
            raise ConfigurationError(msg)


#: The book's file when no URL is given: ``fieldroute.db`` in the working folder.
DEFAULT_BOOK_FILE = "fieldroute.db"


@dataclass(frozen=True, slots=True)
class BookSettings:
    """Where the case book is and how writers wait for each other (``[book]``).

    ``url`` is a database URL (``sqlite:///cases.db``, ``postgresql://user@host/db``) or
    a plain file path, taken as SQLite; empty means ``fieldroute.db`` in the working
    folder. ``--db`` and ``FIELDROUTE_DB`` come before it. A password never lives in the
    file (it is copied beside every plan): use ``FIELDROUTE_DB`` or PostgreSQL's
    ``~/.pgpass``.
    """

    url: str = ""
    #: Seconds a writer waits for another writer's transaction before giving up.
    busy_timeout_s: float = 30.0
    #: How often a plan is made again when the book changed while it was being solved.
    plan_retries: int = 3

    def __post_init__(self) -> None:
        if "://" in self.url and re.search(r"://[^/@]*:[^/@]*@", self.url):
            msg = (
                "book.url holds a password; it is not read from a file: set FIELDROUTE_DB "
                "or use PostgreSQL's ~/.pgpass"
            )
            raise ConfigurationError(msg)
        if not 0 < self.busy_timeout_s <= 3600:
            msg = f"book.busy_timeout_s {self.busy_timeout_s!r} is out of range; expected seconds in (0, 3600]"
            raise ConfigurationError(msg)
        if not 1 <= self.plan_retries <= 20:
            msg = f"book.plan_retries {self.plan_retries!r} is out of range; expected 1 to 20"
            raise ConfigurationError(msg)


@dataclass(frozen=True, slots=True)
class ComplianceSettings:
    """Contact rules the case book enforces (``[compliance]``).

    Visits start only inside the contact hours and never on a holiday; a borrower gets
    at most ``max_attempts_per_7_days`` visits at the door in any 7 days (the day and the
    six before) and at least ``cooldown_days`` between two. The defaults are common
    collection practice, not legal advice: the company's compliance team sets them.
    """

    contact_start: str = "08:00"
    contact_end: str = "20:00"
    #: Dates (YYYY-MM-DD) on which nobody is visited.
    holidays: tuple[str, ...] = ()
    max_attempts_per_7_days: int = 3
    cooldown_days: int = 1

    def __post_init__(self) -> None:
        for name in ("contact_start", "contact_end"):
            try:
                parse_hhmm(str(getattr(self, name)))
            except ValueError as err:
                msg = f"compliance.{name} {getattr(self, name)!r} {err}"
                raise ConfigurationError(msg) from None
        if parse_hhmm(self.contact_end) <= parse_hhmm(self.contact_start):
            msg = (
                f"compliance.contact_end {self.contact_end!r} must be after "
                f"contact_start {self.contact_start!r}"
            )
            raise ConfigurationError(msg)
        # TOML gives a list, of dates or strings: hold sorted ISO strings (JSON-safe).
        object.__setattr__(self, "holidays", tuple(sorted({_iso_date(d) for d in self.holidays})))
        if not 1 <= self.max_attempts_per_7_days <= 50:
            msg = f"compliance.max_attempts_per_7_days {self.max_attempts_per_7_days!r} is out of range; expected 1 to 50"
            raise ConfigurationError(msg)
        if not 0 <= self.cooldown_days <= 60:
            msg = (
                f"compliance.cooldown_days {self.cooldown_days!r} is out of range; expected 0 to 60"
            )
            raise ConfigurationError(msg)

    @property
    def contact_hours_s(self) -> tuple[int, int]:
        """Contact hours in seconds since midnight."""
        return parse_hhmm(self.contact_start), parse_hhmm(self.contact_end)

    @property
    def holiday_dates(self) -> frozenset[dt.date]:
        return frozenset(dt.date.fromisoformat(d) for d in self.holidays)


def _iso_date(value: object) -> str:
    if isinstance(value, dt.datetime):
        msg = f"compliance.holidays: {value!r} is a date-time; expected a date YYYY-MM-DD"
        raise ConfigurationError(msg)
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        msg = f"compliance.holidays: {value!r} is not a date; expected YYYY-MM-DD"
        raise ConfigurationError(msg) from None


@dataclass(frozen=True, slots=True)
class HorizonSettings:
    """Planning several days (``[horizon]``): which weekdays count as working days.

    Weekends are working days only when named here; an agent's ``days_off`` come on
    top of this.
    """

    workdays: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")

    def __post_init__(self) -> None:
        names = tuple(str(d).strip().lower() for d in self.workdays)
        unknown = [d for d in names if d not in WEEKDAYS]
        if unknown or not names:
            msg = (
                f"horizon.workdays {list(self.workdays)!r} is not a list of weekdays; "
                f"expected names from {', '.join(WEEKDAYS)}"
            )
            raise ConfigurationError(msg)
        object.__setattr__(self, "workdays", names)

    @property
    def weekdays(self) -> frozenset[int]:
        """The working weekdays as ``date.weekday()`` numbers (0 = Monday)."""
        return frozenset(WEEKDAYS.index(d) for d in self.workdays)


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
        # TOML gives lists; the dataclass is frozen and hashable, so hold tuples.
        object.__setattr__(self, "country_codes", tuple(self.country_codes))
        if self.service_bbox is not None:
            object.__setattr__(self, "service_bbox", tuple(float(v) for v in self.service_bbox))
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
            if not 0 <= getattr(self, name) <= 3600:
                msg = f"geocoder.{name} {getattr(self, name)!r} is out of range; expected 0 to 3600 seconds"
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


@dataclass(frozen=True, slots=True)
class WebSettings:
    """The web console's links (README "Borrower links").

    ``public_url`` is the address borrowers reach the console at (``https://...``):
    when set, each notice of a plan made from the book carries the borrower's own link
    (``<public_url>/b/<token>``); empty, notices carry no link.
    """

    public_url: str = ""

    def __post_init__(self) -> None:
        url = self.public_url
        if url and (not url.startswith(("https://", "http://")) or any(c in url for c in ' "?#')):
            msg = (
                f"web.public_url {url!r} is not an address; expected e.g. "
                "https://fieldroute.example.com (no spaces, query or fragment)"
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
    replan: ReplanSettings = field(default_factory=ReplanSettings)
    geocoder: GeocoderSettings = field(default_factory=GeocoderSettings)
    roads: RoadsSettings = field(default_factory=RoadsSettings)
    maps: MapSettings = field(default_factory=MapSettings)
    book: BookSettings = field(default_factory=BookSettings)
    compliance: ComplianceSettings = field(default_factory=ComplianceSettings)
    horizon: HorizonSettings = field(default_factory=HorizonSettings)
    web: WebSettings = field(default_factory=WebSettings)
    regions: RegionSettings = field(default_factory=RegionSettings)

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
        except IsADirectoryError:
            msg = f"{path}: is a folder; expected a settings file (TOML)"
            raise ConfigurationError(msg) from None
        except UnicodeDecodeError as err:
            msg = f"{path}: is not UTF-8 text ({err.reason} at byte {err.start}); save it as UTF-8"
            raise ConfigurationError(msg) from None
        except OSError as err:
            msg = f"{path}: config file cannot be read ({err.strerror})"
            raise ConfigurationError(msg) from None
        except tomllib.TOMLDecodeError as err:
            msg = f"{path}: not valid TOML ({err})"
            raise ConfigurationError(msg) from None
        return cls.from_dict(data, source=str(path), base_dir=path.parent.resolve())

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, source: str = "settings", base_dir: Path | None = None
    ) -> Settings:
        """Settings from parsed TOML; relative ``[roads]`` paths are taken from ``base_dir``."""
        try:
            top = dict(data)
            travel_raw = _table(top.pop("travel", {}), "travel")
            plan_raw = _table(top.pop("plan", {}), "plan")
            sections = {name: _table(top.pop(name, {}), name) for name in _SECTIONS}
            _refuse_secrets(sections["geocoder"])
            _no_unknown(top, {"plan": 0, "travel": 0, **_SECTIONS}, "")
            _no_unknown(plan_raw, {"timezone": 0, "output_dir": 0}, "plan.")
            for name, raw in sections.items():
                _no_unknown(raw, _field_names(_SECTIONS[name]), f"{name}.")
            _roads_paths(sections["roads"], base_dir)
            travel = _travel(travel_raw)
            built = {name: _SECTIONS[name](**raw) for name, raw in sections.items()}
            return cls(travel=travel, **built, **plan_raw)
        except (TypeError, ValueError, OverflowError) as err:  # ConfigurationError is a ValueError
            msg = f"{source}: {err}"
            raise ConfigurationError(msg) from None

    def to_dict(self) -> dict[str, Any]:
        """Inverse of :meth:`from_dict`: kept beside a plan so it can be re-opened."""
        travel: dict[str, Any] = {"detour_factor": self.travel.detour_factor}
        for mode, p in self.travel.profiles.items():
            travel[mode.value] = {"s_per_km": p.s_per_km, "overhead_s": p.overhead_s}
        out: dict[str, Any] = {
            "plan": {"timezone": self.timezone, "output_dir": self.output_dir},
            "travel": travel,
        }
        for name in _SECTIONS:
            section = getattr(self, name)
            out[name] = {
                f.name: getattr(section, f.name)
                for f in fields(section)
                if getattr(section, f.name) is not None
            }
        out["roads"]["profiles"] = list(self.roads.profiles)
        out["horizon"]["workdays"] = list(self.horizon.workdays)
        return out


#: Sections that map one-to-one onto a dataclass: [name] keys are its fields.
_SECTIONS: dict[str, Any] = {
    "solver": SolverSettings,
    "notices": NoticeSettings,
    "replan": ReplanSettings,
    "geocoder": GeocoderSettings,
    "roads": RoadsSettings,
    "maps": MapSettings,
    "book": BookSettings,
    "compliance": ComplianceSettings,
    "horizon": HorizonSettings,
    "web": WebSettings,
    "regions": RegionSettings,
}


def _roads_paths(raw: dict[str, Any], base_dir: Path | None) -> None:
    """Relative extract/dir are relative to the settings file; one profile may be a string."""
    for key in ("extract", "dir"):
        if isinstance(raw.get(key), str) and base_dir is not None:
            raw[key] = str(base_dir / raw[key])
    if "profiles" in raw:
        value = raw["profiles"]
        raw["profiles"] = (value,) if isinstance(value, str) else tuple(value)


def _refuse_secrets(raw: Mapping[str, Any]) -> None:
    """API keys never live in a config file (it gets copied, mailed and committed)."""
    for secret in ("api_key", "key", "ak", "security_key", "sk"):
        if secret in raw:
            msg = (
                f"[geocoder] {secret} is not read from a file; put the key in an "
                "environment variable and name it with api_key_env"
            )
            raise ConfigurationError(msg)


def _travel(raw: dict[str, Any]) -> TravelSettings:
    detour = raw.get("detour_factor", DEFAULT_DETOUR_FACTOR)
    profiles = dict(DEFAULT_PROFILES)
    for mode in Mode:
        if mode.value not in raw:
            continue
        mode_raw = _table(raw.pop(mode.value), f"travel.{mode.value}")
        known = {"s_per_km": 0, "overhead_s": 0, "speed_kmh": 0}
        _no_unknown(mode_raw, known, f"travel.{mode.value}.")
        profiles[mode] = _mode_profile(mode_raw, profiles[mode], detour, mode)
    _no_unknown(raw, {"detour_factor": 0}, "travel.")
    return TravelSettings(float(detour), profiles)


def _mode_profile(
    raw: Mapping[str, Any], base: ModeProfile, detour: Any, mode: Mode
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
    except (TypeError, ValueError, OverflowError) as err:
        msg = f"[travel.{mode.value}] {err}"
        raise ConfigurationError(msg) from None


def _field_names(cls: type) -> dict[str, int]:
    return {f.name: 0 for f in fields(cls)}


def _table(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        msg = f"[{name}] must be a table"
        raise ConfigurationError(msg)
    return dict(value)


def _no_unknown(raw: Mapping[str, Any], known: Mapping[str, Any], prefix: str) -> None:
    unknown = sorted(set(raw) - set(known))
    if unknown:
        options = ", ".join(f"{prefix}{k}" for k in known) or "(none)"
        msg = f"unknown setting '{prefix}{unknown[0]}'; known here: {options}"
        raise ConfigurationError(msg)
