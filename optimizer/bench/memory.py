"""Peak memory of a day by its size (issue 11, item 12): ``make bench`` runs it.

Each size is planned in a fresh interpreter (``--one``), so that one day's peak does
not hide the next one's: the child reports its own peak resident set (``ru_maxrss``)
and the peak of its largest waited-for child, the second search's worker. Their sum
bounds the day's peak from above (the two peaks need not coincide). The estimate the
planner checks before allocating (:func:`optimizer.sizing.estimate_day_bytes`) is
printed beside them, so the two can be compared.

    python -m optimizer.bench.memory [VISITS ...]      # default 1000 5000 20000
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import subprocess
import sys
import time
from dataclasses import replace
from typing import Any

from optimizer.bench.synthetic import make_agents, make_visits

SIZES = (1000, 5000, 20000)
TIME_LIMIT_S = 2.0
GIB = 1024**3


def agents_for(visits: int) -> int:
    """A team for a day of ``visits``: one agent per 100 visits, at least 10.

    Fewer agents than a real day would have (most visits stay unassigned): the
    matrices, which grow with the square of the points, are what this measures.
    """
    return max(10, visits // 100)


def _one(visits: int, time_limit_s: float) -> dict[str, Any]:
    from optimizer.pipeline import plan_day
    from optimizer.settings import Settings

    team = make_agents(agents_for(visits), seed=3)
    day_visits = make_visits(visits, team, seed=3)
    base = Settings()
    settings = replace(base, solver=replace(base.solver, time_limit_s=time_limit_s))
    began = time.perf_counter()
    day = plan_day(day_visits, team, settings, date=dt.date(2026, 12, 1))
    wall = time.perf_counter() - began
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    estimate: int | None = None
    try:
        from optimizer.sizing import estimate_day_bytes

        modes = len({a.mode for a in team})
        estimate = estimate_day_bytes(visits + 2 * len(team), modes, len(team))
    except ImportError:  # the bench of a tree from before the estimate
        pass
    return {
        "visits": visits,
        "agents": len(team),
        "routed": len(day.plan.assigned_ids),
        "wall_s": round(wall, 1),
        "peak_planner_gib": round(own / GIB, 2),
        "peak_worker_gib": round(worker / GIB, 2),
        "estimate_gib": None if estimate is None else round(estimate / GIB, 2),
    }


def measure(visits: int, time_limit_s: float = TIME_LIMIT_S) -> dict[str, Any]:
    """Plan a synthetic day of ``visits`` in a fresh interpreter; its figures, or why not."""
    command = [sys.executable, "-m", "optimizer.bench.memory", "--one", str(visits)]
    command.append(str(time_limit_s))
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        return {"visits": visits, "exit": done.returncode, "error": last}
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        print(json.dumps(_one(int(argv[1]), float(argv[2]))))
        return 0
    sizes = [int(a) for a in argv] or list(SIZES)
    print("visits  agents  routed  wall_s  planner_GiB  worker_GiB  estimate_GiB")
    for n in sizes:
        r = measure(n)
        if "error" in r:
            print(f"{n:>6}  exit {r['exit']}: {r['error']}")
            continue
        print(
            f"{r['visits']:>6}  {r['agents']:>6}  {r['routed']:>6}  {r['wall_s']:>6}"
            f"  {r['peak_planner_gib']:>11}  {r['peak_worker_gib']:>10}  {r['estimate_gib']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
