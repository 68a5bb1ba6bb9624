"""Shared fixtures and the guard that keeps the test suite offline."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from optimizer.pipeline import DayPlan, plan_day
from tests.helpers import DATE, FAST, at, lunch, make_agent, make_visit, window


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any test that opens a real network connection fails."""

    def guard(*args: Any, **kwargs: Any) -> None:
        msg = "tests must not use the network"
        raise RuntimeError(msg)

    monkeypatch.setattr(socket.socket, "connect", guard)
    monkeypatch.setattr(socket, "create_connection", guard)


@pytest.fixture(scope="session")
def small_day() -> DayPlan:
    """Two agents, six visits with windows, skills, a pin and a lunch break."""
    agents = (
        make_agent("A1", skills=frozenset({"asset_appraisal"}), break_rule=lunch()),
        make_agent("A2", start=at(-2, 3)),
    )
    visits = (
        make_visit("V1", location=at(1, 1), window=window(9, 10)),
        make_visit(
            "V2", location=at(2, -1), window=window(10, 12), skills=frozenset({"asset_appraisal"})
        ),
        make_visit("V3", location=at(-1, 2), priority=2),
        make_visit("V4", location=at(-3, 3), window=window(13, 15), pinned_agent="A2"),
        make_visit("V5", location=at(0.5, -2), window=window(11, 14), duration_s=45 * 60),
        make_visit("V6", location=None, address="somewhere not geocoded"),
        make_visit("V7", location=at(1.5, 0.5), window=window(13.5, 14), pinned_agent="A1"),
    )
    return plan_day(visits, agents, FAST, date=DATE)
