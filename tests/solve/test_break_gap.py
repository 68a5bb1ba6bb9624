"""The break between two stops: on the leg or in the wait, as the verifier allows.

The insertion model once took the break right after a stop and only then the leg, so a
route whose break window opens while the agent is driving (or waiting at the next
door) was refused though the verifier and OR-Tools accept it; VROOM found such routes
on road days that FieldRoute could not even load (docs/benchmarks.md, round 7).
"""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.domain import Agent, BreakRule, GeoPoint, TimeWindow, Visit
from optimizer.problem import RoutingProblem, build_problem
from optimizer.solve.construct import Insertion, regret_routes
from optimizer.solve.ortools import solve
from optimizer.solve.params import SolverSettings
from optimizer.travel.base import FixedMatrixProvider
from tests.helpers import verifier_complaints

BREAK = BreakRule(TimeWindow(1200, 1300), 600)


def _day(leg_ab: int, window_b: TimeWindow) -> RoutingProblem:
    """Home -> A (100 s, A served 100-1000) -> B (``leg_ab`` s) -> home (100 s)."""
    points = [GeoPoint(0.0, 0.001 * i) for i in range(3)]  # home, A, B
    m = np.array([[0, 100, 100], [100, 0, leg_ab], [100, leg_ab, 0]], dtype=np.int64)
    visits = (
        Visit("A", points[1], 900, TimeWindow(0, 100)),
        Visit("B", points[2], 100, window_b),
    )
    agent = Agent("A1", points[0], TimeWindow(0, 10_000), break_rule=BREAK)
    index = {p: i for i, p in enumerate(points)}
    return build_problem(visits, (agent,), FixedMatrixProvider(m, m, index, name="t"))


# Leaving A at 1000: on a 500 s leg the break (1200-1800) starts on the road and B is
# reached at 2100; on a 100 s leg the agent is at B by 1100 and lunches there until
# 1800. Taken before the leg, B would be reached at 2300 and 1900: too late for both.
CASES = {
    "on the leg": (500, TimeWindow(0, 2100), 2100),
    "in the wait": (100, TimeWindow(1800, 1850), 1800),
}


@pytest.mark.parametrize("case", CASES)
def test_the_insertion_model_takes_the_break_on_the_leg_or_in_the_wait(case: str) -> None:
    leg, window_b, start_b = CASES[case]
    problem = _day(leg, window_b)
    ins = Insertion(problem)
    assert ins.load(((0, 1),))
    depart, starts, back, brk = ins.schedule(ins.routes[0])
    assert depart == 0
    assert starts == [100, start_b]
    assert brk == BREAK.window.start_s
    assert back == start_b + 100 + 100
    assert verifier_complaints(problem, ((0, 1),)) == []
    # The constructive start finds it too (it fits no other way).
    assert regret_routes(problem) == ((0, 1),)


@pytest.mark.parametrize("case", CASES)
def test_or_tools_accepts_the_same_route(case: str) -> None:
    leg, window_b, start_b = CASES[case]
    problem = _day(leg, window_b)
    found = solve(problem, SolverSettings(time_limit_s=1, workers=1))
    assert found.dropped == ()
    (route,) = found.routes
    assert route.visits == (0, 1)
    assert route.service_start_s == (100, start_b)
