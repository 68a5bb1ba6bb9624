"""VRPTW literature instances (Solomon, Gehring-Homberger) as FieldRoute days.

DIMACS convention: every arc distance and travel time is ``floor(10 * d) / 10``; the
objective is distance only; the fleet is capped by the instance. We scale by 10 so the
truncated matrix is exact in integers: one FieldRoute "second" is 0.1 instance units.
Travel time equals distance, so minimising FieldRoute's travel time minimises distance.
"""

from __future__ import annotations

import csv
import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from optimizer.domain import Agent, GeoPoint, TimeWindow, Visit
from optimizer.pipeline import plan_day
from optimizer.settings import Settings
from optimizer.solve.params import SolverSettings
from optimizer.travel.base import FixedMatrixProvider

SCALE = 10
SETS = ("solomon", "gh200", "gh400")
DATE = dt.date(2026, 1, 1)


@dataclass(frozen=True, slots=True)
class Instance:
    """One VRPTW instance converted to FieldRoute values."""

    name: str
    family: str
    set: str
    visits: tuple[Visit, ...]
    agents: tuple[Agent, ...]
    travel: FixedMatrixProvider
    bks: float | None


@dataclass(frozen=True, slots=True)
class LitResult:
    """One engine on one instance; ``distance`` is in DIMACS units (one decimal)."""

    instance: str
    family: str
    set: str
    engine: str
    distance: float
    routes: int
    bks: float | None
    wall_s: float
    feasible: bool
    all_served: bool
    peak_mb: float = 0.0

    @property
    def gap_pct(self) -> float | None:
        if self.bks is None or not self.all_served:
            return None
        return 100.0 * (self.distance - self.bks) / self.bks


def _node_point(i: int) -> GeoPoint:
    """A unique placeholder position per instance node (only used as a matrix key)."""
    return GeoPoint(i // 1000 * 0.01, i % 1000 * 0.01)


def dimacs_matrix(coords: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.int64]]:
    """``floor(10 * euclid)``: the DIMACS one-decimal truncation, times 10, exact."""
    diff = coords[:, None, :] - coords[None, :, :]
    dist = np.sqrt((diff.astype(np.float64) ** 2).sum(axis=2))
    truncated: np.ndarray[Any, np.dtype[np.int64]] = np.floor(dist * SCALE + 1e-9).astype(np.int64)
    return truncated


def read_bks(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return {row["instance"]: row for row in csv.DictReader(f)}


def load_instance(path: Path, bks: dict[str, dict[str, str]]) -> Instance:
    """Read one VRPLIB file with vrplib and turn it into visits, agents and a matrix."""
    import vrplib  # bench-only dependency

    data = vrplib.read_instance(str(path), compute_edge_weights=False)
    name = str(data["name"])
    coords = np.asarray(data["node_coord"], dtype=np.float64)
    n = coords.shape[0]
    service = np.broadcast_to(np.asarray(data.get("service_time", 0)), (n,)).astype(np.float64)
    windows = np.asarray(data["time_window"], dtype=np.float64)
    demand = np.asarray(data["demand"], dtype=np.int64)
    matrix = dimacs_matrix(coords)
    points = [_node_point(i) for i in range(n)]
    index = {p: i for i, p in enumerate(points)}
    visits = tuple(
        Visit(
            visit_id=str(i),
            location=points[i],
            duration_s=max(1, round(service[i] * SCALE)),
            window=TimeWindow(round(windows[i, 0] * SCALE), round(windows[i, 1] * SCALE)),
            demand=int(demand[i]),
        )
        for i in range(1, n)
    )
    shift = TimeWindow(round(windows[0, 0] * SCALE), round(windows[0, 1] * SCALE))
    agents = tuple(
        Agent(
            agent_id=f"V{k + 1:03d}",
            start=points[0],
            shift=shift,
            capacity=int(data["capacity"]),
        )
        for k in range(int(data["vehicles"]))
    )
    row = bks.get(name, {})
    return Instance(
        name=name,
        family=row.get("family", _family(name)),
        set=row.get("set", path.parent.name),
        visits=visits,
        agents=agents,
        travel=FixedMatrixProvider(matrix, matrix, index, name=f"dimacs:{name}"),
        bks=float(row["bks_distance"]) if row.get("bks_distance") else None,
    )


def _family(name: str) -> str:
    head = name.split("_")[0]
    return head[:-2] if "_" not in name else head


def select(root: Path, sets: Sequence[str], *, per_family: int | None, skip: int = 0) -> list[Path]:
    """Instance files of ``sets``, in name order, ``per_family`` of each family after ``skip``."""
    bks = read_bks(root / "bks.csv")
    chosen: list[Path] = []
    for s in sets:
        by_family: dict[str, list[Path]] = {}
        for p in sorted((root / s).glob("*.vrp"), key=lambda p: _natural(p.stem)):
            fam = bks.get(p.stem, {}).get("family", _family(p.stem))
            by_family.setdefault(fam, []).append(p)
        for fam in sorted(by_family):
            files = by_family[fam][skip:]
            chosen += files if per_family is None else files[:per_family]
    return chosen


def _natural(name: str) -> tuple[Any, ...]:
    parts = name.replace("_", " ").split()
    return tuple(int(p) if p.isdigit() else p for p in parts)


def solve_fieldroute(inst: Instance, solver: SolverSettings) -> LitResult:
    """Exactly the product path: plan_day (precheck, solve, build_plan, check_plan)."""
    began = time.perf_counter()
    day = plan_day(inst.visits, inst.agents, Settings(solver=solver), date=DATE, travel=inst.travel)
    wall = time.perf_counter() - began
    plan = day.plan
    distance = sum(r.travel_s for r in plan.routes) / SCALE
    return LitResult(
        instance=inst.name,
        family=inst.family,
        set=inst.set,
        engine="fieldroute",
        distance=distance,
        routes=len(plan.routes),
        bks=inst.bks,
        wall_s=wall,
        feasible=True,  # plan_day raises VerificationError otherwise
        all_served=not plan.unassigned,
    )


def route_distance(matrix: np.ndarray[Any, Any], routes: Sequence[Sequence[int]]) -> float:
    """DIMACS distance of routes given as instance node numbers (depot 0)."""
    total = 0
    for r in routes:
        path = [0, *r, 0]
        total += int(sum(matrix[a, b] for a, b in pairwise(path)))
    return total / SCALE


def check_routes(inst: Instance, routes: Sequence[Sequence[int]]) -> bool:
    """Independent feasibility of node-number routes: windows, shift, capacity, fleet."""
    m = inst.travel.seconds
    shift = inst.agents[0].shift
    cap = inst.agents[0].capacity or 0
    if len(routes) > len(inst.agents):
        return False
    for r in routes:
        t, prev, load = shift.start_s, 0, 0
        for node in r:
            v = inst.visits[node - 1]
            t = max(t + int(m[prev, node]), v.window.start_s if v.window else 0)
            if v.window is not None and t > v.window.end_s:
                return False
            t += v.duration_s
            load += v.demand
            prev = node
        if t + int(m[prev, 0]) > shift.end_s or load > cap:
            return False
    return True
