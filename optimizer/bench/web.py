"""Benchmark of the console's answers: p95 of POST /check and GET /slots (issue 15).

A synthetic day (300 visits / 30 agents, then 1,000 / 50) is imported into a fresh
SQLite book and planned through the API (first solution only: the bench times the
answers, not the solve); then a dispatcher's session asks ``queries`` random move
checks and slot questions through the whole HTTP stack in process (routing, session
and role check, JSON), as the pages do (Starlette's in-process client: no socket, so the figures are the
console's own time). Bars: /check p95 <= 150 ms on 300/30, /slots
p95 <= 1 s.

Run: ``python -m optimizer.bench.web [visits agents ...]`` (``make bench`` runs both sizes).
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from optimizer.bench.synthetic import CHENGDU, make_agents, make_visits
from optimizer.book.accounts import add_user
from optimizer.book.db import open_book, resolve_url, upgrade
from optimizer.book.repository import Actor, import_file
from optimizer.settings import BookSettings, Settings
from optimizer.web.app import create_app
from optimizer.web.auth import hash_password

CHECK_BAR_S = 0.150
SLOTS_BAR_S = 1.0
DATE = "2026-12-01"


def _p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]


def bench_web(
    *, visits: int = 300, agents: int = 30, queries: int = 100, seed: int = 7
) -> dict[str, Any]:
    team = make_agents(agents, seed=seed)
    day_visits = make_visits(visits, team, seed=seed)
    base = Settings()
    settings = replace(base, solver=replace(base.solver, time_limit_s=120, solution_limit=1))
    now = dt.datetime.now(dt.UTC)
    with tempfile.TemporaryDirectory(prefix="fieldroute-bench-web-") as tmp:
        url = str(Path(tmp) / "book.db")
        book = open_book(resolve_url(url, BookSettings()), BookSettings(), create=True)
        upgrade(book)
        add_user(book, "bench", hash_password("bench-password"), "dispatcher", now=now)
        import_file(book, day_visits, team, Actor("bench", "bench"))
        book.close()
        app = create_app(url, settings=settings, out_dir=Path(tmp) / "out")
        with TestClient(app) as client:
            token = client.post(
                "/api/login", json={"username": "bench", "password": "bench-password"}
            ).json()["csrf_token"]
            headers = {"X-CSRF-Token": token}
            began = time.perf_counter()
            doc = client.post(f"/api/plans/{DATE}", headers=headers, json={}).json()
            plan_s = time.perf_counter() - began
            rng = random.Random(seed)
            routed = [(s["visit_id"], r["agent_id"]) for r in doc["routes"] for s in r["stops"]]
            lengths = {r["agent_id"]: len(r["stops"]) for r in doc["routes"]}
            ids = [a.agent_id for a in team]
            checks, refused = [], 0
            for _ in range(queries):
                visit_id, _agent = rng.choice(routed)
                target = rng.choice(ids)
                move = {
                    "visit_id": visit_id,
                    "agent_id": target,
                    "position": rng.randint(0, lengths.get(target, 0)),
                }
                t0 = time.perf_counter()
                r = client.post(f"/api/plans/{DATE}/check", headers=headers, json=move)
                checks.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    msg = f"/check answered {r.status_code}: {r.text[:200]}"
                    raise RuntimeError(msg)
                refused += not r.json()["ok"]
            slots, offered = [], []
            for _ in range(max(10, queries // 5)):
                q: dict[str, str | float] = {
                    "date": DATE,
                    "lat": CHENGDU.center.lat + rng.uniform(-0.08, 0.08),
                    "lon": CHENGDU.center.lon + rng.uniform(-0.08, 0.08),
                    "duration": rng.choice((20, 30, 45)),
                }
                t0 = time.perf_counter()
                r = client.get("/api/slots", params=q)
                slots.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    msg = f"/slots answered {r.status_code}: {r.text[:200]}"
                    raise RuntimeError(msg)
                offered.append(len(r.json()["slots"]))
    check_p95, slots_p95 = _p95(checks), _p95(slots)
    return {
        "name": "web",
        "visits": visits,
        "agents": agents,
        "routed": len(routed),
        "plan_s": round(plan_s, 2),
        "check_queries": len(checks),
        "check_refused": refused,
        "check_median_ms": round(1000 * statistics.median(checks), 1),
        "check_p95_ms": round(1000 * check_p95, 1),
        "slots_queries": len(slots),
        "slots_median_ms": round(1000 * statistics.median(slots), 1),
        "slots_p95_ms": round(1000 * slots_p95, 1),
        "slots_offered_median": statistics.median(offered),
        "check_bar_ms": CHECK_BAR_S * 1000,
        "slots_bar_ms": SLOTS_BAR_S * 1000,
        "check_ok": check_p95 <= CHECK_BAR_S,
        "slots_ok": slots_p95 <= SLOTS_BAR_S,
    }


if __name__ == "__main__":
    sizes = [int(x) for x in sys.argv[1:]] or [300, 30, 1000, 50]
    for n, m in zip(sizes[::2], sizes[1::2], strict=True):
        print(bench_web(visits=n, agents=m), flush=True)
