"""How much memory a day needs, and the refusal of one that would not fit, before it is built.

The matrices grow with the square of the points (visits plus two per agent): 5,000
visits are 26 million cells per matrix, 100,000 visits ten billion. A day too large
for the machine must be refused with its size in one line, not found out by the
kernel's out-of-memory killer or a traceback after minutes of work. The estimate is a
pure function of the day's shape, so the regions path (each region planned on its
own) checks every region with the same rule.

Measured on the synthetic days of ``optimizer.bench.memory`` (docs/benchmarks.md),
per cell of one n x n matrix, where OR-Tools keeps its own int64 copy of each
registered matrix and the second search's worker holds its own copy of the problem:

=====================================================  =====================
planner: seconds + metres (int32)                       8 bytes per mode
planner: OR-Tools' cost and time matrices (int64)       16 bytes per mode
planner: one matrix as Python lists while registering   8 bytes, once
planner: measured beyond the above                      4 bytes, once
worker (ruin-and-recreate): its seconds (int32)         4 bytes per mode
=====================================================  =====================

Straight-line modes share one metres matrix, so with two modes the planner needs 4
bytes a cell less than counted: the estimate errs on the safe side (7.1 GiB for the
6.7 GiB measured at 10,000 visits). A second search by OR-Tools
(``second_search = "ortools"``) would hold a whole model too: not counted here.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from optimizer.errors import DayTooLargeError

GIB = 1024**3

#: Bytes per matrix cell, per travel mode used, over both processes (table above).
BYTES_PER_CELL_PER_MODE = 8 + 16 + 4
#: Bytes per matrix cell once: the registration lists, and 4 measured beyond what is
#: counted (the solver's per-node tables, allocator slack).
BYTES_PER_CELL_ONCE = 8 + 4
#: Per point and agent: OR-Tools' per-vehicle node data, allowed-agent tables.
BYTES_PER_POINT_PER_AGENT = 64
#: Two interpreters with numpy, pandas and OR-Tools loaded.
BASE_BYTES = 400 * 1024**2
#: Below this the probe is not even asked (tests, every ordinary day).
NO_CHECK_BELOW_BYTES = 1 * GIB
#: Share of the available memory a day may plan to use: the rest is for the estimate's
#: error and for everything else on the machine.
USABLE_SHARE = 0.85


def estimate_day_bytes(
    n_points: int, n_modes: int, n_vehicles: int, *, extra_matrices: int = 0
) -> int:
    """Peak bytes of planning a day of ``n_points`` points (visits + 2 per agent).

    ``n_modes`` is the number of travel modes the agents use (one matrix pair each),
    ``n_vehicles`` the number of agents; ``extra_matrices`` counts matrices registered
    per agent on top (re-planning registers one per agent whose visits may move).
    """
    cells = n_points * n_points
    return (
        cells * (BYTES_PER_CELL_PER_MODE * max(1, n_modes) + BYTES_PER_CELL_ONCE)
        + cells * 8 * extra_matrices
        + n_points * n_vehicles * BYTES_PER_POINT_PER_AGENT
        + BASE_BYTES
    )


def available_memory_bytes() -> int | None:
    """Memory this process may still take: the smaller of the kernel's ``MemAvailable``
    and the room left under its cgroup's limit; None where neither can be read."""
    figures: list[int] = []
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            if line.startswith("MemAvailable:"):
                figures.append(int(line.split()[1]) * 1024)
    with contextlib.suppress(OSError, ValueError):
        group = Path("/proc/self/cgroup").read_text(encoding="ascii").strip().split("::")[-1]
        folder = Path("/sys/fs/cgroup") / group.lstrip("/")
        limit = (folder / "memory.max").read_text(encoding="ascii").strip()
        if limit != "max":
            used = int((folder / "memory.current").read_text(encoding="ascii"))
            figures.append(max(0, int(limit) - used))
    return min(figures) if figures else None


def check_day_fits(n_visits: int, n_agents: int, n_modes: int, *, extra_matrices: int = 0) -> None:
    """Refuse, before anything is allocated, a day that would not fit in memory.

    Raises
    ------
    DayTooLargeError
        The estimate exceeds :data:`USABLE_SHARE` of the memory available now; the
        message names the visits, the estimate and the memory available, and points
        at ``--regions``.
    """
    need = estimate_day_bytes(
        n_visits + 2 * n_agents, n_modes, n_agents, extra_matrices=extra_matrices
    )
    if need < NO_CHECK_BELOW_BYTES:
        return
    available = available_memory_bytes()
    if available is None or need <= available * USABLE_SHARE:
        return
    raise DayTooLargeError(n_visits, n_agents, need, available)
