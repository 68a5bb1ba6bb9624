"""The precheck's reasons, as a dispatcher reads them."""

from __future__ import annotations

from optimizer.domain import MAX_TIME_S, TimeWindow
from optimizer.feasibility import precheck
from optimizer.problem import build_problem
from optimizer.travel.straight import StraightLineModel
from tests.helpers import H, agent, visit


def _reason(window: TimeWindow) -> str:
    problem = build_problem(
        [visit("V1", 0.01, 0.01, window=window)], [agent("A1")], StraightLineModel()
    )
    return precheck(problem)[0]


def test_a_window_outside_the_shift_names_the_window() -> None:
    assert _reason(TimeWindow(18 * H, 19 * H)) == (
        "appointment window 18:00-19:00 is outside every able agent's shift"
    )


def test_an_open_ended_window_names_only_its_start() -> None:
    """A re-plan opens a visit's window from now to the end of time; "16:58-168:00" read as nonsense."""
    reason = _reason(TimeWindow(int(16.97 * H), MAX_TIME_S))
    assert reason == "it cannot start before 16:58, too late for every able agent's shift"
    assert "168:00" not in reason
