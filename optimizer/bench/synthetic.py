"""Seeded synthetic field days: the sample data and the benchmark days come from here.

Everything is invented: names and phones are random, positions are random points in
a city. Pure: the same seed gives the same day.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from typing import Any

from optimizer.domain import Agent, BreakRule, GeoPoint, Mode, TimeWindow, Visit

H = 3600

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"
_STREETS = (
    "人民南路",
    "天府大道",
    "蜀都大道",
    "建设路",
    "春熙路",
    "一环路",
    "二环路",
    "红星路",
    "玉林路",
    "科华北路",
)

#: (visit_type, minutes, required skills, documents, share of visits)
_TYPES: tuple[tuple[str, int, tuple[str, ...], tuple[str, ...], float], ...] = (
    ("identity_check", 30, (), ("ID card", "household register"), 0.45),
    (
        "asset_check",
        45,
        ("asset_appraisal",),
        ("property certificate", "vehicle registration"),
        0.30,
    ),
    (
        "overdue_followup",
        20,
        ("collections",),
        ("repayment records", "bank statements"),
        0.25,
    ),
)


@dataclass(frozen=True, slots=True)
class City:
    name: str
    center: GeoPoint
    radius_km: float


CHENGDU = City("Chengdu", GeoPoint(30.6586, 104.0647), 11.0)


def _point(rng: random.Random, city: City, radius_km: float | None = None) -> GeoPoint:
    r = (radius_km or city.radius_km) * math.sqrt(rng.random())
    theta = rng.uniform(0, 2 * math.pi)
    dlat = r * math.cos(theta) / 111.2
    dlon = r * math.sin(theta) / (111.2 * math.cos(math.radians(city.center.lat)))
    return GeoPoint(round(city.center.lat + dlat, 6), round(city.center.lon + dlon, 6))


def _name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"


def make_agents(n: int, *, seed: int, city: City = CHENGDU) -> tuple[Agent, ...]:
    rng = random.Random(seed)
    agents = []
    for k in range(n):
        skills = {"asset_appraisal"} if k % 2 == 0 else set()
        if k % 3 != 2:
            skills.add("collections")
        start_h = rng.choice((8.0, 8.5, 9.0))
        agents.append(
            Agent(
                agent_id=f"A{k + 1:02d}",
                name=_name(rng),
                phone=_phone(rng),
                start=_point(rng, city, city.radius_km * 0.6),
                shift=TimeWindow(int(start_h * H), int((start_h + 9) * H)),
                break_rule=BreakRule(TimeWindow(int(11.75 * H), int(13.25 * H)), 45 * 60),
                skills=frozenset(skills),
                max_visits=12 if k % 5 == 4 else None,
                mode=Mode.EBIKE if k % 4 == 3 else Mode.CAR,
            )
        )
    return tuple(agents)


def appointment_window(rng: random.Random, *, last_start_h: int) -> TimeWindow | None:
    """Booked-by-phone windows: 55 % two hours, 25 % one hour, 20 % open, on the half hour.

    Two-hour windows start from 09:00 to before ``last_start_h``, one-hour windows up
    to an hour later.
    """
    roll = rng.random()
    if roll < 0.55:
        start = rng.randrange(9 * 2, last_start_h * 2) * 1800
        return TimeWindow(start, start + 2 * H)
    if roll < 0.80:
        start = rng.randrange(9 * 2, (last_start_h + 1) * 2) * 1800
        return TimeWindow(start, start + H)
    return None


def make_visits(
    n: int, agents: tuple[Agent, ...], *, seed: int, city: City = CHENGDU
) -> tuple[Visit, ...]:
    """A realistic mix: most windows 1-2 h, some open; a few pins; a few that cannot fit."""
    rng = random.Random(seed + 1)
    visits = []
    weights = [t[4] for t in _TYPES]
    for k in range(n):
        vtype, minutes, skills, docs, _ = rng.choices(_TYPES, weights)[0]
        window = appointment_window(rng, last_start_h=16)
        pinned = rng.choice(agents).agent_id if rng.random() < 0.03 else None
        if pinned:
            agent = next(a for a in agents if a.agent_id == pinned)
            skills = tuple(s for s in skills if s in agent.skills)
        priority = rng.choices((1, 2, 3, 5), (0.5, 0.3, 0.15, 0.05))[0]
        visits.append(
            Visit(
                visit_id=f"V{k + 1:04d}",
                location=_point(rng, city),
                duration_s=minutes * 60,
                window=window,
                priority=priority,
                skills=frozenset(skills),
                pinned_agent=pinned,
                address=f"{city.name} {rng.choice(_STREETS)} {rng.randrange(1, 400)}号",
                name=_name(rng),
                phone=_phone(rng),
                visit_type=vtype,
                documents=docs,
            )
        )
    return tuple(visits)


def add_impossible(
    visits: tuple[Visit, ...], *, seed: int, city: City = CHENGDU
) -> tuple[Visit, ...]:
    """Visits that no plan can serve, one per reason, so the sample shows each reason."""
    rng = random.Random(seed + 2)
    n = len(visits)
    base: dict[str, Any] = {
        "duration_s": 30 * 60,
        "visit_type": "identity_check",
        "documents": ("ID card",),
    }
    extra = (
        Visit(
            f"V{n + 1:04d}",
            _point(rng, city),
            skills=frozenset({"notary"}),
            address=f"{city.name} 人民南路 88号",
            name=_name(rng),
            phone=_phone(rng),
            **base,
        ),
        Visit(
            f"V{n + 2:04d}",
            _point(rng, city),
            window=TimeWindow(6 * H, int(6.5 * H)),
            address=f"{city.name} 玉林路 12号",
            name=_name(rng),
            phone=_phone(rng),
            **base,
        ),
        Visit(
            f"V{n + 3:04d}",
            GeoPoint(city.center.lat + 0.9, city.center.lon + 0.9),
            window=TimeWindow(9 * H, int(9.5 * H)),
            address=f"{city.name} outskirts",
            name=_name(rng),
            phone=_phone(rng),
            **base,
        ),
        Visit(
            f"V{n + 4:04d}",
            None,
            address=f"{city.name} 天府大道 1700号",
            name=_name(rng),
            phone=_phone(rng),
            **base,
        ),
    )
    return visits + extra


def national_cities(n: int, *, seed: int) -> tuple[City, ...]:
    """``n`` invented cities over eastern and central China, at least 120 km apart.

    Radii of 8 to 14 km: the visits of one city never mix with the next one's.
    """
    rng = random.Random(seed + 7)
    cities: list[City] = []
    while len(cities) < n:
        centre = GeoPoint(round(rng.uniform(22.5, 40.5), 4), round(rng.uniform(103.0, 121.0), 4))
        if all(_km(centre, c.center) >= 120 for c in cities):
            cities.append(City(f"City{len(cities) + 1:02d}", centre, rng.uniform(8.0, 14.0)))
    return tuple(cities)


def _km(a: GeoPoint, b: GeoPoint) -> float:
    dlat = math.radians(b.lat - a.lat)
    dlon = math.radians(b.lon - a.lon)
    h = (
        math.sin(dlat / 2) ** 2
        + math.cos(math.radians(a.lat)) * math.cos(math.radians(b.lat)) * math.sin(dlon / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def make_national_day(
    n_visits: int, n_agents: int, n_cities: int, *, seed: int
) -> tuple[tuple[Visit, ...], tuple[Agent, ...], dict[str, str]]:
    """A day of a national team: visits and agents shared out over ``n_cities`` cities.

    Each city is a :func:`make_agents`/:func:`make_visits` day of its own (pins stay in
    the city); ids are made unique over the country (``A0001``, ``V00001``). Also
    returns id -> city name, the ``region`` column of the files.
    """
    cities = national_cities(n_cities, seed=seed)
    visits: list[Visit] = []
    agents: list[Agent] = []
    region: dict[str, str] = {}
    for k, city in enumerate(cities):
        na = n_agents // n_cities + (1 if k < n_agents % n_cities else 0)
        nv = n_visits // n_cities + (1 if k < n_visits % n_cities else 0)
        local_agents = make_agents(na, seed=seed + 100 * k, city=city)
        ids = {a.agent_id: f"A{len(agents) + j + 1:04d}" for j, a in enumerate(local_agents)}
        for a in local_agents:
            agents.append(replace(a, agent_id=ids[a.agent_id]))
            region[ids[a.agent_id]] = city.name
        for v in make_visits(nv, local_agents, seed=seed + 100 * k, city=city):
            vid = f"V{len(visits) + 1:05d}"
            pin = ids[v.pinned_agent] if v.pinned_agent else None
            visits.append(replace(v, visit_id=vid, pinned_agent=pin))
            region[vid] = city.name
    return tuple(visits), tuple(agents), region
