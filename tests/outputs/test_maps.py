"""Maps: a numbered marker per routed visit, a line per non-empty route, grey unassigned."""

from __future__ import annotations

from pathlib import Path

import folium

from optimizer.day import DayPlan
from optimizer.outputs.folder import agent_file
from optimizer.outputs.maps import agent_map, overview_map, save_maps
from optimizer.pipeline import plan_day
from tests.helpers import DATE, FAST, at, make_agent, make_visit


def _walk(element: object) -> list[object]:
    found = [element]
    for child in getattr(element, "_children", {}).values():
        found += _walk(child)
    return found


def test_overview_markers_and_lines(small_day: DayPlan) -> None:
    fmap = overview_map(small_day)
    elements = _walk(fmap)
    lines = [e for e in elements if isinstance(e, folium.PolyLine)]
    markers = [e for e in elements if isinstance(e, folium.Marker)]
    routed = len(small_day.plan.assigned_ids)
    agents_out = len(small_day.plan.routes)
    # one numbered marker per routed visit plus a start marker per route (ends equal starts here)
    assert len(markers) == routed + agents_out
    assert len(lines) == agents_out
    grey = [e for e in elements if isinstance(e, folium.CircleMarker)]
    assert len(grey) == sum(
        1
        for u in small_day.plan.unassigned
        if any(v.visit_id == u.visit_id and v.location for v in small_day.visits)
    )
    html = fmap.get_root().render()
    assert "未安排" in html and "FieldRoute 计划 2026-12-01" in html  # notices.lang, zh


def test_agent_map_shows_only_that_agent(small_day: DayPlan) -> None:
    route = small_day.plan.routes[0]
    html = agent_map(small_day, route.agent_id).get_root().render()
    for stop in route.stops:
        assert stop.visit_id in html
    others = [s.visit_id for r in small_day.plan.routes[1:] for s in r.stops]
    assert others and not any(f">{vid}<" in html or f"{vid} " in html for vid in others)


def test_save_maps_writes_one_page_per_route(small_day: DayPlan, tmp_path: Path) -> None:
    paths = save_maps(small_day, tmp_path)
    assert {p.name for p in paths} == {"overview.html"} | {
        agent_file(r.agent_id, "html") for r in small_day.plan.routes
    }


def test_data_is_rendered_once_never_as_a_template(tmp_path: Path) -> None:
    """folium's elements re-compile rendered text as Jinja: data with ``{{ }}`` ran."""
    visits = [
        make_visit("{{ 7*7 }}", location=at(1, 1)),
        make_visit("x{% if 1 %}", location=at(2, 1)),
    ]
    day = plan_day(visits, [make_agent("{{ 6*7 }}")], FAST, date=DATE)
    assert len(day.plan.assigned_ids) == 2
    texts = [p.read_text(encoding="utf-8") for p in save_maps(day, tmp_path)]
    assert len(texts) == 2  # the overview and the agent's page
    for html in texts:
        assert "{{ 7*7 }}" in html and "x{% if 1 %}" in html
        assert ">49<" not in html and "49</b>" not in html
