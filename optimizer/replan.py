"""Re-planning the rest of the day from ``now`` with as little change as possible.

Pure: a :class:`~optimizer.pipeline.DayPlan`, the day's events and the time in, a new
verified DayPlan and the list of changes out.

How it works. An agent's rest of day starts from the latest fact: the last visit
reported done, started or failed, or an ``agent_at`` position; without a report,
stops planned to start before ``now`` are held as done on time. What stands keeps its
(reported) times. With no event nothing has a reason to change, and each agent keeps
its remaining visits in its order. With events, the remainder is re-optimised through
:func:`optimizer.pipeline.solve_and_verify` (agents resume where they are, visits start
no sooner than now, a stability cost keeps visits with their agent and told window,
see :class:`~optimizer.settings.ReplanSettings`), seeded with the routes as they
stand; it is kept only if it serves at least as much. Every whole route, what stands
and the rest, is then timed by :func:`optimizer.timing.schedule` (which also places an
owed break), and the whole day goes through :func:`optimizer.verify.check_plan`, with
what stands as :class:`~optimizer.verify.Facts`. A stop that can no longer be reached in
its window is unassigned with the reason, never shown on time; a visit that gets a new
notice starts no sooner than now plus ``[notices] lead_min``.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

from optimizer.clock import arrival_window
from optimizer.clock import format_hhmm as hm
from optimizer.day import NOT_GEOCODED, DayPlan, route_lines
from optimizer.domain import MAX_TIME_S, Agent, BreakRule, GeoPoint, TimeWindow, Visit
from optimizer.errors import InputError, Issue, SolverError, VerificationError
from optimizer.feasibility import precheck
from optimizer.inputs.events import Event, EventKind
from optimizer.pipeline import solve_and_verify, travel_provider
from optimizer.plan import NOT_ENOUGH_TIME, Plan, Route, SolverInfo, Stop, Unassigned
from optimizer.problem import OPEN_WINDOW, RoutingProblem, build_problem, subset
from optimizer.settings import ReplanSettings
from optimizer.solve.assignment import Stability
from optimizer.solve.params import SolverSettings
from optimizer.timing import Leg, Timed, owes_break, schedule
from optimizer.travel.base import TravelProvider
from optimizer.verify import Facts, check_plan

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
    #: When it was re-planned, and the lead a new notice needs (``[notices] lead_min``).
    now_s: int = 0
    lead_s: int = 0
    #: Agents whose reported day runs past their shift: agent id -> (when back, shift end).
    back_late: Mapping[str, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Resume:
    """Where and when an agent takes up the rest of the day."""

    position: GeoPoint
    time_s: int
    #: The place is not the last stop that stands (a failed visit, an agent_at report).
    elsewhere: bool = False


@dataclass(frozen=True, slots=True)
class _Facts:
    """The events sorted by what they say: the last word on each visit and agent."""

    state: Mapping[str, Event]
    off: Mapping[str, int]
    seen_at: Mapping[str, Event]
    new: tuple[Visit, ...]
    gone: frozenset[str]

    @property
    def any(self) -> bool:
        return bool(self.state or self.off or self.seen_at or self.new)


@dataclass(frozen=True, slots=True)
class _AgentNow:
    """One agent as seen from ``now``: what stands, what is left, where it resumes."""

    agent: Agent
    #: Stops that stand (reported, or planned before now and held as done), in order,
    #: with the start that stands for each.
    fixed: tuple[tuple[str, int], ...]
    #: The rest of its planned visits, in planned order.
    remaining: tuple[str, ...]
    resume: _Resume
    #: Already out (a stop stands, or it left before now): its departure stands.
    out: bool
    depart_s: int
    #: A break taken (or being taken) before now that stands.
    kept_break: tuple[int, int] | None
    off: bool


@dataclass(frozen=True, slots=True)
class _Day:
    """The whole day's problem (original agents) and what every timing of it needs."""

    problem: RoutingProblem
    now: Mapping[str, _AgentNow]
    #: visit id -> earliest start of a visit still to do (now, the told window, the lead).
    not_before: Mapping[str, int]
    #: visit id -> window already told to the borrower.
    told: Mapping[str, TimeWindow]
    lead_s: int
    now_s: int
    provider: TravelProvider
    #: visit id -> start in the plan being re-planned; agent id -> its planned break.
    planned: Mapping[str, int]
    planned_break: Mapping[str, int]
    #: Agents whose day, as it stands, already brings them back after the shift:
    #: agent id -> when back. Nothing more is planned for them.
    back_late: Mapping[str, int] = field(default_factory=dict)


def replan(
    day: DayPlan,
    events: Sequence[Event],
    now_s: int,
    *,
    settings: ReplanSettings | None = None,
    solver: SolverSettings | None = None,
    travel: TravelProvider | None = None,
    events_source: str = "events.csv",
    plan_source: str = "plan.json",
) -> Replan:
    """Re-plan the rest of ``day`` from ``now_s`` given ``events`` (in file order).

    The steps: check the plan and the facts (:func:`check_input_plan`,
    :func:`_read_facts`); see each agent from now (:func:`_agents_now`); hold the
    routes as they stand (:func:`_held`); with events, re-optimise the remainder through
    :func:`optimizer.pipeline.solve_and_verify` and keep it if it serves at least as
    much (:func:`_solved`); time each whole route (:func:`_time_route`) and verify the
    whole day (:func:`_verified`).

    Raises
    ------
    InputError
        ``plan.json`` no longer holds, or an event contradicts the plan or the clock
        (a time after ``now_s``, before the agent's shift, ...): names file, row, column.
    VerificationError
        If the new plan breaks a constraint (a bug, never the user's fault).
    """
    rs = settings or day.settings.replan
    solver_settings = solver or replace(day.settings.solver, time_limit_s=rs.time_limit_s)
    provider = travel if travel is not None else travel_provider(day.settings)
    check_input_plan(day, source=plan_source)
    facts = _read_facts(day, events, now_s, events_source)
    visits = {v.visit_id: v for v in day.visits}
    visits.update({v.visit_id: v for v in facts.new})
    agents_now = _agents_now(day, facts, visits, now_s)
    whole_day, pre_unassigned = _whole_day(day, facts, visits, agents_now, now_s, provider)
    held, held_reasons = _held(whole_day, visits, facts)
    chosen, reasons = held, held_reasons
    # Held routes are the day plan's own: its engine, with a status that says so.
    info = replace(day.plan.solver, status="HELD", wall_s=0.0, lost_searches=())
    if facts.any:
        solved = _solved(day, whole_day, visits, held, rs, solver_settings)
        if solved is not None:
            sequences, solved_reasons, solved_info = solved
            new_ids = {v.visit_id for v in facts.new}
            if _score(whole_day, sequences, new_ids) >= _score(whole_day, held, new_ids):
                chosen, reasons, info = sequences, solved_reasons, solved_info
    routes, late = _time_day(whole_day, chosen)
    reasons_out = _reasons(
        day, facts, visits, agents_now, pre_unassigned, reasons, late, routes, whole_day.back_late
    )
    order = {vid: k for k, vid in enumerate(visits)}
    new_plan = Plan(
        date=day.plan.date,
        timezone=day.plan.timezone,
        routes=tuple(routes[a.agent_id] for a in day.agents if a.agent_id in routes),
        unassigned=tuple(
            Unassigned(vid, reasons_out[vid]) for vid in sorted(reasons_out, key=order.__getitem__)
        ),
        solver=info,
        travel=provider.describe(),
    )
    all_visits = tuple(visits.values())
    _verified(new_plan, all_visits, whole_day)
    lines = route_lines(whole_day.problem, new_plan, provider)
    new_day = DayPlan(
        new_plan, all_visits, day.agents, whole_day.problem, day.settings, route_lines=lines
    )
    width = day.settings.notices.window_min * 60
    new_ids = {v.visit_id for v in facts.new}
    standing = {vid for an in agents_now.values() for vid, _ in an.fixed}
    changes = diff(day.plan, new_plan, visits, width, new_ids=new_ids, standing=standing)
    failed = tuple(vid for vid, e in facts.state.items() if e.kind is EventKind.FAILED)
    shift_end = {a.agent_id: a.shift.end_s for a in day.agents}
    back_late = {
        a: (max(t, r.return_s if (r := new_plan.route_of(a)) else t), shift_end[a])
        for a, t in whole_day.back_late.items()
    }
    return Replan(
        new_day, changes, failed, now_s=now_s, lead_s=whole_day.lead_s, back_late=back_late
    )


_FIXING = frozenset({EventKind.DONE, EventKind.STARTED})


def check_input_plan(day: DayPlan, *, source: str = "plan.json") -> None:
    """Refuse a plan that no longer holds on the clock: every stop inside its agent's
    shift, in time order, lasting its visit's duration.

    Windows and legs are not re-checked: a re-planned day holds reported stops that
    started late or sooner than the matrix allows (see :class:`~optimizer.verify.Facts`).

    Raises
    ------
    InputError
        One issue per stop that does not hold, naming the route and stop.
    """
    agents = {a.agent_id: a for a in day.agents}
    durations = {v.visit_id: v.duration_s for v in day.visits}
    issues: list[Issue] = []
    for route in day.plan.routes:
        agent = agents.get(route.agent_id)
        if agent is None:
            continue
        shift = agent.shift
        where = f"routes[{route.agent_id}]"
        # A re-planned day may come back after the shift from what was reported (the
        # way home from a visit ending near the shift end): its stops still lie inside.
        late_ok = route.return_s <= shift.end_s or (
            bool(route.stops) and route.stops[-1].end_s <= shift.end_s
        )
        if not (shift.start_s <= route.depart_s <= route.return_s and late_ok):
            issues.append(
                Issue(
                    source,
                    None,
                    where,
                    f"{hm(route.depart_s)}-{hm(route.return_s)}",
                    f"the route lies outside {route.agent_id}'s shift "
                    f"{hm(shift.start_s)}-{hm(shift.end_s)}",
                )
            )
        leave = route.depart_s
        for stop in route.stops:
            tag = f"{where}.stops[{stop.seq}] ({stop.visit_id})"
            duration = durations.get(stop.visit_id)
            if not stop.arrive_s <= stop.start_s or not (
                shift.start_s <= stop.start_s <= shift.end_s and leave <= stop.end_s
            ):
                issues.append(
                    Issue(
                        source,
                        None,
                        tag,
                        hm(stop.start_s),
                        f"starts outside {route.agent_id}'s shift "
                        f"{hm(shift.start_s)}-{hm(shift.end_s)} or before the previous "
                        "stop ends; expected the plan FieldRoute wrote",
                    )
                )
            elif duration is not None and stop.end_s != stop.start_s + duration:
                issues.append(
                    Issue(
                        source,
                        None,
                        tag,
                        f"{hm(stop.start_s)}-{hm(stop.end_s)}",
                        f"lasts {(stop.end_s - stop.start_s) // 60} min; the visit takes "
                        f"{duration // 60} min",
                    )
                )
            leave = stop.end_s
    if issues:
        raise InputError(issues)


def _read_facts(day: DayPlan, events: Sequence[Event], now_s: int, source: str) -> _Facts:
    """The events by what they say, or one InputError for every fact the clock or the
    plan contradicts: a time after now, before the agent's shift, a started or done
    visit of an agent reported off before it."""
    agents = {a.agent_id: a for a in day.agents}
    old_agent = {s.visit_id: r.agent_id for r in day.plan.routes for s in r.stops}
    durations = {v.visit_id: v.duration_s for v in day.visits}
    issues: list[Issue] = []
    state: dict[str, Event] = {}
    off: dict[str, int] = {}
    seen_at: dict[str, Event] = {}
    for e in events:
        if e.kind is EventKind.NEW:
            continue
        if e.kind is not EventKind.AGENT_OFF and e.at_s > now_s:
            issues.append(
                Issue(
                    source,
                    e.source_row,
                    "at",
                    hm(e.at_s),
                    f"is after --now {hm(now_s)}; a reported '{e.kind}' cannot lie in the future",
                )
            )
            continue
        who = e.agent_id if e.agent_id is not None else old_agent.get(e.visit_id or "")
        agent = agents.get(who or "")
        if agent is not None and e.kind in (*_FIXING, EventKind.FAILED, EventKind.AGENT_AT):
            begins = e.at_s - (
                durations.get(e.visit_id or "", 0) if e.kind is EventKind.DONE else 0
            )
            ends = e.at_s + (
                durations.get(e.visit_id or "", 0) if e.kind is EventKind.STARTED else 0
            )
            if e.kind in _FIXING and ends > agent.shift.end_s:
                issues.append(
                    Issue(
                        source,
                        e.source_row,
                        "at",
                        hm(e.at_s),
                        f"puts the visit's end ({hm(ends)}) after agent {agent.agent_id}'s "
                        f"shift ends ({hm(agent.shift.end_s)})",
                    )
                )
                continue
            if begins < agent.shift.start_s:
                what = "the visit would have started" if e.kind is EventKind.DONE else "it is"
                issues.append(
                    Issue(
                        source,
                        e.source_row,
                        "at",
                        hm(e.at_s),
                        f"is before agent {agent.agent_id}'s shift starts "
                        f"({hm(agent.shift.start_s)}; {what} at {hm(begins)})",
                    )
                )
                continue
        if e.kind is EventKind.AGENT_OFF and e.agent_id is not None:
            off[e.agent_id] = e.at_s
        elif e.kind is EventKind.AGENT_AT and e.agent_id is not None:
            if e.agent_id not in seen_at or seen_at[e.agent_id].at_s <= e.at_s:
                seen_at[e.agent_id] = e
        elif e.visit_id is not None:
            state[e.visit_id] = e
    if issues:
        raise InputError(issues)
    new = tuple(e.visit for e in events if e.kind is EventKind.NEW and e.visit is not None)
    gone = frozenset(
        vid for vid, e in state.items() if e.kind in (EventKind.CANCELLED, EventKind.FAILED)
    )
    return _Facts(state, off, seen_at, new, gone)


def _agents_now(
    day: DayPlan, facts: _Facts, visits: Mapping[str, Visit], now_s: int
) -> dict[str, _AgentNow]:
    """Each located agent from ``now``: the rest of the day starts from the latest fact.

    Without a report, stops planned to start before now are held as done on time
    (with only an ``agent_at`` at T: those planned to end by T). With one, the stops up
    to the last reported visit stand (reported ones at their reported start); later
    planned stops, pushed back by the report's delay, stand only while they still
    start before now inside their window; the rest is still to do. An ``agent_at``
    later than every report moves the resume point there.
    """
    out: dict[str, _AgentNow] = {}
    for agent in day.agents:
        if agent.start is None:
            continue
        route = day.plan.route_of(agent.agent_id)
        stops = [s for s in (route.stops if route else ()) if s.visit_id not in facts.gone]
        all_stops = list(route.stops if route else ())
        reported = [
            k
            for k, s in enumerate(all_stops)
            if s.visit_id in facts.state and facts.state[s.visit_id].kind is not EventKind.CANCELLED
        ]
        resume = _Resume(agent.start, max(now_s, agent.shift.start_s))
        fixed: list[tuple[str, int]] = []
        seen = facts.seen_at.get(agent.agent_id)
        if seen is not None and seen.position is None:
            seen = None
        if reported:
            last = reported[-1]
            held = {s.visit_id for s in all_stops[: last + 1]} - facts.gone
            for s in stops:
                if s.visit_id in held:
                    fixed.append((s.visit_id, _reported_start(s, facts.state, visits)))
            e = facts.state[all_stops[last].visit_id]
            where = visits[e.visit_id or ""].location
            assert where is not None  # routed visits are located
            free = (
                e.at_s + visits[e.visit_id or ""].duration_s
                if e.kind is EventKind.STARTED
                else e.at_s
            )
            resume = _Resume(where, free, elsewhere=e.kind not in _FIXING)
            if not resume.elsewhere:
                # Planned stops after the report, pushed back by the report's delay: those
                # that still start before now, inside their window, stand as done.
                resume, more = _carried_on(day, agent, stops, fixed, resume, visits, now_s)
                fixed += more
        else:
            # Seen elsewhere at T (agent_at): what was planned to end by T is done.
            fixed = [
                (s.visit_id, s.start_s)
                for s in stops
                if (s.end_s <= seen.at_s if seen is not None else s.start_s < now_s)
            ]
            if fixed:
                last_stop = next(s for s in stops if s.visit_id == fixed[-1][0])
                where = visits[last_stop.visit_id].location
                assert where is not None
                resume = _Resume(where, last_stop.end_s)
            elif route is not None and route.depart_s < now_s:
                resume = _Resume(agent.start, route.depart_s)
        if seen is not None and seen.position is not None and seen.at_s >= resume.time_s:
            resume = _Resume(seen.position, seen.at_s, elsewhere=True)
        fixed_ids = {vid for vid, _ in fixed}
        ends = [start + visits[vid].duration_s for vid, start in fixed]
        if ends and not resume.elsewhere:
            resume = replace(resume, time_s=max(resume.time_s, ends[-1]))
        remaining = tuple(s.visit_id for s in stops if s.visit_id not in fixed_ids)
        out_now = bool(fixed) or (route is not None and route.depart_s < now_s) or resume.elsewhere
        kept = None
        if (
            route is not None
            and route.break_start_s is not None
            and route.break_end_s is not None
            and route.break_start_s < now_s
            and out_now
        ):
            bs, be = route.break_start_s, route.break_end_s
            clash = any(bs < start + visits[vid].duration_s and start < be for vid, start in fixed)
            if not clash and bs >= route.depart_s:
                kept = (bs, be)
        depart = route.depart_s if (route is not None and out_now) else resume.time_s
        out[agent.agent_id] = _AgentNow(
            agent=agent,
            fixed=tuple(fixed),
            remaining=remaining,
            resume=resume,
            out=out_now,
            depart_s=depart,
            kept_break=kept,
            off=agent.agent_id in facts.off,
        )
    return out


def _carried_on(
    day: DayPlan,
    agent: Agent,
    stops: Sequence[Stop],
    fixed: Sequence[tuple[str, int]],
    resume: _Resume,
    visits: Mapping[str, Visit],
    now_s: int,
) -> tuple[_Resume, list[tuple[str, int]]]:
    problem = day.problem
    node_of = problem.visit_index()
    ai = next((k for k, ag in enumerate(problem.agents) if ag.agent_id == agent.agent_id), None)
    ids = {vid for vid, _ in fixed}
    if ai is None or not fixed or fixed[-1][0] not in node_of:
        return resume, []
    prev, leave = node_of[fixed[-1][0]], resume.time_s
    more: list[tuple[str, int]] = []
    for s in stops:
        if s.visit_id in ids or s.visit_id not in node_of:
            continue
        if more or s.start_s < now_s:
            node = node_of[s.visit_id]
            start = max(leave + problem.travel_s(ai, prev, node), s.start_s)
            window = problem.window(node)
            back = (
                start
                + visits[s.visit_id].duration_s
                + problem.travel_s(ai, node, problem.end_node(ai))
            )
            if start >= now_s or not window.contains(start) or back > agent.shift.end_s:
                break  # not assumed done: only a report may run the day past the shift
            more.append((s.visit_id, start))
            prev, leave = node, start + visits[s.visit_id].duration_s
            continue
        break
    if more:
        where = visits[more[-1][0]].location
        assert where is not None
        resume = _Resume(where, leave)
    return resume, more


def _reported_start(stop: Stop, state: Mapping[str, Event], visits: Mapping[str, Visit]) -> int:
    e = state.get(stop.visit_id)
    if e is None or e.kind not in _FIXING:
        return stop.start_s
    return e.at_s - visits[stop.visit_id].duration_s if e.kind is EventKind.DONE else e.at_s


def _whole_day(
    day: DayPlan,
    facts: _Facts,
    visits: Mapping[str, Visit],
    agents_now: Mapping[str, _AgentNow],
    now_s: int,
    provider: TravelProvider,
) -> tuple[_Day, dict[str, str]]:
    """The day's problem over every located visit with the original agents, the
    earliest start of every visit still to do, and those that can no longer be done."""
    located = [v for v in visits.values() if v.location is not None]
    problem = build_problem(located, day.agents, provider)
    width = day.settings.notices.window_min * 60
    lead = day.settings.notices.lead_min * 60
    fixed_ids = {vid for a in agents_now.values() for vid, _ in a.fixed}
    told = {
        s.visit_id: arrival_window(s.start_s, width, visits[s.visit_id].window)
        for r in day.plan.routes
        for s in r.stops
    }
    not_before: dict[str, int] = {}
    pre: dict[str, str] = {}
    for vid, v in visits.items():
        if vid in fixed_ids or vid in facts.gone or vid in facts.state:
            continue
        if v.location is None:
            pre[vid] = NOT_GEOCODED
            continue
        window = v.window or TimeWindow(0, MAX_TIME_S)
        earliest = max(now_s, told[vid].start_s) if vid in told else now_s + lead
        if window.end_s < now_s:
            pre[vid] = f"its window closed at {hm(window.end_s)}, before now ({hm(now_s)})"
        elif window.end_s < earliest:
            pre[vid] = (
                f"its window ends at {hm(window.end_s)}, too soon to tell the borrower "
                f"(now {hm(now_s)} plus the {lead // 60}-min notice lead)"
            )
        else:
            not_before[vid] = earliest
    planned = {s.visit_id: s.start_s for r in day.plan.routes for s in r.stops}
    breaks = {r.agent_id: r.break_start_s for r in day.plan.routes if r.break_start_s is not None}
    whole = _Day(problem, agents_now, not_before, told, lead, now_s, provider, planned, breaks)
    return replace(whole, back_late=_back_late(whole)), pre


def _back_late(whole: _Day) -> dict[str, int]:
    """Agents whom what stands already brings back after the shift ends, with when.

    A visit reported ending shortly before the shift ends can leave a way back that
    runs past it: a fact is a fact, the agent simply comes back late. Such an agent
    gets nothing more (it would have to leave the shift to do it), and is kept out of
    the remainder's search, where its shift could not be met at all.
    """
    problem = whole.problem
    node_of = problem.visit_index()
    out: dict[str, int] = {}
    for ai, agent in enumerate(problem.agents):
        an = whole.now.get(agent.agent_id)
        end = agent.end_point
        if an is None or not an.out or end is None:
            continue
        if an.resume.elsewhere:
            m = whole.provider.matrix([an.resume.position, end], agent.mode)
            back = an.resume.time_s + int(m.seconds[0, 1])
        elif an.fixed:
            timed = schedule(
                problem,
                ai,
                [node_of[vid] for vid, _ in an.fixed],
                depart_s=an.depart_s,
                pinned={node_of[vid]: start for vid, start in an.fixed},
                brk=an.kept_break,
                place_break=False,
                late_return=True,
            )
            if timed.route is None:
                continue
            back = timed.route.return_s
        else:
            continue
        if back > agent.shift.end_s:
            out[agent.agent_id] = back
    return out


def _held(
    whole: _Day, visits: Mapping[str, Visit], facts: _Facts
) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """The routes as they stand: each agent keeps its remaining visits in its order
    (none for an agent gone for the day); new visits go where they cost least.

    With no event this is the re-plan: nothing has a reason to change.
    """
    sequences = {
        a: tuple(vid for vid in an.remaining if vid in whole.not_before)
        if not an.off and a not in whole.back_late
        else ()
        for a, an in whole.now.items()
    }
    reasons: dict[str, str] = {}
    for v in sorted(facts.new, key=lambda v: -v.priority):
        if v.visit_id not in whole.not_before:
            continue
        best: tuple[int, str, tuple[str, ...]] | None = None
        for a, an in whole.now.items():
            if an.off or a in whole.back_late or not an.agent.can_do(v):
                continue
            if (
                an.agent.max_visits is not None
                and len(an.fixed) + len(sequences[a]) >= an.agent.max_visits
            ):
                continue
            base = _time_route(whole, a, sequences[a], strict=False)
            if base.route is None:
                continue
            for k in range(len(sequences[a]) + 1):
                seq = (*sequences[a][:k], v.visit_id, *sequences[a][k:])
                timed = _time_route(whole, a, seq, strict=False)
                if timed.route is None:
                    continue
                cost = timed.route.travel_s - base.route.travel_s
                if best is None or cost < best[0]:
                    best = (cost, a, seq)
        if best is not None:
            sequences[best[1]] = best[2]
        else:
            reasons[v.visit_id] = "no able agent can fit it into the rest of their day"
    return sequences, reasons


def _solved(
    day: DayPlan,
    whole: _Day,
    visits: Mapping[str, Visit],
    held: Mapping[str, tuple[str, ...]],
    rs: ReplanSettings,
    solver: SolverSettings,
) -> tuple[dict[str, tuple[str, ...]], dict[str, str], SolverInfo] | None:
    """The remainder re-optimised from the held routes: agents resume where they are,
    visits from their earliest start; a stability cost keeps visits with their agent
    and inside their told window (see :class:`~optimizer.settings.ReplanSettings`)."""
    derived_agents = [
        _resumed_agent(an, visits)
        for a, an in whole.now.items()
        if not an.off and a not in whole.back_late
    ]
    open_visits = [
        replace(
            v,
            window=TimeWindow(
                max((v.window or OPEN_WINDOW).start_s, whole.not_before[vid]),
                (v.window or OPEN_WINDOW).end_s,
            ),
        )
        for vid, v in visits.items()
        if vid in whole.not_before
    ]
    # With an agent-change cost, OR-Tools holds one cost matrix per agent on top.
    per_agent = len(derived_agents) if rs.agent_change_cost_s else 0
    full = build_problem(open_visits, derived_agents, whole.provider, extra_matrices=per_agent)
    reasons = precheck(full)
    pre = {full.visits[i].visit_id: r for i, r in reasons.items()}
    problem = subset(full, [i for i in range(full.num_visits) if i not in reasons])
    del full  # its matrices, when subset copied them: not kept twice
    if not problem.agents:
        return None
    agent_index = {a.agent_id: k for k, a in enumerate(problem.agents)}
    node_of = problem.visit_index()
    old_agent = {s.visit_id: r.agent_id for r in day.plan.routes for s in r.stops}
    stability = Stability(
        preferred_agent=tuple(
            agent_index.get(old_agent.get(v.visit_id, "")) for v in problem.visits
        ),
        told_window=tuple(
            (whole.told[v.visit_id].start_s, whole.told[v.visit_id].end_s)
            if v.visit_id in whole.told
            else None
            for v in problem.visits
        ),
        agent_change_cost=rs.agent_change_cost_s,
        told_window_cost_per_s=rs.told_window_cost_per_s,
    )
    initial = [
        [node_of[vid] for vid in held.get(a.agent_id, ()) if vid in node_of] for a in problem.agents
    ]
    rest_visits = [v for v in open_visits if v.visit_id in node_of]
    try:
        rest = solve_and_verify(
            problem,
            rest_visits,
            {},
            replace(day.settings, solver=solver),
            whole.provider,
            date=day.plan.date,
            initial_routes=initial,
            stability=stability,
        )
    except SolverError as err:
        logger.warning("re-plan search failed (%s); the routes are held as they stand", err)
        return None
    sequences: dict[str, tuple[str, ...]] = dict.fromkeys(whole.now, ())
    for r in rest.routes:
        sequences[r.agent_id] = tuple(s.visit_id for s in r.stops)
    out_reasons = {**pre, **{u.visit_id: u.reason for u in rest.unassigned}}
    return sequences, out_reasons, rest.solver


def _score(
    whole: _Day, sequences: Mapping[str, tuple[str, ...]], new: Collection[str]
) -> tuple[int, int]:
    """Priority served once the routes are timed (the solver's drop penalties' measure),
    then the new visits served (a booked slot is not traded for an equal visit)."""
    routes, _ = _time_day(whole, sequences)
    node_of = whole.problem.visit_index()
    served = [s.visit_id for r in routes.values() for s in r.stops]
    priority = sum(whole.problem.visits[node_of[vid]].priority for vid in served)
    return priority, sum(1 for vid in served if vid in new)


def _time_day(
    whole: _Day, sequences: Mapping[str, tuple[str, ...]]
) -> tuple[dict[str, Route], dict[str, str]]:
    """Every agent's whole route timed; stops that can no longer be made, with why."""
    routes: dict[str, Route] = {}
    late: dict[str, str] = {}
    for a, an in whole.now.items():
        seq = list(sequences.get(a, ()))
        while True:
            timed = _time_route(whole, a, tuple(seq))
            if timed.route is not None or not seq:
                break
            first = len(an.fixed)
            k = timed.late - first if timed.late is not None and timed.late >= first else -1
            vid = seq.pop(k)
            window = whole.problem.window(whole.problem.visit_index()[vid])
            late[vid] = (
                f"no longer reachable in its window {hm(window.start_s)}-{hm(window.end_s)}: "
                f"agent {a} resumes at {hm(an.resume.time_s)} and cannot be there in time "
                f"(a new notice needs {whole.lead_s // 60} min)"
            )
        if timed.route is None:
            msg = f"{a}: the part of the day that stands cannot be timed"
            raise VerificationError([msg])
        if timed.route.stops:
            routes[a] = timed.route
    return routes, late


def _time_route(whole: _Day, a: str, sequence: tuple[str, ...], *, strict: bool = True) -> Timed:
    """Agent ``a``'s day: what stands, then ``sequence``, timed by :func:`schedule`.

    Strict: visits still to do start no sooner than planned (times stand when they
    can), else no sooner than their told window (a borrower is not visited before the
    time told); a visit that would leave its told window gets a new notice, so it
    starts no sooner than now plus the lead. Not strict (or when the strict timings
    fail): no sooner than now.
    """
    an = whole.now[a]
    problem = whole.problem
    node_of = problem.visit_index()
    ai = next(k for k, ag in enumerate(problem.agents) if ag.agent_id == a)
    fixed_nodes = [node_of[vid] for vid, _ in an.fixed]
    nodes = [*fixed_nodes, *(node_of[vid] for vid in sequence)]
    pinned = {node_of[vid]: start for vid, start in an.fixed}
    legs: dict[int, Leg] = {}
    if an.resume.elsewhere and sequence:
        legs[len(fixed_nodes)] = _leg(whole, ai, an.resume, node_of[sequence[0]])
    if a in whole.back_late:
        if sequence:
            return Timed(None, len(fixed_nodes))  # nothing fits after a day past the shift
        # The day as reported, back late: with the break it owes if it still fits.
        for place in (True, False):
            timed = schedule(
                problem,
                ai,
                nodes,
                depart_s=an.depart_s,
                pinned=pinned,
                brk=an.kept_break,
                break_hint_s=whole.planned_break.get(a),
                place_break=place,
                late_return=True,
            )
            if timed.route is not None:
                return timed
        return timed
    bounds = [
        {node_of[vid]: max(whole.not_before[vid], whole.planned.get(vid, 0)) for vid in sequence},
        {node_of[vid]: whole.not_before[vid] for vid in sequence},
        {
            node_of[vid]: whole.now_s if vid in whole.told else whole.not_before[vid]
            for vid in sequence
        },
    ]
    if not strict:
        bounds = bounds[1:]
    timed = refused = Timed(None)
    bumped_once = False
    for not_before in bounds:
        for jit in (True, False) if not an.out else (False,):
            timed = schedule(
                problem,
                ai,
                nodes,
                depart_s=an.depart_s,
                pinned=pinned,
                not_before=not_before,
                legs=legs,
                brk=an.kept_break,
                break_not_before=an.resume.time_s if an.out else 0,
                break_hint_s=whole.planned_break.get(a),
                just_in_time=jit,
            )
            if timed.route is None:
                continue
            led = _with_lead(whole, ai, nodes, timed, not_before, jit, pinned, legs, an)
            if led.route is not None:
                return led
            refused, bumped_once = led, True
    if not sequence:
        # What stands left no room for the break it owed: the day is as reported.
        return schedule(
            problem,
            ai,
            nodes,
            depart_s=an.depart_s,
            pinned=pinned,
            legs=legs,
            brk=an.kept_break,
            place_break=False,
        )
    # A timing that holds only by telling a window too soon is no timing: the caller
    # drops a stop (the late one, or the last) and tries again.
    return refused if bumped_once else timed


def _with_lead(
    whole: _Day,
    ai: int,
    nodes: Sequence[int],
    timed: Timed,
    not_before: Mapping[int, int],
    jit: bool,
    pinned: Mapping[int, int],
    legs: Mapping[int, Leg],
    an: _AgentNow,
) -> Timed:
    """Visits leaving their told window start no sooner than now plus the lead."""
    assert timed.route is not None
    lead_at = whole.now_s + whole.lead_s
    bumped = dict(not_before)
    node_of = whole.problem.visit_index()
    for s in timed.route.stops:
        told = whole.told.get(s.visit_id)
        node = node_of[s.visit_id]
        if node in pinned or told is None or told.contains(s.start_s) or s.start_s >= lead_at:
            continue
        bumped[node] = lead_at
    if bumped == dict(not_before):
        return timed
    # Hard: a new window never opens before now plus the lead. When the bump breaks
    # the route, the caller drops the stop that no longer fits, with the reason.
    return schedule(
        whole.problem,
        ai,
        nodes,
        depart_s=an.depart_s,
        pinned=pinned,
        not_before=bumped,
        legs=legs,
        brk=an.kept_break,
        break_not_before=an.resume.time_s if an.out else 0,
        just_in_time=jit,
    )


def _leg(whole: _Day, ai: int, resume: _Resume, node: int) -> Leg:
    agent = whole.problem.agents[ai]
    m = whole.provider.matrix([resume.position, whole.problem.points[node]], agent.mode)
    return Leg(resume.time_s, int(m.seconds[0, 1]), int(m.metres[0, 1]))


def _verified(plan: Plan, visits: Sequence[Visit], whole: _Day) -> None:
    """The whole new day (what stands and the re-planned rest) through the verifier."""
    starts = {vid: start for an in whole.now.values() for vid, start in an.fixed}
    legs: dict[str, Leg] = {}
    missed: set[str] = set()
    for r in plan.routes:
        an = whole.now[r.agent_id]
        k = len(an.fixed)
        if an.resume.elsewhere and k < len(r.stops):
            ai = next(i for i, ag in enumerate(whole.problem.agents) if ag.agent_id == r.agent_id)
            legs[r.stops[k].visit_id] = _leg(
                whole, ai, an.resume, whole.problem.visit_index()[r.stops[k].visit_id]
            )
        rule = an.agent.break_rule
        if r.break_start_s is None and owes_break(rule, r.depart_s, r.return_s) and not r.stops[k:]:
            missed.add(r.agent_id)  # the reported day left no room for it
    facts = Facts(starts, legs, frozenset(missed), late_returns=frozenset(whole.back_late))
    errors = check_plan(plan, visits, whole.problem, facts=facts)
    for agent_id, an in whole.now.items():
        route = plan.route_of(agent_id)
        kept = [(s.visit_id, s.start_s) for s in (route.stops if route else ())][: len(an.fixed)]
        if kept != list(an.fixed):
            errors.append(f"{agent_id}: a done, started or past stop moved")
    if errors:
        raise VerificationError(errors)


def _reasons(
    day: DayPlan,
    facts: _Facts,
    visits: Mapping[str, Visit],
    agents_now: Mapping[str, _AgentNow],
    pre_unassigned: Mapping[str, str],
    solved: Mapping[str, str],
    late: Mapping[str, str],
    routes: Mapping[str, Route],
    back_late: Mapping[str, int] | None = None,
) -> dict[str, str]:
    """Why each visit in no route is there: every input visit ends somewhere."""
    routed = {s.visit_id for r in routes.values() for s in r.stops}
    fixed_ids = {vid for an in agents_now.values() for vid, _ in an.fixed}
    old_agent = {s.visit_id: r.agent_id for r in day.plan.routes for s in r.stops}
    old_reason = {u.visit_id: u.reason for u in day.plan.unassigned}
    new_ids = {v.visit_id for v in facts.new}
    off = facts.off
    urgent_on: dict[str, list[Visit]] = {
        a: sorted(
            (visits[s.visit_id] for s in r.stops if s.visit_id in new_ids),
            key=lambda v: -v.priority,
        )
        for a, r in routes.items()
    }
    out: dict[str, str] = {}
    for vid in visits:
        if vid in routed:
            continue
        was_on = old_agent.get(vid)
        e = facts.state.get(vid)
        if e is not None and e.kind is EventKind.CANCELLED:
            out[vid] = _with_note(f"cancelled at {hm(e.at_s)}", e.reason)
        elif e is not None and e.kind is EventKind.FAILED:
            out[vid] = _with_note(f"failed at {hm(e.at_s)}: needs a new appointment", e.reason)
        elif e is not None and vid not in fixed_ids:
            out[vid] = _with_note(
                f"reported {e.kind} at {hm(e.at_s)} but not in any route", e.reason
            )
        elif vid in pre_unassigned:
            out[vid] = _off_reason(vid, old_agent, off, pre_unassigned[vid]) or pre_unassigned[vid]
            if out[vid] == NOT_GEOCODED and old_reason.get(vid):
                out[vid] = old_reason[vid]
        elif vid in late:
            out[vid] = late[vid]
        elif not facts.any and vid in old_reason:
            out[vid] = old_reason[vid]
        else:
            reason = solved.get(vid) or old_reason.get(vid) or NOT_ENOUGH_TIME
            urgent = next(
                (v for v in urgent_on.get(was_on or "", []) if v.priority > visits[vid].priority),
                None,
            )
            if was_on is not None and was_on in (back_late or {}) and was_on not in off:
                out[vid] = (
                    f"agent {was_on} is back only after the shift ends (at "
                    f"{hm((back_late or {})[was_on])}) from the visits reported, and no "
                    "other agent could take it"
                )
            elif was_on is not None and urgent is not None:
                out[vid] = f"displaced by urgent visit {urgent.visit_id}"
            elif was_on is not None and off and was_on not in off:
                left = ", ".join(sorted(off))
                out[vid] = f"pushed out when agent {left} left for the day: {reason}"
            else:
                out[vid] = _off_reason(vid, old_agent, off, reason) or reason
    return out


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


def _resumed_agent(an: _AgentNow, visits: Mapping[str, Visit]) -> Agent:
    """The agent for the remainder's search: starting where and when it resumes."""
    agent = an.agent
    t0 = an.resume.time_s
    rule = agent.break_rule
    if an.kept_break is not None:
        t0 = max(t0, an.kept_break[1])
        rule = None
    elif rule is not None:
        # Out working: the break cannot lie before the resume time. Not yet out (still
        # at the base): a break before leaving is lunch at home.
        earliest = max(rule.window.start_s, t0) if an.out else rule.window.start_s
        rule = (
            BreakRule(TimeWindow(earliest, rule.window.end_s), rule.duration_s)
            if earliest <= rule.window.end_s
            else None
        )
    t0 = min(max(t0, agent.shift.start_s), agent.shift.end_s)
    done = len(an.fixed)
    return replace(
        agent,
        start=an.resume.position,
        end=agent.end_point,
        shift=TimeWindow(t0, agent.shift.end_s),
        break_rule=rule,
        max_visits=None if agent.max_visits is None else max(agent.max_visits - done, 0),
        capacity=None
        if agent.capacity is None
        else max(agent.capacity - sum(visits[vid].demand for vid, _ in an.fixed), 0),
    )


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
    standing: set[str] | frozenset[str] = frozenset(),
) -> tuple[Change, ...]:
    """Only what changed: agent moves, starts outside the told window, (un)assignments.

    ``standing`` visits (reported done or started, or held as done) are not changes:
    a late start that was reported is news to nobody.
    """
    was = {s.visit_id: (r.agent_id, s.start_s) for r in old.routes for s in r.stops}
    now = {s.visit_id: (r.agent_id, s.start_s) for r in new.routes for s in r.stops}
    why = {u.visit_id: u.reason for u in new.unassigned}
    out: list[Change] = []
    for vid in visits:
        if vid in standing:
            continue
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
    late = [
        f"Back after the shift: {a} at {hm(back)} (shift ends {hm(end)}), from the visits "
        "reported; nothing more is planned for them today."
        for a, (back, end) in sorted(result.back_late.items())
    ]
    if not result.changes:
        return "\n".join(
            ["No changes: every remaining visit keeps its agent and told window.", *late]
        )
    lines = ["Changes:", *late]
    for row in changes_rows(result.changes):
        move = f"{row['old_agent'] or '-'} {row['old_start'] or ''} -> {row['new_agent'] or '-'} {row['new_start'] or ''}"
        extra = f"  ({row['reason']})" if row["reason"] else ""
        lines.append(f"  {row['visit_id']:<10} {row['change']:<40} {move}{extra}")
    notify = [c.visit_id for c in result.changes if c.notify]
    lines.append(f"New notice needed for: {', '.join(notify) if notify else 'nobody'}")
    if result.new_appointment:
        lines.append(f"Book a new appointment for: {', '.join(result.new_appointment)}")
    return "\n".join(lines)
