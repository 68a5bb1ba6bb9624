"""Column specs for visits and agents files: one source for the loader and the docs."""

from __future__ import annotations

from dataclasses import dataclass

#: What a spreadsheet runs as a formula when a CSV cell starts with it.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def starts_like_formula(text: str) -> bool:
    """Whether a CSV cell needs a leading ``'`` so that a spreadsheet shows it as text.

    Cells starting with ``= + - @``, a tab or CR, after any leading apostrophes, do
    (the apostrophes count, so that adding and removing one is exact both ways).
    Numbers are written as numbers, not text, so a longitude of -0.5 is never touched.
    """
    return text.lstrip("'").startswith(FORMULA_START)


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    required: bool
    meaning: str


VISIT_COLUMNS: tuple[Column, ...] = (
    Column("visit_id", True, "unique text"),
    Column("name", False, "borrower's name (personal data)"),
    Column("phone", False, "borrower's phone (personal data)"),
    Column("address", False, "text address; required when lat/lon are empty"),
    Column(
        "lat",
        False,
        "WGS-84 latitude in degrees; with lon, required when address is empty",
    ),
    Column("lon", False, "WGS-84 longitude in degrees"),
    Column(
        "coord_system",
        False,
        "datum of lat/lon: wgs84, gcj02 (AMap, Tencent) or bd09 (Baidu); default [geocoder] coord_system",
    ),
    Column("window_start", False, "HH:MM: earliest start of the visit (both or neither)"),
    Column("window_end", False, "HH:MM: latest start of the visit"),
    Column("duration_min", False, "minutes on site, > 0 (default 30)"),
    Column(
        "visit_type",
        False,
        "free label: identity_check, asset_check, overdue_followup, ...",
    ),
    Column("skills", False, "required skills, ';'-separated"),
    Column("priority", False, "whole number >= 1 (default 1); higher is kept first"),
    Column("documents", False, "what the borrower must prepare, ';'-separated"),
    Column("agent_id", False, "pin: only this agent may do the visit"),
    Column("demand", False, "whole number >= 0 against the agent's capacity (default 0)"),
    Column("due_date", False, "YYYY-MM-DD: the visit must happen on or before this day"),
    Column("earliest_date", False, "YYYY-MM-DD: not before this day (<= due_date)"),
    Column("preferred_days", False, "weekdays the borrower prefers, e.g. mon;wed (a wish)"),
)

AGENT_COLUMNS: tuple[Column, ...] = (
    Column("agent_id", True, "unique text"),
    Column("name", False, "agent's name"),
    Column("phone", False, "agent's phone"),
    Column("start_lat", False, "where the day starts (degrees); or give start_address"),
    Column("start_lon", False, "where the day starts"),
    Column("start_address", False, "where the day starts, geocoded when start_lat/lon are empty"),
    Column("end_lat", False, "where the day ends (default: the start)"),
    Column("end_lon", False, "where the day ends"),
    Column("end_address", False, "where the day ends, geocoded when end_lat/lon are empty"),
    Column("coord_system", False, "datum of the lat/lon columns: wgs84, gcj02 or bd09"),
    Column("shift_start", True, "HH:MM"),
    Column("shift_end", True, "HH:MM, after shift_start"),
    Column("break_start", False, "HH:MM: earliest start of the break"),
    Column("break_end", False, "HH:MM: latest start of the break"),
    Column("break_min", False, "break length in minutes (all three break columns or none)"),
    Column("skills", False, "';'-separated"),
    Column("max_visits", False, "whole number >= 0: most visits in the day"),
    Column(
        "capacity",
        False,
        "whole number >= 0 against visits' demand (default: no limit)",
    ),
    Column("mode", False, "car (default), ebike, walk or transit"),
    Column("days_off", False, "weekdays and/or dates off, e.g. sat;sun;2026-12-25"),
)


def markdown_table(columns: tuple[Column, ...]) -> str:
    """The README's column table, generated so docs and loader cannot drift apart."""
    rows = ["| column | required | meaning |", "|---|---|---|"]
    rows += [f"| {c.name} | {'yes' if c.required else 'no'} | {c.meaning} |" for c in columns]
    return "\n".join(rows)
