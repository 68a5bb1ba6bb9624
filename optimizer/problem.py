"""The routing problem in solver terms: node indices, integer matrices and windows.

Node layout: visits take nodes ``0..V-1`` in input order; agent ``a`` starts at node
``V + 2a`` and ends at ``V + 2a + 1``. Every agent gets its own start and end node even
when places coincide, which keeps the index maps trivial to invert.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from optimizer.domain import MAX_TIME_S, Agent, GeoPoint, Mode, TimeWindow, Visit
from optimizer.sizing import check_day_fits
from optimizer.travel.base import TravelMatrix, TravelProvider

#: Any visit may start at any time in the agent's shift when it has no window.
OPEN_WINDOW = TimeWindow(0, MAX_TIME_S)


@dataclass(frozen=True, slots=True)
class RoutingProblem:
    """Located visits and agents plus their travel matrices (one per travel mode used)."""

    visits: tuple[Visit, ...]
    agents: tuple[Agent, ...]
    points: tuple[GeoPoint, ...]
    matrices: Mapping[Mode, TravelMatrix]
    #: visit id -> visit index, built once: re-planning, slots and the verifier ask for
    #: it per timing, per event and per route.
    _index: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {v.visit_id: i for i, v in enumerate(self.visits)})
        expected = len(self.visits) + 2 * len(self.agents)
        if len(self.points) != expected:
            msg = f"Expected {expected} points (visits + 2 per agent), got {len(self.points)}."
            raise ValueError(msg)
        for mode, m in self.matrices.items():
            if m.size != expected:
                msg = f"Expected {mode} matrix of size {expected}, got {m.size}."
                raise ValueError(msg)

    @property
    def num_visits(self) -> int:
        return len(self.visits)

    def start_node(self, agent_index: int) -> int:
        return len(self.visits) + 2 * agent_index

    def end_node(self, agent_index: int) -> int:
        return len(self.visits) + 2 * agent_index + 1

    def window(self, visit_index: int) -> TimeWindow:
        return self.visits[visit_index].window or OPEN_WINDOW

    def travel_s(self, agent_index: int, i: int, j: int) -> int:
        return int(self.matrices[self.agents[agent_index].mode].seconds[i, j])

    def distance_m(self, agent_index: int, i: int, j: int) -> int:
        return int(self.matrices[self.agents[agent_index].mode].metres[i, j])

    def visit_index(self) -> Mapping[str, int]:
        return self._index


def build_problem(
    visits: Sequence[Visit],
    agents: Sequence[Agent],
    travel: TravelProvider,
    *,
    extra_matrices: int = 0,
) -> RoutingProblem:
    """Every visit and agent must be located (``location``/``start`` not None).

    The one place that allocates a day's matrices, so the one place that first asks
    whether they fit (:func:`optimizer.sizing.check_day_fits`): every flow, and every
    region of a regional day, is refused there before a byte is allocated.
    ``extra_matrices`` is what the solver will register per agent on top (re-planning).

    Raises
    ------
    DayTooLargeError
        The day would not fit in the memory available.
    """
    points: list[GeoPoint] = []
    for v in visits:
        if v.location is None:
            msg = f"Visit {v.visit_id} has no location; locate it first."
            raise ValueError(msg)
        points.append(v.location)
    for a in agents:
        start, end = a.start, a.end_point
        if start is None or end is None:
            msg = f"Agent {a.agent_id} has no start location; locate it first."
            raise ValueError(msg)
        points += [start, end]
    modes = sorted({a.mode for a in agents})
    check_day_fits(len(visits), len(agents), len(modes), extra_matrices=extra_matrices)
    matrices: dict[Mode, TravelMatrix] = {}
    for mode in modes:
        matrices[mode] = _share_metres(travel.matrix(points, mode), matrices.values())
    return RoutingProblem(tuple(visits), tuple(agents), tuple(points), matrices)


def _share_metres(new: TravelMatrix, built: Iterable[TravelMatrix]) -> TravelMatrix:
    """``new`` holding an earlier mode's metres when they are the same (straight-line
    distances do not depend on the mode), so that one copy is kept, not one per mode."""
    for other in built:
        if _same(other.metres, new.metres):
            return replace(new, metres=other.metres)
    return new


def _same(a: npt.NDArray[Any], b: npt.NDArray[Any], band: int = 1_000_000) -> bool:
    """``np.array_equal`` a band of cells at a time: no n x n temporary of booleans."""
    if a.shape != b.shape:
        return False
    rows = max(1, band // max(1, a.shape[1]))
    return all(np.array_equal(a[k : k + rows], b[k : k + rows]) for k in range(0, len(a), rows))


def subset(problem: RoutingProblem, keep: Sequence[int]) -> RoutingProblem:
    """The same problem with only the visits at indices ``keep`` (in that order).

    Keeping every visit in order returns ``problem`` itself: no second copy of its
    matrices (the usual day, where the precheck sets nothing aside).
    """
    v = problem.num_visits
    if list(keep) == list(range(v)):
        return problem
    nodes = [*keep, *range(v, v + 2 * len(problem.agents))]
    matrices = {
        mode: TravelMatrix(
            seconds=m.seconds[np.ix_(nodes, nodes)],
            metres=m.metres[np.ix_(nodes, nodes)],
            unreachable={
                new: m.unreachable[old] for new, old in enumerate(nodes) if old in m.unreachable
            },
        )
        for mode, m in problem.matrices.items()
    }
    return RoutingProblem(
        tuple(problem.visits[i] for i in keep),
        problem.agents,
        tuple(problem.points[n] for n in nodes),
        matrices,
    )
