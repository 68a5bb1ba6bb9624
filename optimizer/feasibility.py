"""Visits that no plan could serve, found before solving, each with a plain reason.

These are certain: a visit listed here cannot be in any valid plan. What is left is
up to the solver, and its drops get reasons in :mod:`optimizer.plan`.
"""

from __future__ import annotations

from optimizer.clock import format_hhmm
from optimizer.domain import DAY_S
from optimizer.problem import RoutingProblem


def able_agents(problem: RoutingProblem, visit_index: int) -> list[int]:
    """Agents whose skills, pin, capacity and max_visits allow the visit."""
    v = problem.visits[visit_index]
    return [
        a
        for a, agent in enumerate(problem.agents)
        if agent.can_do(v)
        and agent.max_visits != 0
        and (agent.capacity is None or agent.capacity >= v.demand)
    ]


def precheck(problem: RoutingProblem) -> dict[int, str]:
    """Visit index -> reason, for every visit that cannot be served by anyone."""
    reasons: dict[int, str] = {}
    for i in range(problem.num_visits):
        reason = _reason(problem, i)
        if reason:
            reasons[i] = reason
    return reasons


def _reason(problem: RoutingProblem, i: int) -> str | None:
    v = problem.visits[i]
    agents = problem.agents
    for mode, matrix in problem.matrices.items():
        if i in matrix.unreachable and all(a.mode == mode for a in agents):
            return matrix.unreachable[i]
    if v.pinned_agent is not None:
        pinned = next((a for a in agents if a.agent_id == v.pinned_agent), None)
        if pinned is None:
            return f"pinned to agent {v.pinned_agent}, who is not working today"
        missing = sorted(v.skills - pinned.skills)
        if missing:
            return (
                f"pinned to agent {pinned.agent_id}, who lacks the skill(s): {', '.join(missing)}"
            )
    elif v.skills and not any(v.skills <= a.skills for a in agents):
        have = set().union(*(a.skills for a in agents)) if agents else set()
        missing = sorted(v.skills - have) or sorted(v.skills)
        return f"no agent has the skill(s): {', '.join(missing)}"
    skilled = [a for a, agent in enumerate(agents) if agent.can_do(v)]
    if not skilled:
        return "no agent can take it (skills and pin)"
    if all(agents[a].capacity is not None and agents[a].capacity < v.demand for a in skilled):  # type: ignore[operator]
        return f"its demand ({v.demand}) exceeds every able agent's capacity"
    able = able_agents(problem, i)
    if not able:
        return "every able agent has max_visits 0"
    window = problem.window(i)
    in_shift = [
        a
        for a in able
        if window.start_s <= agents[a].shift.end_s - v.duration_s
        and window.end_s >= agents[a].shift.start_s
    ]
    if not in_shift:
        if v.window is None:
            return (
                f"its duration ({v.duration_s // 60} min) is longer than every able agent's shift"
            )
        if window.end_s >= DAY_S:  # open until the day ends: only a start bound (a re-plan's now)
            return (
                f"it cannot start before {format_hhmm(window.start_s)}, "
                "too late for every able agent's shift"
            )
        return (
            f"appointment window {format_hhmm(window.start_s)}-{format_hhmm(window.end_s)} "
            "is outside every able agent's shift"
        )
    best_arrival: int | None = None
    for a in in_shift:
        agent = agents[a]
        if i in problem.matrices[agent.mode].unreachable:
            continue
        arrive = agent.shift.start_s + problem.travel_s(a, problem.start_node(a), i)
        start = max(arrive, window.start_s)
        back = start + v.duration_s + problem.travel_s(a, i, problem.end_node(a))
        if start <= window.end_s and back <= agent.shift.end_s:
            return None
        best_arrival = arrive if best_arrival is None else min(best_arrival, arrive)
    if best_arrival is None:
        reasons = {problem.matrices[agents[a].mode].unreachable.get(i) for a in in_shift}
        return next((r for r in reasons if r), "unreachable by every able agent's travel mode")
    if best_arrival > window.end_s:
        return (
            f"cannot be reached in time: the earliest arrival from any able agent's start is "
            f"{format_hhmm(best_arrival)}, after the window closes at {format_hhmm(window.end_s)}"
        )
    return "cannot be done and still get back before the end of any able agent's shift"
