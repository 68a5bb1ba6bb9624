"""Folium maps of a plan: the dispatcher's overview and the map on each agent's page.

``overview_map`` and ``agent_map`` build ``folium.Map`` objects (pure); ``map_fragment``
renders a map for embedding without any CDN asset (the agent page inlines Leaflet);
``save_maps`` writes overview.html and the agent pages (:mod:`optimizer.outputs.agent_page`).
Popups carry ids, windows and times, never borrowers' names or phones.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any, cast

import folium
import folium.map
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from optimizer.clock import format_hhmm as hm
from optimizer.day import DayPlan
from optimizer.domain import GeoPoint, Visit
from optimizer.outputs.agent_page import MapFragment, agent_page
from optimizer.outputs.assets import inline_assets
from optimizer.outputs.escaping import html_text, layer_name, popup_html, tooltip_html
from optimizer.outputs.folder import agent_file
from optimizer.outputs.labels import Labels, labels, travel_note
from optimizer.outputs.tiles import OSM_ATTRIBUTION, TileProvider, tile_provider
from optimizer.plan import Route


class _Rendered(Element):
    """Markup a template has produced already: written out as it is, never compiled.

    branca wraps what each element's macros render in a new ``Element(text)``, which
    compiles that text as a Jinja template and renders it a second time. That costs a
    Jinja compile per marker (about 15 s of a 2,000-visit week's maps) and evaluates
    any ``{{ ... }}`` that came in with the data (a visit id of ``{{ 7*7 }}`` showed as
    ``49``): the data is rendered once, here.
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        return self._text


def _render_macros(self: MacroElement, **kwargs: Any) -> None:
    """branca's MacroElement.render, adding the macros' output as :class:`_Rendered`."""
    figure = self.get_root()
    if not isinstance(figure, Figure):
        msg = "a map element can only be rendered inside a figure"
        raise TypeError(msg)
    macros = self._template.module.__dict__
    for part, target in (
        ("header", figure.header),
        ("html", figure.html),
        ("script", figure.script),
    ):
        macro = macros.get(part)
        if macro is not None:
            target.add_child(_Rendered(str(macro(self, kwargs))), name=self.get_name())
    for element in self._children.values():
        element.render(**kwargs)


def _render_popup(self: folium.Popup, **kwargs: Any) -> None:
    """folium's Popup.render, adding its script as :class:`_Rendered`."""
    for child in self._children.values():
        child.render(**kwargs)
    figure = self.get_root()
    if not isinstance(figure, Figure):
        msg = "a popup can only be rendered inside a figure"
        raise TypeError(msg)
    script = self._template.render(this=self, kwargs=kwargs)
    figure.script.add_child(_Rendered(script), name=self.get_name())


MacroElement.render = _render_macros  # type: ignore[method-assign]
folium.map.Popup.render = _render_popup  # type: ignore[method-assign]


PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#393b79",
    "#637939",
    "#843c39",
)
UNASSIGNED_COLOUR = "#7f7f7f"
ATTRIBUTION = "© OpenStreetMap contributors"


def _html(fmap: folium.Map) -> Any:
    """The page's <body> element, where legends and side panels go."""
    return cast(Any, fmap.get_root()).html


def _popup(markup: str) -> folium.Popup:
    """A popup from :func:`~optimizer.outputs.escaping.popup_html` markup, inserted as is.

    Passing an element (not a string) keeps folium from re-processing the escaped text.
    """
    return folium.Popup(folium.Html(markup, script=True), max_width=260)


def _tooltip(text: str) -> folium.Tooltip:
    """A tooltip whose text is shown, never run (folium puts it in a template literal)."""
    return folium.Tooltip(tooltip_html(text))


def colour(k: int) -> str:
    return PALETTE[k % len(PALETTE)]


Roads = Sequence[Sequence[GeoPoint]]


def _base_map(
    day: DayPlan,
    points: list[GeoPoint],
    roads: Roads | None = None,
    width: str = "100%",
    height: str = "100%",
) -> folium.Map:
    """Tiles from ``[maps]`` (OSM credit always); streets from the extract when no tiles."""
    return make_base_map(
        points,
        day.settings.maps.tiles,
        key=day.settings.maps.tiles_key(),
        roads=roads,
        width=width,
        height=height,
    )


def _ll(day: DayPlan, p: GeoPoint) -> list[float]:
    """[lat, lon] where ``p`` is drawn on the configured tiles (GCJ-02 tiles shift it)."""
    return tile_provider(day.settings.maps.tiles).shift(p).as_latlon()


def _number_icon(n: int | str, fill: str) -> folium.DivIcon:
    return folium.DivIcon(
        html=(
            f'<div style="background:{fill};color:#fff;border:2px solid #fff;border-radius:50%;'
            f"width:24px;height:24px;line-height:20px;text-align:center;font:bold 12px sans-serif;"
            f'box-shadow:0 0 2px #000">{n}</div>'
        ),
        icon_size=(24, 24),
        icon_anchor=(12, 12),
    )


def _t(day: DayPlan) -> Labels:
    return labels(day.settings.notices.lang)


def _window_text(v: Visit, t: Labels) -> str:
    return f"{hm(v.window.start_s)}-{hm(v.window.end_s)}" if v.window else t("any_time")


def _add_route(
    layer: folium.FeatureGroup | folium.Map, route: Route, day: DayPlan, fill: str
) -> dict[str, str]:
    """Draw a route; returns the JavaScript name of each marker by label (seq, S, E)."""
    markers: dict[str, str] = {}
    visits = {v.visit_id: v for v in day.visits}
    agent = next(a for a in day.agents if a.agent_id == route.agent_id)
    start, end = agent.start, agent.end_point
    assert start is not None  # routed agents are located
    assert end is not None
    t = _t(day)
    line = [_ll(day, start)]
    for s in route.stops:
        v = visits[s.visit_id]
        assert v.location is not None
        line.append(_ll(day, v.location))
        popup = popup_html(
            s.visit_id,
            t("popup_stop", agent=route.agent_id, seq=s.seq),
            t("popup_window", window=_window_text(v, t)),
            t("popup_planned", start=hm(s.start_s), end=hm(s.end_s)),
            note=f"({t.visit_type(v.visit_type)})",
        )
        marker = folium.Marker(
            _ll(day, v.location),
            icon=_number_icon(s.seq, fill),
            popup=_popup(popup),
            tooltip=_tooltip(f"{s.visit_id} {hm(s.start_s)}"),
        )
        marker.add_to(layer)
        markers[str(s.seq)] = marker.get_name()
    line.append(_ll(day, end))
    road_line = day.route_lines.get(route.agent_id)
    if road_line:  # along the roads (OSRM) instead of straight segments
        line = [_ll(day, p) for p in road_line]
    folium.PolyLine(line, color=fill, weight=4, opacity=0.8).add_to(layer)  # type: ignore[no-untyped-call]
    start_marker = folium.Marker(
        _ll(day, start),
        icon=_number_icon("S", "#222"),
        tooltip=_tooltip(
            t(
                "tooltip_start_end" if end == start else "tooltip_start",
                agent=route.agent_id,
                time=hm(route.depart_s),
                back=hm(route.return_s),
            )
        ),
    )
    start_marker.add_to(layer)
    markers["S"] = markers["E"] = start_marker.get_name()
    if end != start:
        end_marker = folium.Marker(
            _ll(day, end),
            icon=_number_icon("E", "#222"),
            tooltip=_tooltip(t("tooltip_end", agent=route.agent_id, time=hm(route.return_s))),
        )
        end_marker.add_to(layer)
        markers["E"] = end_marker.get_name()
    return markers


def overview_map(day: DayPlan, roads: Roads | None = None) -> folium.Map:
    """Every route in its own colour and layer, unassigned visits in grey, a legend."""
    plan = day.plan
    # Fit the view to the work that happens: one far-off unassigned visit must not
    # shrink the city to a dot (it stays on the map, in the grey layer).
    routed = set(day.plan.assigned_ids)
    points = [v.location for v in day.visits if v.location is not None and v.visit_id in routed]
    points += [p for a in day.agents for p in (a.start, a.end_point) if p is not None]
    if not routed:
        points += [v.location for v in day.visits if v.location is not None]
    fmap = _base_map(day, points, roads)
    t = _t(day)
    legend = []
    for k, agent in enumerate(day.agents):
        route = plan.route_of(agent.agent_id)
        if route is None:
            continue
        layer = folium.FeatureGroup(
            name=layer_name(t("layer_route", agent=agent.agent_id, count=len(route.stops)))
        )
        _add_route(layer, route, day, colour(k))
        layer.add_to(fmap)
        legend.append(
            (
                colour(k),
                t(
                    "legend_route",
                    agent=agent.agent_id,
                    count=len(route.stops),
                    depart=hm(route.depart_s),
                    back=hm(route.return_s),
                ),
            )
        )
    visits = {v.visit_id: v for v in day.visits}
    grey = folium.FeatureGroup(name=layer_name(t("layer_unassigned", count=len(plan.unassigned))))
    for u in plan.unassigned:
        v = visits[u.visit_id]
        if v.location is None:
            continue
        folium.CircleMarker(
            _ll(day, v.location),
            radius=7,
            color=UNASSIGNED_COLOUR,
            fill=True,
            fill_opacity=0.7,
            popup=_popup(
                popup_html(
                    u.visit_id,
                    t("popup_window", window=_window_text(v, t)),
                    u.reason,
                    note=t("popup_unassigned"),
                )
            ),
            tooltip=_tooltip(t("tooltip_unassigned", visit=u.visit_id)),
        ).add_to(grey)
    grey.add_to(fmap)
    legend.append((UNASSIGNED_COLOUR, t("legend_unassigned", count=len(plan.unassigned))))
    folium.LayerControl(collapsed=False).add_to(fmap)
    _html(fmap).add_child(folium.Element(_legend_html(day, legend)))
    return fmap


def _legend_html(day: DayPlan, rows: list[tuple[str, str]]) -> str:
    items = "".join(
        f'<div><span style="display:inline-block;width:12px;height:12px;background:{c};margin-right:6px"></span>{html_text(text)}</div>'
        for c, text in rows
    )
    t = _t(day)
    note = travel_note(day.plan.travel, {a.mode for a in day.agents}, t)
    return (
        '<div style="position:fixed;bottom:48px;left:12px;z-index:1000;background:#fff;padding:8px 10px;'
        'border-radius:6px;box-shadow:0 1px 4px rgba(0,0,0,.4);font:12px sans-serif;max-height:45vh;overflow:auto">'
        f"<b>{html_text(t('plan_title', date=day.plan.date.isoformat()))}</b>{items}"
        f'<div style="color:#666;margin-top:4px">{html_text(note)}</div></div>'
    )


def break_point(day: DayPlan, route: Route) -> GeoPoint | None:
    """Where the break is taken: at the last stop finished before it, else the start."""
    if route.break_start_s is None:
        return None
    visits = {v.visit_id: v for v in day.visits}
    agent = next(a for a in day.agents if a.agent_id == route.agent_id)
    point = agent.start
    for s in route.stops:
        if s.end_s <= route.break_start_s:
            point = visits[s.visit_id].location
    return point


def agent_map(day: DayPlan, agent_id: str, roads: Roads | None = None) -> folium.Map:
    """One agent's route: numbered stops, start (S), end (E), break (B), the line."""
    return agent_route_map(day, agent_id, roads)[0]


def agent_route_map(
    day: DayPlan, agent_id: str, roads: Roads | None = None
) -> tuple[folium.Map, dict[str, str]]:
    """:func:`agent_map` and the JavaScript name of each marker by label (1, 2, …, S, E, B).

    The agent page uses the names to link each card to its marker.
    """
    k, agent = next((k, a) for k, a in enumerate(day.agents) if a.agent_id == agent_id)
    route = day.plan.route_of(agent_id)
    visits = {v.visit_id: v for v in day.visits}
    points = [p for p in (agent.start, agent.end_point) if p is not None]
    if route is not None:
        points += [loc for s in route.stops if (loc := visits[s.visit_id].location) is not None]
    fmap = _base_map(day, points, roads, width="100%", height="100%")
    markers: dict[str, str] = {}
    if route is not None:
        markers = _add_route(fmap, route, day, colour(k))
        where = break_point(day, route)
        if where is not None and route.break_start_s is not None and route.break_end_s is not None:
            brk = folium.Marker(
                _ll(day, where),
                icon=_number_icon("B", "#b8860b"),
                tooltip=_tooltip(
                    _t(day)(
                        "tooltip_break", start=hm(route.break_start_s), end=hm(route.break_end_s)
                    )
                ),
            )
            brk.add_to(fmap)
            markers["B"] = brk.get_name()
    return fmap, markers


def map_fragment(fmap: folium.Map, markers: dict[str, str], fill: str) -> MapFragment:
    """The map's container and script for embedding in a page, with no CDN asset.

    folium would link Leaflet, jQuery and Bootstrap from CDNs; the agent page inlines
    the one it needs (Leaflet), so the map's own asset lists are emptied here.
    """
    fmap.default_js = []
    fmap.default_css = []
    root = fmap.get_root()
    assert isinstance(root, Figure)  # a Map's root is always its page
    root.render()
    return MapFragment(
        div=root.html.render(),
        script=root.script.render(),
        map_var=fmap.get_name(),
        markers=dict(markers),
        colour=fill,
        tiles=any(isinstance(child, folium.TileLayer) for child in fmap._children.values()),
    )


def save_maps(day: DayPlan, out: Path, agents: Collection[str] | None = None) -> list[Path]:
    """overview.html and agent-<safe name>.html (the itinerary page) per routed agent.

    ``agents`` limits the pages to those agents (a re-plan rewrites only what changed).

    Pages open without network apart from tiles (Leaflet inline, no CDN links). With
    ``[maps] tiles = "none"`` the streets of the ``[roads]`` extract are the background.
    """
    roads = _street_lines(day)
    paths = [out / "overview.html"]
    page = inline_assets(overview_map(day, roads).get_root().render())
    paths[0].write_text(page, encoding="utf-8")
    index = {a.agent_id: k for k, a in enumerate(day.agents)}
    for route in day.plan.routes:
        if agents is not None and route.agent_id not in agents:
            continue
        path = out / agent_file(route.agent_id, "html")
        fmap, markers = agent_route_map(day, route.agent_id, roads)
        fragment = map_fragment(fmap, markers, colour(index[route.agent_id]))
        page = agent_page(day, route.agent_id, fragment)
        path.write_text(page, encoding="utf-8")
        paths.append(path)
    return paths


def _street_lines(day: DayPlan) -> list[list[GeoPoint]] | None:
    extract = day.settings.roads.extract
    if day.settings.maps.tiles != "none" or extract is None:
        return None
    from optimizer.travel.extract import road_lines

    points = [v.location for v in day.visits if v.location is not None]
    points += [p for a in day.agents for p in (a.start, a.end_point) if p is not None]
    if not points:
        return None
    margin = 0.01  # degrees, about 1 km: streets just outside the stops still show
    sw = GeoPoint(min(p.lat for p in points) - margin, min(p.lon for p in points) - margin)
    ne = GeoPoint(max(p.lat for p in points) + margin, max(p.lon for p in points) + margin)
    return road_lines(Path(extract), (sw, ne))


class Attribution(MacroElement):
    """Adds a line to the map's attribution control (for maps without tiles)."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this._parent.get_name() }}.attributionControl"
        ".addAttribution({{ this.text|tojson }});"
        "{% endmacro %}"
    )

    def __init__(self, text: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "Attribution"
        self.text = text


def make_base_map(
    points: Sequence[GeoPoint],
    tiles: str | TileProvider = "osm",
    *,
    key: str = "",
    roads: Sequence[Sequence[GeoPoint]] | None = None,
    zoom_start: int = 13,
    **options: Any,
) -> folium.Map:
    """A folium map on ``tiles``, fitted to ``points`` (WGS-84, shifted as needed).

    Parameters
    ----------
    points
        What the map must show; it is fitted to their bounds.
    tiles
        A :data:`TILE_PROVIDERS` name or a :class:`TileProvider`.
    key
        API key for providers that need one (Tianditu).
    roads
        Street lines (e.g. :func:`optimizer.travel.extract.road_lines`) drawn as a grey base
        layer: meant for ``tiles="none"``, where they are the only background.
    options
        Passed to ``folium.Map`` (``width``, ``height``, ...).

    Raises
    ------
    ValueError
        Unknown provider, or a provider that needs a key without one.
    """
    provider = tile_provider(tiles) if isinstance(tiles, str) else tiles
    if provider.needs_key and not key:
        msg = f"tile provider {provider.name!r} needs an API key (maps.tiles_key_env)"
        raise ValueError(msg)
    shown = provider.shift_all(points)
    center = _center(shown)
    fmap = folium.Map(
        location=center.as_latlon(),
        tiles=None,
        zoom_start=zoom_start,
        control_scale=True,
        max_zoom=provider.max_zoom,
        **options,
    )
    if provider.url is not None:
        for url in (provider.url, provider.labels_url):
            if url is None:
                continue
            folium.TileLayer(
                tiles=url.replace("{key}", key),
                attr=provider.attribution,
                name=provider.name,
                subdomains=provider.subdomains or "abc",
                max_zoom=provider.max_zoom,
                control=False,
            ).add_to(fmap)
    if roads:
        folium.PolyLine(  # type: ignore[no-untyped-call]
            locations=[
                [_rounded(provider.shift(p)) for p in line] for line in roads if len(line) > 1
            ],
            color="#8a8a8a",
            weight=1.5,
            opacity=0.9,
            interactive=False,
            smooth_factor=1.5,
        ).add_to(fmap)
    if OSM_ATTRIBUTION not in provider.attribution or provider.url is None:
        # Street data, route lines and addresses all come from OpenStreetMap (ODbL).
        Attribution(OSM_ATTRIBUTION).add_to(fmap)
    distinct = {(p.lat, p.lon) for p in shown}
    if len(distinct) > 1:
        lats = [p.lat for p in shown]
        lons = [p.lon for p in shown]
        fmap.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]], padding=(20, 20))
    return fmap


def _center(points: Sequence[GeoPoint]) -> GeoPoint:
    if not points:
        return GeoPoint(0.0, 0.0)
    return GeoPoint(
        sum(p.lat for p in points) / len(points), sum(p.lon for p in points) / len(points)
    )


def _rounded(p: GeoPoint) -> list[float]:
    # 6 decimals = 0.1 m: plenty for drawing, and a third smaller pages.
    return [round(p.lat, 6), round(p.lon, 6)]
