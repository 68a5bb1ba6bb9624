"""A small national day: three cities far apart, a few agents and visits in each."""

from __future__ import annotations

import pytest

from tests.regions.days import NationalDay, national_day


@pytest.fixture(scope="session")
def three_cities() -> NationalDay:
    """36 visits and 6 agents over three cities at least 120 km apart (seeded)."""
    return national_day(36, 6, 3)
