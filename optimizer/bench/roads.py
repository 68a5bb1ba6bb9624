"""Road-data benchmarks: OSRM preparation and matrix speed, memory, straight-line error.

    .venv/bin/python -m optimizer.bench.roads            # Liechtenstein, all figures
    .venv/bin/python -m optimizer.bench.roads --calibrate /path/a.osm.pbf /path/b.osm.pbf

Figures (see docs/roads.md for a run):

* preprocessing time and peak memory per profile (osrm-extract + osrm-contract);
* Table-service time for 100, 500 and 1,000 points once the data is loaded (bar:
  1,000 x 1,000 under 1 s), and the process's memory;
* the straight-line model's median absolute percentage error (MAPE) against OSRM on
  the same 1,000 points, per mode;
* the Liechtenstein sample day planned on straight-line times and on road times, both
  re-timed on road times: how many appointments each plan would really miss;
* :func:`calibrate`: the straight-line constants fitted to OSRM on several extracts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from optimizer.domain import GeoPoint, Mode
from optimizer.plan import leg_arrival
from optimizer.settings import Settings
from optimizer.solve.params import SolverSettings
from optimizer.travel.base import MODE_PROFILES, TravelProvider
from optimizer.travel.extract import address_points
from optimizer.travel.osrm import OsrmProvider
from optimizer.travel.prepare import build_roads
from optimizer.travel.straight import DEFAULT_PROFILES, ModeProfile, StraightLineModel, haversine_m

ROOT = Path(__file__).resolve().parents[2]
LIECHTENSTEIN = ROOT / "data" / "liechtenstein"
EXTRACT = LIECHTENSTEIN / "liechtenstein.osm.pbf"
ROAD_MODES = (Mode.CAR, Mode.EBIKE, Mode.WALK)
SEED = 4

#: The straight-line defaults before calibration (road km = 1.3 x great-circle km at
#: 25 / 15 / 4.5 / 18 km/h), kept to show what the recalibration changed.
LEGACY_PROFILES: Mapping[Mode, ModeProfile] = {
    Mode.CAR: ModeProfile.from_speed(25.0, 0, 1.3),
    Mode.EBIKE: ModeProfile.from_speed(15.0, 0, 1.3),
    Mode.WALK: ModeProfile.from_speed(4.5, 0, 1.3),
    Mode.TRANSIT: ModeProfile.from_speed(18.0, 300, 1.3),
}


def rss_mib() -> float:
    """Resident memory of this process now (Linux), MiB."""
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def sample_points(extract: Path, n: int, seed: int = SEED) -> list[GeoPoint]:
    """``n`` addressed places or buildings of the extract, drawn with ``seed``."""
    pool = address_points(extract)
    return random.Random(seed).sample(pool, n)


def mape(estimate: npt.ArrayLike, truth: npt.ArrayLike) -> float:
    """Median absolute percentage error over pairs with a positive true value."""
    est = np.asarray(estimate, dtype=np.float64)
    tru = np.asarray(truth, dtype=np.float64)
    keep = tru > 0
    return float(np.median(np.abs(est[keep] - tru[keep]) / tru[keep]))


def _pairs(provider: OsrmProvider, points: Sequence[GeoPoint], mode: Mode) -> tuple[Any, ...]:
    """Great-circle km and OSRM seconds and metres over pairs of reachable points."""
    m = provider.matrix(points, mode)
    ok = np.ones(len(points), dtype=bool)
    ok[list(m.unreachable)] = False
    mask = ok[:, None] & ok[None, :] & ~np.eye(len(points), dtype=bool)
    coords = np.array([p.as_latlon() for p in points])
    km = haversine_m(coords, coords) / 1000.0
    return km[mask], m.seconds[mask].astype(np.float64), m.metres[mask].astype(np.float64)


# ------------------------------------------------------------------ calibration


def fit_profile(km: npt.NDArray[np.float64], seconds: npt.NDArray[np.float64]) -> ModeProfile:
    """``overhead_s + s_per_km x km`` with the least median absolute percentage error.

    A coarse-to-fine grid search (the objective is not smooth enough for gradients).
    """
    keep = seconds > 0
    km, seconds = km[keep], seconds[keep]
    o_lo, o_hi = 0.0, 900.0
    guess = float(np.median(seconds / np.maximum(km, 1e-3)))
    s_lo, s_hi = guess / 4, guess * 2
    best = (np.inf, 0.0, guess)
    for _ in range(4):
        for overhead in np.linspace(o_lo, o_hi, 31):
            s_grid = np.linspace(s_lo, s_hi, 61)
            pred = overhead + s_grid[:, None] * km[None, :]
            err = np.median(np.abs(pred - seconds) / seconds, axis=1)
            j = int(np.argmin(err))
            if err[j] < best[0]:
                best = (float(err[j]), float(overhead), float(s_grid[j]))
        _, o_best, s_best = best
        do, ds = (o_hi - o_lo) / 8, (s_hi - s_lo) / 8
        o_lo, o_hi = max(0.0, o_best - do), o_best + do
        s_lo, s_hi = max(10.0, s_best - ds), s_best + ds
    return ModeProfile(round(best[2], 1), round(best[1]))


def calibrate(
    extracts: Sequence[Path],
    out_dir: Path,
    *,
    n_points: int = 400,
    ebike_speed_factor: float = 1.3,
    seed: int = SEED,
) -> dict[str, Any]:
    """Fit the straight-line constants per mode to OSRM over several extracts.

    Each extract contributes ``n_points`` random addresses (all pairs); the pooled fit
    weights every extract the same (the same number of pairs from each).
    """
    rng = np.random.default_rng(seed)
    per_mode: dict[Mode, list[tuple[str, Any, Any, Any]]] = {m: [] for m in ROAD_MODES}
    for extract in extracts:
        profiles = [p for p in MODE_PROFILES.values() if p]
        folder = out_dir / extract.name.split(".")[0]
        data = {p: build_roads(extract, p, folder, progress=lambda _: None) for p in profiles}
        provider = OsrmProvider(data, snap_limit_m=100.0, ebike_speed_factor=ebike_speed_factor)
        points = sample_points(extract, n_points, seed)
        for mode in ROAD_MODES:
            per_mode[mode].append((extract.name, *_pairs(provider, points, mode)))
    out: dict[str, Any] = {"extracts": [e.name for e in extracts], "points": n_points}
    for mode, rows in per_mode.items():
        n = min(len(r[1]) for r in rows)
        picks = [rng.choice(len(r[1]), n, replace=False) for r in rows]
        km = np.concatenate([r[1][i] for r, i in zip(rows, picks, strict=True)])
        sec = np.concatenate([r[2][i] for r, i in zip(rows, picks, strict=True)])
        fitted = fit_profile(km, sec)
        current = DEFAULT_PROFILES[mode]
        out[mode.value] = {
            "fitted": {"overhead_s": fitted.overhead_s, "s_per_km": fitted.s_per_km},
            "pooled_mape": round(mape(fitted.overhead_s + fitted.s_per_km * km, sec), 3),
            "per_extract": {
                name: {
                    "pairs": len(k),
                    "median_km": round(float(np.median(k)), 2),
                    "mape_fitted": round(mape(fitted.overhead_s + fitted.s_per_km * k, s), 3),
                    "mape_defaults": round(mape(current.overhead_s + current.s_per_km * k, s), 3),
                    "median_detour": round(float(np.median(m / np.maximum(k * 1000, 1))), 2),
                }
                for name, k, s, m in rows
            },
        }
    return out


# ------------------------------------------------------------------- re-timing


@dataclass(frozen=True, slots=True)
class Retimed:
    """A plan's routes driven on other (real) travel times, in the planned order."""

    stops: int
    windowed: int
    missed: int  # service would start after the promised window ends (or never)
    unreachable: int  # the stop cannot be reached on the roads at all
    late_minutes: tuple[int, ...]  # by how much each reachable missed one is missed
    overtime_routes: int


def retime(day: Any, road: TravelProvider) -> Retimed:
    """Drive every route of ``day`` (a DayPlan) on ``road`` times, same order, same break.

    The agent still goes to a visit it is late for; each visit whose service would
    start after its window ends is a missed appointment.
    """
    visits = {v.visit_id: v for v in day.visits}
    agents = {a.agent_id: a for a in day.agents}
    stops = windowed = missed = unreachable = overtime = 0
    late: list[int] = []
    for route in day.plan.routes:
        agent = agents[route.agent_id]
        points = [agent.start, *(visits[s.visit_id].location for s in route.stops)]
        points.append(agent.end_point)
        m = road.matrix(points, agent.mode)
        t = route.depart_s
        for k, stop in enumerate(route.stops, start=1):
            v = visits[stop.visit_id]
            stops += 1
            if k in m.unreachable:
                unreachable += 1
            arrive = leg_arrival(
                t, int(m.seconds[k - 1, k]), route.break_start_s, route.break_end_s
            )
            start = arrive if v.window is None else max(arrive, v.window.start_s)
            if v.window is not None:
                windowed += 1
                if k in m.unreachable:
                    missed += 1
                elif start > v.window.end_s:
                    missed += 1
                    late.append(-((v.window.end_s - start) // 60))  # minutes, rounded up
            t = start + v.duration_s
        back = leg_arrival(t, int(m.seconds[-2, -1]), route.break_start_s, route.break_end_s)
        if back > agent.shift.end_s:
            overtime += 1
    return Retimed(stops, windowed, missed, unreachable, tuple(sorted(late)), overtime)


def sample_day_comparison(road_dir: Path, *, time_limit_s: float = 10.0) -> dict[str, Any]:
    """Plan the Liechtenstein day on straight lines (legacy and calibrated) and on
    roads; re-time each on road times; count the appointments each would miss."""
    from optimizer.inputs.load import read_inputs
    from optimizer.pipeline import plan_day

    cfg = Settings.from_toml(LIECHTENSTEIN / "fieldroute.toml")
    cfg = replace(cfg, roads=replace(cfg.roads, dir=str(road_dir)))
    cfg = replace(cfg, solver=SolverSettings(time_limit_s=time_limit_s))
    from optimizer.pipeline import travel_provider

    road = travel_provider(cfg)
    inputs = read_inputs(LIECHTENSTEIN / "visits.csv", LIECHTENSTEIN / "agents.csv")
    date = dt.date(2026, 12, 2)
    models: dict[str, TravelProvider] = {
        "straight-line (old defaults)": StraightLineModel(1.3, dict(LEGACY_PROFILES)),
        "straight-line (calibrated)": StraightLineModel(),
        "road (OSRM)": road,
    }
    out: dict[str, Any] = {}
    for name, provider in models.items():
        day = plan_day(inputs.visits, inputs.agents, cfg, date=date, travel=provider)
        r = retime(day, road)
        out[name] = {
            "routed": r.stops,
            "with_window": r.windowed,
            "missed_on_roads": r.missed,
            "unreachable_on_roads": r.unreachable,
            "minutes_late": list(r.late_minutes),
            "routes_past_shift_end": r.overtime_routes,
            "unassigned": len(day.plan.unassigned),
        }
    return out


# -------------------------------------------------------------------- the bench


def bench_roads(
    extract: Path = EXTRACT,
    out_dir: Path = ROOT / ".bench" / "roads",
    *,
    sizes: Sequence[int] = (100, 500, 1000),
    repeats: int = 3,
    sample_day: bool = True,
) -> dict[str, Any]:
    """Every road figure of issue 4 on one extract (default: Liechtenstein)."""
    result: dict[str, Any] = {"extract": extract.name}
    rss0 = rss_mib()
    prep: dict[str, Any] = {}
    data: dict[str, Path] = {}
    for profile in ("car", "bicycle", "foot"):
        t0 = time.perf_counter()
        data[profile] = build_roads(extract, profile, out_dir, progress=lambda _: None)
        stamp = json.loads((data[profile].parent / "build.json").read_text(encoding="utf-8"))
        prep[profile] = {
            "seconds": round(time.perf_counter() - t0, 2),
            "peak_memory_mib": stamp.get("peak_memory_mib"),
            "size_mib": round(
                sum(f.stat().st_size for f in data[profile].parent.iterdir()) / 2**20, 1
            ),
        }
    result["preprocessing"] = prep

    provider = OsrmProvider(data)
    t0 = time.perf_counter()
    provider.load()
    result["load_seconds"] = round(time.perf_counter() - t0, 3)
    result["rss_mib_after_load"] = round(rss_mib() - rss0, 1)
    points = sample_points(extract, max(sizes))
    provider.matrix(points[:50], Mode.CAR)  # warm the engine and the page cache

    times: dict[str, Any] = {}
    for n in sizes:
        pts = points[:n]
        table, full = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            provider.raw_table(pts, "car")
            table.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            provider.matrix(pts, Mode.CAR)
            full.append(time.perf_counter() - t0)
        times[str(n)] = {
            "table_s": round(float(np.median(table)), 3),
            "matrix_s": round(float(np.median(full)), 3),
        }
    result["car_matrix_seconds"] = times
    result["rss_mib_after_1000"] = round(rss_mib() - rss0, 1)
    result["peak_rss_mib_process"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )

    errors: dict[str, Any] = {}
    for mode in ROAD_MODES:
        km, sec, _ = _pairs(provider, points, mode)
        errors[mode.value] = {}
        for label, profiles in (("calibrated", DEFAULT_PROFILES), ("old", LEGACY_PROFILES)):
            p = profiles[mode]
            est = p.overhead_s + p.s_per_km * km
            errors[mode.value][f"mape_{label}"] = round(mape(est, sec), 3)
            errors[mode.value][f"median_bias_{label}"] = round(
                float(np.median((est - sec) / np.maximum(sec, 1))), 3
            )
    result["straight_line_vs_osrm_1000_points"] = errors
    if sample_day:
        result["sample_day"] = sample_day_comparison(out_dir)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m optimizer.bench.roads")
    parser.add_argument("--extract", type=Path, default=EXTRACT)
    parser.add_argument("--out", type=Path, default=ROOT / ".bench" / "roads")
    parser.add_argument(
        "--calibrate", type=Path, nargs="+", help="fit the straight-line model on these"
    )
    parser.add_argument("--no-sample-day", action="store_true")
    args = parser.parse_args(argv)
    if args.calibrate:
        result = calibrate(args.calibrate, args.out / "calibration")
    else:
        result = bench_roads(args.extract, args.out, sample_day=not args.no_sample_day)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
