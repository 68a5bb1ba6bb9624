"""Appointment slots while the borrower waits on the phone: cheapest insertion, no solver.

For each candidate window (on the half hour) and each able agent, the hypothetical
visit is tried at every position of the agent's current route, timed by
:func:`optimizer.timing.schedule` (the re-plan's and the verifier's rule): the rest of
the route is pushed forward as needed, and an insertion counts only if every existing
appointment still starts inside its window, the break holds (planned, or placed when
the new visit makes one owed) and the agent is back before the end of the shift. An
agent idle after its last stop is offered the time up to the end of its shift. The cheapest insertion per window is
then booked into a copy of the plan and checked by :func:`optimizer.verify.check_plan`.
Pure Python over the plan's travel matrix: well under a second for 300 visits.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from optimizer.clock import format_hhmm as hm
from optimizer.day import DayPlan
from optimizer.domain import Agent, GeoPoint, TimeWindow, Visit
from optimizer.pipeline import travel_provider
from optimizer.plan import Plan, Route
from optimizer.problem import RoutingProblem, build_problem
from optimizer.timing import schedule
from optimizer.travel.base import TravelProvider
from optimizer.verify import check_plan

logger = logging.getLogger(__name__)

STEP_S = 1800


@dataclass(frozen=True, slots=True)
class Slot:
    """A window that can be promised, the agent who would go and what it costs.

    ``after_seq`` is the stop it follows in the agent's route (0: first);
    ``booked`` is the verified plan with the visit booked (for the console).
    """

    window: TimeWindow
    agent_id: str
    start_s: int
    extra_travel_s: int
    after_seq: int
    booked: Plan = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class _Insertion:
    cost: int
    agent: int
    position: int
    route: Route


def offer_slots(
    day: DayPlan,
    location: GeoPoint,
    duration_s: int,
    skills: frozenset[str] = frozenset(),
    window_width_s: int = 3600,
    *,
    now_s: int | None = None,
    visit_id: str = "NEW",
    travel: TravelProvider | None = None,
) -> list[Slot]:
    """Windows that fit without breaking any existing appointment, cheapest first.

    ``now_s``: offer only windows starting from then plus ``[notices] lead_min`` (the
    borrower is told in time), and insert only after the stops that have started. When the list is empty, :func:`why_no_slot` says why.
    """
    problem = _with_visit(day, Visit(visit_id, location, duration_s, skills=skills), travel)
    new = problem.num_visits - 1
    node_of = problem.visit_index()
    routes = {r.agent_id: r for r in day.plan.routes}
    by_window: dict[int, list[_Insertion]] = {}
    lead = day.settings.notices.lead_min * 60
    windows = _windows(
        problem.agents, duration_s, window_width_s, None if now_s is None else now_s + lead
    )
    for a, agent in enumerate(problem.agents):
        if not _able(agent, problem.visits[new], routes.get(agent.agent_id)):
            continue
        for ws, we in windows:
            for ins in _insertions(
                problem, a, routes.get(agent.agent_id), new, ws, we, now_s, node_of
            ):
                by_window.setdefault(ws, []).append(ins)
    slots: list[Slot] = []
    visits = (*day.visits, problem.visits[new])
    for ws, options in by_window.items():
        window = TimeWindow(ws, ws + window_width_s)
        for ins in sorted(options, key=lambda i: (i.cost, i.route.stops[i.position].start_s)):
            slot = _book(day, problem, visits, ins, window, new)
            if slot is not None:
                slots.append(slot)
                break
    return sorted(slots, key=lambda s: (s.extra_travel_s, s.window.start_s, s.agent_id))


#: Without a configured service area, the plan's own: the box around the agents' bases
#: and today's routed visits, grown by this much on every side.
SERVICE_MARGIN_KM = 10.0


def outside_service_area(day: DayPlan, point: GeoPoint) -> str | None:
    """Why ``point`` lies outside the area the plan serves, or None when inside.

    The area is ``[geocoder] service_bbox`` and/or ``service_radius_km`` when set, as
    for planning; otherwise the box around the agents' bases and the routed visits,
    grown by :data:`SERVICE_MARGIN_KM`. A point far outside could never be fitted, and
    "no agent can fit it" would send the dispatcher looking for time, not for a typo.
    """
    geo = day.settings.geocoder
    where = f"({point.lat:g}, {point.lon:g})"
    bases = [p for a in day.agents for p in (a.start, a.end_point) if p is not None]
    if geo.service_bbox is not None:
        s, w, n, e = geo.service_bbox
        if not (s <= point.lat <= n and w <= point.lon <= e):
            return (
                f"{where} lies outside the service area ([geocoder] service_bbox "
                f"{s:g},{w:g} - {n:g},{e:g})"
            )
    if geo.service_radius_km is not None and bases:
        nearest = min(_km(point, b) for b in bases)
        if nearest > geo.service_radius_km:
            return (
                f"{where} lies outside the service area ({nearest:.1f} km from the nearest "
                f"agent base; [geocoder] service_radius_km is {geo.service_radius_km:g})"
            )
    if geo.service_bbox is not None or geo.service_radius_km is not None:
        return None
    routed = set(day.plan.assigned_ids)
    known = bases + [
        v.location for v in day.visits if v.location is not None and v.visit_id in routed
    ]
    if not known:
        return None
    lat_m = SERVICE_MARGIN_KM / 111.2
    south, north = min(p.lat for p in known) - lat_m, max(p.lat for p in known) + lat_m
    lon_m = SERVICE_MARGIN_KM / (111.3 * max(0.05, math.cos(math.radians((south + north) / 2))))
    west, east = min(p.lon for p in known) - lon_m, max(p.lon for p in known) + lon_m
    if south <= point.lat <= north and west <= point.lon <= east:
        return None
    return (
        f"{where} lies outside the service area (the plan's agents and visits, "
        f"{south:.3f},{west:.3f} - {north:.3f},{east:.3f}, {SERVICE_MARGIN_KM:g} km around "
        "them; set [geocoder] service_bbox or service_radius_km to change it)"
    )


def _km(a: GeoPoint, b: GeoPoint) -> float:
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


def why_no_slot(day: DayPlan, duration_s: int, skills: frozenset[str], window_width_s: int) -> str:
    """One line: why no window can be offered."""
    able = [a for a in day.agents if skills <= a.skills]
    if not able:
        have = set().union(*(a.skills for a in day.agents)) if day.agents else set()
        return f"No slot: no agent has the skill(s) {', '.join(sorted(skills - have) or sorted(skills))}."
    counts = {r.agent_id: len(r.stops) for r in day.plan.routes}
    if all(a.max_visits is not None and counts.get(a.agent_id, 0) >= a.max_visits for a in able):
        return "No slot: every able agent already has their max_visits."
    return (
        f"No slot: no able agent ({', '.join(a.agent_id for a in able)}) can fit "
        f"{duration_s // 60} min plus travel between existing appointments in any "
        f"{window_width_s // 60}-min window before the end of their shift."
    )


def format_slots(slots: Sequence[Slot], *, why: str = "No slot can be offered.") -> str:
    """The CLI's answer: one line per window, cheapest first."""
    if not slots:
        return why
    lines = ["window       agent   start  extra travel"]
    lines += [
        f"{hm(s.window.start_s)}-{hm(s.window.end_s)}  {s.agent_id:<7} {hm(s.start_s)}  "
        f"{s.extra_travel_s / 60:5.1f} min"
        for s in slots
    ]
    return "\n".join(lines)


def _with_visit(day: DayPlan, visit: Visit, travel: TravelProvider | None) -> RoutingProblem:
    provider = travel if travel is not None else travel_provider(day.settings)
    return build_problem([*day.problem.visits, visit], day.agents, provider)


def _able(agent: Agent, visit: Visit, route: Route | None) -> bool:
    if not agent.can_do(visit):
        return False
    return agent.max_visits is None or (len(route.stops) if route else 0) < agent.max_visits


def _windows(
    agents: Sequence[Agent], duration_s: int, width_s: int, now_s: int | None
) -> list[tuple[int, int]]:
    if not agents:
        return []
    first = min(a.shift.start_s for a in agents)
    last = max(a.shift.end_s for a in agents) - duration_s
    if now_s is not None:
        first = max(first, now_s)
    ws = -(-first // STEP_S) * STEP_S
    out = []
    while ws <= last:
        out.append((ws, ws + width_s))
        ws += STEP_S
    return out


def _insertions(
    problem: RoutingProblem,
    a: int,
    route: Route | None,
    new: int,
    ws: int,
    we: int,
    now_s: int | None,
    node_of: Mapping[str, int],
) -> list[_Insertion]:
    """Every feasible position of the new visit in agent ``a``'s route for window [ws, we].

    Each candidate route is timed by :func:`optimizer.timing.schedule`, the rule the
    re-plan and the verifier use: stops that have started stand, later ones keep their
    times or are pushed forward inside their windows, a planned break stands, and an
    agent with no planned break gets one placed when the new visit makes it owed. An
    agent idle after its last stop waits for the new visit there (a re-plan resumes it
    from that stop at that time).
    """
    agent = problem.agents[a]
    stops = route.stops if route else ()
    nodes = [node_of[s.visit_id] for s in stops]
    started = 0 if now_s is None else sum(1 for s in stops if s.start_s < now_s)
    pinned = {nodes[i]: stops[i].start_s for i in range(started)}
    not_before = {node_of[s.visit_id]: s.start_s for s in stops[started:]}
    if now_s is not None:
        not_before[new] = now_s
    visits = list(problem.visits)
    visits[new] = replace(visits[new], window=TimeWindow(ws, we))
    windowed = RoutingProblem(tuple(visits), problem.agents, problem.points, problem.matrices)
    out_already = route is not None and now_s is not None and route.depart_s < now_s
    # A break taken (or begun) by now stands; a later one is placed again, the planned
    # one first, as the re-plan does.
    brk = None
    hint = route.break_start_s if route is not None else None
    if (
        route is not None
        and route.break_start_s is not None
        and route.break_end_s is not None
        and out_already
        and now_s is not None
        and route.break_start_s < now_s
    ):
        brk = (route.break_start_s, route.break_end_s)
    earliest = agent.shift.start_s if now_s is None else max(agent.shift.start_s, now_s)
    depart = route.depart_s if out_already and route is not None else earliest
    base_travel = route.travel_s if route is not None else 0
    out: list[_Insertion] = []
    sec = problem.matrices[agent.mode].seconds
    for k in range(started, len(stops) + 1):
        if k == 0 and out_already:
            continue  # already on the way to the first stop
        leave = stops[k - 1].end_s if k else depart
        if leave + int(sec[nodes[k - 1] if k else problem.start_node(a), new]) > we:
            break  # times only move later: no later position can start in the window
        timed = schedule(
            windowed,
            a,
            [*nodes[:k], new, *nodes[k:]],
            depart_s=depart,
            pinned=pinned,
            not_before=not_before,
            brk=brk,
            break_hint_s=hint,
            break_not_before=now_s if now_s is not None and out_already else 0,
            just_in_time=not out_already,
        )
        if timed.route is None:
            continue
        out.append(_Insertion(timed.route.travel_s - base_travel, a, k, timed.route))
    return out


def _book(
    day: DayPlan,
    problem: RoutingProblem,
    visits: tuple[Visit, ...],
    ins: _Insertion,
    window: TimeWindow,
    new: int,
) -> Slot | None:
    """The plan with the insertion booked, if the verifier agrees."""
    agent = problem.agents[ins.agent]
    route = ins.route
    old = day.plan.route_of(agent.agent_id)
    routes = tuple(route if r.agent_id == agent.agent_id else r for r in day.plan.routes)
    if old is None:
        routes = (*routes, route)
    booked = replace(day.plan, routes=routes)
    visit = replace(problem.visits[new], window=window)
    checked = RoutingProblem(
        (*problem.visits[:new], visit), problem.agents, problem.points, problem.matrices
    )
    violations = check_plan(booked, (*visits[:-1], visit), checked)
    if violations:
        logger.warning(
            "slot %s for %s rejected by the verifier: %s", window, agent.agent_id, violations
        )
        return None
    stop = route.stops[ins.position]
    return Slot(window, agent.agent_id, stop.start_s, ins.cost, ins.position, booked)


#: Windows offered per later day when the first day has none.
LATER_PER_DAY = 3


def offer_slots_days(
    days: Sequence[DayPlan],
    location: GeoPoint,
    duration_s: int,
    skills: frozenset[str] = frozenset(),
    window_width_s: int = 3600,
    *,
    now_s: int | None = None,
    per_day: int = LATER_PER_DAY,
) -> list[tuple[DayPlan, list[Slot]]]:
    """The first day's windows; when it has none, the earliest on each later day.

    ``days`` are the day plans of a horizon folder from the day asked about on (the
    first), in date order; ``now_s`` applies to the first only. Each day is offered
    exactly as on its own (:func:`offer_slots`), so a later day's window is one that
    day's plan can take without breaking an appointment. Later days give their
    ``per_day`` earliest windows; days with none are left out.
    """
    if not days:
        return []
    first = offer_slots(days[0], location, duration_s, skills, window_width_s, now_s=now_s)
    if first:
        return [(days[0], first)]
    out: list[tuple[DayPlan, list[Slot]]] = []
    for day in days[1:]:
        found = offer_slots(day, location, duration_s, skills, window_width_s)
        earliest = sorted(found, key=lambda s: (s.window.start_s, s.extra_travel_s))[:per_day]
        if earliest:
            out.append((day, earliest))
    return out


def format_slots_days(
    offers: Sequence[tuple[DayPlan, Sequence[Slot]]], *, why: str = "No slot can be offered."
) -> str:
    """The CLI's answer over several days: date, window, agent, start, extra travel."""
    if not offers:
        return why
    lines = ["date        window       agent   start  extra travel"]
    lines += [
        f"{day.plan.date.isoformat()}  {hm(s.window.start_s)}-{hm(s.window.end_s)}  "
        f"{s.agent_id:<7} {hm(s.start_s)}  {s.extra_travel_s / 60:5.1f} min"
        for day, slots in offers
        for s in slots
    ]
    return "\n".join(lines)
