"""Workload balance: how far the agents' loads are from even, in seconds of travel.

``visits``: the sum over all agents of ``|visits - mean visits|`` times the mean visit
duration (one visit more or fewer than the mean is worth one visit's time).
``utilisation``: the sum over all agents of ``|time out - u x shift length|``, where
``u`` is the day's overall share of shift used (time out = return - departure:
travel, service and waiting); an idle agent counts with 0.

Both are in seconds, so they add to travel; the searches keep served priority as a
strictly higher key, so balancing never drops a visit that would otherwise be served.
Pure: plain numbers in, a number out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from optimizer.problem import RoutingProblem
from optimizer.solve.assignment import Assignment


def imbalance_s(
    problem: RoutingProblem, mode: str, counts: Sequence[int], spans: Sequence[int]
) -> float:
    """Imbalance cost of a plan given each agent's visit count and time out (s)."""
    if mode == "none" or not problem.agents:
        return 0.0
    if mode == "visits":
        mean = sum(counts) / len(counts)
        unit = sum(v.duration_s for v in problem.visits) / max(1, problem.num_visits)
        return unit * sum(abs(c - mean) for c in counts)
    shifts = [a.shift.end_s - a.shift.start_s for a in problem.agents]
    share = sum(spans) / max(1, sum(shifts))
    return float(sum(abs(s - share * h) for s, h in zip(spans, shifts, strict=True)))


def route_imbalance_s(
    problem: RoutingProblem, mode: str, routes: Sequence[tuple[int, int, int, int]]
) -> float:
    """:func:`imbalance_s` from ``(agent, visits, depart, return)`` per route."""
    counts = [0] * len(problem.agents)
    spans = [0] * len(problem.agents)
    for a, n, depart, back in routes:
        if n:
            counts[a], spans[a] = n, back - depart
    return imbalance_s(problem, mode, counts, spans)


def assignment_imbalance_s(problem: RoutingProblem, mode: str, assignment: Assignment) -> int:
    """:func:`imbalance_s` of a search's result, rounded up to whole seconds."""
    routes = [(r.agent_index, len(r.visits), r.depart_s, r.return_s) for r in assignment.routes]
    return math.ceil(route_imbalance_s(problem, mode, routes))
