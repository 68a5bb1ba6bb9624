"""Peak memory of a day by its size (issue 11, item 12): ``make bench`` runs it.

Each size is planned in a fresh interpreter (``--one``), so that one day's peak does
not hide the next one's. The planner's peak is its own ``ru_maxrss``; the second
search's worker's peak is its ``VmHWM`` in ``/proc``, read here every 50 ms while the
day runs (the worker's ``ru_maxrss`` would not do: on Linux it starts from the
planner's resident set at the fork that spawned it). Their sum bounds the day's peak
from above (the two peaks need not coincide). The estimate the planner checks before
allocating (:func:`optimizer.sizing.estimate_day_bytes`) is printed beside them.

    python -m optimizer.bench.memory [VISITS ...]      # default 1000 5000 20000

The child is started from this file's path, so the figures of another tree (main, to
compare) come from ``PYTHONPATH=/that/tree python optimizer/bench/memory.py ...``.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
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
        "estimate_gib": None if estimate is None else round(estimate / GIB, 2),
    }


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="ascii")
    except OSError:
        return []
    return [int(c) for c in text.split()]


def _high_water(pid: int) -> int:
    """Peak resident bytes of ``pid`` since its exec (``VmHWM``), 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def measure(visits: int, time_limit_s: float = TIME_LIMIT_S) -> dict[str, Any]:
    """Plan a synthetic day of ``visits`` in a fresh interpreter; its figures, or why not."""
    command = [sys.executable, str(Path(__file__).resolve()), "--one", str(visits)]
    command.append(str(time_limit_s))
    began = time.perf_counter()
    with (
        tempfile.TemporaryFile("w+") as out,
        tempfile.TemporaryFile("w+") as err,
        subprocess.Popen(command, stdout=out, stderr=err, text=True) as child,
    ):
        workers: dict[int, int] = {}
        while child.poll() is None:
            for pid in _children(child.pid):
                workers[pid] = max(workers.get(pid, 0), _high_water(pid))
            time.sleep(0.05)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if child.returncode != 0:
        last = (stderr.strip().splitlines() or ["(no message)"])[-1]
        wall = round(time.perf_counter() - began, 1)
        return {"visits": visits, "exit": child.returncode, "error": last, "wall_s": wall}
    figures: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    figures["peak_worker_gib"] = round(max(workers.values(), default=0) / GIB, 2)
    return figures


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        from optimizer.errors import DayTooLargeError

        try:
            print(json.dumps(_one(int(argv[1]), float(argv[2]))))
        except DayTooLargeError as err:  # the planner's answer for a day this machine cannot hold
            print(f"refused: {err}", file=sys.stderr)
            return err.exit_code
        return 0
    sizes = [int(a) for a in argv] or list(SIZES)
    print("visits  agents  routed  wall_s  planner_GiB  worker_GiB  estimate_GiB")
    for n in sizes:
        r = measure(n)
        if "error" in r:
            print(f"{n:>6}  exit {r['exit']} after {r['wall_s']} s: {r['error']}")
            continue
        print(
            f"{r['visits']:>6}  {r['agents']:>6}  {r['routed']:>6}  {r['wall_s']:>6}"
            f"  {r['peak_planner_gib']:>11}  {r['peak_worker_gib']:>10}  {r['estimate_gib']}"
        )
    return 0


if __name__ == "__main__":
    # Started by path, Python puts this folder first on sys.path: its modules (book,
    # roads, run ...) must not shadow top-level ones.
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        del sys.path[0]
    sys.exit(main(sys.argv[1:]))
