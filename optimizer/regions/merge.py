"""One plan from the regions' plans: routes in the agents' order, unassigned in the visits'.

Pure. A region that could not be solved brings no routes, only its visits with the
reason; the merged plan is then verified as one (optimizer.verify.check_regions).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from optimizer.plan import Plan, Route, SolverInfo, Unassigned


def failed_reason(region: str, error: str) -> str:
    """The reason every visit of a region that could not be solved carries."""
    return f"region {region} could not be solved: {error}"


def merge_plans(
    parts: Sequence[Plan],
    unassigned: Mapping[str, str],
    *,
    date: dt.date,
    timezone: str,
    agent_order: Sequence[str],
    visit_order: Sequence[str],
    solver: SolverInfo,
    travel: Mapping[str, Any],
) -> Plan:
    """The day's plan: every part's routes and unassigned, plus ``unassigned`` (visits
    that reached no region: not located, region without agents, failed regions)."""
    agent_rank = {a: k for k, a in enumerate(agent_order)}
    routes: list[Route] = sorted(
        (r for p in parts for r in p.routes),
        key=lambda r: agent_rank.get(r.agent_id, len(agent_rank)),
    )
    reasons = dict(unassigned)
    for p in parts:
        reasons.update({u.visit_id: u.reason for u in p.unassigned})
    rank = {v: k for k, v in enumerate(visit_order)}
    items = sorted(reasons.items(), key=lambda kv: rank.get(kv[0], len(rank)))
    return Plan(
        date=date,
        timezone=timezone,
        routes=tuple(routes),
        unassigned=tuple(Unassigned(vid, why) for vid, why in items),
        solver=solver,
        travel=dict(travel),
    )


def merged_solver_info(
    parts: Mapping[str, Plan], failed: Mapping[str, str], *, time_limit_s: float, wall_s: float
) -> SolverInfo:
    """plan.json's solver block for the whole day: statuses counted, losses named by region."""
    statuses = Counter(p.solver.status for p in parts.values())
    statuses.update({"failed": len(failed)} if failed else {})
    status = ", ".join(f"{s} x{n}" for s, n in sorted(statuses.items()))
    lost = [
        f"region {r}: {why}" for r, p in sorted(parts.items()) for why in p.solver.lost_searches
    ]
    lost += [failed_reason(r, e) for r, e in sorted(failed.items())]
    return SolverInfo(
        engine="ortools",
        status=f"{len(parts) + len(failed)} regions: {status}" if statuses else "no regions",
        time_limit_s=time_limit_s,
        wall_s=round(wall_s, 2),
        objective=sum(p.solver.objective for p in parts.values()),
        lost_searches=tuple(lost),
    )
