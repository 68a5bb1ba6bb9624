"""Regenerate the sample day in data/ (seeded: the same files every time).

    .venv/bin/python data/make_sample.py       (also rewrites data/gazetteer.csv)

Everything is synthetic: names, phones and house numbers are invented.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import make_gazetteer

from optimizer.bench.synthetic import CHENGDU, City, add_impossible, make_agents, make_visits
from optimizer.outputs.export import agents_frame, visits_frame, write_csv

HERE = Path(__file__).parent
SEED = 20261201


def main() -> None:
    city = City(CHENGDU.name, CHENGDU.center, 6.0)
    agents = make_agents(8, seed=SEED, city=city)
    visits = add_impossible(make_visits(116, agents, seed=SEED, city=city), seed=SEED, city=city)
    write_csv(visits_frame(visits), HERE / "visits.csv")
    write_csv(agents_frame(agents), HERE / "agents.csv")
    # The gazetteer knows every address; then one visit in ten keeps only its address,
    # as a dispatcher's list would, so the demo exercises geocoding.
    make_gazetteer.main()
    address_only = tuple(
        dataclasses.replace(v, location=None) if k % 10 == 4 and v.location else v
        for k, v in enumerate(visits)
    )
    write_csv(visits_frame(address_only), HERE / "visits.csv")
    tiny_agents = make_agents(2, seed=SEED, city=city)
    tiny = make_visits(6, tiny_agents, seed=SEED + 7, city=city)
    (HERE / "tiny").mkdir(exist_ok=True)
    write_csv(visits_frame(tiny), HERE / "tiny" / "visits.csv")
    write_csv(agents_frame(tiny_agents), HERE / "tiny" / "agents.csv")


if __name__ == "__main__":
    main()
