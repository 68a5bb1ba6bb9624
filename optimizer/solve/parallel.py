"""Two different searches on two cores; the better plan wins.

Default: OR-Tools from the regret start here, ruin-and-recreate (optimizer.solve.lns) from
the same start in the worker (it wins on field days and matches or beats a second
OR-Tools start on Solomon; docs/benchmarks.md). ``second_search = "ortools"`` restores
the earlier pair, described next.

OR-Tools' routing search is single-threaded and its result depends strongly on the
first-solution strategy (up to 11 points of gap between starts on one Solomon
instance). Running a second search from another start in a worker process and keeping
the lower objective is the cheapest robust gain on a 2-core machine
(docs/benchmarks.md). Both searches share one wall-clock deadline.

No OR-Tools import here: each worker calls :func:`optimizer.solve.ortools.solve`.
"""

from __future__ import annotations

import logging
import pickle
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from optimizer.errors import SolverError
from optimizer.solve.assignment import Assignment, ProgressCallback
from optimizer.solve.construct import regret_starts
from optimizer.solve.lns import improve
from optimizer.solve.ortools import budget_s, lns_assignment, solve

if TYPE_CHECKING:
    from optimizer.problem import RoutingProblem
    from optimizer.solve.params import SolverSettings

logger = logging.getLogger(__name__)

#: The second worker's start, by the first worker's start (chosen by measurement).
ALTERNATIVE_START = {
    "PARALLEL_CHEAPEST_INSERTION": "PATH_CHEAPEST_ARC",
    "PATH_CHEAPEST_ARC": "PARALLEL_CHEAPEST_INSERTION",
    "LOCAL_CHEAPEST_INSERTION": "PATH_CHEAPEST_ARC",
    "SAVINGS": "PARALLEL_CHEAPEST_INSERTION",
    "CHRISTOFIDES": "PARALLEL_CHEAPEST_INSERTION",
    "AUTOMATIC": "PARALLEL_CHEAPEST_INSERTION",
}
#: Seed offset of the worker's ruin-and-recreate (the main search's fallback uses the
#: settings' seed itself).
LNS_WORKER_SEED = 1
#: Seconds the parent waits for a worker beyond the shared deadline before giving up.
_GRACE_S = 5.0


def worker_settings(settings: SolverSettings) -> SolverSettings:
    """Settings of the second search when it is OR-Tools (``second_search = "ortools"``).

    Same budget, OR-Tools' own start (another one): the first search starts from
    optimizer.solve.construct's regret insertion when ``regret_start`` is on; this one never
    does, so the two searches differ. The default second search is ruin-and-recreate
    from the regret start (:func:`lns_search`), which ignores these settings but the
    fixed cost.
    """
    alternative = settings.second_first_solution or ALTERNATIVE_START[settings.first_solution]
    return replace(settings, first_solution=alternative, workers=1, regret_start=False)


def lns_search(problem: RoutingProblem, settings: SolverSettings, deadline: float) -> Assignment:
    """The default second search: ruin-and-recreate (optimizer.solve.lns) from the regret start."""
    began = time.perf_counter()
    start = regret_starts(problem)[0]
    result = improve(
        problem,
        start,
        deadline,
        seed=settings.seed + LNS_WORKER_SEED,
        max_iterations=settings.work() if settings.deterministic else None,
        balance=settings.balance,
    )
    return lns_assignment(problem, result.routes, settings, time.perf_counter() - began)


def worker_main() -> None:
    """``python -m optimizer.solve.parallel``: read (problem, settings, deadline), write a result.

    A fresh interpreter rather than fork (unsafe once numpy/OR-Tools threads exist) or
    multiprocessing spawn (which re-imports the caller's ``__main__``).
    """
    problem, settings, deadline = pickle.load(sys.stdin.buffer)
    try:
        budget = max(0.2, deadline - time.time())
        result: Assignment | str
        if settings.second_search == "lns":
            result = lns_search(problem, settings, deadline)
        else:
            result = solve(problem, replace(settings, time_limit_s=budget))
    except Exception as err:  # reported to the parent, which keeps its own plan
        result = f"{type(err).__name__}: {err}"
    out = Path(sys.argv[1])
    tmp = out.with_suffix(".part")
    tmp.write_bytes(pickle.dumps(result))
    tmp.replace(out)


def solve_parallel(
    problem: RoutingProblem,
    settings: SolverSettings,
    *,
    on_progress: ProgressCallback | None = None,
) -> Assignment:
    """Like :func:`optimizer.solve.ortools.solve`, with ``settings.workers`` searches (1 or 2).

    One search runs here (and reports progress), the other in a worker process from
    a different start. Runs with a ``solution_limit`` (tests, quick checks) and
    problems with fewer than two visits stay single-process: they are deterministic
    or too small to gain.
    """
    if settings.workers <= 1 or settings.solution_limit is not None or problem.num_visits < 2:
        return solve(problem, settings, on_progress=on_progress)
    began = time.perf_counter()
    deadline = time.time() + budget_s(settings)
    with tempfile.TemporaryDirectory(prefix="fieldroute-") as tmp:
        result_path = Path(tmp) / "result.pickle"
        other = subprocess.Popen(
            [sys.executable, "-m", "optimizer.solve.parallel", str(result_path)],
            stdin=subprocess.PIPE,
        )
        try:
            if other.stdin is not None:
                pickle.dump((problem, worker_settings(settings), deadline), other.stdin)
                other.stdin.close()
        except BrokenPipeError:
            logger.info("second search did not start")
        mine, failure = _solve_here(problem, settings, on_progress)
        theirs: Assignment | str | None = None
        try:
            other.wait(timeout=max(0.0, deadline - time.time()) + _GRACE_S)
        except subprocess.TimeoutExpired:
            other.kill()
            other.wait()
        if result_path.exists():
            theirs = pickle.loads(result_path.read_bytes())
    if isinstance(theirs, str):
        logger.info("second search failed: %s", theirs)
        theirs = None
    if mine is None and theirs is None:
        raise failure or SolverError("both searches failed")
    # Served priority first, explicitly: with a balance the objective alone is not
    # lexicographic any more (optimizer.solve.balance).
    best = min(
        (a for a in (mine, theirs) if a is not None),
        key=lambda a: (sum(problem.visits[i].priority for i in a.dropped), a.objective),
    )
    logger.info(
        "two searches: objectives %s / %s; kept the %s",
        mine.objective if mine else None,
        theirs.objective if theirs else None,
        "first" if best is mine else "second",
    )
    return replace(best, wall_s=time.perf_counter() - began)


def _solve_here(
    problem: RoutingProblem, settings: SolverSettings, on_progress: ProgressCallback | None
) -> tuple[Assignment | None, SolverError | None]:
    try:
        return solve(problem, settings, on_progress=on_progress), None
    except SolverError as err:
        return None, err


if __name__ == "__main__":
    worker_main()
