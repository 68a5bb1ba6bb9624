"""Locate visits and agents that have an address but no coordinates, and check the answers.

Every visit comes back, located where it can be; the ones that cannot be routed
carry a reason a dispatcher can act on (:data:`REASONS` lists them) and go to the
plan's unassigned list. Agents are different: a base that cannot be located is an
input problem (an :class:`~optimizer.errors.Issue` with file, row and column), since
no route can start from nowhere.

Logs name visits by id, never by address: addresses are borrowers' homes.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from optimizer.domain import Agent, GeoPoint, Visit
from optimizer.errors import InputError, Issue
from optimizer.geocoding.base import (
    Geocoder,
    GeocodeResult,
    LookupUnavailableError,
    has_house_number,
    normalize_address,
)

logger = logging.getLogger(__name__)

EARTH_RADIUS_KM = 6371.0088

#: What each reason means, for the README and ``--help``; the texts start with these.
REASONS = {
    "address not geocoded: not found by <provider>": "the geocoder knows no such address",
    "address not geocoded: not in the geocoding cache, and --offline forbids asking": "--offline kept the online provider from being asked",
    "address not geocoded: no gazetteer at <path>": "the gazetteer file is missing",
    "address found only at <district|city> level": "the match is a district or town although a house number was given (--accept-coarse routes it anyway)",
    "geocoded outside the service area": "the answer lies outside [geocoder] service_bbox or service_radius_km",
    "given coordinates lie outside the service area": "the file's own lat/lon lie outside the service area",
    "no address and no coordinates": "the row gives neither",
}


class _Area:
    """The configured service area: a box and/or a radius around the agents' bases."""

    def __init__(
        self,
        bbox: tuple[float, float, float, float] | None,
        radius_km: float | None,
        bases: Sequence[GeoPoint],
    ) -> None:
        self.bbox = bbox
        self.radius_km = radius_km if bases else None
        self.bases = tuple(bases)

    def problem(self, point: GeoPoint) -> str | None:
        """None when inside, else what is wrong, without any address."""
        if self.bbox is not None:
            s, w, n, e = self.bbox
            if not (s <= point.lat <= n and w <= point.lon <= e):
                return f"outside the service area (box {s:g},{w:g} - {n:g},{e:g})"
        if self.radius_km is not None:
            nearest = min(_km(point, b) for b in self.bases)
            if nearest > self.radius_km:
                return (
                    f"outside the service area ({nearest:.1f} km from the nearest "
                    f"agent base; limit {self.radius_km:g} km)"
                )
        return None


def _km(a: GeoPoint, b: GeoPoint) -> float:
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True, slots=True)
class Place:
    """Anything to locate: a visit, or a row of a file the ``geocode`` command reads."""

    key: str  # visit id (or "row N")
    address: str
    given: GeoPoint | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one place. ``point`` is set only when it may be routed."""

    point: GeoPoint | None
    answer: GeocodeResult | None = None  # the geocoder's answer, also when flagged
    reason: str | None = None  # why it cannot be routed


@dataclass(frozen=True, slots=True)
class LocateResult:
    """Located copies of the visits and agents, with reasons and warnings.

    ``visits`` holds every visit in input order; those in ``unlocated`` have no
    ``location`` and must go to unassigned with that reason. ``answers`` keeps each
    geocoder answer (flagged ones too) by visit id for review files.
    """

    visits: tuple[Visit, ...]
    agents: tuple[Agent, ...]
    unlocated: Mapping[str, str]
    answers: Mapping[str, GeocodeResult]
    warnings: tuple[str, ...]
    lookups: int

    @property
    def routable(self) -> tuple[Visit, ...]:
        return tuple(
            v for v in self.visits if v.visit_id not in self.unlocated and v.location is not None
        )


class _Lookup:
    """One geocoder call per distinct address per run (several visits, one door)."""

    def __init__(self, geocoder: Geocoder) -> None:
        self.geocoder = geocoder
        self.calls = 0
        self._memo: dict[str, GeocodeResult | LookupUnavailableError | None] = {}

    def __call__(self, address: str) -> GeocodeResult | None:
        key = normalize_address(address)
        if not key:
            return None
        if key not in self._memo:
            self.calls += 1
            try:
                self._memo[key] = self.geocoder.geocode(address)
            except LookupUnavailableError as err:
                self._memo[key] = err
        answer = self._memo[key]
        if isinstance(answer, LookupUnavailableError):
            raise answer
        return answer


def _judge(
    address: str,
    answer: GeocodeResult | None,
    area: _Area,
    *,
    accept_coarse: bool,
    provider: str,
) -> Outcome:
    if answer is None:
        return Outcome(
            None,
            None,
            f"address not geocoded: not found by {provider}; correct the address or add lat/lon",
        )
    if answer.quality.is_coarse and not accept_coarse and has_house_number(address):
        reason = (
            f"address found only at {answer.quality.value} level by {answer.source} although it "
            "has a house number; correct the address, add lat/lon, or plan with --accept-coarse"
        )
        return Outcome(None, answer, reason)
    problem = area.problem(answer.point)
    if problem is not None:
        return Outcome(
            None, answer, f"geocoded {problem}; check the address (another town?) or add lat/lon"
        )
    return Outcome(answer.point, answer)


def locate_places(
    places: Sequence[Place],
    geocoder: Geocoder,
    *,
    accept_coarse: bool = False,
    service_bbox: tuple[float, float, float, float] | None = None,
    service_radius_km: float | None = None,
    bases: Sequence[GeoPoint] = (),
    lookup: _Lookup | None = None,
) -> tuple[dict[str, Outcome], list[str]]:
    """Locate and check each place; the pure core of :func:`locate` and ``geocode``.

    Returns outcomes by ``place.key`` and warnings (points shared by different
    addresses).

    Raises
    ------
    GeocodingServiceError
        The provider could not be asked; answers so far are already cached.
    """
    lookup = lookup or _Lookup(geocoder)
    area = _Area(service_bbox, service_radius_km, bases)
    provider = geocoder.name.split(":")[0]
    outcomes: dict[str, Outcome] = {}
    for place in places:
        if place.given is not None:
            problem = area.problem(place.given)
            reason = (
                f"given coordinates lie {problem}; check lat/lon (swapped?)" if problem else None
            )
            outcomes[place.key] = Outcome(None if reason else place.given, None, reason)
        elif not place.address.strip():
            outcomes[place.key] = Outcome(
                None, None, "no address and no coordinates; add one of them"
            )
        else:
            try:
                answer = lookup(place.address)
            except LookupUnavailableError as err:
                outcomes[place.key] = Outcome(None, None, err.reason)
            else:
                outcomes[place.key] = _judge(
                    place.address, answer, area, accept_coarse=accept_coarse, provider=provider
                )
        outcome = outcomes[place.key]
        if outcome.reason:
            logger.info("%s: %s", place.key, outcome.reason)
        elif outcome.answer is not None:
            logger.debug(
                "%s: located (%s, %s)",
                place.key,
                outcome.answer.quality.value,
                outcome.answer.source,
            )
    return outcomes, _shared_points(places, outcomes)


def _shared_points(places: Iterable[Place], outcomes: Mapping[str, Outcome]) -> list[str]:
    """Different addresses at one point: often a street-level match or a wrong house."""
    groups: dict[tuple[float, float], list[Place]] = defaultdict(list)
    for place in places:
        point = outcomes[place.key].point
        if point is not None and place.address.strip():
            groups[(round(point.lat, 6), round(point.lon, 6))].append(place)
    warnings = []
    for (lat, lon), group in groups.items():
        if len({normalize_address(p.address) for p in group}) > 1:
            ids = ", ".join(p.key for p in group)
            warnings.append(
                f"visits {ids} are located at the same point ({lat:.5f}, {lon:.5f}) "
                "although their addresses differ; check that each address is complete"
            )
    return warnings


def locate(
    visits: Sequence[Visit],
    agents: Sequence[Agent],
    geocoder: Geocoder,
    *,
    accept_coarse: bool = False,
    service_bbox: tuple[float, float, float, float] | None = None,
    service_radius_km: float | None = None,
    agents_source: str = "agents.csv",
) -> LocateResult:
    """Locate agents' bases and visits given only by address; check every answer.

    Agents first: a base that cannot be located (not found, coarse, outside the box)
    is an input problem. Then visits, checked against the service area (a box and/or
    a radius around the located bases).

    Raises
    ------
    InputError
        An agent's start or end address cannot be located (file, row, column).
    GeocodingServiceError
        The provider could not be asked.
    """
    lookup = _Lookup(geocoder)
    located_agents, issues = _locate_agents(
        agents,
        geocoder,
        lookup,
        accept_coarse=accept_coarse,
        service_bbox=service_bbox,
        source=agents_source,
    )
    if issues:
        raise InputError(issues)
    bases = [p for a in located_agents for p in (a.start, a.end) if p is not None]
    places = [Place(v.visit_id, v.address, v.location) for v in visits]
    outcomes, warnings = locate_places(
        places,
        geocoder,
        accept_coarse=accept_coarse,
        service_bbox=service_bbox,
        service_radius_km=service_radius_km,
        bases=bases,
        lookup=lookup,
    )
    out_visits = []
    unlocated: dict[str, str] = {}
    answers: dict[str, GeocodeResult] = {}
    for visit in visits:
        outcome = outcomes[visit.visit_id]
        if outcome.answer is not None:
            answers[visit.visit_id] = outcome.answer
        if outcome.reason is not None:
            unlocated[visit.visit_id] = outcome.reason
            out_visits.append(replace(visit, location=None))
        else:
            out_visits.append(replace(visit, location=outcome.point))
    for w in warnings:
        logger.warning("%s", w)
    return LocateResult(
        tuple(out_visits), tuple(located_agents), unlocated, answers, tuple(warnings), lookup.calls
    )


def _locate_agents(
    agents: Sequence[Agent],
    geocoder: Geocoder,
    lookup: _Lookup,
    *,
    accept_coarse: bool,
    service_bbox: tuple[float, float, float, float] | None,
    source: str,
) -> tuple[list[Agent], list[Issue]]:
    area = _Area(service_bbox, None, ())
    provider = geocoder.name.split(":")[0]
    issues: list[Issue] = []
    out: list[Agent] = []
    for agent in agents:
        changes: dict[str, GeoPoint] = {}
        for field, column, point, address in (
            ("start", "start_address", agent.start, agent.start_address),
            ("end", "end_address", agent.end, agent.end_address),
        ):
            if point is not None or not address.strip():
                continue
            try:
                outcome = _judge(
                    address, lookup(address), area, accept_coarse=accept_coarse, provider=provider
                )
            except LookupUnavailableError as err:
                outcome = Outcome(None, None, err.reason)
            if outcome.reason is not None:
                problem = f"agent {agent.agent_id}'s {field} cannot be located: {outcome.reason}"
                issues.append(Issue(source, agent.source_row, column, address, problem))
            else:
                assert outcome.point is not None
                changes[field] = outcome.point
        if agent.start is None and "start" not in changes and not agent.start_address.strip():
            issues.append(
                Issue(
                    source,
                    agent.source_row,
                    "start_address",
                    None,
                    f"agent {agent.agent_id} has no start: give start_lat/start_lon or start_address",
                )
            )
        out.append(replace(agent, **changes) if changes else agent)  # type: ignore[arg-type]
    return out, issues
