"""Times of one agent's route from its order of stops: the one re-timing rule.

Re-planning (the whole day: the part already done and the re-planned rest), slots (a
tentative insertion) and the verifier's recomputation all turn "leave, travel, wait,
serve, take the break" into times. Three copies of that rule had drifted apart: a
re-plan wrote arrivals the verifier recomputed differently, and a re-planned route or
a booked slot could lose the lunch break it owed (issue 10). Here it is written once.

Rules, as the verifier checks them:

* a leg leaves at the end of the previous service (or at the route's departure); a
  break that starts while the agent is on the leg delays the arrival by its length;
* service starts at the arrival, or later when the window (or a lower bound the caller
  sets, e.g. "not before now") opens later, and never overlaps the break;
* a stop whose start was reported (or is in the past) keeps that start; the agent may
  have been quicker than the matrix, so its arrival is the earlier of the two;
* a break is owed when the agent is out while its window passes (:func:`owes_break`);
  an owed break is placed at the earliest point where every window still holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from optimizer.domain import BreakRule
from optimizer.plan import Route, Stop, leg_arrival
from optimizer.problem import RoutingProblem

__all__ = ["Leg", "Timed", "leg_arrival", "owes_break", "schedule"]


@dataclass(frozen=True, slots=True)
class Leg:
    """A leg that does not leave from the previous stop: the agent was reported elsewhere.

    ``leave_s`` is when the agent left that place (a failed visit, an ``agent_at``
    position); ``travel_s``/``distance_m`` come from the travel model between the two.
    """

    leave_s: int
    travel_s: int
    distance_m: int


@dataclass(frozen=True, slots=True)
class Timed:
    """The timed route, or why there is none.

    ``late`` is the position (0-based) of the first stop that cannot start inside its
    window (None when the route is timed or when the way back is too late).
    """

    route: Route | None
    late: int | None = None


def owes_break(rule: BreakRule | None, depart_s: int, return_s: int) -> bool:
    """Whether an agent out from ``depart_s`` to ``return_s`` must take the break out.

    Not owed when the agent can take it at the base: before leaving (a whole break
    fits between the window's start and the departure) or after coming back (back
    before the window closes).
    """
    if rule is None:
        return False
    ws, we = rule.window.start_s, rule.window.end_s
    return not (ws + rule.duration_s <= depart_s or return_s <= we)


def schedule(
    problem: RoutingProblem,
    a: int,
    nodes: Sequence[int],
    *,
    depart_s: int,
    pinned: Mapping[int, int] | None = None,
    not_before: Mapping[int, int] | None = None,
    legs: Mapping[int, Leg] | None = None,
    brk: tuple[int, int] | None = None,
    break_hint_s: int | None = None,
    break_not_before: int = 0,
    just_in_time: bool = False,
    place_break: bool = True,
    late_return: bool = False,
) -> Timed:
    """Time agent ``a``'s stops ``nodes`` (visit indices of ``problem``) in this order.

    ``pinned``: node -> start that stands (reported or past). ``not_before``: node ->
    earliest start besides its window (now, a lead time, the told window). ``legs``:
    position -> a leg that leaves from elsewhere. ``brk``: a break that stands (taken);
    otherwise an owed break is placed, trying ``break_hint_s`` first, never before
    ``break_not_before`` (a break not taken by now can only come later). With
    ``just_in_time`` the agent leaves as late as the first stop allows (never before
    ``depart_s``), as a planned day does. With ``late_return`` the way back may end
    after the shift, but only when every stop is ``pinned``: a day that stands as
    reported runs as long as it ran, and nothing planned is allowed past the shift.
    """
    agent = problem.agents[a]
    pinned = pinned or {}
    not_before = not_before or {}
    legs = legs or {}
    if just_in_time and nodes and 0 not in legs and nodes[0] not in pinned:
        first = nodes[0]
        opens = max(problem.window(first).start_s, not_before.get(first, 0))
        depart_s = max(depart_s, opens - problem.travel_s(a, problem.start_node(a), first))
    late = late_return and all(n in pinned for n in nodes)
    plain = _walk(problem, a, nodes, depart_s, pinned, not_before, legs, brk, late)
    if plain.route is None or brk is not None or not place_break:
        return plain
    rule = agent.break_rule
    route = plain.route
    if rule is None or not owes_break(rule, route.depart_s, route.return_s):
        return plain
    ws, we = rule.window.start_s, rule.window.end_s
    leaves = [route.depart_s, *(s.end_s for s in route.stops)]
    starts = sorted({b for t in leaves if (b := max(t, ws, break_not_before)) <= we})
    if break_hint_s is not None and max(ws, break_not_before) <= break_hint_s <= we:
        starts = [break_hint_s, *(s for s in starts if s != break_hint_s)]
    for bs in starts:
        timed = _walk(
            problem, a, nodes, depart_s, pinned, not_before, legs, (bs, bs + rule.duration_s), late
        )
        r = timed.route
        if r is not None and r.depart_s <= bs and bs + rule.duration_s <= r.return_s:
            return timed
    return Timed(None, None)


def _walk(
    problem: RoutingProblem,
    a: int,
    nodes: Sequence[int],
    depart_s: int,
    pinned: Mapping[int, int],
    not_before: Mapping[int, int],
    legs: Mapping[int, Leg],
    brk: tuple[int, int] | None,
    late_return: bool = False,
) -> Timed:
    agent = problem.agents[a]
    bs, be = brk if brk is not None else (None, None)
    stops: list[Stop] = []
    prev, leave = problem.start_node(a), depart_s
    for k, node in enumerate(nodes):
        visit = problem.visits[node]
        if k in legs:
            leg = legs[k]
            travel, metres, leave = leg.travel_s, leg.distance_m, leg.leave_s
        else:
            travel, metres = problem.travel_s(a, prev, node), problem.distance_m(a, prev, node)
        arrive = leg_arrival(leave, travel, bs, be)
        if node in pinned:
            start = pinned[node]
            arrive = min(arrive, start)
            if bs is not None and be is not None and bs < start + visit.duration_s and start < be:
                return Timed(None, None)  # a break cannot lie over a visit that stands
        else:
            window = problem.window(node)
            start = max(arrive, window.start_s, not_before.get(node, 0))
            if bs is not None and be is not None and start < be and start + visit.duration_s > bs:
                start = be  # wait out the break rather than overlap it
            if start > window.end_s:
                return Timed(None, k)
        end = start + visit.duration_s
        stops.append(Stop(visit.visit_id, k + 1, arrive, start, end, travel, metres))
        prev, leave = node, end
    end_node = problem.end_node(a)
    back = problem.travel_s(a, prev, end_node)
    ret = leg_arrival(leave, back, bs, be)
    if (ret > agent.shift.end_s and not late_return) or depart_s < agent.shift.start_s:
        return Timed(None, None)
    return Timed(
        Route(
            agent_id=agent.agent_id,
            depart_s=depart_s,
            return_s=ret,
            stops=tuple(stops),
            return_travel_s=back,
            return_distance_m=problem.distance_m(a, prev, end_node),
            break_start_s=bs,
            break_end_s=be,
        )
    )
