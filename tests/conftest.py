"""Shared fixtures and the guard that keeps the test suite offline."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from optimizer.day import DayPlan
from optimizer.pipeline import plan_day
from tests.helpers import DATE, FAST, at, lunch, make_agent, make_visit, window


class NetworkUsedError(RuntimeError):
    """A test tried to reach the network."""


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Any test that opens a real network connection (or resolves a name) fails.

    The guard raises, and it also records the attempt and fails the test at teardown:
    HTTP clients (requests, urllib, geopy's adapters) catch socket errors and would
    turn the guard's exception into a "service unavailable" a test could pass on.
    Unix-domain sockets (asyncio's self-pipe) are allowed.
    """
    attempts: list[str] = []

    def guard(what: str) -> Any:
        def blocked(*args: Any, **kwargs: Any) -> None:
            sock = args[0] if args and isinstance(args[0], socket.socket) else None
            if sock is not None and sock.family == getattr(socket, "AF_UNIX", None):
                return original[what](*args, **kwargs)  # type: ignore[no-any-return]
            attempts.append(f"{what}{args[1:] if sock is not None else args}")
            msg = "tests must not use the network"
            raise NetworkUsedError(msg)

        return blocked

    original = {
        "connect": socket.socket.connect,
        "connect_ex": socket.socket.connect_ex,
        "create_connection": socket.create_connection,
        "getaddrinfo": socket.getaddrinfo,
    }
    monkeypatch.setattr(socket.socket, "connect", guard("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", guard("connect_ex"))
    monkeypatch.setattr(socket, "create_connection", guard("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", guard("getaddrinfo"))
    yield attempts
    if attempts:
        pytest.fail(f"test tried to use the network: {attempts}")


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
