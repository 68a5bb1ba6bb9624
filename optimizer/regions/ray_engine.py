"""One Ray task per region: the only module that imports Ray, and only when it is used.

``ray.init()`` starts a local cluster when no address is given (nothing to set up on a
laptop); an address joins a running cluster. A task whose worker dies (killed, out of
memory, machine lost) or that raises is retried by Ray up to ``max_retries`` times;
after that the region comes back as an outcome with the error, never as an exception,
so the rest of the day is still planned. At most two tasks per slot are in flight, so
the object store holds a few regions' matrices, never all of them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from optimizer.errors import ConfigurationError
from optimizer.regions.engine import RegionOutcome, RegionTask, SolveFn
from optimizer.solve.assignment import Assignment
from optimizer.solve.params import SolverSettings

logger = logging.getLogger(__name__)

NO_RAY = (
    "--engine ray needs Ray, which is not installed: pip install 'fieldroute[ray]' "
    "(or use --engine local)"
)


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigurationError(NO_RAY) from None
    return ray


def require_ray() -> None:
    """Refuse ``--engine ray`` before any work when Ray is not installed.

    Raises
    ------
    ConfigurationError
        Ray cannot be imported.
    """
    _ray()


def _run_task(solve: SolveFn, task: RegionTask) -> Assignment:
    return solve(task)


@dataclass(slots=True)
class RayEngine:
    """Regions as Ray tasks, each asking for ``workers`` CPUs (the searches it runs).

    Starts (and at the end stops) a local cluster unless Ray is already initialised in
    this process or ``address`` names a cluster to join.
    """

    address: str | None = None
    max_retries: int = 2
    #: CPUs of a local cluster this engine starts (None: all of the machine's).
    num_cpus: int | None = None
    _started: bool = False

    def __post_init__(self) -> None:
        ray = _ray()
        if not ray.is_initialized():
            try:
                ray.init(
                    address=self.address,
                    num_cpus=self.num_cpus if self.address is None else None,
                    include_dashboard=False,
                    log_to_driver=False,
                    logging_level=logging.WARNING,
                )
            except (ConnectionError, RuntimeError, ValueError) as err:
                msg = f"cannot join the Ray cluster at {self.address!r}: {err}"
                raise ConfigurationError(msg) from None
            self._started = True

    def close(self) -> None:
        if self._started:
            _ray().shutdown()
            self._started = False

    def cpus(self) -> int:
        return max(1, int(_ray().cluster_resources().get("CPU", 1)))

    def parallel(self, settings: SolverSettings) -> int:
        return max(1, self.cpus() // max(1, settings.workers))

    def describe(self) -> str:
        return f"ray ({self.address or 'local cluster'}, {self.cpus()} CPUs)"

    def run(self, tasks: Iterable[RegionTask], solve: SolveFn) -> Iterator[RegionOutcome]:
        ray = _ray()
        remote = ray.remote(_run_task)
        pending: dict[Any, tuple[RegionTask, float]] = {}
        queue = iter(tasks)
        window: int | None = None
        done = False
        while True:
            while not done and (window is None or len(pending) < window):
                task = next(queue, None)
                if task is None:
                    done = True
                    break
                window = 2 * self.parallel(task.settings)
                ref = remote.options(
                    num_cpus=task.settings.workers,
                    max_retries=self.max_retries,
                    retry_exceptions=True,
                    name=f"region-{task.region}",
                ).remote(solve, task)
                pending[ref] = (task, time.perf_counter())
            if not pending:
                return
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                task, began = pending.pop(ref)
                yield self._outcome(ray, ref, task, began)

    def _outcome(self, ray: Any, ref: Any, task: RegionTask, began: float) -> RegionOutcome:
        wall = time.perf_counter() - began
        tries = self.max_retries + 1
        try:
            assignment = ray.get(ref)
        except ray.exceptions.RayTaskError as err:
            cause = err.cause if err.cause is not None else err
            error = f"{type(cause).__name__}: {cause}"
        except ray.exceptions.RayError as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else ""
            error = f"{type(err).__name__}: {first}"
        else:
            return RegionOutcome(task.region, assignment, wall_s=wall)
        logger.warning("region %s failed after %d tries: %s", task.region, tries, error)
        return RegionOutcome(task.region, None, error, attempts=tries, wall_s=wall)
