"""Tiny named days for the re-planning and slot tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from optimizer.domain import Agent, GeoPoint, TimeWindow, Visit
from optimizer.pipeline import DayPlan, plan_day
from optimizer.settings import ReplanSettings, Settings, SolverSettings
from optimizer.synthetic import make_agents, make_visits

H = 3600
DATE = dt.date(2026, 12, 1)
FAST = Settings(
    solver=SolverSettings(time_limit_s=1.0),
    replan=ReplanSettings(time_limit_s=1.0),
)
HOME = GeoPoint(30.66, 104.06)


def agent(agent_id: str, **kw: object) -> Agent:
    base: dict[str, object] = {"start": HOME, "shift": TimeWindow(8 * H, 17 * H)}
    base.update(kw)
    return Agent(agent_id, **base)  # type: ignore[arg-type]


def visit(visit_id: str, dlat: float, dlon: float, **kw: object) -> Visit:
    base: dict[str, object] = {
        "location": GeoPoint(HOME.lat + dlat, HOME.lon + dlon),
        "duration_s": 30 * 60,
    }
    base.update(kw)
    return Visit(visit_id, **base)  # type: ignore[arg-type]


def plan(
    visits: list[Visit] | tuple[Visit, ...], agents: list[Agent] | tuple[Agent, ...]
) -> DayPlan:
    return plan_day(visits, agents, FAST, date=DATE)


def synthetic_day(seed: int, n_visits: int = 12, n_agents: int = 2) -> DayPlan:
    agents = make_agents(n_agents, seed=seed)
    visits = make_visits(n_visits, agents, seed=seed)
    return plan(visits, agents)


def with_settings(day: DayPlan, settings: Settings) -> DayPlan:
    return replace(day, settings=settings)
