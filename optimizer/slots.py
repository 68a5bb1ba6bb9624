"""Appointment slots while the borrower waits on the phone: cheapest insertion, no solver.

For each candidate window (on the half hour) and each able agent, the hypothetical
visit is tried at every position of the agent's current route; the rest of the route
is pushed forward as needed, and an insertion counts only if every existing
appointment still starts inside its window, the planned break is not overlapped and
the agent is back before the end of the shift. The cheapest insertion per window is
then booked into a copy of the plan and checked by :func:`optimizer.verify.check_plan`.
Pure Python over the plan's travel matrix: well under a second for 300 visits.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from optimizer.clock import format_hhmm as hm
from optimizer.day import DayPlan
from optimizer.domain import Agent, GeoPoint, TimeWindow, Visit
from optimizer.pipeline import travel_provider
from optimizer.plan import Plan, Route, Stop
from optimizer.problem import RoutingProblem, build_problem
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
    stops: tuple[Stop, ...]
    depart_s: int
    return_s: int
    return_travel_s: int
    return_distance_m: int


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

    ``now_s``: offer only windows starting from then, and insert only after the stops
    that have started. When the list is empty, :func:`why_no_slot` says why.
    """
    problem = _with_visit(day, Visit(visit_id, location, duration_s, skills=skills), travel)
    new = problem.num_visits - 1
    node_of = problem.visit_index()
    routes = {r.agent_id: r for r in day.plan.routes}
    by_window: dict[int, list[_Insertion]] = {}
    windows = _windows(problem.agents, duration_s, window_width_s, now_s)
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
        for ins in sorted(options, key=lambda i: (i.cost, i.stops[i.position].start_s)):
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


def _arrival(leave: int, travel: int, bs: int | None, be: int | None) -> int:
    arrive = leave + travel
    if bs is not None and be is not None and leave <= bs < arrive:
        arrive += be - bs
    return arrive


def _service_start(
    ready: int, window_start: int, duration: int, bs: int | None, be: int | None
) -> int:
    start = max(ready, window_start)
    if bs is not None and be is not None and start < be and start + duration > bs:
        start = be  # wait out the break rather than overlap it
    return start


def _insertions(
    problem: RoutingProblem,
    a: int,
    route: Route | None,
    new: int,
    ws: int,
    we: int,
    now_s: int | None,
    node_of: dict[str, int],
) -> list[_Insertion]:
    """Every feasible position of the new visit in agent ``a``'s route for window [ws, we]."""
    agent = problem.agents[a]
    sec = problem.matrices[agent.mode].seconds
    metres = problem.matrices[agent.mode].metres
    stops = route.stops if route else ()
    nodes = [node_of[s.visit_id] for s in stops]
    bs = route.break_start_s if route else None
    be = route.break_end_s if route else None
    rule = agent.break_rule
    start_node, end_node = problem.start_node(a), problem.end_node(a)
    dur = problem.visits[new].duration_s
    out: list[_Insertion] = []
    for k in range(len(stops) + 1):
        if now_s is not None and k < len(stops) and stops[k].start_s < now_s:
            continue
        prev = nodes[k - 1] if k else start_node
        nxt = nodes[k] if k < len(stops) else end_node
        t_in = int(sec[prev, new])
        if k == 0:
            earliest = agent.shift.start_s if now_s is None else max(agent.shift.start_s, now_s)
            if route is not None and now_s is not None and route.depart_s < now_s:
                continue  # already on the way to the first stop
            depart = max(earliest, ws - t_in)
            if bs is not None and depart > bs:
                continue
            arrive = _arrival(depart, t_in, bs, be)
        else:
            depart = route.depart_s if route else agent.shift.start_s
            leave = stops[k - 1].end_s
            if now_s is not None:
                leave = max(leave, now_s)
                if leave != stops[k - 1].end_s:
                    continue  # the verifier's legs leave at the end of service
            arrive = _arrival(leave, t_in, bs, be)
        start = _service_start(arrive, ws, dur, bs, be)
        if start > we:
            continue
        new_stop = Stop(
            visit_id=problem.visits[new].visit_id,
            seq=k + 1,
            arrive_s=arrive,
            start_s=start,
            end_s=start + dur,
            travel_s=t_in,
            distance_m=int(metres[prev, new]),
        )
        pushed = _push(problem, a, stops, nodes, k, new, new_stop, bs, be)
        if pushed is None:
            continue
        tail, ret, ret_travel, ret_m = pushed
        if ret > agent.shift.end_s:
            continue
        if rule is not None and bs is None:
            ws_b, we_b = rule.window.start_s, rule.window.end_s
            if not (ws_b + rule.duration_s <= depart or ret <= we_b):
                continue  # would now owe a break that the plan has no room for
        cost = t_in + int(sec[new, nxt]) - int(sec[prev, nxt])
        all_stops = (*stops[:k], new_stop, *tail)
        out.append(
            _Insertion(
                cost=cost,
                agent=a,
                position=k,
                stops=tuple(replace(s, seq=i) for i, s in enumerate(all_stops, 1)),
                depart_s=depart,
                return_s=ret,
                return_travel_s=ret_travel,
                return_distance_m=ret_m,
            )
        )
    return out


def _push(
    problem: RoutingProblem,
    a: int,
    stops: Sequence[Stop],
    nodes: Sequence[int],
    k: int,
    new: int,
    new_stop: Stop,
    bs: int | None,
    be: int | None,
) -> tuple[list[Stop], int, int, int] | None:
    """The stops after the insertion, pushed forward; None if a window breaks."""
    agent = problem.agents[a]
    sec = problem.matrices[agent.mode].seconds
    metres = problem.matrices[agent.mode].metres
    prev, leave = new, new_stop.end_s
    tail: list[Stop] = []
    for i in range(k, len(stops)):
        s, node = stops[i], nodes[i]
        visit = problem.visits[node]
        travel = int(sec[prev, node])
        arrive = _arrival(leave, travel, bs, be)
        start = _service_start(arrive, s.start_s, visit.duration_s, bs, be)
        if visit.window is not None and start > visit.window.end_s:
            return None
        dist = int(metres[prev, node])
        tail.append(Stop(s.visit_id, i + 2, arrive, start, start + visit.duration_s, travel, dist))
        prev, leave = node, start + visit.duration_s
        if start == s.start_s and i + 1 < len(stops):
            # No push any more: the rest of the route is as planned.
            tail += stops[i + 1 :]
            last = stops[-1]
            return (
                tail,
                _route_return(problem, a, nodes[-1], last.end_s, bs, be),
                *_back(problem, a, nodes[-1]),
            )
    end = problem.end_node(a)
    back = int(sec[prev, end])
    return tail, _arrival(leave, back, bs, be), back, int(metres[prev, end])


def _back(problem: RoutingProblem, a: int, node: int) -> tuple[int, int]:
    end = problem.end_node(a)
    return problem.travel_s(a, node, end), problem.distance_m(a, node, end)


def _route_return(
    problem: RoutingProblem, a: int, node: int, leave: int, bs: int | None, be: int | None
) -> int:
    return _arrival(leave, problem.travel_s(a, node, problem.end_node(a)), bs, be)


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
    old = day.plan.route_of(agent.agent_id)
    route = Route(
        agent_id=agent.agent_id,
        depart_s=ins.depart_s,
        return_s=ins.return_s,
        stops=ins.stops,
        return_travel_s=ins.return_travel_s,
        return_distance_m=ins.return_distance_m,
        break_start_s=old.break_start_s if old else None,
        break_end_s=old.break_end_s if old else None,
    )
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
    stop = ins.stops[ins.position]
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
