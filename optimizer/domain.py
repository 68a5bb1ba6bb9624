"""Domain values.

Units: times are integer seconds since local midnight of the plan date; durations are
integer seconds; distances are metres; coordinates are WGS-84 ``(lat, lon)`` held in a
:class:`GeoPoint`, never as bare tuples (folium wants ``[lat, lon]``, GeoJSON and OSRM
``[lon, lat]``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

DAY_S = 24 * 3600
#: Upper bound for any time value. Benchmarks scale their own units into this.
MAX_TIME_S = 7 * DAY_S


class Mode(StrEnum):
    """How an agent travels; each mode has its own speed profile and matrix."""

    CAR = "car"
    EBIKE = "ebike"
    WALK = "walk"
    TRANSIT = "transit"


@dataclass(frozen=True, slots=True)
class GeoPoint:
    """A WGS-84 position."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (-90.0 <= self.lat <= 90.0 and -180.0 <= self.lon <= 180.0):
            msg = f"Expected lat in [-90, 90] and lon in [-180, 180], got {self}."
            raise ValueError(msg)

    def as_latlon(self) -> list[float]:
        """Order folium and Leaflet expect."""
        return [self.lat, self.lon]

    def as_lonlat(self) -> list[float]:
        """Order GeoJSON and OSRM expect."""
        return [self.lon, self.lat]


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Closed interval ``[start_s, end_s]``."""

    start_s: int
    end_s: int

    def __post_init__(self) -> None:
        if not 0 <= self.start_s <= self.end_s <= MAX_TIME_S:
            msg = (
                f"Expected 0 <= start_s <= end_s <= {MAX_TIME_S}, "
                f"got [{self.start_s}, {self.end_s}]."
            )
            raise ValueError(msg)

    def contains(self, t: int) -> bool:
        return self.start_s <= t <= self.end_s


@dataclass(frozen=True, slots=True)
class BreakRule:
    """A break of ``duration_s`` that must start inside ``window``.

    It is owed only when the agent is out working while the window passes: a route
    that ends before the break could start, or starts after it could end, owes none.
    """

    window: TimeWindow
    duration_s: int

    def __post_init__(self) -> None:
        if self.duration_s <= 0:
            msg = f"Expected a positive break duration, got {self.duration_s}."
            raise ValueError(msg)


#: Weekday names as files write them, Monday first (``datetime.date.weekday()`` order).
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class DaySet:
    """Calendar days given as dates and/or weekdays (0 = Monday), e.g. days off."""

    dates: frozenset[dt.date] = frozenset()
    weekdays: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if not self.weekdays <= frozenset(range(7)):
            msg = f"Expected weekdays in 0..6, got {sorted(self.weekdays)}."
            raise ValueError(msg)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and (day in self.dates or day.weekday() in self.weekdays)

    def __bool__(self) -> bool:
        return bool(self.dates or self.weekdays)

    def as_text(self) -> str:
        """Back to the file form: weekdays by name, then dates, ';'-separated."""
        parts = [WEEKDAYS[w] for w in sorted(self.weekdays)]
        return ";".join(parts + [d.isoformat() for d in sorted(self.dates)])


@dataclass(frozen=True, slots=True)
class Visit:
    """One appointment at a borrower's home.

    ``window`` is when service must START; None means any time in the agent's shift.
    ``location`` is None until geocoded. ``source_row`` is the spreadsheet row it came
    from, for messages.
    """

    visit_id: str
    location: GeoPoint | None
    duration_s: int
    window: TimeWindow | None = None
    priority: int = 1
    skills: frozenset[str] = frozenset()
    pinned_agent: str | None = None
    demand: int = 0
    address: str = ""
    name: str = ""
    phone: str = ""
    visit_type: str = ""
    documents: tuple[str, ...] = ()
    #: The visit must happen on or before this date (None: any day of the horizon).
    due_date: dt.date | None = None
    #: Not before this date (None: from the first day of the horizon).
    earliest_date: dt.date | None = None
    #: Weekdays the borrower prefers (0 = Monday); a soft wish, empty = no preference.
    preferred_days: frozenset[int] = frozenset()
    source_row: int | None = None
    extra: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not self.visit_id:
            msg = "Expected a non-empty visit_id."
            raise ValueError(msg)
        if self.duration_s <= 0:
            msg = f"Expected a positive duration for {self.visit_id}, got {self.duration_s}."
            raise ValueError(msg)
        if self.priority < 1:
            msg = f"Expected priority >= 1 for {self.visit_id}, got {self.priority}."
            raise ValueError(msg)
        if self.demand < 0:
            msg = f"Expected demand >= 0 for {self.visit_id}, got {self.demand}."
            raise ValueError(msg)
        if self.due_date and self.earliest_date and self.earliest_date > self.due_date:
            msg = (
                f"Expected earliest_date <= due_date for {self.visit_id}, "
                f"got {self.earliest_date} > {self.due_date}."
            )
            raise ValueError(msg)
        if not self.preferred_days <= frozenset(range(7)):
            msg = f"Expected preferred weekdays in 0..6 for {self.visit_id}."
            raise ValueError(msg)

    def allowed_on(self, day: dt.date) -> bool:
        """Whether ``day`` lies between the earliest and the due date (both included)."""
        if self.earliest_date is not None and day < self.earliest_date:
            return False
        return self.due_date is None or day <= self.due_date


@dataclass(frozen=True, slots=True)
class Agent:
    """One field agent's day: where it starts and ends, when, and what they can do."""

    agent_id: str
    start: GeoPoint | None
    shift: TimeWindow
    end: GeoPoint | None = None
    break_rule: BreakRule | None = None
    skills: frozenset[str] = frozenset()
    max_visits: int | None = None
    capacity: int | None = None
    mode: Mode = Mode.CAR
    name: str = ""
    phone: str = ""
    start_address: str = ""
    end_address: str = ""
    #: Dates and weekdays the agent does not work.
    days_off: DaySet = DaySet()
    source_row: int | None = None

    def __post_init__(self) -> None:
        if not self.agent_id:
            msg = "Expected a non-empty agent_id."
            raise ValueError(msg)
        if self.max_visits is not None and self.max_visits < 0:
            msg = f"Expected max_visits >= 0 for {self.agent_id}, got {self.max_visits}."
            raise ValueError(msg)
        if self.capacity is not None and self.capacity < 0:
            msg = f"Expected capacity >= 0 for {self.agent_id}, got {self.capacity}."
            raise ValueError(msg)

    def works_on(self, day: dt.date) -> bool:
        """False on the agent's days off."""
        return day not in self.days_off

    @property
    def end_point(self) -> GeoPoint | None:
        """Where the day ends: the start unless given."""
        return self.end if self.end is not None else self.start

    def can_do(self, visit: Visit) -> bool:
        """Skills and pin allow this agent to take ``visit``."""
        if visit.pinned_agent is not None and visit.pinned_agent != self.agent_id:
            return False
        return visit.skills <= self.skills
