"""A tiny two-agent day full of personal data, for the agent page, notice and privacy tests.

Every personal value is unique and searchable: names, phones, addresses, visit ids
and two columns that no output may carry (``id_number``, ``loan_amount``).
"""

from __future__ import annotations

import datetime as dt

from optimizer.domain import Agent, BreakRule, GeoPoint, TimeWindow, Visit
from optimizer.pipeline import DayPlan, plan_day
from optimizer.settings import NoticeSettings, Settings, SolverSettings

DATE = dt.date(2026, 12, 1)
H = 3600
BASE = GeoPoint(30.6586, 104.0647)  # Chengdu, Tianfu Square
SETTINGS = Settings(
    solver=SolverSettings(time_limit_s=2, metaheuristic="GREEDY_DESCENT"),
    notices=NoticeSettings(desk_phone="028-8888-0000"),
)


def at(dlat_km: float, dlon_km: float) -> GeoPoint:
    return GeoPoint(BASE.lat + dlat_km / 111.2, BASE.lon + dlon_km / 95.8)


def _visit(
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


def make_day(settings: Settings = SETTINGS) -> DayPlan:
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
        _visit(101, "A1", at(4, 1), (9, 10.5)),
        _visit(
            102,
            "A1",
            at(5, -1),
            (10, 12),
            visit_type="asset_check",
            documents=("property certificate", "vehicle registration"),
        ),
        _visit(
            103,
            "A1",
            at(4.5, 0.5),
            (13, 15),
            visit_type="overdue_followup",
            documents=("repayment records", "bank statements"),
        ),
        _visit(201, "A2", at(-4, 1), (9, 9.5)),
        _visit(202, "A2", at(-5, -1), None),
        _visit(
            203,
            "A2",
            at(-4.5, 2),
            (14, 16),
            visit_type="debt_collection_visit",
            documents=("loan contract",),
        ),
        _visit(301, "A2", at(-4, 0), (5, 5.5)),  # before every shift: unassigned
    )
    return plan_day(visits, agents, settings, date=DATE)
