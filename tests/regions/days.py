"""Builders of small national days for the regions tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from optimizer.bench.synthetic import make_national_day
from optimizer.domain import Agent, Visit
from optimizer.outputs.export import agents_frame, visits_frame, write_csv


@dataclass(frozen=True)
class NationalDay:
    visits: tuple[Visit, ...]
    agents: tuple[Agent, ...]
    #: visit or agent id -> its city (the files' region column)
    city: dict[str, str]


def national_day(visits: int, agents: int, cities: int, *, seed: int = 3) -> NationalDay:
    """A seeded day over ``cities`` cities at least 120 km apart."""
    return NationalDay(*make_national_day(visits, agents, cities, seed=seed))


def write_day(day: NationalDay, folder: Path, *, region: bool = True) -> tuple[Path, Path]:
    """visits.csv and agents.csv of ``day`` in ``folder``, with a region column if asked."""
    visits, agents = visits_frame(day.visits), agents_frame(day.agents)
    if region:
        visits["region"] = [day.city[v.visit_id] for v in day.visits]
        agents["region"] = [day.city[a.agent_id] for a in day.agents]
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(visits, folder / "visits.csv")
    write_csv(agents, folder / "agents.csv")
    return folder / "visits.csv", folder / "agents.csv"
