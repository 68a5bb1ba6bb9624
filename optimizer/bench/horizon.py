"""Generated horizons: the horizon planner against planning each day on its own.

The baseline is the obvious one a dispatcher runs today: plan day 1 with the most
urgent visits first (due date as a tie-break under priority), carry every visit not
served over to day 2, and so on; late visits stay in the pool (served late). The
horizon planner never serves a visit after its due date (a hard rule), so the figures
to compare are the share served by their due date, the days late of the rest (an
unserved visit counts as late until the day after the horizon), and travel.

``python -m optimizer.bench.horizon [visits agents seeds time_limit_s]`` prints one
Markdown table (docs/benchmarks.md).
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from optimizer.bench.synthetic import make_agents, make_visits
from optimizer.clock import format_hhmm
from optimizer.domain import WEEKDAYS, Agent, DaySet, Visit
from optimizer.horizon import horizon_dates, plan_horizon
from optimizer.pipeline import plan_day
from optimizer.settings import Settings
from optimizer.solve.params import SolverSettings

FIRST = dt.date(2026, 11, 30)  # a Monday
WORKDAYS = frozenset(range(5))


@dataclass(frozen=True, slots=True)
class HorizonResult:
    engine: str
    visits: int
    due_inside: int
    served_by_due: int
    days_late: int
    served: int
    travel_min: float
    wall_s: float
    peak_mb: float
    churn: float | None = None
    #: The whole ``fieldroute plan --days`` in a fresh process, outputs included.
    cli_wall_s: float | None = None
    cli_peak_mb: float | None = None
    cli_cpu_s: float | None = None


def make_horizon(
    n_visits: int, n_agents: int, seed: int, dates: Sequence[dt.date]
) -> tuple[tuple[Visit, ...], tuple[Agent, ...]]:
    """Due dates spread over the week (a fifth beyond it), some earliest dates, days off."""
    rng = random.Random(seed + 7)
    agents = tuple(
        replace(a, days_off=DaySet(dates=frozenset(d for d in dates if rng.random() < 0.1)))
        for a in make_agents(n_agents, seed=seed)
    )
    visits = []
    for v in make_visits(n_visits, agents, seed=seed):
        due = rng.choice(dates) if rng.random() < 0.8 else None
        earliest = None
        if rng.random() < 0.15:
            earliest = rng.choice([d for d in dates if due is None or d <= due])
        visits.append(replace(v, due_date=due, earliest_date=earliest))
    return tuple(visits), agents


def write_inputs(
    visits: Sequence[Visit], agents: Sequence[Agent], folder: Path
) -> tuple[Path, Path]:
    """The generated horizon as the visits and agents files ``fieldroute plan`` reads."""
    vpath, apath = folder / "visits.csv", folder / "agents.csv"
    with vpath.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "visit_id",
                "lat",
                "lon",
                "window_start",
                "window_end",
                "duration_min",
                "skills",
                "priority",
                "agent_id",
                "due_date",
                "earliest_date",
                "preferred_days",
            ]
        )
        for v in visits:
            assert v.location is not None
            w.writerow(
                [v.visit_id, v.location.lat, v.location.lon]
                + (
                    [format_hhmm(v.window.start_s), format_hhmm(v.window.end_s)]
                    if v.window
                    else ["", ""]
                )
                + [v.duration_s / 60, ";".join(sorted(v.skills)), v.priority, v.pinned_agent or ""]
                + [
                    v.due_date or "",
                    v.earliest_date or "",
                    ";".join(WEEKDAYS[d] for d in sorted(v.preferred_days)),
                ]
            )
    with apath.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "agent_id",
                "start_lat",
                "start_lon",
                "shift_start",
                "shift_end",
                "break_start",
                "break_end",
                "break_min",
                "skills",
                "max_visits",
                "mode",
                "days_off",
            ]
        )
        for a in agents:
            assert a.start is not None
            b = a.break_rule
            w.writerow(
                [a.agent_id, a.start.lat, a.start.lon, format_hhmm(a.shift.start_s)]
                + [format_hhmm(a.shift.end_s)]
                + (
                    [format_hhmm(b.window.start_s), format_hhmm(b.window.end_s), b.duration_s / 60]
                    if b
                    else ["", "", ""]
                )
                + [
                    ";".join(sorted(a.skills)),
                    a.max_visits or "",
                    a.mode.value,
                    a.days_off.as_text(),
                ]
            )
    return vpath, apath


#: ``fieldroute`` that also reports its own CPU seconds (user + system) on stderr's last line.
_TIMED_CLI = (
    "import resource, sys\n"
    "from optimizer.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "r = resource.getrusage(resource.RUSAGE_SELF)\n"
    "print(f'cpu {r.ru_utime + r.ru_stime:.1f}', file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def run_cli(
    visits: Sequence[Visit], agents: Sequence[Agent], dates: Sequence[dt.date], limit_s: float
) -> tuple[float, float, float]:
    """(wall s, peak MB, CPU s of the main process) of the whole ``fieldroute plan --days``.

    Outputs included. The main process's CPU time does not grow with the load of a
    shared machine the way its wall time does (the worker search runs beside it).
    """
    with tempfile.TemporaryDirectory() as tmp:
        vpath, apath = write_inputs(visits, agents, Path(tmp))
        command = [sys.executable, "-c", _TIMED_CLI, "plan", str(vpath), str(apath)]
        command += ["--days", str(len(dates)), "--date", dates[0].isoformat(), "--quiet"]
        command += ["--time-limit", f"{limit_s:g}", "--out", str(Path(tmp) / "out")]
        began = time.perf_counter()
        done = subprocess.run(
            command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        wall = time.perf_counter() - began
    cpu = float(done.stderr.strip().splitlines()[-1].split()[1])
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, cpu


def _lateness(
    visits: Sequence[Visit], served_on: Mapping[str, dt.date], dates: Sequence[dt.date]
) -> tuple[int, int, int]:
    """(due inside the horizon, of those served by the due date, their total days late)."""
    after = dates[-1] + dt.timedelta(days=1)
    inside = by_due = late = 0
    for v in visits:
        if v.due_date is None or v.due_date > dates[-1]:
            continue
        inside += 1
        day = served_on.get(v.visit_id, after)
        if day <= v.due_date:
            by_due += 1
        else:
            late += (day - v.due_date).days
    return inside, by_due, late


def run_baseline(
    visits: Sequence[Visit],
    agents: Sequence[Agent],
    dates: Sequence[dt.date],
    solver: SolverSettings,
) -> HorizonResult:
    """Day by day, most urgent first, the rest carried over; each day its share of time."""
    settings = Settings(solver=replace(solver, time_limit_s=solver.time_limit_s / len(dates)))
    began = time.perf_counter()
    pool = list(visits)
    served_on: dict[str, dt.date] = {}
    travel_s = 0
    n = len(dates)
    for d in dates:
        today = [v for v in pool if v.earliest_date is None or v.earliest_date <= d]
        urgent = []
        for v in today:
            slack = n if v.due_date is None else max(0, (v.due_date - d).days)
            urgent.append(replace(v, priority=v.priority * (n + 2) + (n + 1 - min(slack, n + 1))))
        working = [a for a in agents if a.works_on(d)]
        day = plan_day(urgent, working, settings, date=d)
        for vid in day.plan.assigned_ids:
            served_on[vid] = d
        travel_s += sum(r.travel_s for r in day.plan.routes)
        pool = [v for v in pool if v.visit_id not in served_on]
    wall = time.perf_counter() - began
    inside, by_due, late = _lateness(visits, served_on, dates)
    return HorizonResult(
        "day by day", len(visits), inside, by_due, late, len(served_on), travel_s / 60, wall, 0.0
    )


def run_horizon(
    visits: Sequence[Visit],
    agents: Sequence[Agent],
    dates: Sequence[dt.date],
    solver: SolverSettings,
) -> HorizonResult:
    settings = Settings(solver=solver)
    began = time.perf_counter()
    hp = plan_horizon(visits, agents, settings, dates=dates, travel=settings.travel.model())
    wall = time.perf_counter() - began
    served_on = {e.visit_id: e.date for e in hp.entries if e.date is not None}
    travel_s = sum(r.travel_s for d in hp.days for r in d.plan.routes)
    inside, by_due, late = _lateness(visits, served_on, dates)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # The churn: the same inputs again, first day published, no events.
    keep = {e.visit_id: (e.date, e.agent_id or "") for e in hp.entries if e.date is not None}
    again = plan_horizon(
        visits,
        agents,
        settings,
        dates=dates,
        travel=settings.travel.model(),
        keep=keep,
        published=1,
        previous_days={vid: day for vid, (day, _) in keep.items()},
    )
    moved = sum(1 for e in again.entries if e.visit_id in keep and e.date != keep[e.visit_id][0])
    cli_wall, cli_peak, cli_cpu = run_cli(visits, agents, dates, solver.time_limit_s)
    return HorizonResult(
        "horizon",
        len(visits),
        inside,
        by_due,
        late,
        len(served_on),
        travel_s / 60,
        wall,
        peak,
        moved / max(len(keep), 1),
        cli_wall,
        cli_peak,
        cli_cpu,
    )


def main(argv: Sequence[str]) -> int:
    n_visits = int(argv[0]) if argv else 120
    n_agents = int(argv[1]) if len(argv) > 1 else 6
    seeds = range(1, 1 + (int(argv[2]) if len(argv) > 2 else 2))
    limit = float(argv[3]) if len(argv) > 3 else 10.0
    dates = horizon_dates(FIRST, 5, WORKDAYS)
    solver = SolverSettings(time_limit_s=limit)
    print(
        "| seed | engine | visits | due in week | served by due | days late | served "
        "| travel min | wall s | peak MB | churn | CLI wall s | CLI CPU s | CLI peak MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for seed in seeds:
        visits, agents = make_horizon(n_visits, n_agents, seed, dates)
        for r in (
            run_baseline(visits, agents, dates, solver),
            run_horizon(visits, agents, dates, solver),
        ):
            print(
                f"| {seed} | {r.engine} | {r.visits} | {r.due_inside} | {r.served_by_due} "
                f"({100 * r.served_by_due / max(r.due_inside, 1):.1f} %) | {r.days_late} "
                f"| {r.served} | {r.travel_min:.0f} | {r.wall_s:.1f} "
                f"| {f'{r.peak_mb:.0f}' if r.peak_mb else '-'} "
                f"| {'-' if r.churn is None else f'{100 * r.churn:.1f} %'} "
                f"| {'-' if r.cli_wall_s is None else f'{r.cli_wall_s:.1f}'} "
                f"| {'-' if r.cli_cpu_s is None else f'{r.cli_cpu_s:.1f}'} "
                f"| {'-' if r.cli_peak_mb is None else f'{r.cli_peak_mb:.0f}'} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
