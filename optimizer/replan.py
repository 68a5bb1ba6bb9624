"""Re-planning the rest of the day from ``now`` with as little change as possible.

Pure: a :class:`~optimizer.pipeline.DayPlan`, the day's events and the time in, a new
verified DayPlan and the list of changes out.

How it works. Each agent's route splits at ``now``: stops reported done or started,
and stops planned to start before ``now``, are *fixed* and kept exactly as they were.
The rest of the day is a derived :class:`~optimizer.problem.RoutingProblem` in which
each agent starts where they are (last fixed or reported visit, or ``agent_at``) at
that time, remaining visits may not start before ``now``, and a stability cost (see
:class:`~optimizer.settings.ReplanSettings`) keeps visits with their agent and inside
the window already told to the borrower. The current routes seed the search. The
remainder is checked by :func:`optimizer.verify.check_plan` against the derived
problem; the fixed part is the original, already verified plan.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from optimizer.clock import arrival_window
from optimizer.clock import format_hhmm as hm
from optimizer.day import NOT_GEOCODED, DayPlan, route_lines
from optimizer.domain import MAX_TIME_S, Agent, BreakRule, GeoPoint, TimeWindow, Visit
from optimizer.errors import VerificationError
from optimizer.feasibility import precheck
from optimizer.inputs.events import Event, EventKind
from optimizer.pipeline import travel_provider
from optimizer.plan import Plan, Route, SolverInfo, Stop, Unassigned, build_plan
from optimizer.problem import build_problem, subset
from optimizer.settings import ReplanSettings
from optimizer.solve.assignment import Stability
from optimizer.solve.ortools import solve
from optimizer.solve.params import SolverSettings
from optimizer.travel.base import TravelProvider
from optimizer.verify import check_accounting, check_plan

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Change:
    """One visit whose plan changed. ``notify``: the borrower must get a new notice."""

    visit_id: str
    change: str
    old_agent: str
    new_agent: str
    old_start_s: int | None
    new_start_s: int | None
    told: TimeWindow | None
    notify: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Replan:
    day: DayPlan
    changes: tuple[Change, ...]
    #: Failed visits (not home, refused): book a new appointment.
    new_appointment: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Resume:
    """Where and when an agent takes up the rest of the day."""

    position: GeoPoint
    time_s: int


def replan(
    day: DayPlan,
    events: Sequence[Event],
    now_s: int,
    *,
    settings: ReplanSettings | None = None,
    solver: SolverSettings | None = None,
    travel: TravelProvider | None = None,
) -> Replan:
    """Re-plan the rest of ``day`` from ``now_s`` given ``events`` (in file order).

    Raises
    ------
    VerificationError
        If the new plan breaks a constraint (a bug, never the user's fault).
    """
    rs = settings or day.settings.replan
    solver_settings = solver or replace(day.settings.solver, time_limit_s=rs.time_limit_s)
    provider = travel if travel is not None else travel_provider(day.settings)
    plan = day.plan
    visits = {v.visit_id: v for v in day.visits}
    new_visits = [e.visit for e in events if e.kind is EventKind.NEW and e.visit is not None]
    visits.update({v.visit_id: v for v in new_visits})
    state: dict[str, Event] = {}
    off: dict[str, int] = {}
    seen_at: dict[str, Event] = {}
    for e in events:
        if e.kind in (EventKind.AGENT_OFF,) and e.agent_id is not None:
            off[e.agent_id] = e.at_s
        elif e.kind is EventKind.AGENT_AT and e.agent_id is not None:
            if e.agent_id not in seen_at or seen_at[e.agent_id].at_s <= e.at_s:
                seen_at[e.agent_id] = e
        elif e.visit_id is not None and e.kind is not EventKind.NEW:
            state[e.visit_id] = e
    gone = {vid for vid, e in state.items() if e.kind in (EventKind.CANCELLED, EventKind.FAILED)}
    old_agent = {s.visit_id: r.agent_id for r in plan.routes for s in r.stops}
    old_start = {s.visit_id: s.start_s for r in plan.routes for s in r.stops}

    fixed: dict[str, list[Stop]] = {}
    remaining: dict[str, list[str]] = {}
    for route in plan.routes:
        fixed[route.agent_id] = [
            s
            for s in route.stops
            if s.visit_id not in gone
            and (s.start_s < now_s or (s.visit_id in state and state[s.visit_id].kind in _FIXING))
        ]
        held = {s.visit_id for s in fixed[route.agent_id]}
        remaining[route.agent_id] = [
            s.visit_id for s in route.stops if s.visit_id not in held and s.visit_id not in gone
        ]
    fixed_ids = {s.visit_id for stops in fixed.values() for s in stops}

    # The derived problem: agents resume from where they are; visits from now on.
    derived_agents: list[Agent] = []
    for agent in day.agents:
        if agent.agent_id in off:
            continue
        derived_agents.append(
            _resumed_agent(
                agent,
                plan.route_of(agent.agent_id),
                fixed.get(agent.agent_id, []),
                visits,
                state,
                seen_at.get(agent.agent_id),
                now_s,
            )
        )
    candidates = [
        vid for vid in [*visits] if vid not in fixed_ids and vid not in gone and vid not in state
    ]
    pre_unassigned: dict[str, str] = {}
    open_visits: list[Visit] = []
    for vid in candidates:
        v = visits[vid]
        if v.location is None:
            pre_unassigned[vid] = NOT_GEOCODED
            continue
        window = v.window or TimeWindow(0, MAX_TIME_S)
        if window.end_s < now_s:
            pre_unassigned[vid] = (
                f"its window closed at {hm(window.end_s)}, before now ({hm(now_s)})"
            )
            continue
        open_visits.append(replace(v, window=TimeWindow(max(window.start_s, now_s), window.end_s)))
    # With an agent-change cost, OR-Tools holds one cost matrix per agent on top.
    per_agent = len(derived_agents) if rs.agent_change_cost_s else 0
    full = build_problem(open_visits, derived_agents, provider, extra_matrices=per_agent)
    reasons = precheck(full)
    for i, reason in reasons.items():
        vid = full.visits[i].visit_id
        pre_unassigned[vid] = _off_reason(vid, old_agent, off) or reason
    problem = subset(full, [i for i in range(full.num_visits) if i not in reasons])
    del full  # its matrices, when subset copied them: not kept twice

    agent_index = {a.agent_id: k for k, a in enumerate(problem.agents)}
    node_of = problem.visit_index()
    width = day.settings.notices.window_min * 60
    told = {
        vid: arrival_window(old_start[vid], width, visits[vid].window)
        for vid in old_start
        if vid in node_of
    }
    stability = Stability(
        preferred_agent=tuple(
            agent_index.get(old_agent.get(v.visit_id, "")) for v in problem.visits
        ),
        told_window=tuple(
            (told[v.visit_id].start_s, told[v.visit_id].end_s) if v.visit_id in told else None
            for v in problem.visits
        ),
        agent_change_cost=rs.agent_change_cost_s,
        told_window_cost_per_s=rs.told_window_cost_per_s,
    )
    initial = [
        [node_of[vid] for vid in remaining.get(a.agent_id, []) if vid in node_of]
        for a in problem.agents
    ]
    assignment = solve(problem, solver_settings, initial_routes=initial, stability=stability)
    info = SolverInfo(
        engine="ortools",
        status=assignment.status,
        time_limit_s=solver_settings.time_limit_s,
        wall_s=round(assignment.wall_s, 2),
        objective=assignment.objective,
    )
    rest = build_plan(
        problem,
        assignment,
        {},
        date=plan.date,
        timezone=plan.timezone,
        solver=info,
        travel=provider.describe(),
    )
    violations = check_plan(rest, problem.visits, problem)
    if violations:
        raise VerificationError(violations)

    new_ids = {v.visit_id for v in new_visits}
    # New visits served, per agent, most urgent first: who displaced whom.
    urgent_on: dict[str, list[Visit]] = {}
    for r in rest.routes:
        urgent_on[r.agent_id] = sorted(
            (visits[s.visit_id] for s in r.stops if s.visit_id in new_ids),
            key=lambda v: -v.priority,
        )
    reasons_out: dict[str, str] = dict(pre_unassigned)
    for u in rest.unassigned:
        vid = u.visit_id
        was_on = old_agent.get(vid)
        urgent = next(
            (v for v in urgent_on.get(was_on or "", []) if v.priority > visits[vid].priority),
            None,
        )
        if was_on is not None and urgent is not None:
            reasons_out[vid] = f"displaced by urgent visit {urgent.visit_id}"
        elif was_on is not None and off and was_on not in off:
            left = ", ".join(sorted(off))
            reasons_out[vid] = f"pushed out when agent {left} left for the day: {u.reason}"
        else:
            reasons_out[vid] = _off_reason(vid, old_agent, off, u.reason) or u.reason
    old_reason = {u.visit_id: u.reason for u in plan.unassigned}
    for vid, e in state.items():
        if vid not in visits:
            continue
        if e.kind is EventKind.CANCELLED:
            reasons_out[vid] = _with_note(f"cancelled at {hm(e.at_s)}", e.reason)
        elif e.kind is EventKind.FAILED:
            reasons_out[vid] = _with_note(
                f"failed at {hm(e.at_s)}: needs a new appointment", e.reason
            )
        elif vid not in fixed_ids:
            reasons_out[vid] = _with_note(
                f"reported {e.kind} at {hm(e.at_s)} but not in any route", e.reason
            )
    for vid, reason in old_reason.items():
        if reasons_out.get(vid) == NOT_GEOCODED and reason:
            reasons_out[vid] = reason

    routes = _combine(plan, rest, fixed, day, now_s, provider)
    order = {vid: k for k, vid in enumerate(visits)}
    new_plan = Plan(
        date=plan.date,
        timezone=plan.timezone,
        routes=routes,
        unassigned=tuple(
            Unassigned(vid, reasons_out[vid]) for vid in sorted(reasons_out, key=order.__getitem__)
        ),
        solver=info,
        travel=dict(rest.travel),
    )
    all_visits = tuple(visits.values())
    errors = check_accounting(new_plan, all_visits)
    for agent_id, stops in fixed.items():
        kept_route = new_plan.route_of(agent_id)
        kept = kept_route.stops[: len(stops)] if kept_route else ()
        if [(s.visit_id, s.start_s, s.end_s) for s in kept] != [
            (s.visit_id, s.start_s, s.end_s) for s in stops
        ]:
            errors.append(f"{agent_id}: a done, started or past stop moved")
    if errors:
        raise VerificationError(errors)
    located = [v for v in all_visits if v.location is not None]
    whole = build_problem(located, day.agents, provider)
    lines = route_lines(whole, new_plan, provider)
    new_day = DayPlan(new_plan, all_visits, day.agents, whole, day.settings, route_lines=lines)
    changes = diff(day.plan, new_plan, visits, width, new_ids=new_ids)
    failed = tuple(vid for vid, e in state.items() if e.kind is EventKind.FAILED)
    return Replan(new_day, changes, failed)


_FIXING = frozenset({EventKind.DONE, EventKind.STARTED})


def _with_note(text: str, note: str) -> str:
    return f"{text} ({note})" if note else text


def _off_reason(
    vid: str, old_agent: Mapping[str, str], off: Mapping[str, int], detail: str = ""
) -> str | None:
    agent = old_agent.get(vid)
    if agent is None or agent not in off:
        return None
    text = f"agent {agent} left for the day at {hm(off[agent])} and no other agent could take it"
    return f"{text}: {detail}" if detail else text


def _resumed_agent(
    agent: Agent,
    route: Route | None,
    fixed: Sequence[Stop],
    visits: Mapping[str, Visit],
    state: Mapping[str, Event],
    seen_at: Event | None,
    now_s: int,
) -> Agent:
    """The agent as seen from ``now``: starting where they are, when they are free."""
    assert agent.start is not None  # located agents only
    resume = _Resume(agent.start, route.depart_s if route else agent.shift.start_s)
    if fixed:
        last = fixed[-1]
        where = visits[last.visit_id].location
        assert where is not None  # routed visits are located
        resume = _Resume(where, last.end_s)
    route_ids = {s.visit_id for s in route.stops} if route else set()
    for vid in route_ids & state.keys():
        e = state[vid]
        where = visits[vid].location
        if where is None:
            continue
        free = e.at_s + visits[vid].duration_s if e.kind is EventKind.STARTED else e.at_s
        if free >= resume.time_s:
            resume = _Resume(where, free)
    if seen_at is not None and seen_at.position is not None and seen_at.at_s >= resume.time_s:
        resume = _Resume(seen_at.position, seen_at.at_s)
    t0 = resume.time_s
    rule = agent.break_rule
    if route is not None and route.break_start_s is not None and route.break_start_s < now_s:
        # Taken (or being taken) before now: it stays where it was. Taken after leaving
        # the last stop, it delays the agent by its length (as on a leg, see leg_arrival).
        if route.break_end_s is not None and route.break_start_s >= t0:
            t0 += route.break_end_s - route.break_start_s
        rule = None
    elif rule is not None:
        # Out working since the day began: the break cannot lie before the resume time.
        # Not yet out (still at the start): a break before leaving is lunch at home.
        out_working = resume.position != agent.start or bool(fixed)
        earliest = max(rule.window.start_s, t0) if out_working else rule.window.start_s
        rule = (
            BreakRule(TimeWindow(earliest, rule.window.end_s), rule.duration_s)
            if earliest <= rule.window.end_s
            else None
        )
    t0 = min(max(t0, agent.shift.start_s), agent.shift.end_s)
    done = len(fixed)
    return replace(
        agent,
        start=resume.position,
        end=agent.end_point,
        shift=TimeWindow(t0, agent.shift.end_s),
        break_rule=rule,
        max_visits=None if agent.max_visits is None else max(agent.max_visits - done, 0),
        capacity=None
        if agent.capacity is None
        else max(agent.capacity - sum(visits[s.visit_id].demand for s in fixed), 0),
    )


def _combine(
    old: Plan,
    rest: Plan,
    fixed: Mapping[str, Sequence[Stop]],
    day: DayPlan,
    now_s: int,
    provider: TravelProvider,
) -> tuple[Route, ...]:
    """Fixed stops as they were, then the re-planned rest of each agent's day."""
    routes = []
    points = {v.visit_id: v.location for v in day.visits}
    for agent in day.agents:
        before = list(fixed.get(agent.agent_id, ()))
        after = rest.route_of(agent.agent_id)
        orig = old.route_of(agent.agent_id)
        if not before and after is None:
            continue
        stops = tuple(
            replace(s, seq=k) for k, s in enumerate([*before, *(after.stops if after else ())], 1)
        )
        brk: tuple[int | None, int | None] = (None, None)
        if orig is not None and orig.break_start_s is not None and orig.break_start_s < now_s:
            brk = (orig.break_start_s, orig.break_end_s)
        elif after is not None:
            brk = (after.break_start_s, after.break_end_s)
        if after is not None:
            depart = orig.depart_s if before and orig is not None else after.depart_s
            routes.append(
                Route(
                    agent_id=agent.agent_id,
                    depart_s=depart,
                    return_s=after.return_s,
                    stops=stops,
                    return_travel_s=after.return_travel_s,
                    return_distance_m=after.return_distance_m,
                    break_start_s=brk[0],
                    break_end_s=brk[1],
                )
            )
            continue
        # Nothing left to do after the fixed stops (agent off, or day done): go home.
        last = points[before[-1].visit_id]
        home = agent.end_point
        assert orig is not None
        assert last is not None
        assert home is not None
        m = provider.matrix([last, home], agent.mode)
        back_s, back_m = int(m.seconds[0, 1]), int(m.metres[0, 1])
        routes.append(
            Route(
                agent_id=agent.agent_id,
                depart_s=orig.depart_s,
                return_s=before[-1].end_s + back_s,
                stops=stops,
                return_travel_s=back_s,
                return_distance_m=back_m,
                break_start_s=brk[0],
                break_end_s=brk[1],
            )
        )
    return tuple(routes)


def changed_routes(old: Plan, new: Plan) -> frozenset[str]:
    """Agents whose stops, order or times differ: their pages and calendars are redone."""

    def shape(plan: Plan) -> dict[str, tuple[tuple[str, int, int], ...]]:
        return {
            r.agent_id: tuple((s.visit_id, s.start_s, s.end_s) for s in r.stops)
            for r in plan.routes
        }

    before, after = shape(old), shape(new)
    return frozenset(a for a in before.keys() | after.keys() if before.get(a) != after.get(a))


def diff(
    old: Plan,
    new: Plan,
    visits: Mapping[str, Visit],
    notice_width_s: int,
    *,
    new_ids: set[str] | frozenset[str] = frozenset(),
) -> tuple[Change, ...]:
    """Only what changed: agent moves, starts outside the told window, (un)assignments."""
    was = {s.visit_id: (r.agent_id, s.start_s) for r in old.routes for s in r.stops}
    now = {s.visit_id: (r.agent_id, s.start_s) for r in new.routes for s in r.stops}
    why = {u.visit_id: u.reason for u in new.unassigned}
    out: list[Change] = []
    for vid in visits:
        before, after = was.get(vid), now.get(vid)
        if before is None and after is None:
            if vid in new_ids:
                out.append(Change(vid, "new, unassigned", "", "", None, None, None, True, why[vid]))
            continue
        if before is not None and after is None:
            reason = why.get(vid, "")
            kind = (
                "cancelled"
                if reason.startswith("cancelled")
                else "failed"
                if reason.startswith("failed")
                else "unassigned"
            )
            told = arrival_window(before[1], notice_width_s, visits[vid].window)
            out.append(
                Change(
                    vid, kind, before[0], "", before[1], None, told, kind == "unassigned", reason
                )
            )
            continue
        assert after is not None
        if before is None:
            kind = "new" if vid in new_ids else "newly assigned"
            out.append(Change(vid, kind, "", after[0], None, after[1], None, True))
            continue
        told = arrival_window(before[1], notice_width_s, visits[vid].window)
        kinds = []
        if before[0] != after[0]:
            kinds.append("moved to another agent")
        outside = not told.contains(after[1])
        if outside:
            kinds.append("start outside the told window")
        if kinds:
            out.append(
                Change(
                    vid, "; ".join(kinds), before[0], after[0], before[1], after[1], told, outside
                )
            )
    return tuple(out)


def changes_rows(changes: Sequence[Change]) -> list[dict[str, str]]:
    """Rows of ``changes.csv`` (times HH:MM)."""
    return [
        {
            "visit_id": c.visit_id,
            "change": c.change,
            "old_agent": c.old_agent,
            "new_agent": c.new_agent,
            "old_start": hm(c.old_start_s) if c.old_start_s is not None else "",
            "new_start": hm(c.new_start_s) if c.new_start_s is not None else "",
            "told_window": f"{hm(c.told.start_s)}-{hm(c.told.end_s)}" if c.told else "",
            "notify": "yes" if c.notify else "no",
            "reason": c.reason,
        }
        for c in changes
    ]


def diff_text(result: Replan) -> str:
    """The printed diff: one line per change, then who must get a new notice."""
    if not result.changes:
        return "No changes: every remaining visit keeps its agent and told window."
    lines = ["Changes:"]
    for row in changes_rows(result.changes):
        move = f"{row['old_agent'] or '-'} {row['old_start'] or ''} -> {row['new_agent'] or '-'} {row['new_start'] or ''}"
        extra = f"  ({row['reason']})" if row["reason"] else ""
        lines.append(f"  {row['visit_id']:<10} {row['change']:<40} {move}{extra}")
    notify = [c.visit_id for c in result.changes if c.notify]
    lines.append(f"New notice needed for: {', '.join(notify) if notify else 'nobody'}")
    if result.new_appointment:
        lines.append(f"Book a new appointment for: {', '.join(result.new_appointment)}")
    return "\n".join(lines)
