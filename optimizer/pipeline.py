"""The one place that knows the order of the steps from inputs to a verified plan."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from optimizer.day import NOT_GEOCODED, DayPlan, route_lines
from optimizer.domain import Agent, Visit
from optimizer.errors import InputError, Issue, VerificationError
from optimizer.feasibility import precheck
from optimizer.geocoding.base import Geocoder
from optimizer.geocoding.resolve import LocateResult, locate
from optimizer.plan import Plan, SolverInfo, build_plan
from optimizer.problem import RoutingProblem, build_problem, subset
from optimizer.settings import Settings
from optimizer.sizing import check_day_fits
from optimizer.solve.assignment import ProgressCallback, Stability
from optimizer.solve.parallel import solve_parallel
from optimizer.travel.base import TravelProvider
from optimizer.verify import check_plan

logger = logging.getLogger(__name__)


def travel_provider(
    settings: Settings, progress: Callable[[str], None] | None = None
) -> TravelProvider:
    """OSRM when ``[roads]`` names an extract (prepared on first use), else straight-line.

    Raises
    ------
    RoadDataError
        The extract is missing or not OSM data, or preparing it failed.
    """
    if settings.roads.extract is None:
        return settings.travel.model()
    from optimizer.travel.osrm import OsrmProvider
    from optimizer.travel.prepare import ensure_roads

    datasets = ensure_roads(
        Path(settings.roads.extract),
        settings.roads.profiles,
        Path(settings.roads.dir),
        progress,
    )
    return OsrmProvider(
        datasets,
        snap_limit_m=settings.roads.snap_limit_m,
        ebike_speed_factor=settings.roads.ebike_speed_factor,
        fallback=settings.travel.model(),
    )


def plan_day(
    visits: Sequence[Visit],
    agents: Sequence[Agent],
    settings: Settings,
    *,
    date: dt.date,
    travel: TravelProvider | None = None,
    on_progress: ProgressCallback | None = None,
    geocoder: Geocoder | None = None,
    agents_source: str = "agents.csv",
) -> DayPlan:
    """Plan one day. Raises VerificationError if the plan breaks any constraint (a bug).

    With a ``geocoder``, visits and agents given by address are located first (and
    every visit is checked against ``[geocoder]``'s service area); visits that cannot
    be located go to unassigned with the reason, and the day is planned without them.
    Without one, such visits are unassigned as "address not geocoded".

    Raises
    ------
    DayTooLargeError
        The day would not fit in memory (before anything is geocoded or built).
    InputError
        An agent's base cannot be located.
    GeocodingServiceError
        The geocoding service could not be asked.
    """
    # Refused before geocoding too: an hour of geocoding for a day that cannot be
    # planned helps nobody (build_problem checks again with the located visits).
    check_day_fits(len(visits), len(agents), len({a.mode for a in agents}))
    provider = travel if travel is not None else travel_provider(settings)
    visits, agents, geocoding = locate_inputs(
        visits, agents, settings, geocoder, agents_source=agents_source
    )
    pre_unassigned = unlocated_reasons(visits, geocoding)
    located = [v for v in visits if v.location is not None]
    full = build_problem(located, agents, provider)
    reasons = precheck(full)
    for i, reason in reasons.items():
        pre_unassigned[full.visits[i].visit_id] = reason
    problem = subset(full, [i for i in range(full.num_visits) if i not in reasons])
    del full  # its matrices, when subset copied them: not kept twice
    logger.info(
        "solving %d visits with %d agents (%d set aside before solving)",
        problem.num_visits,
        len(agents),
        len(pre_unassigned),
    )
    plan = solve_and_verify(
        problem,
        visits,
        pre_unassigned,
        settings,
        provider,
        date=date,
        on_progress=on_progress,
    )
    lines = route_lines(problem, plan, provider)
    return DayPlan(
        plan, tuple(visits), tuple(agents), problem, settings, geocoding, route_lines=lines
    )


def solve_and_verify(
    problem: RoutingProblem,
    visits: Sequence[Visit],
    pre_unassigned: Mapping[str, str],
    settings: Settings,
    provider: TravelProvider,
    *,
    date: dt.date,
    on_progress: ProgressCallback | None = None,
    initial_routes: Sequence[Sequence[int]] | None = None,
    stability: Stability | None = None,
) -> Plan:
    """Solve ``problem``, build the plan of ``visits`` and have the verifier check it.

    The one solve step every flow takes, so that no flow can write a plan the verifier
    has not seen. ``visits`` are all the day's visits (also those set aside before the
    solve, in ``pre_unassigned`` with their reasons), in input order. A re-plan seeds
    the search with the routes as they stand (``initial_routes``) and prices changes
    to them (``stability``).

    Raises
    ------
    VerificationError
        The plan breaks a constraint (a bug: the solver and the verifier disagree).
    """
    assignment = solve_parallel(
        problem,
        settings.solver,
        on_progress=on_progress,
        initial_routes=initial_routes,
        stability=stability,
    )
    info = SolverInfo(
        engine="ortools",
        status=assignment.status,
        time_limit_s=settings.solver.time_limit_s,
        wall_s=round(assignment.wall_s, 2),
        objective=assignment.objective,
        lost_searches=assignment.lost_searches,
    )
    plan = build_plan(
        problem,
        assignment,
        pre_unassigned,
        date=date,
        timezone=settings.timezone,
        solver=info,
        travel=provider.describe(),
        visit_order=[v.visit_id for v in visits],
    )
    violations = check_plan(plan, visits, problem)
    if violations:
        raise VerificationError(violations)
    logger.info(
        "plan verified: %d routed, %d unassigned", len(plan.assigned_ids), len(plan.unassigned)
    )
    return plan


def unlocated_reasons(visits: Sequence[Visit], geocoding: LocateResult | None) -> dict[str, str]:
    """Why each visit with no point stays out of the plan: what locating said, else
    "not geocoded" (an address given with no geocoder asked)."""
    reasons = dict(geocoding.unlocated) if geocoding is not None else {}
    for v in visits:
        if v.location is None:
            reasons.setdefault(v.visit_id, NOT_GEOCODED)
    return reasons


def locate_inputs(
    visits: Sequence[Visit],
    agents: Sequence[Agent],
    settings: Settings,
    geocoder: Geocoder | None,
    *,
    agents_source: str = "agents.csv",
) -> tuple[Sequence[Visit], Sequence[Agent], LocateResult | None]:
    """Locate what was given by address, or refuse agents that cannot do without it.

    With a ``geocoder``: the located visits and agents and what locating did (visits it
    could not place are in ``unlocated`` with their reasons). Without one, an agent base
    given only as an address is an input error; visits stay as they are.

    Raises
    ------
    InputError
        An agent's base cannot be located.
    GeocodingServiceError
        The geocoding service could not be asked.
    """
    if geocoder is not None:
        geo = settings.geocoder
        result = locate(
            visits,
            agents,
            geocoder,
            accept_coarse=geo.accept_coarse,
            service_bbox=geo.service_bbox,
            service_radius_km=geo.service_radius_km,
            agents_source=agents_source,
        )
        return result.visits, result.agents, result
    unplaced = [
        Issue(
            agents_source,
            a.source_row,
            f"{end}_address",
            address,
            f"cannot be used without a geocoder; give {end}_lat/{end}_lon",
        )
        for a in agents
        for end, point, address in (
            ("start", a.start, a.start_address),
            ("end", a.end, a.end_address),
        )
        if point is None and (end == "start" or address)
    ]
    if unplaced:
        raise InputError(unplaced)
    return visits, agents, None
