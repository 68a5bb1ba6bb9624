"""Builders for tiny test instances (PyVRP helpers style)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

from optimizer.domain import Agent, BreakRule, GeoPoint, TimeWindow, Visit
from optimizer.settings import Settings, SolverSettings

ROOT = Path(__file__).parent.parent
DATA_DIR = Path(__file__).parent / "data"
DATE = dt.date(2026, 12, 1)
H = 3600
BASE = GeoPoint(30.6586, 104.0647)

#: Fast, repeatable: greedy descent stops at the first local optimum.
FAST = Settings(solver=SolverSettings(time_limit_s=2, metaheuristic="GREEDY_DESCENT"))


def at(dlat_km: float, dlon_km: float) -> GeoPoint:
    """A point ``dlat_km`` north and ``dlon_km`` east of BASE (about)."""
    return GeoPoint(BASE.lat + dlat_km / 111.2, BASE.lon + dlon_km / 95.8)


def hm(h: float) -> int:
    return round(h * H)


def make_visit(visit_id: str = "V1", **overrides: Any) -> Visit:
    fields: dict[str, Any] = {"location": at(1, 1), "duration_s": 30 * 60}
    fields.update(overrides)
    return Visit(visit_id=visit_id, **fields)


def make_agent(agent_id: str = "A1", **overrides: Any) -> Agent:
    fields: dict[str, Any] = {"start": BASE, "shift": TimeWindow(hm(8), hm(17))}
    fields.update(overrides)
    return Agent(agent_id=agent_id, **fields)


def lunch(start: float = 12, end: float = 13, minutes: int = 45) -> BreakRule:
    return BreakRule(TimeWindow(hm(start), hm(end)), minutes * 60)


def with_time(settings: Settings, seconds: float) -> Settings:
    return replace(settings, solver=replace(settings.solver, time_limit_s=seconds))


def window(start_h: float, end_h: float) -> TimeWindow:
    return TimeWindow(hm(start_h), hm(end_h))
