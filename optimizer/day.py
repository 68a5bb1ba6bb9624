"""The verified day (and horizon of days): the plan plus what every renderer needs.

Renderers take a DayPlan and never run a step, so this module imports no flow."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from optimizer.domain import Agent, GeoPoint, Visit
from optimizer.geocoding.resolve import LocateResult
from optimizer.plan import Plan
from optimizer.problem import RoutingProblem
from optimizer.settings import Settings
from optimizer.travel.base import TravelProvider

NOT_GEOCODED = "address not geocoded: add lat/lon to the visit or correct the address"


@dataclass(frozen=True, slots=True)
class DayPlan:
    """A verified plan with everything needed to render, export or re-open it.

    A day planned by regions (optimizer.regions) has a ``problem`` without matrices:
    they exist per region only, and the day is verified with
    :func:`optimizer.verify.check_regions`.
    """

    plan: Plan
    visits: tuple[Visit, ...]
    agents: tuple[Agent, ...]
    problem: RoutingProblem
    settings: Settings
    #: What geocoding did (None when nothing needed locating): answers, reasons, warnings.
    geocoding: LocateResult | None = None
    #: Per agent with a route: the line to draw, along the roads when road data was
    #: used (start, stops, end otherwise).
    route_lines: Mapping[str, tuple[GeoPoint, ...]] = field(default_factory=dict)
    #: Per routed visit: the borrower's own link (web console), added to their notice.
    notice_links: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HorizonEntry:
    """Where one visit went: a day, agent and start, or unassigned with a reason."""

    visit_id: str
    date: dt.date | None
    agent_id: str | None
    start_s: int | None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class HorizonPlan:
    """The verified days of a horizon and every visit's place in it (input order)."""

    dates: tuple[dt.date, ...]
    days: tuple[DayPlan, ...]
    entries: tuple[HorizonEntry, ...]

    @property
    def unassigned(self) -> tuple[HorizonEntry, ...]:
        return tuple(e for e in self.entries if e.date is None)


def route_lines(
    problem: RoutingProblem, plan: Plan, provider: TravelProvider
) -> dict[str, tuple[GeoPoint, ...]]:
    """The line of each route, as the provider draws it (along the roads with OSRM)."""
    index = problem.visit_index()
    lines: dict[str, tuple[GeoPoint, ...]] = {}
    for k, agent in enumerate(problem.agents):
        route = plan.route_of(agent.agent_id)
        if route is None:
            continue
        stops = [problem.points[index[s.visit_id]] for s in route.stops]
        points = [problem.points[problem.start_node(k)], *stops]
        points.append(problem.points[problem.end_node(k)])
        lines[agent.agent_id] = tuple(provider.route_geometry(points, agent.mode))
    return lines
