"""Cutting a day into regions: every visit once, agents where their base is, input errors."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pandas as pd
import pytest

from optimizer.errors import InputError
from optimizer.regions.split import Split, by_bases, by_column, parse_region_column
from tests.helpers import at, make_agent, make_visit
from tests.regions.days import NationalDay, national_day


def _assert_partition(split: Split, day: NationalDay) -> None:
    visits = Counter(v.visit_id for r in split.regions for v in r.visits)
    visits.update(list(split.unassigned))
    assert visits == Counter(v.visit_id for v in day.visits)
    agents = Counter(a.agent_id for r in split.regions for a in r.agents)
    assert agents == Counter(a.agent_id for a in day.agents)


def test_auto_finds_the_cities(three_cities: NationalDay) -> None:
    split = by_bases(three_cities.visits, three_cities.agents, max_visits=1000, link_km=30)
    _assert_partition(split, three_cities)
    assert [r.name for r in split.regions] == ["R01", "R02", "R03"]
    for region in split.regions:
        cities = {three_cities.city[v.visit_id] for v in region.visits}
        cities |= {three_cities.city[a.agent_id] for a in region.agents}
        assert len(cities) == 1, f"{region.name} mixes {cities}"
    assert "3 regions" in split.how


def test_auto_cuts_a_city_over_max_visits() -> None:
    day = national_day(120, 12, 1, seed=5)
    split = by_bases(day.visits, day.agents, max_visits=40, link_km=30)
    _assert_partition(split, day)
    assert len(split.regions) >= 3
    assert all(r.agents for r in split.regions)
    assert "more from cutting" in split.how


def test_auto_is_repeatable(three_cities: NationalDay) -> None:
    one = by_bases(three_cities.visits, three_cities.agents, max_visits=10, link_km=30)
    two = by_bases(three_cities.visits, three_cities.agents, max_visits=10, link_km=30)
    assert one == two


def test_auto_sends_a_pinned_visit_to_its_agents_region() -> None:
    near, far = make_agent("A1", start=at(0, 0)), make_agent("A2", start=at(0, 300))
    pinned = make_visit("V1", location=at(0, 1), pinned_agent="A2")
    free = make_visit("V2", location=at(0, 1))
    split = by_bases([pinned, free], [near, far], max_visits=100, link_km=30)
    region = {v.visit_id: r.name for r in split.regions for v in r.visits}
    owner = {a.agent_id: r.name for r in split.regions for a in r.agents}
    assert region["V1"] == owner["A2"]
    assert region["V2"] == owner["A1"]


def test_auto_sends_a_skilled_visit_to_a_region_with_the_skill() -> None:
    plain = make_agent("A1", start=at(0, 0))
    skilled = make_agent("A2", start=at(0, 300), skills=frozenset({"notary"}))
    visit = make_visit("V1", location=at(0, 1), skills=frozenset({"notary"}))
    split = by_bases([visit], [plain, skilled], max_visits=100, link_km=30)
    assert split.region_of()["V1"] == split.region_of()["A2"]


def _regions(ids: dict[str, str]) -> dict[str, tuple[int, str]]:
    return {k: (row, name) for row, (k, name) in enumerate(ids.items(), start=2)}


def test_column_mode_follows_the_files(three_cities: NationalDay) -> None:
    regions = _regions(three_cities.city)
    split = by_column(three_cities.visits, three_cities.agents, regions, regions)
    _assert_partition(split, three_cities)
    assert not split.unassigned
    for region in split.regions:
        assert {three_cities.city[v.visit_id] for v in region.visits} <= {region.name}
        assert {three_cities.city[a.agent_id] for a in region.agents} == {region.name}


def test_column_mode_region_without_agents_keeps_its_visits_unassigned(
    three_cities: NationalDay,
) -> None:
    city = dict(three_cities.city)
    lonely = three_cities.visits[0].visit_id
    city[lonely] = "Atlantis"
    regions = _regions(city)
    split = by_column(three_cities.visits, three_cities.agents, regions, regions)
    _assert_partition(split, three_cities)
    assert split.unassigned == {lonely: "region Atlantis has no agents in agents.csv"}
    assert "Atlantis" not in [r.name for r in split.regions]


def test_column_mode_pin_across_regions_is_unassigned_with_why() -> None:
    agents = [make_agent("A1"), make_agent("A2")]
    visit = make_visit("V1", pinned_agent="A2")
    split = by_column(
        [visit],
        agents,
        {"V1": (2, "north")},
        {"A1": (2, "north"), "A2": (3, "south")},
    )
    assert split.unassigned == {
        "V1": "pinned to agent A2 of region south, but the visit is in region north"
    }


def test_column_mode_empty_region_is_an_input_error_naming_file_row_column() -> None:
    agents = [make_agent("A1"), make_agent("A2")]
    visits = [make_visit("V1"), make_visit("V2")]
    with pytest.raises(InputError) as caught:
        by_column(
            visits,
            agents,
            {"V1": (2, "north"), "V2": (3, "")},
            {"A1": (2, "north"), "A2": (3, "")},
            visits_source="day.csv",
            agents_source="team.csv",
        )
    where = sorted((i.source, i.row, i.column) for i in caught.value.issues)
    assert where == [("day.csv", 3, "region"), ("team.csv", 3, "region")]
    assert "expected the visit's region" in str(caught.value)


def test_missing_region_column_is_a_file_level_input_error() -> None:
    frame = pd.DataFrame({"visit_id": ["V1"], "lat": ["30.1"]}, index=[2])
    with pytest.raises(InputError, match=r"missing column 'region'.*found: visit_id, lat"):
        parse_region_column(frame, "visits.csv", "visit_id")


def test_region_column_skips_blank_rows_and_keeps_row_numbers() -> None:
    frame = pd.DataFrame(
        {"visit_id": ["V1", "", "V2"], "region": [" north ", "", ""]}, index=[2, 3, 4]
    )
    assert parse_region_column(frame, "visits.csv", "visit_id") == {
        "V1": (2, "north"),
        "V2": (4, ""),
    }


def test_unlocated_agent_is_refused_by_auto() -> None:
    with pytest.raises(ValueError, match="no start location"):
        by_bases([make_visit()], [replace(make_agent(), start=None)], max_visits=10, link_km=30)
