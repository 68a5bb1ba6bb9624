"""The short text summary the CLI prints after planning."""

from __future__ import annotations

from collections import Counter

from optimizer.clock import format_hhmm as hm
from optimizer.day import DayPlan


def summary_table(day: DayPlan) -> str:
    """Per agent: visits, first start, last end, travel, distance, share of shift used."""
    plan = day.plan
    header = f"{'agent':<10}{'visits':>7}{'first':>8}{'last':>8}{'travel':>9}{'km':>8}{'shift':>7}"
    lines = [
        f"Plan for {plan.date.isoformat()} ({plan.timezone}); {plan.travel.get('note') or plan.travel.get('model', '')}",
        header,
        "-" * len(header),
    ]
    total_visits = total_travel = total_m = 0
    for agent in day.agents:
        route = plan.route_of(agent.agent_id)
        if route is None:
            lines.append(f"{agent.agent_id:<10}{'idle':>7}")
            continue
        shift = agent.shift.end_s - agent.shift.start_s
        used = (route.return_s - route.depart_s) / shift if shift else 0.0
        lines.append(
            f"{agent.agent_id:<10}{len(route.stops):>7}{hm(route.stops[0].start_s):>8}"
            f"{hm(route.stops[-1].end_s):>8}{route.travel_s / 60:>8.0f}m{route.distance_m / 1000:>8.1f}{used:>7.0%}"
        )
        total_visits += len(route.stops)
        total_travel += route.travel_s
        total_m += route.distance_m
    lines.append("-" * len(header))
    lines.append(
        f"{'total':<10}{total_visits:>7}{'':>16}{total_travel / 60:>8.0f}m{total_m / 1000:>8.1f}"
    )
    lines.append(f"{len(plan.unassigned)} of {len(day.visits)} visits unassigned")
    for reason, count in Counter(u.reason for u in plan.unassigned).most_common():
        lines.append(f"  {count:>4} x {reason}")
    return "\n".join(lines)
