"""What a search returns: routes as visit indices with their times, dropped visits, status.

Plain values, so that reading or writing a plan never loads OR-Tools."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

ProgressCallback = Callable[[float, int, int], None]
"""Called on each improving solution with (elapsed s, objective, visits served)."""


@dataclass(frozen=True, slots=True)
class RouteResult:
    """One agent's route: visit indices in order and the solver's times for them."""

    agent_index: int
    visits: tuple[int, ...]
    service_start_s: tuple[int, ...]
    depart_s: int
    return_s: int
    break_start_s: int | None


@dataclass(frozen=True, slots=True)
class Stability:
    """Soft wishes for re-planning: keep visits with their agent and told window.

    ``preferred_agent[i]`` is the agent index visit ``i`` had (None: no wish); serving
    it with another agent costs ``agent_change_cost``. ``told_window[i]`` is the window
    already told to the borrower; each second its start lies outside costs
    ``told_window_cost_per_s``. Both are in the objective's unit (seconds of travel).
    """

    preferred_agent: tuple[int | None, ...]
    told_window: tuple[tuple[int, int] | None, ...]
    agent_change_cost: int
    told_window_cost_per_s: int


@dataclass(frozen=True, slots=True)
class Assignment:
    routes: tuple[RouteResult, ...]
    dropped: tuple[int, ...]
    status: str
    objective: int
    wall_s: float
    #: Searches that gave nothing (failed, crashed, overran the deadline), with why.
    lost_searches: tuple[str, ...] = ()
