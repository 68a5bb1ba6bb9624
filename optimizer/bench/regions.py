"""National days by regions: wall time and peak memory per engine; the price of splitting.

``python -m optimizer.bench.regions national [visits agents cities time_limit_s]`` plans
a generated national day (optimizer.bench.synthetic.make_national_day) with
``--regions auto`` on ``--engine local`` and ``--engine ray`` (a local two-CPU
cluster), each in a fresh process so that peak memory is that run's own, and prints
one Markdown table: wall time, peak RSS of the driver and of the processes that
solved (workers), served priority, travel, region sizes and the pickled size of the
tasks and answers (what a cluster would ship).

``python -m optimizer.bench.regions price [visits agents cities time_limit_s]`` plans
one day twice at the same budget: by regions (auto) and as a single problem, and
prints served priority and travel of both (docs/benchmarks.md).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from optimizer.bench.synthetic import make_national_day
from optimizer.day import DayPlan
from optimizer.pipeline import plan_day
from optimizer.regions.engine import Engine, LocalEngine, RegionTask, solve_region
from optimizer.regions.flow import plan_day_by_regions
from optimizer.regions.split import by_bases
from optimizer.settings import Settings
from optimizer.solve.assignment import Assignment

DATE = dt.date(2026, 12, 1)
SEED = 11


def _settings(time_limit_s: float, workers: int = 2) -> Settings:
    base = Settings()
    return replace(base, solver=replace(base.solver, time_limit_s=time_limit_s, workers=workers))


def _rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux: kilobytes


def _figures(day: DayPlan) -> dict[str, Any]:
    priority = {v.visit_id: v.priority for v in day.visits}
    served = sum(priority[v] for v in day.plan.assigned_ids)
    return {
        "visits": len(day.visits),
        "agents": len(day.agents),
        "routed": len(day.plan.assigned_ids),
        "served_priority": served,
        "total_priority": sum(priority.values()),
        "travel_h": sum(r.travel_s for r in day.plan.routes) / 3600,
    }


def _measured(report_dir: str) -> Any:
    """The task body, noting the solving process's peak memory and the answer's size."""

    def run(task: RegionTask) -> Assignment:
        assignment = solve_region(task)
        note = {
            "pid": os.getpid(),
            "self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "children_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            "answer_bytes": len(pickle.dumps(assignment, protocol=5)),
        }
        path = Path(report_dir) / f"{task.region}.json"
        path.write_text(json.dumps(note), encoding="utf-8")
        return assignment

    return run


def run_one(
    engine_name: str, n_visits: int, n_agents: int, n_cities: int, limit: float, workers: int
) -> dict[str, Any]:
    """One national day on one engine, in this process (call it in a fresh one)."""
    visits, agents, _ = make_national_day(n_visits, n_agents, n_cities, seed=SEED)
    settings = _settings(limit, workers)
    began = time.perf_counter()
    engine: Engine
    if engine_name == "ray":
        from optimizer.regions.ray_engine import RayEngine

        engine = RayEngine(num_cpus=2, max_retries=settings.regions.max_retries)
    else:
        engine = LocalEngine(settings.regions.max_retries)
    params = settings.regions
    with tempfile.TemporaryDirectory() as notes:
        try:
            result = plan_day_by_regions(
                visits,
                agents,
                settings,
                date=DATE,
                cut=partial(by_bases, max_visits=params.max_visits, link_km=params.link_km),
                engine=engine,
                solve=_measured(notes),
                measure_tasks=True,
                started=began,
            )
        finally:
            close = getattr(engine, "close", None)
            if close is not None:
                close()
        wall = time.perf_counter() - began
        solved = [json.loads(p.read_text(encoding="utf-8")) for p in Path(notes).iterdir()]
    worker_mb = max([n["self_mb"] for n in solved] or [0.0])
    children_mb = max([n["children_mb"] for n in solved] or [0.0])
    sizes = [r.visits for r in result.reports]
    task_bytes = [r.task_bytes for r in result.reports]
    return {
        "engine": engine_name,
        "workers": workers,
        "time_limit_s": limit,
        "wall_s": wall,
        "regions": len(result.split.regions),
        "largest_region": max(sizes, default=0),
        "smallest_region": min(sizes, default=0),
        "failed": len(result.failed),
        "driver_mb": _rss_mb(resource.RUSAGE_SELF),
        "solver_mb": worker_mb,
        "second_search_mb": children_mb,
        "task_mb_max": max(task_bytes, default=0) / 1e6,
        "task_mb_total": sum(task_bytes) / 1e6,
        "answer_kb_max": max([n["answer_bytes"] for n in solved] or [0]) / 1e3,
        **{k: round(v, 2) for k, v in result.timings.items()},
        **_figures(result.day),
    }


def national(argv: Sequence[str]) -> int:
    n_visits = int(argv[0]) if argv else 20_000
    n_agents = int(argv[1]) if len(argv) > 1 else 1_000
    n_cities = int(argv[2]) if len(argv) > 2 else 40
    limit = float(argv[3]) if len(argv) > 3 else 480.0
    runs = [("local", 2), ("ray", 2), ("ray", 1)]
    if len(argv) > 4:
        runs = [(e, int(w)) for e, w in (item.split(":") for item in argv[4].split(","))]
    print(
        f"National day: {n_visits} visits, {n_agents} agents, {n_cities} cities, "
        f"--time-limit {limit:g} (2-core machine shared with other jobs)"
    )
    print(
        "| engine | searches per region | wall s | regions (largest) | driver peak MB "
        "| solver process peak MB | 2nd search peak MB | task MB (largest / all) "
        "| answer kB (largest) | routed | served priority | travel h "
        "| split / build / solve / verify s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for engine, workers in runs:
        code = (
            "import json, sys; from optimizer.bench.regions import run_one; "
            f"print(json.dumps(run_one({engine!r}, {n_visits}, {n_agents}, {n_cities}, "
            f"{limit}, {workers})))"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            print(f"| {engine} | {workers} | failed: {done.stderr.strip().splitlines()[-1:]} |")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"| {r['engine']} | {r['workers']} | {r['wall_s']:.0f} | {r['regions']} "
            f"({r['largest_region']}) | {r['driver_mb']:.0f} | {r['solver_mb']:.0f} "
            f"| {r['second_search_mb']:.0f} | {r['task_mb_max']:.1f} / {r['task_mb_total']:.0f} "
            f"| {r['answer_kb_max']:.0f} | {r['routed']} / {r['visits']} "
            f"| {r['served_priority']} / {r['total_priority']} "
            f"({100 * r['served_priority'] / max(1, r['total_priority']):.1f} %) "
            f"| {r['travel_h']:.0f} | {r.get('split_s', 0):.1f} / {r.get('build_s', 0):.1f} "
            f"/ {r.get('solve_s', 0):.0f} / {r.get('verify_s', 0):.1f} |",
            flush=True,
        )
        print(f"<!-- {json.dumps(r)} -->", flush=True)
    return 0


def price(argv: Sequence[str]) -> int:
    n_visits = int(argv[0]) if argv else 3_000
    n_agents = int(argv[1]) if len(argv) > 1 else 120
    n_cities = int(argv[2]) if len(argv) > 2 else 3
    limit = float(argv[3]) if len(argv) > 3 else 120.0
    visits, agents, _ = make_national_day(n_visits, n_agents, n_cities, seed=SEED)
    settings = _settings(limit)
    params = settings.regions
    print(
        f"Price of splitting: {n_visits} visits, {n_agents} agents, {n_cities} cities, "
        f"--time-limit {limit:g} each (2-core machine shared with other jobs)"
    )
    print("| plan | wall s | routed | served priority | travel h |")
    print("|---|---|---|---|---|")
    began = time.perf_counter()
    by_regions = plan_day_by_regions(
        visits,
        agents,
        settings,
        date=DATE,
        cut=partial(by_bases, max_visits=params.max_visits, link_km=params.link_km),
        engine=LocalEngine(),
    ).day
    rows = [("regions (auto, local)", time.perf_counter() - began, _figures(by_regions))]
    began = time.perf_counter()
    single = plan_day(visits, agents, settings, date=DATE)
    rows.append(("single problem", time.perf_counter() - began, _figures(single)))
    for name, wall, f in rows:
        share = 100 * f["served_priority"] / max(1, f["total_priority"])
        print(
            f"| {name} | {wall:.0f} | {f['routed']} / {f['visits']} "
            f"| {f['served_priority']} / {f['total_priority']} ({share:.2f} %) | {f['travel_h']:.0f} |",
            flush=True,
        )
    loss = 1 - rows[0][2]["served_priority"] / max(1, rows[1][2]["served_priority"])
    print(f"\nServed priority lost to splitting: {100 * loss:.2f} % (bar: at most 1 %)")
    return 0


def main(argv: Sequence[str]) -> int:
    if argv and argv[0] == "price":
        return price(argv[1:])
    if argv and argv[0] == "national":
        return national(argv[1:])
    print(
        "usage: python -m optimizer.bench.regions national|price [visits agents cities time_limit_s]"
    )
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
