"""Benchmark for ``fieldroute slots``: answer time on a generated 300-visit plan.

``make bench`` calls :func:`bench_slots`. The bar is under one second per answer,
because a borrower is waiting on the phone.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from dataclasses import replace
from typing import Any

from optimizer.bench.synthetic import CHENGDU, make_agents, make_visits
from optimizer.domain import GeoPoint
from optimizer.pipeline import plan_day
from optimizer.settings import Settings
from optimizer.slots import offer_slots

BAR_S = 1.0


def bench_slots(
    *, visits: int = 300, agents: int = 30, queries: int = 20, seed: int = 7
) -> dict[str, Any]:
    """Plan a synthetic day (first solution only), then time ``queries`` slot questions."""
    team = make_agents(agents, seed=seed)
    day_visits = make_visits(visits, team, seed=seed)
    base = Settings()
    settings = replace(base, solver=replace(base.solver, time_limit_s=60, solution_limit=1))
    began = time.perf_counter()
    day = plan_day(day_visits, team, settings, date=dt.date(2026, 12, 1))
    plan_s = time.perf_counter() - began
    rng = random.Random(seed)
    times, offered = [], []
    for _ in range(queries):
        where = GeoPoint(
            CHENGDU.center.lat + rng.uniform(-0.08, 0.08),
            CHENGDU.center.lon + rng.uniform(-0.08, 0.08),
        )
        duration = rng.choice((20, 30, 45)) * 60
        skills = rng.choice((frozenset(), frozenset({"asset_appraisal"})))
        t0 = time.perf_counter()
        slots = offer_slots(day, where, duration, skills)
        times.append(time.perf_counter() - t0)
        offered.append(len(slots))
    return {
        "name": "slots",
        "visits": visits,
        "agents": agents,
        "routed": len(day.plan.assigned_ids),
        "plan_s": round(plan_s, 2),
        "queries": queries,
        "median_s": round(statistics.median(times), 4),
        "max_s": round(max(times), 4),
        "slots_offered_median": statistics.median(offered),
        "bar_s": BAR_S,
        "ok": max(times) < BAR_S,
    }


if __name__ == "__main__":
    print(bench_slots())
