"""Builders for tiny test instances (PyVRP helpers style)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from geopy.adapters import AdapterHTTPError, BaseSyncAdapter

from optimizer.bench.synthetic import make_agents, make_visits
from optimizer.datums import CoordSystem, wgs84_to_bd09, wgs84_to_gcj02
from optimizer.day import DayPlan
from optimizer.domain import Agent, BreakRule, GeoPoint, TimeWindow, Visit
from optimizer.pipeline import plan_day
from optimizer.problem import RoutingProblem
from optimizer.settings import NoticeSettings, ReplanSettings, Settings
from optimizer.solve.params import SolverSettings

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


# ---------------------------------------------------------- geocoding replays

GEO_DATA = DATA_DIR / "geocoding"


@cache
def recorded(provider: str) -> dict[str, Any]:
    """The recorded-style answers of one provider, by case name."""
    return json.loads((GEO_DATA / f"{provider}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class HTTP:
    """A non-2xx answer."""

    status: int
    text: str = ""
    headers: dict[str, str] = field(default_factory=dict)


class Replay(BaseSyncAdapter):  # type: ignore[misc]
    """Answers requests in order; records every URL asked."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.urls: list[str] = []
        self.timeouts: list[float] = []
        self.headers: list[dict[str, str]] = []

    def factory(self) -> Callable[..., Replay]:
        """What to pass as geopy's ``adapter_factory``."""

        def make(*, proxies: Any, ssl_context: Any) -> Replay:
            return self

        return make

    def add(self, *answers: Any) -> None:
        self.answers.extend(answers)

    @property
    def calls(self) -> int:
        return len(self.urls)

    def get_json(self, url: str, *, timeout: float, headers: dict[str, str]) -> Any:
        self.urls.append(url)
        self.timeouts.append(timeout)
        self.headers.append(headers)
        if not self.answers:
            msg = f"unexpected request (no answer left): {url}"
            raise AssertionError(msg)
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        if isinstance(answer, HTTP):
            raise AdapterHTTPError(
                f"Non-successful status code {answer.status}",
                status_code=answer.status,
                headers=answer.headers,
                text=answer.text,
            )
        return json.loads(json.dumps(answer))  # a fresh copy, as from the wire

    def get_text(self, url: str, *, timeout: float, headers: dict[str, str]) -> str:
        return json.dumps(self.get_json(url, timeout=timeout, headers=headers))


class FakeClock:
    """Patched into geopy's RateLimiter seams (``_clock``/``_sleep``): no real waiting."""

    def __init__(self) -> None:
        self.now = 0.0  # a large start makes geopy spin on float rounding
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def install(self, limiter: Any) -> None:
        limiter._clock = self.clock
        limiter._sleep = self.sleep


def from_wgs84(point: GeoPoint, system: CoordSystem) -> tuple[float, float]:
    """The inverse of to_wgs84, from the converters the maps and links use."""
    convert = {CoordSystem.GCJ02: wgs84_to_gcj02, CoordSystem.BD09: wgs84_to_bd09}
    out = convert[system](point) if system in convert else point
    return (out.lat, out.lon)


# ------------------------------------------------------------- re-planning days

REPLAN_FAST = Settings(
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
    return plan_day(visits, agents, REPLAN_FAST, date=DATE)


def synthetic_day(seed: int, n_visits: int = 12, n_agents: int = 2) -> DayPlan:
    agents = make_agents(n_agents, seed=seed)
    visits = make_visits(n_visits, agents, seed=seed)
    return plan(visits, agents)


def with_settings(day: DayPlan, settings: Settings) -> DayPlan:
    return replace(day, settings=settings)


# ------------------------------------------------------ agent pages and notices

PAGE_SETTINGS = Settings(
    solver=SolverSettings(time_limit_s=2, metaheuristic="GREEDY_DESCENT"),
    notices=NoticeSettings(desk_phone="028-8888-0000"),
)


def _page_visit(
    n: int, agent: str, where: GeoPoint, window: tuple[float, float] | None, **kw: object
) -> Visit:
    return Visit(
        visit_id=f"V{n:03d}",
        location=where,
        duration_s=30 * 60,
        window=TimeWindow(round(window[0] * H), round(window[1] * H)) if window else None,
        pinned_agent=agent,
        name=f"姓{n}名字",
        phone=f"1390000{n:04d}",
        address=f"成都市 测试路 {n}号 {n}单元",
        visit_type=kw.pop("visit_type", "identity_check"),  # type: ignore[arg-type]
        documents=kw.pop("documents", ("ID card", "household register")),  # type: ignore[arg-type]
        skills=frozenset({"skill_sentinel_q"}),
        extra=(("id_number", f"51010019800101{n:04d}"), ("loan_amount", f"98765{n:03d}.55")),
        **kw,  # type: ignore[arg-type]
    )


def make_day(settings: Settings = PAGE_SETTINGS) -> DayPlan:
    """Agents A1 (north, lunch break) and A2 (south); three visits each; one unassignable."""
    lunch = BreakRule(TimeWindow(round(11.5 * H), round(13.5 * H)), 45 * 60)
    agents = (
        Agent(
            "A1",
            at(3, 0),
            TimeWindow(8 * H, 17 * H),
            break_rule=lunch,
            name="李四光",
            phone="13811112222",
            skills=frozenset({"skill_sentinel_q"}),
        ),
        Agent(
            "A2",
            at(-3, 0),
            TimeWindow(8 * H, 17 * H),
            name="王五",
            phone="13833334444",
            skills=frozenset({"skill_sentinel_q"}),
        ),
    )
    visits = (
        _page_visit(101, "A1", at(4, 1), (9, 10.5)),
        _page_visit(
            102,
            "A1",
            at(5, -1),
            (10, 12),
            visit_type="asset_check",
            documents=("property certificate", "vehicle registration"),
        ),
        _page_visit(
            103,
            "A1",
            at(4.5, 0.5),
            (13, 15),
            visit_type="overdue_followup",
            documents=("repayment records", "bank statements"),
        ),
        _page_visit(201, "A2", at(-4, 1), (9, 9.5)),
        _page_visit(202, "A2", at(-5, -1), None),
        _page_visit(
            203,
            "A2",
            at(-4.5, 2),
            (14, 16),
            visit_type="debt_collection_visit",
            documents=("loan contract",),
        ),
        _page_visit(301, "A2", at(-4, 0), (5, 5.5)),  # before every shift: unassigned
    )
    return plan_day(visits, agents, settings, date=DATE)


def verifier_complaints(problem: RoutingProblem, routes: Sequence[Sequence[int]]) -> list[str]:
    """The verifier's complaints about ``routes`` (visit indices per agent) timed in the
    insertion model, as the ruin-and-recreate search hands them on. Imported here: most
    tests never load OR-Tools (optimizer.solve.ortools)."""
    from optimizer.plan import SolverInfo, build_plan
    from optimizer.solve.ortools import lns_assignment
    from optimizer.verify import check_plan

    assignment = lns_assignment(problem, routes, SolverSettings(), 0.0)
    plan = build_plan(
        problem,
        assignment,
        {},
        date=DATE,
        timezone="Asia/Shanghai",
        solver=SolverInfo("lns", assignment.status, 1.0, 0.0),
        travel={},
    )
    return check_plan(plan, problem.visits, problem)
