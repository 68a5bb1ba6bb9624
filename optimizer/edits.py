"""Hand edits of a plan: move one visit, see at once what it breaks, re-plan around locks.

The dispatcher drags a visit to another agent or position. :func:`apply_move` returns
the edited plan re-timed along the new sequences and every rule the edit breaks, each
typed and naming its window, break or shift, so that a screen can point at it before
anything is saved. :func:`reoptimise` keeps the visits the dispatcher locked with their
agent, in their order, and re-plans the rest around them.

Interface (the console and ``fieldroute move`` call these)::

    apply_move(problem, visits, plan, move, *, locked=None) -> EditResult
    reoptimise(problem, visits, plan, locked, settings, time_limit_s) -> Plan   # or LockError

``problem``, ``visits`` and ``plan`` are a :class:`~optimizer.day.DayPlan`'s fields of
the same names (``apply_move(day.problem, day.visits, day.plan, move)``); ``settings``
is the day's :class:`~optimizer.settings.Settings`; ``locked`` maps visit id -> agent id.

Re-timing (:func:`time_route`). Only the routes a move touches are re-timed. Their
stops keep their planned start when the new sequence allows it (as
:mod:`optimizer.slots` pushes stops), so a move does not shift borrowers whose visit
it need not shift; when that schedule breaks a rule the earliest schedule along the
sequence is tried instead and the one with fewer violations wins. Service starts as
soon as the agent has arrived and the window is open; the agent leaves home as late as
the first stop allows (the planner's rule, ``optimizer.solve.ortools._extract``). The
lunch break, when the route owes one (:class:`~optimizer.domain.BreakRule`), starts
as soon as a stop ends (not before its window), in the gap that breaks the fewest rules
and then brings the agent back earliest; it delays the leg it falls in, exactly as
:mod:`optimizer.verify` recomputes arrivals. When no gap fits, the break is named (not
the windows of the visits a late lunch would make late).

Violations come from typed checks of the re-timed routes; the whole edited plan also
goes through :func:`optimizer.verify.check_plan`, and anything the verifier finds that
no typed check named is reported as code ``"verify"``: an edit is never ``ok`` when
the verifier rejects it.

Pure: no OR-Tools at import (``reoptimise`` loads the solver when called), no IO.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from optimizer.clock import format_hhmm as hm
from optimizer.domain import Visit
from optimizer.errors import OptimizerError, SolverError, VerificationError
from optimizer.plan import Plan, Route, SolverInfo, Stop, Unassigned
from optimizer.problem import RoutingProblem
from optimizer.solve.assignment import Assignment, RouteResult
from optimizer.verify import check_plan

if TYPE_CHECKING:
    from optimizer.settings import Settings

logger = logging.getLogger(__name__)

#: The reason of a visit the dispatcher took out of every route by hand.
#: :func:`reoptimise` leaves such visits out (the dispatcher took them out on purpose).
HAND_UNASSIGNED = "unassigned by hand by the dispatcher"

#: Codes of a move that cannot even be tried (it names a visit, agent or place that does
#: not exist, a visit that cannot be routed, or a locked one): the plan comes back as it was.
REFUSED_CODES = frozenset({"unknown_visit", "unknown_agent", "position", "not_routable", "locked"})


@dataclass(frozen=True, slots=True)
class Move:
    """Put ``visit_id`` on ``agent_id``'s route at ``position``.

    ``agent_id`` None takes the visit out of every route (unassigned by hand).
    ``position`` is 0-based among the agent's visits after the move; None means the
    cheapest position (least added travel among those that break the fewest rules).
    """

    visit_id: str
    agent_id: str | None
    position: int | None = None


@dataclass(frozen=True, slots=True)
class Violation:
    """One rule an edited plan breaks.

    ``code``: ``window``, ``break``, ``shift``, ``skill``, ``pinned``, ``capacity``,
    ``max_visits``, ``unreachable``, ``unknown_visit``, ``unknown_agent``,
    ``position``, ``not_routable``, ``locked`` or ``verify`` (anything else the
    verifier found). ``message`` is a sentence for the dispatcher.
    """

    code: str
    agent_id: str | None
    visit_id: str | None
    message: str


@dataclass(frozen=True, slots=True)
class EditResult:
    """``plan`` is the edited plan, re-timed, whether ``ok`` or not (unchanged when the
    move is refused, see :data:`REFUSED_CODES`)."""

    ok: bool
    violations: tuple[Violation, ...]
    plan: Plan


class LockError(OptimizerError, ValueError):
    """The locked visits cannot all be kept as locked (carries the violations)."""

    exit_code = 6

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations = tuple(violations)
        shown = "\n".join(f"- {v.message}" for v in self.violations[:20])
        super().__init__(f"the locked visits cannot be kept as they are:\n{shown}")


# --- re-timing ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimedRoute:
    """A re-timed route and the typed violations of it (empty: it keeps every rule)."""

    route: Route
    violations: tuple[Violation, ...]


def _arrival(leave: int, travel: int, bs: int | None, be: int | None) -> int:
    # optimizer.verify's rule: a break that starts on the way delays the arrival.
    arrive = leave + travel
    if bs is not None and be is not None and leave <= bs < arrive:
        arrive += be - bs
    return arrive


def _pass(
    problem: RoutingProblem,
    a: int,
    nodes: Sequence[int],
    floors: Mapping[int, int],
    depart: int,
    brk: tuple[int, int] | None,
) -> tuple[list[Stop], int, int, int]:
    """Stops, return time, way-back travel and distance for one departure and break."""
    agent = problem.agents[a]
    matrix = problem.matrices[agent.mode]
    sec, met = matrix.seconds, matrix.metres
    bs, be = brk if brk is not None else (None, None)
    prev, leave = problem.start_node(a), depart
    stops: list[Stop] = []
    for seq, node in enumerate(nodes, 1):
        visit = problem.visits[node]
        travel = int(sec[prev, node])
        arrive = _arrival(leave, travel, bs, be)
        start = max(arrive, floors.get(node, 0))
        if visit.window is not None:
            start = max(start, visit.window.start_s)
        if bs is not None and be is not None and start < be and start + visit.duration_s > bs:
            start = be  # wait out the break rather than work through it
        end = start + visit.duration_s
        stops.append(Stop(visit.visit_id, seq, arrive, start, end, travel, int(met[prev, node])))
        prev, leave = node, end
    end_node = problem.end_node(a)
    back = int(sec[prev, end_node])
    return stops, _arrival(leave, back, bs, be), back, int(met[prev, end_node])


def _late_departure(
    problem: RoutingProblem, a: int, nodes: Sequence[int], first_start: int, bs: int | None
) -> int:
    """As late as the first stop allows (never after a break taken on the first leg)."""
    agent = problem.agents[a]
    first_leg = problem.travel_s(a, problem.start_node(a), nodes[0])
    latest = first_start - first_leg
    if bs is not None and agent.break_rule is not None and bs < first_start:
        latest = min(bs, latest - agent.break_rule.duration_s)
    return max(agent.shift.start_s, min(latest, agent.shift.end_s))


def _schedule(
    problem: RoutingProblem,
    a: int,
    nodes: Sequence[int],
    floors: Mapping[int, int],
    brk: tuple[int, int] | None,
) -> Route:
    agent = problem.agents[a]
    early = agent.shift.start_s
    stops, ret, back, back_m = _pass(problem, a, nodes, floors, early, brk)
    depart = _late_departure(problem, a, nodes, stops[0].start_s, brk[0] if brk else None)
    if depart != early and (brk is None or brk[0] >= stops[0].start_s):
        # Only the first leg moves: it now ends as the first service starts.
        stops[0] = replace(stops[0], arrive_s=depart + stops[0].travel_s)
    elif depart != early:
        late = _pass(problem, a, nodes, floors, depart, brk)
        if [s.start_s for s in late[0]] == [s.start_s for s in stops]:
            stops, ret, back, back_m = late
        else:
            depart = early
    return Route(
        agent_id=agent.agent_id,
        depart_s=depart,
        return_s=ret,
        stops=tuple(stops),
        return_travel_s=back,
        return_distance_m=back_m,
        break_start_s=brk[0] if brk else None,
        break_end_s=brk[1] if brk else None,
    )


def _owes_break(problem: RoutingProblem, a: int, route: Route) -> bool:
    rule = problem.agents[a].break_rule
    if rule is None:
        return False
    ws, we = rule.window.start_s, rule.window.end_s
    return not (ws + rule.duration_s <= route.depart_s or route.return_s <= we)


def time_route(
    problem: RoutingProblem,
    a: int,
    nodes: Sequence[int],
    floors: Mapping[int, int] | None = None,
) -> TimedRoute:
    """Agent ``a``'s route through visit ``nodes`` (in order), timed, with its violations.

    ``floors`` maps visit nodes to the earliest start to keep (their planned start);
    when the floored schedule breaks a rule, the earliest one is tried as well and the
    one with fewer violations is returned (see the module docstring).
    """
    if not nodes:
        msg = "time_route needs at least one visit"
        raise ValueError(msg)
    best = _time_route(problem, a, nodes, floors or {})
    if best.violations and floors:
        earliest = _time_route(problem, a, nodes, {})
        if len(earliest.violations) < len(best.violations):
            best = earliest
    return best


def _time_route(
    problem: RoutingProblem, a: int, nodes: Sequence[int], floors: Mapping[int, int]
) -> TimedRoute:
    agent = problem.agents[a]
    plain = _schedule(problem, a, nodes, floors, None)
    rule = agent.break_rule
    if rule is None or not _owes_break(problem, a, plain):
        return TimedRoute(plain, tuple(route_violations(problem, a, plain, nodes)))
    we = rule.window.end_s
    ws = rule.window.start_s
    # The break can follow the departure or any stop (stops before it keep their times).
    candidates = sorted(
        {max(plain.stops[0].arrive_s - plain.stops[0].travel_s, ws)}
        | {max(s.end_s, ws) for s in plain.stops}
        | {max(agent.shift.start_s, ws)}
    )
    best: Route | None = None
    best_key: tuple[int, int, int, int] | None = None
    for bs in candidates:
        if bs > we and best_key is not None and best_key[0] == 0:
            break  # a break that starts late is a violation: a valid schedule is found
        route = _schedule(problem, a, nodes, floors, (bs, bs + rule.duration_s))
        if route.break_start_s is not None and route.break_start_s < route.depart_s:
            continue
        bs_, be_ = route.break_start_s, route.break_end_s
        outside = bs_ is not None and be_ is not None and not bs_ < route.return_s
        if outside and not _owes_break(problem, a, route):
            route = replace(route, break_start_s=None, break_end_s=None)
        found = route_violations(problem, a, route, nodes, describe=False)
        # On a tie, name the break rather than a borrower's window: working through
        # lunch is what the edit asks of the agent; lateness is the way out of it.
        key = (len(found), sum(v.code != "break" for v in found), route.return_s, bs)
        if best_key is None or key < best_key:
            best, best_key = route, key
    assert best is not None  # the candidate at the shift start is never before departure
    return TimedRoute(best, tuple(route_violations(problem, a, best, nodes)))


def route_violations(
    problem: RoutingProblem,
    a: int,
    route: Route,
    nodes: Sequence[int] | None = None,
    *,
    describe: bool = True,
) -> list[Violation]:
    """Typed violations of one timed route (windows, break, shift, skills, load).

    ``nodes`` are the visit nodes of ``route``'s stops, when the caller has them.
    ``describe=False`` leaves the messages empty: re-timing weighs many candidate
    schedules and words only the one it keeps.
    """
    agent = problem.agents[a]
    who = agent.agent_id
    if nodes is None:
        node_of = problem.visit_index()
        nodes = [node_of[s.visit_id] for s in route.stops]
    out: list[Violation] = []

    def add(code: str, vid: str | None, text: Callable[..., str], *args: object) -> None:
        out.append(Violation(code, who, vid, text(*args) if describe else ""))

    unreachable = problem.matrices[agent.mode].unreachable
    for stop, node in zip(route.stops, nodes, strict=True):
        visit = problem.visits[node]
        vid = visit.visit_id
        if visit.pinned_agent is not None and visit.pinned_agent != who:
            add("pinned", vid, "{} is pinned to agent {}".format, vid, visit.pinned_agent)
        elif not visit.skills <= agent.skills:
            missing = ", ".join(sorted(visit.skills - agent.skills))
            add("skill", vid, "{} lacks the skill(s) {} needs: {}".format, who, vid, missing)
        if node in unreachable:
            reason = unreachable[node]
            add(
                "unreachable",
                vid,
                "{} ({}) cannot reach {}: {}".format,
                who,
                agent.mode,
                vid,
                reason,
            )
        window = visit.window
        if window is not None and stop.start_s > window.end_s:
            add("window", vid, _window_text, visit, stop)
    if agent.max_visits is not None and len(route.stops) > agent.max_visits:
        add(
            "max_visits",
            None,
            lambda: (
                f"{who} would have {len(route.stops)} visits, more than their max_visits "
                f"{agent.max_visits}"
            ),
        )
    load = sum(problem.visits[n].demand for n in nodes)
    if agent.capacity is not None and load > agent.capacity:
        add(
            "capacity",
            None,
            lambda: f"{who} would carry {load}, over their capacity {agent.capacity}",
        )
    rule = agent.break_rule
    bs, be = route.break_start_s, route.break_end_s
    if rule is not None and bs is not None and be is not None:
        ws, we, minutes = rule.window.start_s, rule.window.end_s, rule.duration_s // 60
        if bs > we:
            add(
                "break",
                None,
                lambda: (
                    f"{who} would work through the lunch break: the {minutes}-min break must "
                    f"start in {hm(ws)}-{hm(we)}, and the earliest it fits is {hm(bs)}"
                ),
            )
        elif be > route.return_s:
            add(
                "break",
                None,
                lambda: (
                    f"{who}'s {minutes}-min break {hm(bs)}-{hm(be)} would run past the end of "
                    f"the route at {hm(route.return_s)}"
                ),
            )
    if route.return_s > agent.shift.end_s:
        add(
            "shift",
            None,
            lambda: (
                f"{who} would be back at {hm(route.return_s)}, after their shift ends at "
                f"{hm(agent.shift.end_s)}"
            ),
        )
    return out


def _window_text(visit: Visit, stop: Stop) -> str:
    window = visit.window
    assert window is not None
    closes = (
        f"after its window closes at {hm(window.end_s)} ({hm(window.start_s)}-{hm(window.end_s)})"
    )
    if stop.arrive_s > window.end_s:
        return f"{visit.visit_id} would arrive at {hm(stop.arrive_s)}, {closes}"
    return f"{visit.visit_id} could start only at {hm(stop.start_s)} (after the break), {closes}"


# --- moves --------------------------------------------------------------------------------


def apply_move(
    problem: RoutingProblem,
    visits: Sequence[Visit],
    plan: Plan,
    move: Move,
    *,
    locked: Mapping[str, str] | None = None,
) -> EditResult:
    """The plan with ``move`` applied and re-timed, and everything the edit breaks.

    ``visits`` are all the day's visits (as for :func:`optimizer.verify.check_plan`).
    ``locked`` (visit id -> agent id, as for :func:`reoptimise`): moving a locked visit
    is refused with code ``locked`` (unlock it first); moving any other visit keeps the
    locked ones' order.
    """
    node_of = problem.visit_index()
    refused = _refusal(problem, node_of, visits, plan, move)
    if refused is None and locked and move.visit_id in locked:
        held = locked[move.visit_id]
        refused = Violation(
            "locked", held, move.visit_id, f"{move.visit_id} is locked to {held}; unlock it first"
        )
    if refused is not None:
        return EditResult(False, (refused,), plan)
    agent_index = {ag.agent_id: k for k, ag in enumerate(problem.agents)}
    source = next(
        (r for r in plan.routes if any(s.visit_id == move.visit_id for s in r.stops)), None
    )
    if source is None and move.agent_id is None and move.visit_id not in node_of:
        return EditResult(True, (), plan)  # cannot be routed anyway: keep its reason
    timed: dict[str, TimedRoute | None] = {}
    if source is not None:
        rest = [node_of[s.visit_id] for s in source.stops if s.visit_id != move.visit_id]
        if move.agent_id != source.agent_id:
            a = agent_index[source.agent_id]
            floors = {node_of[s.visit_id]: s.start_s for s in source.stops}
            timed[source.agent_id] = time_route(problem, a, rest, floors) if rest else None
    if move.agent_id is not None:
        a = agent_index[move.agent_id]
        target = plan.route_of(move.agent_id)
        kept = [s for s in (target.stops if target else ()) if s.visit_id != move.visit_id]
        floors = {node_of[s.visit_id]: s.start_s for s in kept}
        nodes = [node_of[s.visit_id] for s in kept]
        new = node_of[move.visit_id]
        positions = range(len(nodes) + 1) if move.position is None else [move.position]
        timed[move.agent_id] = _best_insertion(problem, a, nodes, new, positions, floors)
    edited = _edited_plan(problem, visits, plan, move, timed, agent_index)
    found = [v for t in timed.values() if t is not None for v in t.violations]
    typed = {(v.agent_id, v.code) for v in found}
    for text in check_plan(edited, visits, problem):
        if not any(
            text.startswith((f"{agent_id}:", f"{agent_id} stop")) and code in _SAID_BY[kind]
            for agent_id, code in typed
            if agent_id
            for kind in _SAID_BY
            if kind in text
        ):
            found.append(Violation("verify", None, move.visit_id, text))
    return EditResult(not found, tuple(found), edited)


#: Words of optimizer.verify's sentences -> the typed codes that already said the same.
#: A verifier sentence no typed violation covers is reported as it is (code "verify").
_SAID_BY: Mapping[str, frozenset[str]] = {
    "lacks skills": frozenset({"skill", "pinned"}),
    "cannot reach": frozenset({"unreachable"}),
    "outside its window": frozenset({"window"}),
    "more than max_visits": frozenset({"max_visits"}),
    "over capacity": frozenset({"capacity"}),
    "after the shift ends": frozenset({"shift"}),
    "break": frozenset({"break"}),
}


def _refusal(
    problem: RoutingProblem,
    node_of: Mapping[str, int],
    visits: Sequence[Visit],
    plan: Plan,
    move: Move,
) -> Violation | None:
    """Why the move cannot even be tried (an unknown visit, agent or position), if so."""
    vid = move.visit_id
    if all(v.visit_id != vid for v in visits):
        return Violation(
            "unknown_visit", move.agent_id, vid, f"there is no visit {vid} in this plan"
        )
    if move.agent_id is None:
        return None
    agents = [a.agent_id for a in problem.agents]
    if move.agent_id not in agents:
        return Violation(
            "unknown_agent",
            move.agent_id,
            vid,
            f"there is no agent {move.agent_id} working this day; agents: {', '.join(agents)}",
        )
    if vid not in node_of:
        reason = next((u.reason for u in plan.unassigned if u.visit_id == vid), "")
        why = f" ({reason})" if reason else ""
        return Violation("not_routable", move.agent_id, vid, f"{vid} cannot be put on a route{why}")
    if move.position is not None:
        route = plan.route_of(move.agent_id)
        others = [s for s in (route.stops if route else ()) if s.visit_id != vid]
        if not 0 <= move.position <= len(others):
            return Violation(
                "position",
                move.agent_id,
                vid,
                f"position {move.position} is not in 0..{len(others)} (the places in "
                f"{move.agent_id}'s route)",
            )
    return None


def _best_insertion(
    problem: RoutingProblem,
    a: int,
    nodes: Sequence[int],
    new: int,
    positions: Collection[int],
    floors: Mapping[int, int],
) -> TimedRoute:
    """The insertion that breaks the fewest rules, then adds the least travel.

    Positions are tried cheapest first, so the first one that breaks nothing is it.
    """
    full = [problem.start_node(a), *nodes, problem.end_node(a)]

    def added(k: int) -> int:
        prev, nxt = full[k], full[k + 1]
        return (
            problem.travel_s(a, prev, new)
            + problem.travel_s(a, new, nxt)
            - problem.travel_s(a, prev, nxt)
        )

    best: TimedRoute | None = None
    best_count = 0
    for _, k in sorted((added(k), k) for k in positions):
        found = time_route(problem, a, [*nodes[:k], new, *nodes[k:]], floors)
        if not found.violations:
            return found
        if best is None or len(found.violations) < best_count:
            best, best_count = found, len(found.violations)
    assert best is not None
    return best


def _edited_plan(
    problem: RoutingProblem,
    visits: Sequence[Visit],
    plan: Plan,
    move: Move,
    timed: Mapping[str, TimedRoute | None],
    agent_index: Mapping[str, int],
) -> Plan:
    routes = {r.agent_id: r for r in plan.routes}
    for agent_id, t in timed.items():
        if t is None:
            routes.pop(agent_id, None)
        else:
            routes[agent_id] = t.route
    ordered = sorted(routes.values(), key=lambda r: agent_index.get(r.agent_id, len(agent_index)))
    unassigned = [u for u in plan.unassigned if u.visit_id != move.visit_id]
    if move.agent_id is None:
        order = {v.visit_id: k for k, v in enumerate(visits)}
        unassigned.append(Unassigned(move.visit_id, HAND_UNASSIGNED))
        unassigned.sort(key=lambda u: order.get(u.visit_id, len(order)))
    return replace(plan, routes=tuple(ordered), unassigned=tuple(unassigned))


def describe(result: EditResult) -> str:
    """The CLI's answer: ``ok`` or one line per violation."""
    if result.ok:
        return "ok: the edited plan keeps every rule"
    return "\n".join(f"{v.code}: {v.message}" for v in result.violations)


# --- re-optimising around locks -----------------------------------------------------------


def locked_violations(
    problem: RoutingProblem, plan: Plan, locked: Mapping[str, str]
) -> list[Violation]:
    """What keeping ``locked`` (visit -> agent, in the plan's order) alone would break."""
    node_of = problem.visit_index()
    agent_index = {a.agent_id: k for k, a in enumerate(problem.agents)}
    out: list[Violation] = []
    for vid, agent_id in locked.items():
        if vid not in node_of:
            out.append(
                Violation("unknown_visit", agent_id, vid, f"locked visit {vid} cannot be routed")
            )
        if agent_id not in agent_index:
            out.append(
                Violation(
                    "unknown_agent", agent_id, vid, f"{vid} is locked to unknown agent {agent_id}"
                )
            )
    if out:
        return out
    for agent_id, nodes in _locked_chains(problem, plan, locked).items():
        if nodes:
            out += time_route(problem, agent_index[agent_id], nodes).violations
    return out


def _locked_chains(
    problem: RoutingProblem, plan: Plan, locked: Mapping[str, str]
) -> dict[str, list[int]]:
    """Locked visit nodes per agent: in their order on that agent's route, then the rest."""
    node_of = problem.visit_index()
    chains: dict[str, list[int]] = {}
    for agent in problem.agents:
        route = plan.route_of(agent.agent_id)
        on_route = [s.visit_id for s in route.stops] if route else []
        mine = [vid for vid in on_route if locked.get(vid) == agent.agent_id]
        mine += [vid for vid, a in locked.items() if a == agent.agent_id and vid not in mine]
        chains[agent.agent_id] = [node_of[vid] for vid in mine]
    return chains


def reoptimise(
    problem: RoutingProblem,
    visits: Sequence[Visit],
    plan: Plan,
    locked: Mapping[str, str],
    settings: Settings,
    time_limit_s: float,
) -> Plan:
    """Re-plan every visit but the locked ones, which stay with their agent in their order.

    ``locked`` maps visit id -> agent id; their order is their order on that agent's
    route in ``plan``. Visits the dispatcher unassigned by hand (:data:`HAND_UNASSIGNED`)
    stay out. The search is OR-Tools (:func:`optimizer.solve.ortools.solve`) with each
    locked visit mandatory on its vehicle and ordered after the previous locked one on
    the time dimension, seeded with the plan's routes (locked visits in place); the
    plan goes through :func:`optimizer.verify.check_plan` and a check of the locks.

    Raises
    ------
    LockError
        The locked visits alone break a rule (the violations say which).
    VerificationError
        The new plan breaks a rule or a lock (a bug).
    """
    from optimizer.feasibility import precheck
    from optimizer.plan import build_plan
    from optimizer.problem import subset
    from optimizer.solve.ortools import solve

    problems = locked_violations(problem, plan, locked)
    if problems:
        raise LockError(problems)
    solver_settings = replace(settings.solver, time_limit_s=time_limit_s)
    reasons = {u.visit_id: u.reason for u in plan.unassigned}
    pre_unassigned: dict[str, str] = {}
    node_of = problem.visit_index()
    for v in visits:
        if v.visit_id not in node_of:
            pre_unassigned[v.visit_id] = reasons.get(v.visit_id) or "cannot be routed"
    keep: list[int] = []
    checked = precheck(problem)
    for i, v in enumerate(problem.visits):
        if v.visit_id in locked:
            keep.append(i)
        elif reasons.get(v.visit_id) == HAND_UNASSIGNED:
            pre_unassigned[v.visit_id] = HAND_UNASSIGNED
        elif i in checked:
            pre_unassigned[v.visit_id] = reasons.get(v.visit_id) or checked[i]
        else:
            keep.append(i)
    sub = subset(problem, keep)
    sub_of = sub.visit_index()
    agent_index = {a.agent_id: k for k, a in enumerate(problem.agents)}
    chains = _locked_chains(problem, plan, locked)
    lock_agent: list[int | None] = [None] * sub.num_visits
    for vid, agent_id in locked.items():
        lock_agent[sub_of[vid]] = agent_index[agent_id]
    order = tuple(
        tuple(sub_of[problem.visits[n].visit_id] for n in chains[a.agent_id])
        for a in problem.agents
    )
    start = _start_routes(sub, plan, chains, problem)
    try:
        assignment = solve(
            sub,
            solver_settings,
            initial_routes=start,
            locks=tuple(lock_agent),
            lock_order=order,
        )
    except SolverError as err:
        # OR-Tools read no start and found no first solution of its own; the start is
        # a valid plan that keeps every lock (each route passed time_route).
        logger.warning("re-optimising kept the start: %s", err)
        assignment = _start_assignment(sub, start)
    info = SolverInfo(
        engine="ortools",
        status=assignment.status,
        time_limit_s=time_limit_s,
        wall_s=round(assignment.wall_s, 2),
        objective=assignment.objective,
    )
    new_plan = build_plan(
        sub,
        assignment,
        pre_unassigned,
        date=plan.date,
        timezone=plan.timezone,
        solver=info,
        travel=plan.travel,
        visit_order=[v.visit_id for v in visits],
    )
    errors = check_plan(new_plan, visits, problem)
    for agent_id, nodes in chains.items():
        want = [problem.visits[n].visit_id for n in nodes]
        route = new_plan.route_of(agent_id)
        got = [s.visit_id for s in route.stops if s.visit_id in locked] if route else []
        if got != want:
            errors.append(f"{agent_id}: locked visits {want} came back as {got}")
    if errors:
        raise VerificationError(errors)
    return new_plan


def _start_assignment(problem: RoutingProblem, routes: Sequence[Sequence[int]]) -> Assignment:
    """The start routes as an Assignment, timed by :func:`time_route` (no search)."""
    results = []
    for a, nodes in enumerate(routes):
        if not nodes:
            continue
        route = time_route(problem, a, nodes).route
        results.append(
            RouteResult(
                agent_index=a,
                visits=tuple(nodes),
                service_start_s=tuple(s.start_s for s in route.stops),
                depart_s=route.depart_s,
                return_s=route.return_s,
                break_start_s=route.break_start_s,
            )
        )
    served = {n for r in routes for n in r}
    dropped = tuple(i for i in range(problem.num_visits) if i not in served)
    return Assignment(tuple(results), dropped, "START_KEPT", 0, 0.0)


def _start_routes(
    sub: RoutingProblem, plan: Plan, chains: Mapping[str, Sequence[int]], problem: RoutingProblem
) -> list[list[int]]:
    """The plan's routes over ``sub`` where they keep every rule; else the locked visits
    plus as many of the route's other visits, in place, as keep the route valid."""
    sub_of = sub.visit_index()
    locked_ids = {problem.visits[n].visit_id for nodes in chains.values() for n in nodes}
    out: list[list[int]] = []
    for a, agent in enumerate(sub.agents):
        route = plan.route_of(agent.agent_id)
        ids = [s.visit_id for s in route.stops if s.visit_id in sub_of] if route else []
        ids = [vid for vid in ids if vid not in locked_ids]
        chain = [problem.visits[n].visit_id for n in chains[agent.agent_id]]
        on_route = [s.visit_id for s in route.stops] if route else []
        # Locked visits where they stand on the route, the others after them.
        merged = [vid for vid in on_route if vid in sub_of and (vid in ids or vid in chain)]
        merged += [vid for vid in chain if vid not in merged]
        nodes = [sub_of[vid] for vid in merged]
        if not nodes or not time_route(sub, a, nodes).violations:
            out.append(nodes)
            continue
        kept = [sub_of[vid] for vid in merged if vid in chain]
        for vid in merged:
            if vid in chain:
                continue
            trial = [sub_of[x] for x in merged if sub_of[x] in kept or x == vid]
            if not time_route(sub, a, trial).violations:
                kept = trial
        out.append(kept)
    return out
