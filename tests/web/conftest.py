"""Console fixtures: a migrated SQLite book with two users, and the app on it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from optimizer.book.accounts import add_user
from optimizer.book.db import open_book, resolve_url, upgrade
from optimizer.settings import BookSettings, Settings
from optimizer.web.app import create_app
from optimizer.web.auth import hash_password
from tests.helpers import ROOT

PASSWORD = "correct horse battery"
NOW = dt.datetime(2026, 12, 1, 7, 0, tzinfo=dt.UTC)


def make_book(path: Path | str) -> str:
    """A migrated book with ``dispatcher`` and ``admin`` (password :data:`PASSWORD`)."""
    url = str(path)
    book = open_book(resolve_url(url, BookSettings()), BookSettings(), create=True)
    try:
        upgrade(book)
        digest = hash_password(PASSWORD)
        add_user(book, "dispatcher", digest, "dispatcher", now=NOW)
        add_user(book, "admin", digest, "admin", now=NOW)
    finally:
        book.close()
    return url


@pytest.fixture
def book_path(tmp_path: Path) -> str:
    return make_book(tmp_path / "book.db")


@pytest.fixture
def settings() -> Settings:
    """Fast, repeatable solves on small days; addresses from the sample gazetteer."""
    return Settings.from_dict(
        {
            "solver": {"time_limit_s": 1, "workers": 1, "metaheuristic": "GREEDY_DESCENT"},
            "geocoder": {"gazetteer_path": str(ROOT / "data" / "gazetteer.csv")},
        }
    )


@pytest.fixture
def client(book_path: str, settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(book_path, settings=settings, out_dir=tmp_path / "out")
    with TestClient(app) as c:
        yield c


def login(client: TestClient, username: str = "dispatcher") -> str:
    """Log in and return the CSRF token (the cookie stays in the client)."""
    r = client.post("/api/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    token: str = r.json()["csrf_token"]
    return token
