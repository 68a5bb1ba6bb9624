"""Two different searches on two cores; the better plan wins.

Default (``main_search = "auto"``): from ``LNS_BOTH_MIN_VISITS`` visits on, ruin-and-recreate
(optimizer.solve.lns) on both cores from the same regret start, a cool chain here and a
hot one (:data:`optimizer.solve.lns.HOT`) in the worker: two chains with the same knobs
often ended in the same local optimum. Below that, OR-Tools here and ruin-and-recreate
in the worker (docs/benchmarks.md). ``second_search = "ortools"`` restores the earlier
pair, described next.

OR-Tools' routing search is single-threaded and its result depends strongly on the
first-solution strategy (up to 11 points of gap between starts on one Solomon
instance). Running a second search from another start in a worker process and keeping
the lower objective is the cheapest robust gain on a 2-core machine
(docs/benchmarks.md). Both searches share one wall-clock deadline.

No OR-Tools import here: each worker calls :func:`optimizer.solve.ortools.solve`.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import pickle
import signal
import subprocess
import sys
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from optimizer.errors import SolverError
from optimizer.solve.assignment import Assignment, ProgressCallback, Stability
from optimizer.solve.construct import START_VARIANTS, regret_starts
from optimizer.solve.lns import HOT, LnsSettings, improve
from optimizer.solve.ortools import budget_s, lns_assignment, solve
from optimizer.solve.params import LNS_BOTH_MIN_VISITS

if TYPE_CHECKING:
    from collections.abc import Sequence

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
GRACE_S = 5.0
#: The first search's start with ``split_starts`` (the multi-day model): one regret build
#: (each takes seconds on 2,000 visits / 180 agent-days; building all four left the search
#: no time); the worker builds the next one.
_ONE_START = START_VARIANTS[:1]
_PR_SET_PDEATHSIG = 1


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


def main_is_lns(problem: RoutingProblem, settings: SolverSettings) -> bool:
    """Whether the first search is ruin-and-recreate too (``main_search``)."""
    if settings.main_search == "auto":
        return problem.num_visits >= LNS_BOTH_MIN_VISITS
    return settings.main_search == "lns"


def lns_search(
    problem: RoutingProblem,
    settings: SolverSettings,
    deadline: float,
    *,
    seed_offset: int = LNS_WORKER_SEED,
    variants: tuple[tuple[int, int], ...] = START_VARIANTS,
    patient: bool = False,
    lns: LnsSettings | None = None,
) -> Assignment:
    """The default second search: ruin-and-recreate (optimizer.solve.lns) from the regret start.

    Every long step asks the clock (the start's insertions, each local-search move, each
    ruin-and-recreate step), so the search ends at ``deadline`` on its own, however
    loaded the machine, with the best routes found by then.

    ``patient``: the first search when it is ruin-and-recreate (``main_search = "lns"``),
    in the main process, which must return a whole plan as OR-Tools' search does: its
    start is built to the end and its first fill and local searches are not cut short
    (on a starved machine the clock-bound start alone came back empty, and a multi-day
    week came back half planned); the deadline still ends the ruin-and-recreate loop.
    ``variants``: the regret starts to build (``split_starts`` gives each search one).
    ``lns``: the search's own knobs (:data:`optimizer.solve.lns.HOT` for the second of
    two ruin-and-recreate searches).
    """
    began = time.perf_counter()

    def stop() -> bool:
        return time.time() >= deadline

    clock = None if settings.deterministic else stop
    start = regret_starts(problem, variants, stop=clock, whole_first=patient)[0]
    result = improve(
        problem,
        start,
        deadline,
        seed=settings.seed + seed_offset,
        max_iterations=settings.work() if settings.deterministic else None,
        balance=settings.balance,
        settings=lns,
        strict_deadline=not (settings.deterministic or patient),
    )
    return lns_assignment(problem, result.routes, settings, time.perf_counter() - began)


def worker_main() -> None:
    """``python -m optimizer.solve.parallel PARENT_PID``: (problem, settings, deadline) on
    stdin, the pickled result (or the failure as text) on stdout.

    A fresh interpreter rather than fork (unsafe once numpy/OR-Tools threads exist) or
    multiprocessing spawn (which re-imports the caller's ``__main__``). The result goes
    back over the pipe, so there is no temporary file for anyone to leave behind, and
    the worker dies with its parent (:func:`_die_with_parent`).
    """
    _die_with_parent(int(sys.argv[1]))
    # Ctrl-C reaches the whole process group; the parent handles it and ends the worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    results = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into the result
    problem, settings, deadline = pickle.load(sys.stdin.buffer)
    try:
        result: Assignment | str = second_search(problem, settings, deadline)
    except Exception as err:  # reported to the parent, which keeps its own plan
        result = f"{type(err).__name__}: {err}"
    with contextlib.suppress(BrokenPipeError):  # the parent gave up on us
        results.write(pickle.dumps(result))
        results.close()


def second_search(problem: RoutingProblem, settings: SolverSettings, deadline: float) -> Assignment:
    """The worker's search (``settings`` as :func:`worker_settings` made them)."""
    if settings.second_search != "lns":
        budget = max(0.2, deadline - time.time())
        return solve(problem, replace(settings, time_limit_s=budget))
    # Beside another ruin-and-recreate, this one runs hot: a pair, not twins.
    both = main_is_lns(problem, settings)
    hot = HOT if both else None
    if settings.split_starts and both:
        # Each builds one start, another one.
        return lns_search(problem, settings, deadline, variants=START_VARIANTS[1:2], lns=hot)
    return lns_search(problem, settings, deadline, lns=hot)


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this process when ``parent`` dies (Linux ``PR_SET_PDEATHSIG``).

    Chosen over a thread watching a pipe from the parent: OR-Tools holds the GIL for its
    whole search, so no Python thread (nor a Python signal handler) runs until it returns;
    the kernel's SIGKILL needs neither. The parent may already be gone before the
    ``prctl``: then the parent id has changed, and the worker leaves at once. Elsewhere
    (no prctl) the worker still ends at the deadline on its own.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(0)


def worker_command() -> list[str]:
    """The worker's command line (tests replace it with a worker that misbehaves)."""
    return [sys.executable, "-m", "optimizer.solve.parallel", str(os.getpid())]


def solve_parallel(
    problem: RoutingProblem,
    settings: SolverSettings,
    *,
    on_progress: ProgressCallback | None = None,
    initial_routes: Sequence[Sequence[int]] | None = None,
    stability: Stability | None = None,
) -> Assignment:
    """Like :func:`optimizer.solve.ortools.solve`, with ``settings.workers`` searches (1 or 2).

    A search seeded with ``initial_routes`` or priced with ``stability`` (a re-plan)
    runs here alone: the second search knows neither.

    One search runs here (and reports progress), the other in a worker process from
    a different start. Runs with a ``solution_limit`` (tests, quick checks) and
    problems with fewer than two visits stay single-process: they are deterministic
    or too small to gain.

    A search that fails, crashes or gives no answer by the deadline plus a grace is not
    dropped silently: it is logged as a warning and named in the result's
    ``lost_searches`` (plan.json's solver info). Whatever ends this call (a result, an
    error, Ctrl-C, SIGTERM), the worker is ended and waited for.
    """
    if initial_routes is not None or stability is not None:
        return solve(
            problem,
            settings,
            on_progress=on_progress,
            initial_routes=initial_routes,
            stability=stability,
        )
    began = time.perf_counter()
    deadline = time.time() + budget_s(settings)
    if settings.workers <= 1 or settings.solution_limit is not None or problem.num_visits < 2:
        if settings.main_search == "lns" and settings.solution_limit is None:
            return lns_search(
                problem,
                settings,
                deadline,
                seed_offset=0,
                variants=_first_starts(settings),
                patient=True,
            )
        return solve(problem, settings, on_progress=on_progress)
    second = f"second search ({settings.second_search})"
    lost: list[str] = []
    mine: Assignment | None = None
    theirs: Assignment | None = None
    other = subprocess.Popen(worker_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        try:
            if other.stdin is not None:
                # Protocol 5 writes the matrices' buffers as they are, where 4 would
                # first copy each one into a bytes object (issue 11, item 12).
                job = (_without_distances(problem), worker_settings(settings), deadline)
                pickle.dump(job, other.stdin, protocol=5)
                other.stdin.close()
        except BrokenPipeError:
            pass  # it died at once: reported below by its exit code
        other.stdin = None
        first = "lns" if main_is_lns(problem, settings) else "ortools"
        mine, failure = _solve_here(
            problem, settings, on_progress, deadline if first == "lns" else None
        )
        if mine is None:
            lost.append(f"first search ({first}) failed: {failure}")
        theirs, why = _collect(other, deadline)
        if why is not None:
            lost.append(f"{second} {why}")
    finally:
        if other.poll() is None:
            other.kill()
        other.wait()
    for reason in lost:
        logger.warning("%s; the plan comes from the other search", reason)
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
    return replace(best, wall_s=time.perf_counter() - began, lost_searches=tuple(lost))


def _without_distances(problem: RoutingProblem) -> RoutingProblem:
    """``problem`` with each mode's metres matrix replaced by its seconds matrix.

    No search reads distances (the objective is travel time; the plan's distances
    come from the parent's own problem), and pickle sends an array it meets twice only
    once: the worker gets one matrix per mode instead of two (issue 11, item 12).
    """
    matrices = {m: replace(t, metres=t.seconds) for m, t in problem.matrices.items()}
    return replace(problem, matrices=matrices)


def _collect(
    other: subprocess.Popen[bytes], deadline: float
) -> tuple[Assignment | None, str | None]:
    """The worker's result, or None and why there is none."""
    try:
        data, _ = other.communicate(timeout=max(0.0, deadline - time.time()) + GRACE_S)
    except subprocess.TimeoutExpired:
        other.kill()
        other.communicate()
        return None, f"gave no result {GRACE_S:g} s after the deadline and was stopped"
    if not data:
        return None, f"ended with exit code {other.returncode} and no result"
    try:
        result = pickle.loads(data)  # our own child, over our own pipe
    except (pickle.UnpicklingError, EOFError, ValueError) as err:
        return None, f"sent an unreadable result ({type(err).__name__})"
    if isinstance(result, str):
        return None, f"failed: {result}"
    if not isinstance(result, Assignment):
        return None, f"sent a {type(result).__name__}, not a plan"
    return result, None


def _first_starts(settings: SolverSettings) -> tuple[tuple[int, int], ...]:
    """The regret starts the first ruin-and-recreate search builds."""
    return _ONE_START if settings.split_starts else START_VARIANTS


def _solve_here(
    problem: RoutingProblem,
    settings: SolverSettings,
    on_progress: ProgressCallback | None,
    lns_deadline: float | None = None,
) -> tuple[Assignment | None, SolverError | None]:
    """The first search: OR-Tools, or with ``lns_deadline`` ruin-and-recreate (seed+0)."""
    try:
        if lns_deadline is not None:
            result = lns_search(
                problem,
                settings,
                lns_deadline,
                seed_offset=0,
                variants=_first_starts(settings),
                patient=True,
            )
            return result, None
        return solve(problem, settings, on_progress=on_progress), None
    except SolverError as err:
        return None, err


if __name__ == "__main__":
    worker_main()
