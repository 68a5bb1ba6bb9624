"""optimizer.plan: the plan as data, built from a search's assignment."""

from __future__ import annotations

import pytest

from optimizer.plan import leg_arrival
from tests.helpers import H, make_day


@pytest.mark.parametrize(
    ("leave", "travel", "brk", "arrive"),
    [
        (9 * H, 600, (None, None), 9 * H + 600),  # no break
        (9 * H, 600, (12 * H, 13 * H), 9 * H + 600),  # break later in the day
        (12 * H - 300, 600, (12 * H, 12 * H + 2700), 12 * H + 300 + 2700),  # break on the way
        (12 * H, 600, (12 * H, 12 * H + 2700), 12 * H + 600 + 2700),  # break at departure
        (12 * H + 1, 600, (12 * H, 12 * H + 2700), 12 * H + 601),  # break already behind
    ],
)
def test_leg_arrival_takes_the_break_taken_on_the_way(
    leave: int, travel: int, brk: tuple[int | None, int | None], arrive: int
) -> None:
    assert leg_arrival(leave, travel, *brk) == arrive


def test_plan_routes_and_unassigned_partition_the_visits() -> None:
    day = make_day()
    plan = day.plan
    assigned = set(plan.assigned_ids)
    assert len(plan.assigned_ids) == len(assigned)  # no visit routed twice
    gone = {u.visit_id for u in plan.unassigned}
    assert not assigned & gone
    assert assigned | gone == {v.visit_id for v in day.visits}
    for route in plan.routes:
        assert plan.route_of(route.agent_id) is route
        starts = [s.start_s for s in route.stops]
        assert starts == sorted(starts)
        assert route.depart_s <= (starts[0] if starts else route.return_s) <= route.return_s
    assert plan.route_of("nobody") is None
