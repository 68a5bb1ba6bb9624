"""The agent's itinerary page: one self-contained HTML file per agent (pure rendering).

Mobile first (a 390 px phone in the street) and printable on A4: the day's summary,
then a card per stop in route order with planned arrival and start, the appointment
window, visit type, address, documents and buttons: call, navigate in AMap (GCJ-02),
Baidu Maps (BD-09), Apple Maps and Google Maps (WGS-84), and show on the page's map.
Start, break and end sit in the same time line. The map (built by
:func:`optimizer.outputs.maps.agent_map`) is embedded with Leaflet inlined: no script or
stylesheet comes from a CDN, so the page works offline apart from the map tiles; when
tiles cannot load, the map box is folded away and the list is the page.

Visits are read only through :func:`optimizer.outputs.privacy.visit_view` for the agent
audience, and only the agent's own route is rendered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import jinja2

from optimizer.clock import format_hhmm
from optimizer.datums import wgs84_to_bd09, wgs84_to_gcj02
from optimizer.domain import Agent, GeoPoint, Mode, Visit
from optimizer.outputs.assets import leaflet_css, leaflet_js
from optimizer.outputs.escaping import page_environment
from optimizer.outputs.labels import Labels, labels, travel_note
from optimizer.outputs.privacy import Audience, agent_view, visit_view
from optimizer.phones import tel_uri

if TYPE_CHECKING:
    from optimizer.day import DayPlan
    from optimizer.plan import Route


@dataclass(frozen=True, slots=True)
class MapFragment:
    """A rendered map ready to embed: its container, its script, marker names by label."""

    div: str = ""
    script: str = ""
    map_var: str = ""
    markers: Mapping[str, str] = field(default_factory=dict)
    colour: str = "#1f77b4"
    #: False when the map draws no tiles (``tiles = "none"``: streets from the extract):
    #: then nothing can fail to load and the map is never folded away.
    tiles: bool = True


#: Each app's word for the agent's travel mode in its directions link. AMap, Baidu,
#: Apple and Google all route walking, cycling (the e-bike), driving and transit.
NAV_MODES: Mapping[str, Mapping[Mode, str]] = {
    "amap": {Mode.CAR: "car", Mode.EBIKE: "ride", Mode.WALK: "walk", Mode.TRANSIT: "bus"},
    "baidu": {
        Mode.CAR: "driving",
        Mode.EBIKE: "riding",
        Mode.WALK: "walking",
        Mode.TRANSIT: "transit",
    },
    "apple": {
        Mode.CAR: "driving",
        Mode.EBIKE: "cycling",
        Mode.WALK: "walking",
        Mode.TRANSIT: "transit",
    },
    "google": {
        Mode.CAR: "driving",
        Mode.EBIKE: "bicycling",
        Mode.WALK: "walking",
        Mode.TRANSIT: "transit",
    },
}


def nav_links(
    point: GeoPoint,
    label: str,
    mode: Mode = Mode.CAR,
    *,
    origin: GeoPoint | None = None,
    origin_label: str = "",
) -> dict[str, str]:
    """Deep links opening directions to ``point`` (WGS-84) in the agent's travel mode.

    Each link carries its app's datum and opens directions, not a marker: AMap, Apple
    and Google start from where the phone is; Baidu's directions page needs a start, so
    it gets ``origin``, the previous place of the route (without one there is no Baidu
    link). Only ids travel as labels: the borrower's name and address are not sent to
    the map providers.
    """
    gcj = wgs84_to_gcj02(point)
    name = quote(label)
    links = {
        "amap": (
            f"https://uri.amap.com/navigation?to={gcj.lon:.6f},{gcj.lat:.6f},{name}"
            f"&mode={NAV_MODES['amap'][mode]}&coordinate=gaode&callnative=1&src=fieldroute"
        ),
        "apple": (
            f"https://maps.apple.com/directions?destination={point.lat:.6f},{point.lon:.6f}"
            f"&mode={NAV_MODES['apple'][mode]}"
        ),
        "google": (
            "https://www.google.com/maps/dir/?api=1"
            f"&destination={point.lat:.6f},{point.lon:.6f}"
            f"&travelmode={NAV_MODES['google'][mode]}&dir_action=navigate"
        ),
    }
    if origin is not None:
        bd, bd_from = wgs84_to_bd09(point), wgs84_to_bd09(origin)
        links["baidu"] = (
            "https://api.map.baidu.com/direction"
            f"?origin=latlng:{bd_from.lat:.6f},{bd_from.lon:.6f}|name:{quote(origin_label)}"
            f"&destination=latlng:{bd.lat:.6f},{bd.lon:.6f}|name:{name}"
            f"&mode={NAV_MODES['baidu'][mode]}&coord_type=bd09ll&output=html"
            "&src=webapp.fieldroute.itinerary"
        )
    return {k: links[k] for k in ("amap", "baidu", "apple", "google") if k in links}


def tel_link(phone: str) -> str:
    """``tel:`` URI of a checked number, ``""`` (no Call button) for any other text."""
    return tel_uri(phone)


def _iso(date: dt.date, seconds: int) -> str:
    moment = dt.datetime.combine(date, dt.time()) + dt.timedelta(seconds=seconds)
    return moment.isoformat(timespec="seconds")


def timeline(day: DayPlan, route: Route, t: Labels | None = None) -> list[dict[str, Any]]:
    """Start, the stops, the break and the end, in time order (the page's cards)."""
    t = t or labels(day.settings.notices.lang)
    agent = next(a for a in day.agents if a.agent_id == route.agent_id)
    return route_timeline(day.plan.date, {v.visit_id: v for v in day.visits}, agent, route, t)


def route_timeline(
    date: dt.date, visits: Mapping[str, Visit], agent: Agent, route: Route, t: Labels
) -> list[dict[str, Any]]:
    """:func:`timeline` from its parts: the live page has the book's route, not a DayPlan."""
    items: list[tuple[int, int, dict[str, Any]]] = [
        (route.depart_s, 0, {"kind": "start", "time": format_hhmm(route.depart_s)})
    ]
    previous, previous_label = agent.start, "S"
    for s in route.stops:
        v = visit_view(visits[s.visit_id], Audience.AGENT)
        w = v["window"]
        loc: GeoPoint | None = v["location"]
        links = (
            nav_links(loc, v["visit_id"], agent.mode, origin=previous, origin_label=previous_label)
            if loc is not None
            else {}
        )
        previous, previous_label = loc or previous, v["visit_id"]
        items.append(
            (
                s.start_s,
                1,
                {
                    "kind": "stop",
                    "seq": s.seq,
                    "visit_id": v["visit_id"],
                    "arrive": format_hhmm(s.arrive_s),
                    "arrive_iso": _iso(date, s.arrive_s),
                    "start": format_hhmm(s.start_s),
                    "start_iso": _iso(date, s.start_s),
                    "end": format_hhmm(s.end_s),
                    "end_iso": _iso(date, s.end_s),
                    "wait_min": s.wait_s // 60,
                    "travel_min": round(s.travel_s / 60),
                    "distance_km": f"{s.distance_m / 1000:.1f}",
                    "window": f"{format_hhmm(w.start_s)}–{format_hhmm(w.end_s)}"
                    if w
                    else t("any_time"),
                    "type": t.visit_type(v["visit_type"]),
                    "address": v["address"],
                    "name": v["name"],
                    "phone": v["phone"],
                    "tel": tel_link(v["phone"]),
                    "documents": [t.document(d) for d in v["documents"]],
                    "links": links,
                },
            )
        )
    if route.break_start_s is not None and route.break_end_s is not None:
        items.append(
            (
                route.break_start_s,
                2,
                {
                    "kind": "break",
                    "time": format_hhmm(route.break_start_s),
                    "until": format_hhmm(route.break_end_s),
                    "minutes": (route.break_end_s - route.break_start_s) // 60,
                },
            )
        )
    items.append(
        (
            route.return_s,
            3,
            {
                "kind": "end",
                "time": format_hhmm(route.return_s),
                "travel_min": round(route.return_travel_s / 60),
                "mode": t.mode(agent.mode),
            },
        )
    )
    return [item for _, _, item in sorted(items, key=lambda t: (t[0], t[1]))]


def route_summary(route: Route) -> dict[str, Any]:
    """The figures of the page's header: visits, first start, last end, distance, break."""
    return {
        "visits": len(route.stops),
        "first_start": format_hhmm(route.stops[0].start_s) if route.stops else "",
        "depart": format_hhmm(route.depart_s),
        "back": format_hhmm(route.return_s),
        "last_end": format_hhmm(route.stops[-1].end_s) if route.stops else "",
        "travel_min": round(route.travel_s / 60),
        "distance_km": f"{route.distance_m / 1000:.1f}",
        "break": (
            f"{format_hhmm(route.break_start_s)}–{format_hhmm(route.break_end_s)}"
            if route.break_start_s is not None and route.break_end_s is not None
            else ""
        ),
    }


@cache
def _environment() -> jinja2.Environment:
    """One environment per process, so the page template is compiled once, not per agent."""
    return page_environment(jinja2.PackageLoader("optimizer", "templates"))


def agent_page(day: DayPlan, agent_id: str, fragment: MapFragment | None = None) -> str:
    """The itinerary page of ``agent_id`` as one HTML string (Leaflet inlined)."""
    route = day.plan.route_of(agent_id)
    agent = next(a for a in day.agents if a.agent_id == agent_id)
    who = agent_view(agent, Audience.AGENT)
    fragment = fragment or MapFragment()
    summary: dict[str, Any] = {"visits": 0}
    items: list[dict[str, Any]] = []
    t = labels(day.settings.notices.lang)
    if route is not None:
        items = timeline(day, route, t)
        summary = route_summary(route)
    template = _environment().get_template("agent_page.html.j2")
    return template.render(
        agent_id=who["agent_id"],
        agent_name=who["name"],
        date=day.plan.date.isoformat(),
        weekday=t.weekday(day.plan.date),
        t=t,
        summary=summary,
        items=items,
        fragment=fragment,
        leaflet_css=leaflet_css() if fragment.script else "",
        leaflet_js=leaflet_js() if fragment.script else "",
        travel_note=travel_note(day.plan.travel, {agent.mode}, t),
    )
