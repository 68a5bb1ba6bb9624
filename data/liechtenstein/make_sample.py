"""Regenerate the Liechtenstein sample day (seeded: the same files every time).

    .venv/bin/python data/liechtenstein/make_sample.py

Visits and agents sit at real addresses taken from the OSM extract beside this file
(``addr:street`` + ``addr:housenumber``, © OpenStreetMap contributors, ODbL). Names and
phone numbers are invented.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

from optimizer.bench.synthetic import appointment_window
from optimizer.domain import Agent, BreakRule, GeoPoint, Mode, TimeWindow, Visit
from optimizer.outputs.export import agents_frame, visits_frame, write_csv
from optimizer.travel.extract import Address, addresses

HERE = Path(__file__).parent
EXTRACT = HERE / "liechtenstein.osm.pbf"
SEED = 20261202
N_VISITS = 60
H = 3600

_FIRST = (
    "Anna", "Lukas", "Laura", "David", "Sarah", "Jonas", "Lea", "Elias", "Nina", "Simon",
    "Julia", "Marco", "Sandra", "Patrick", "Martina", "Stefan", "Nadine", "Thomas",
)  # fmt: skip
_LAST = (
    "Frick", "Marxer", "Büchel", "Beck", "Kaiser", "Wohlwend", "Hasler", "Ospelt", "Vogt",
    "Meier", "Oehri", "Matt", "Schädler", "Negele", "Gstöhl", "Kindle", "Risch", "Batliner",
)  # fmt: skip

#: (visit_type, minutes, required skills, documents, share of visits)
_TYPES = (
    ("identity_check", 30, (), ("ID card", "residence permit"), 0.45),
    ("asset_check", 45, ("asset_appraisal",), ("land register extract", "vehicle papers"), 0.30),
    ("overdue_followup", 20, ("collections",), ("repayment records", "bank statements"), 0.25),
)

#: (agent_id, near this point, mode, skills, max_visits)
_AGENTS = (
    ("L01", GeoPoint(47.1410, 9.5215), Mode.CAR, ("asset_appraisal", "collections"), None),
    ("L02", GeoPoint(47.1650, 9.5100), Mode.CAR, ("collections",), None),
    ("L03", GeoPoint(47.0660, 9.5030), Mode.CAR, ("asset_appraisal",), None),
    ("L04", GeoPoint(47.1390, 9.5230), Mode.EBIKE, ("collections",), None),
    ("L05", GeoPoint(47.1385, 9.5225), Mode.WALK, (), 6),
)

#: A visit up at the Pfälzer Hütte (2,108 m): no road for a car within the snap limit,
#: so the plan lists it as unassigned with that reason.
_ALPINE_HUT = ("Pfälzer Hütte, Bettlerjoch", GeoPoint(47.0713475, 9.6132931))


def _name(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def _phone(rng: random.Random) -> str:
    # +423 is Liechtenstein; the numbers are random, not real subscribers.
    return f"+423 {rng.choice('79')}{rng.randrange(10**6):06d}"


def _label(a: Address) -> str:
    return a.label if (a.postcode or a.city) else f"{a.street} {a.housenumber}, Liechtenstein"


def _nearest(addrs: list[Address], p: GeoPoint) -> Address:
    k = math.cos(math.radians(p.lat))
    return min(
        addrs, key=lambda a: (a.location.lat - p.lat) ** 2 + ((a.location.lon - p.lon) * k) ** 2
    )


def main() -> None:
    rng = random.Random(SEED)
    # Feldkirch addresses lie across the border in Austria; keep Liechtenstein only.
    addrs = [a for a in addresses(EXTRACT) if a.city != "Feldkirch"]
    agents = []
    for agent_id, near, mode, skills, max_visits in _AGENTS:
        home = _nearest(addrs, near)
        start_h = rng.choice((8.0, 8.5))
        agents.append(
            Agent(
                agent_id=agent_id,
                name=_name(rng),
                phone=_phone(rng),
                start=home.location,
                shift=TimeWindow(int(start_h * H), int((start_h + 9) * H)),
                break_rule=BreakRule(TimeWindow(int(11.75 * H), int(13.25 * H)), 45 * 60),
                skills=frozenset(skills),
                max_visits=max_visits,
                mode=mode,
                start_address=_label(home),
            )
        )
    chosen = rng.sample(addrs, N_VISITS - 1)
    visits = []
    weights = [t[4] for t in _TYPES]
    for k, addr in enumerate(chosen):
        vtype, minutes, skills, docs, _ = rng.choices(_TYPES, weights)[0]
        window = appointment_window(rng, last_start_h=15)
        visits.append(
            Visit(
                visit_id=f"LI{k + 1:03d}",
                location=addr.location,
                duration_s=minutes * 60,
                window=window,
                priority=rng.choices((1, 2, 3), (0.6, 0.3, 0.1))[0],
                skills=frozenset(skills),
                address=_label(addr),
                name=_name(rng),
                phone=_phone(rng),
                visit_type=vtype,
                documents=docs,
            )
        )
    label, hut = _ALPINE_HUT
    visits.append(
        Visit(
            visit_id=f"LI{N_VISITS:03d}",
            location=hut,
            duration_s=45 * 60,
            window=TimeWindow(10 * H, 15 * H),
            skills=frozenset({"asset_appraisal"}),
            address=label,
            name=_name(rng),
            phone=_phone(rng),
            visit_type="asset_check",
            documents=("land register extract",),
        )
    )
    write_csv(visits_frame(visits), HERE / "visits.csv")
    write_csv(agents_frame(agents), HERE / "agents.csv")


if __name__ == "__main__":
    main()
