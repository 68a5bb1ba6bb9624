"""Pure parsers for the text forms used in input files.

Each raises ValueError whose message says what was expected, for the loader to wrap
with file, row and column.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from optimizer.domain import MAX_TIME_S, WEEKDAYS, DaySet, TimeWindow

WEEKDAYS_FULL = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_HHMM = re.compile(r"^\s*(\d{1,2})[:：](\d{2})(?::(\d{2}))?\s*$")


def parse_hhmm(text: str) -> int:
    """``"08:30"`` -> seconds since midnight. ``24:00`` is allowed as the day's end."""
    m = _HHMM.match(text)
    if not m:
        msg = "is not a time of day; expected HH:MM (00:00-24:00)"
        raise ValueError(msg)
    h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if mi > 59 or s > 59 or h > 24 or (h == 24 and (mi or s)):
        msg = "is not a time of day; expected HH:MM (00:00-24:00)"
        raise ValueError(msg)
    return h * 3600 + mi * 60 + s


def format_hhmm(seconds: int) -> str:
    """Seconds since midnight -> ``"HH:MM"`` (rounded down to the minute)."""
    h, rem = divmod(int(seconds), 3600)
    return f"{h:02d}:{rem // 60:02d}"


def parse_minutes(text: str, *, allow_zero: bool = False) -> int:
    """``"45"`` or ``"45.5"`` minutes -> whole seconds (rounded up)."""
    try:
        value = float(text)
    except ValueError:
        msg = "is not a number of minutes; expected e.g. 30"
        raise ValueError(msg) from None
    if value != value or value in (float("inf"), float("-inf")):
        msg = "is not a number of minutes; expected e.g. 30"
        raise ValueError(msg)
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        msg = f"is not a valid number of minutes; expected a number {bound}"
        raise ValueError(msg)
    if value > 24 * 60:
        msg = "is longer than a day; expected minutes up to 1440"
        raise ValueError(msg)
    return int(-(-value * 60 // 1))


#: Largest whole number an input cell may hold (priority, demand, capacity, max_visits).
#: The solver multiplies priorities by a day's seconds and sums them in 64 bits;
#: a billion keeps every such sum far from overflow, and catches a phone number
#: pasted into a number column.
MAX_WHOLE = 1_000_000_000


def parse_int(text: str, *, minimum: int, maximum: int = MAX_WHOLE) -> int:
    """A whole number in ``[minimum, maximum]``; ``"2.0"`` is accepted as 2 (Excel writes that).

    ``inf``, ``nan``, ``1e400`` and numbers past ``maximum`` are refused here, at the
    edge, rather than overflowing in numpy or OR-Tools later.
    """
    try:
        value = float(text)
    except ValueError:
        msg = f"is not a whole number; expected a whole number >= {minimum}"
        raise ValueError(msg) from None
    if not math.isfinite(value) or value > maximum:
        msg = f"is too large or not finite; expected a whole number from {minimum} to {maximum:,}"
        raise ValueError(msg)
    if value != int(value) or value < minimum:
        msg = f"is not valid; expected a whole number >= {minimum}"
        raise ValueError(msg)
    return int(value)


def parse_degrees(text: str, *, limit: float) -> float:
    """Decimal degrees within ``[-limit, limit]``."""
    try:
        value = float(text)
    except ValueError:
        msg = "is not a number; expected decimal degrees"
        raise ValueError(msg) from None
    if not -limit <= value <= limit:
        msg = f"is out of range; expected decimal degrees in [-{limit:g}, {limit:g}]"
        raise ValueError(msg)
    return value


def parse_list(text: str) -> tuple[str, ...]:
    """``"a; b;;c"`` -> ``("a", "b", "c")``; accepts the full-width semicolon too."""
    return tuple(p.strip() for p in re.split(r"[;；]", text) if p.strip())


def arrival_window(start_s: int, width_s: int, appointment: TimeWindow | None) -> TimeWindow:
    """A window of ``width_s`` around ``start_s`` on a round grid, inside ``appointment``.

    The edges sit on a grid of half the width (at most 30 minutes), so the planned
    minute cannot be read back from them; the window is then slid, never shrunk, to
    lie inside the appointment window, or is the appointment window when that is
    narrower. ``start_s`` always lies inside the result.
    """
    grid = min(1800, width_s // 2)
    lo = (start_s - width_s // 2) // grid * grid
    hi = lo + width_s
    if appointment is not None:
        if appointment.end_s - appointment.start_s <= width_s:
            return appointment
        if lo < appointment.start_s:
            lo, hi = appointment.start_s, appointment.start_s + width_s
        if hi > appointment.end_s:
            lo, hi = appointment.end_s - width_s, appointment.end_s
    return TimeWindow(max(lo, 0), hi)


def told_window(
    start_s: int, width_s: int, appointment: TimeWindow | None, not_before_s: int
) -> TimeWindow:
    """The window a new notice promises: :func:`arrival_window`, never opening before
    ``not_before_s`` (the time of sending plus the lead time) when the start allows.

    A re-plan plans every visit that gets a new notice to start no sooner than that,
    so ``start_s`` still lies inside the result.
    """
    window = arrival_window(start_s, width_s, appointment)
    if window.start_s >= not_before_s or start_s < not_before_s:
        return window
    grid = min(1800, width_s // 2)
    lo = -(-not_before_s // grid) * grid
    lo = lo if lo <= start_s else not_before_s
    end = lo + width_s if appointment is None else min(lo + width_s, appointment.end_s)
    return TimeWindow(lo, min(max(end, start_s), MAX_TIME_S))


def parse_date(text: str) -> dt.date:
    """``YYYY-MM-DD`` as a date.

    Raises
    ------
    ValueError
        Any other text; the message quotes it and names the form expected.
    """
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        msg = f"{text!r} is not a date; expected YYYY-MM-DD (e.g. 2026-12-04)"
        raise ValueError(msg) from None


def parse_weekday(text: str) -> int:
    """A weekday name (``mon`` .. ``sun``, or the full English name) as 0 = Monday .. 6.

    Raises
    ------
    ValueError
        Not a weekday name; the message lists the names.
    """
    key = text.strip().casefold()[:3]
    if (
        len(text.strip()) >= 3
        and key in WEEKDAYS
        and WEEKDAYS_FULL[WEEKDAYS.index(key)].startswith(text.strip().casefold())
    ):
        return WEEKDAYS.index(key)
    msg = f"{text!r} is not a weekday; expected one of: {', '.join(WEEKDAYS)}"
    raise ValueError(msg)


def parse_weekdays(text: str) -> frozenset[int]:
    """``mon;wed`` as weekday numbers (0 = Monday)."""
    return frozenset(parse_weekday(part) for part in parse_list(text))


def parse_dayset(text: str) -> DaySet:
    """``sat;sun;2026-12-25``: weekday names and ISO dates, ';'-separated.

    Raises
    ------
    ValueError
        A part that is neither; the message quotes it.
    """
    dates: set[dt.date] = set()
    weekdays: set[int] = set()
    for part in parse_list(text):
        if part[:1].isdigit():
            dates.add(parse_date(part))
        else:
            try:
                weekdays.add(parse_weekday(part))
            except ValueError:
                msg = (
                    f"{part!r} is neither a weekday ({', '.join(WEEKDAYS)}) nor a date (YYYY-MM-DD)"
                )
                raise ValueError(msg) from None
    return DaySet(frozenset(dates), frozenset(weekdays))
