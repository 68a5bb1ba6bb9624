"""Regenerate data/gazetteer.csv, the offline gazetteer of the (synthetic) sample day.

    .venv/bin/python data/make_gazetteer.py

Rows: every sample visit's address at its coordinates (house_number), the sample
agents' bases as "Chengdu <office address>" (house_number), and Chengdu's central
districts and the city itself (district/city; approximate centres) so that the
quality check has something coarse to flag. The addresses are invented, like the
rest of the sample.
"""

from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).parent

#: Approximate WGS-84 centres of Chengdu's five central districts and the city.
AREAS = (
    ("成都市", 30.6586, 104.0647, "city"),
    ("Chengdu", 30.6586, 104.0647, "city"),
    ("锦江区", 30.6571, 104.0834, "district"),
    ("青羊区", 30.6743, 104.0612, "district"),
    ("金牛区", 30.6915, 104.0516, "district"),
    ("武侯区", 30.6417, 104.0432, "district"),
    ("成华区", 30.6599, 104.1017, "district"),
)
#: Invented office addresses for the sample agents' bases.
OFFICES = (
    "红星路三段 1号",
    "人民南路二段 18号",
    "蜀都大道 99号",
    "天府广场 2号",
    "春熙路 8号",
    "一环路东三段 66号",
    "府青路 12号",
    "光华大道 88号",
)


def main() -> None:
    rows: dict[str, tuple[str, str, str]] = {}
    with (HERE / "visits.csv").open(encoding="utf-8-sig", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["address"] and r["lat"]:
                rows.setdefault(r["address"], (r["lat"], r["lon"], "house_number"))
    with (HERE / "agents.csv").open(encoding="utf-8-sig", newline="") as fh:
        for office, r in zip(OFFICES, csv.DictReader(fh), strict=False):
            rows[f"Chengdu {office}"] = (r["start_lat"], r["start_lon"], "house_number")
    for name, lat, lon, quality in AREAS:
        rows[name] = (f"{lat}", f"{lon}", quality)
    with (HERE / "gazetteer.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["address", "lat", "lon", "quality"])
        for address, (lat, lon, quality) in rows.items():
            w.writerow([address, lat, lon, quality])


if __name__ == "__main__":
    main()
