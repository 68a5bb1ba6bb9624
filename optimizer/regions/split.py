"""Cutting a day into regions before any travel matrix exists.

Two ways. ``--regions column``: a ``region`` column in both files says where each visit
and agent belongs. ``--regions auto``: agents' bases closer than ``link_km`` (chained)
form one region, which is what a city is to a national team; a region with more than
``max_visits`` visits is cut by k-means over its bases, weighted by the visits nearest
each base. Every visit then goes to the region of the nearest base of an agent able to
take it (skills, pin), so a pinned or skilled visit is never stranded in a region that
cannot serve it.

Pure but for :func:`read_region_column`, which only opens a file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from optimizer.domain import Agent, GeoPoint, Visit
from optimizer.errors import InputError, Issue

REGION_COLUMN = "region"
EARTH_RADIUS_KM = 6371.0088
#: Lloyd iterations of the k-means cut; bases settle in a handful.
KMEANS_ITERATIONS = 25

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Region:
    """One region's share of the day: its visits and its agents, in input order."""

    name: str
    visits: tuple[Visit, ...]
    agents: tuple[Agent, ...]


@dataclass(frozen=True, slots=True)
class Split:
    """The regions (each with at least one agent) and the visits no region can take."""

    regions: tuple[Region, ...]
    #: Visit id -> reason, for visits whose region has no agent that could take them.
    unassigned: Mapping[str, str] = field(default_factory=dict)
    #: How the regions were made, in a sentence (the run's log and docs/regions.md).
    how: str = ""

    def region_of(self) -> dict[str, str]:
        """Visit id and agent id -> region name."""
        out = {v.visit_id: r.name for r in self.regions for v in r.visits}
        out.update({a.agent_id: r.name for r in self.regions for a in r.agents})
        return out


# --- --regions column -------------------------------------------------------------------


def read_region_column(path: Path, id_column: str) -> dict[str, tuple[int, str]]:
    """Id -> (spreadsheet row, region) from a visits or agents file.

    Read again here, not by the loader, so that the files' schema and the domain stay
    as they are for every flow that has no regions.

    Raises
    ------
    InputError
        The file has no ``region`` column.
    """
    from optimizer.inputs.load import read_table

    return parse_region_column(read_table(path), path.name, id_column)


def parse_region_column(
    frame: pd.DataFrame, source: str, id_column: str
) -> dict[str, tuple[int, str]]:
    """Id -> (row, region text) for every non-blank row (the region may be empty).

    Raises
    ------
    InputError
        The frame has no ``region`` column.
    """
    if REGION_COLUMN not in frame.columns:
        found = ", ".join(str(c) for c in frame.columns)
        problem = f"missing column '{REGION_COLUMN}' (needed by --regions column); found: {found}"
        raise InputError([Issue(source, 1, REGION_COLUMN, None, problem)])
    out: dict[str, tuple[int, str]] = {}
    for row, record in zip(frame.index, frame.to_dict("records"), strict=True):
        cells = {str(k): str(v).strip() for k, v in record.items()}
        if not any(cells.values()):
            continue
        out[cells.get(id_column, "")] = (int(row), cells[REGION_COLUMN])
    return out


def by_column(
    visits: Sequence[Visit],
    agents: Sequence[Agent],
    visit_regions: Mapping[str, tuple[int, str]],
    agent_regions: Mapping[str, tuple[int, str]],
    *,
    visits_source: str = "visits.csv",
    agents_source: str = "agents.csv",
) -> Split:
    """Regions as the files name them.

    A visit or agent without a region is an input error (all of them, in one go). A
    region with visits and no agents keeps its visits unassigned, with that reason; a
    visit pinned to an agent of another region too.

    Raises
    ------
    InputError
        A visit or agent has an empty ``region`` cell.
    """
    issues: list[Issue] = []

    def region(source: str, table: Mapping[str, tuple[int, str]], key: str, what: str) -> str:
        row, name = table.get(key, (None, ""))
        if not name:
            problem = f"is empty; expected the {what}'s region (--regions column)"
            issues.append(Issue(source, row, REGION_COLUMN, "", problem))
        return name

    agent_region = {
        a.agent_id: region(agents_source, agent_regions, a.agent_id, "agent") for a in agents
    }
    visit_region = {
        v.visit_id: region(visits_source, visit_regions, v.visit_id, "visit") for v in visits
    }
    if issues:
        raise InputError(issues)
    names = sorted(set(agent_region.values()))
    staffed = set(names)
    unassigned: dict[str, str] = {}
    members: dict[str, list[Visit]] = {n: [] for n in names}
    for v in visits:
        name = visit_region[v.visit_id]
        pin = v.pinned_agent
        if name not in staffed:
            unassigned[v.visit_id] = f"region {name} has no agents in {agents_source}"
        elif pin is not None and pin in agent_region and agent_region[pin] != name:
            unassigned[v.visit_id] = (
                f"pinned to agent {pin} of region {agent_region[pin]}, but the visit is in region {name}"
            )
        else:
            members[name].append(v)
    regions = tuple(
        Region(n, tuple(members[n]), tuple(a for a in agents if agent_region[a.agent_id] == n))
        for n in names
    )
    return Split(
        regions, unassigned, how=f"{len(regions)} regions from the '{REGION_COLUMN}' column"
    )


# --- --regions auto ---------------------------------------------------------------------


def by_bases(
    visits: Sequence[Visit],
    agents: Sequence[Agent],
    *,
    max_visits: int,
    link_km: float,
) -> Split:
    """Regions from the agents' bases; every visit and agent must be located.

    Regions are named ``R01``, ``R02`` ... in the order of their first agent in the
    agents file, so the same files give the same names.
    """
    bases = [_base(a) for a in agents]
    if not agents:
        return Split((), {v.visit_id: "no agents today" for v in visits}, how="no agents")
    base_xyz = _unit(bases)
    nearest = _nearest_able_base(visits, agents, base_xyz)
    labels = _link_components(base_xyz, link_km)
    groups: list[list[int]] = []
    for label in sorted(set(labels), key=labels.index):
        members = [k for k, lab in enumerate(labels) if lab == label]
        groups += _cut(members, base_xyz, nearest, max_visits)
    groups.sort(key=min)
    region_of_agent = {k: g for g, members in enumerate(groups) for k in members}
    width = max(2, len(str(len(groups))))
    names = [f"R{g + 1:0{width}d}" for g in range(len(groups))]
    by_region: list[list[Visit]] = [[] for _ in groups]
    for v, k in zip(visits, nearest, strict=True):
        by_region[region_of_agent[int(k)]].append(v)
    regions = tuple(
        Region(names[g], tuple(by_region[g]), tuple(agents[k] for k in sorted(members)))
        for g, members in enumerate(groups)
    )
    cut = len(groups) - len(set(labels))
    how = (
        f"{len(regions)} regions: agents' bases within {link_km:g} km of each other joined "
        f"({len(set(labels))} groups), {cut} more from cutting groups over {max_visits} visits "
        "by k-means; each visit with the nearest base able to take it"
    )
    return Split(regions, {}, how=how)


def _base(agent: Agent) -> GeoPoint:
    if agent.start is None:
        msg = f"Agent {agent.agent_id} has no start location; locate it first."
        raise ValueError(msg)
    return agent.start


def _unit(points: Sequence[GeoPoint]) -> FloatArray:
    """Points on the unit sphere: chord lengths give great-circle distances anywhere."""
    lat = np.radians([p.lat for p in points])
    lon = np.radians([p.lon for p in points])
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def _chord(km: float) -> float:
    return 2.0 * math.sin(min(math.pi, km / EARTH_RADIUS_KM) / 2.0)


def _nearest(points: FloatArray, centres: FloatArray, chunk: int = 4096) -> npt.NDArray[np.int64]:
    """Index of the nearest centre for each point (by chunks: 100,000 x 5,000 fits)."""
    out = np.empty(len(points), dtype=np.int64)
    for lo in range(0, len(points), chunk):
        block = points[lo : lo + chunk]
        out[lo : lo + chunk] = np.argmax(block @ centres.T, axis=1)  # max dot = min chord
    return out


def _nearest_able_base(
    visits: Sequence[Visit], agents: Sequence[Agent], base_xyz: FloatArray
) -> npt.NDArray[np.int64]:
    """Per visit, the agent whose base is nearest among those able to take it.

    Visits are grouped by what they ask (skills, pin), so the distance work is one pass
    per kind of visit; a visit no agent can take goes to the nearest base of all, and
    its region's pre-check gives the reason.
    """
    nearest = np.empty(len(visits), dtype=np.int64)
    kinds: dict[tuple[frozenset[str], str | None], list[int]] = {}
    for i, v in enumerate(visits):
        kinds.setdefault((v.skills, v.pinned_agent), []).append(i)
    for (_, _), idx in kinds.items():
        sample = visits[idx[0]]
        able = [k for k, a in enumerate(agents) if a.can_do(sample)] or list(range(len(agents)))
        points = _unit([_location(visits[i]) for i in idx])
        choice = _nearest(points, base_xyz[able])
        nearest[idx] = np.asarray(able, dtype=np.int64)[choice]
    return nearest


def _location(visit: Visit) -> GeoPoint:
    if visit.location is None:
        msg = f"Visit {visit.visit_id} has no location; locate it first."
        raise ValueError(msg)
    return visit.location


def _link_components(base_xyz: FloatArray, link_km: float) -> list[int]:
    """Single-linkage groups: bases chained by links shorter than ``link_km``."""
    n = len(base_xyz)
    parent = list(range(n))

    def find(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    limit = 1.0 - _chord(link_km) ** 2 / 2.0  # cosine of the link's angle
    for lo in range(0, n, 1024):
        close = np.argwhere(base_xyz[lo : lo + 1024] @ base_xyz.T >= limit)
        for i, j in close:
            a, b = find(lo + int(i)), find(int(j))
            if a != b:
                parent[max(a, b)] = min(a, b)
    return [find(k) for k in range(n)]


def _cut(
    members: list[int], base_xyz: FloatArray, nearest: npt.NDArray[np.int64], max_visits: int
) -> list[list[int]]:
    """A group of agents with more than ``max_visits`` visits, cut by weighted k-means.

    Weights are the visits nearest each base, so the parts balance work, not agents.
    Parts still over the limit are cut again; a part that cannot shrink stays whole.
    """
    weight = np.bincount(nearest, minlength=len(base_xyz)).astype(np.float64)
    load = float(weight[members].sum())
    k = math.ceil(load / max_visits)
    if k <= 1 or len(members) < 2:
        return [members]
    k = min(k, len(members))
    labels = _kmeans(base_xyz[members], weight[members], k)
    parts = [[m for m, lab in zip(members, labels, strict=True) if lab == c] for c in range(k)]
    parts = [p for p in parts if p]
    if len(parts) == 1:
        return parts
    return [q for p in parts for q in _cut(p, base_xyz, nearest, max_visits)]


def _kmeans(points: FloatArray, weight: FloatArray, k: int) -> list[int]:
    """Deterministic weighted k-means: farthest-point start, then Lloyd's iterations."""
    w = weight + 1e-9  # a base with no visits near it still belongs somewhere
    centre = (points * w[:, None]).sum(axis=0) / w.sum()
    chosen = [int(np.argmin(points @ centre))]
    while len(chosen) < k:
        sims = points @ points[chosen].T
        chosen.append(int(np.argmin(sims.max(axis=1))))
    centres = points[chosen].copy()
    labels = _nearest(points, centres)
    for _ in range(KMEANS_ITERATIONS):
        for c in range(k):
            mask = labels == c
            if mask.any():
                m = (points[mask] * w[mask, None]).sum(axis=0)
                centres[c] = m / np.linalg.norm(m)
        new = _nearest(points, centres)
        if np.array_equal(new, labels):
            break
        labels = new
    return [int(x) for x in labels]
