"""optimizer.outputs.export: plan.json and the dispatcher's tables say what the plan says."""

from __future__ import annotations

import json

from optimizer.outputs.export import itineraries_frame, plan_to_dict, unassigned_frame, write_plan
from optimizer.reopen import open_plan
from tests.helpers import make_day


def test_plan_json_accounts_for_every_visit_once() -> None:
    day = make_day()
    doc = plan_to_dict(day)
    routed = [s["visit_id"] for r in doc["routes"] for s in r["stops"]]
    unassigned = [u["visit_id"] for u in doc["unassigned"]]
    assert sorted(routed + unassigned) == sorted(v.visit_id for v in day.visits)
    assert doc["summary"]["priority_served"] == sum(
        v.priority for v in day.visits if v.visit_id in set(routed)
    )
    assert all(u["reason"] for u in doc["unassigned"])


def test_itineraries_follow_route_order_and_unassigned_keep_reasons() -> None:
    day = make_day()
    frame = itineraries_frame(day)
    for route in day.plan.routes:
        rows = frame[frame["agent_id"] == route.agent_id]
        assert list(rows["visit_id"]) == [s.visit_id for s in route.stops]
    gone = unassigned_frame(day)
    assert set(gone["visit_id"]) == {u.visit_id for u in day.plan.unassigned}
    assert gone["reason"].str.len().min() > 0


def test_written_plan_reopens_to_the_same_assignment(tmp_path) -> None:
    day = make_day()
    out = tmp_path / "out"
    write_plan(day, out)
    doc = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert doc == plan_to_dict(day)
    again = open_plan(out / "plan.json")
    assert {r.agent_id: [s.visit_id for s in r.stops] for r in again.plan.routes} == {
        r.agent_id: [s.visit_id for s in r.stops] for r in day.plan.routes
    }
