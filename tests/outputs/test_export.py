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


def test_excel_tables_beside_the_csvs_with_formulas_neutralised(tmp_path) -> None:
    """Issue 10 item 11: itineraries.xlsx and unassigned.xlsx hold the CSVs' rows, and a
    cell a spreadsheet would run as a formula arrives as text."""
    from dataclasses import replace

    import openpyxl
    import pandas as pd

    day = make_day()
    routed = day.plan.routes[0].stops[0].visit_id
    hostile = {routed: '=HYPERLINK("http://x.example","click")'}
    visits = tuple(
        replace(v, address=hostile[v.visit_id]) if v.visit_id in hostile else v for v in day.visits
    )
    day = replace(day, visits=visits)
    out = tmp_path / "out"
    write_plan(day, out)
    for name in ("itineraries", "unassigned"):
        book = openpyxl.load_workbook(out / f"{name}.xlsx")
        sheet = book[name]
        assert sheet.freeze_panes == "A2"
        cells = [c for row in sheet.iter_rows() for c in row]
        assert not [c.coordinate for c in cells if c.data_type == "f"]
        xlsx = pd.read_excel(out / f"{name}.xlsx", dtype=str).fillna("")
        csv = pd.read_csv(out / f"{name}.csv", dtype=str, keep_default_na=False)
        assert list(xlsx.columns) == list(csv.columns)
        assert list(xlsx["visit_id"]) == list(csv["visit_id"])
    rows = pd.read_excel(out / "itineraries.xlsx", dtype=str)
    cell = rows.loc[rows["visit_id"] == routed, "address"].item()
    assert cell == "'" + hostile[routed]


def test_neutralise_cell_prefixes_formula_starts_only() -> None:
    from optimizer.outputs.export import neutralise_cell

    for text in ("=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise_cell(text) == "'" + text
    for value in ("成都 天府大道 1号", "V001", 3, -2.5, ""):
        assert neutralise_cell(value) == value
