"""`fieldroute users add` and `fieldroute serve` (issue 15)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from optimizer.cli import main
from optimizer.web.app import create_app
from tests.web.conftest import PASSWORD, make_book


def _add(monkeypatch: pytest.MonkeyPatch, book: str, name: str, password: str, role: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(["users", "add", name, "--role", role, "--db", book])


def test_users_add_reads_the_password_from_stdin(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = make_book(tmp_path / "book.db")
    assert _add(monkeypatch, book, "carol", "s3cret-enough", "dispatcher") == 0
    assert "Added dispatcher 'carol'" in capsys.readouterr().out
    with TestClient(create_app(book)) as c:
        ok = c.post("/api/login", json={"username": "carol", "password": "s3cret-enough"})
        assert ok.status_code == 200 and ok.json()["role"] == "dispatcher"
        # a new password ends the sessions opened with the old one
        assert _add(monkeypatch, book, "carol", "another-secret", "admin") == 0
        assert c.get("/api/me").status_code == 401
        old = c.post("/api/login", json={"username": "carol", "password": "s3cret-enough"})
        assert old.status_code == 401


def test_users_add_refuses_a_short_password(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = make_book(tmp_path / "book.db")
    assert _add(monkeypatch, book, "dave", "short", "dispatcher") == 2
    assert "shorter than 8" in capsys.readouterr().err


def test_users_add_needs_a_book(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _add(monkeypatch, str(tmp_path / "none.db"), "erin", PASSWORD, "admin") == 3
    assert "book init" in capsys.readouterr().err


def test_serve_listens_on_localhost_by_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = make_book(tmp_path / "book.db")
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        "optimizer.web.server.serve",
        lambda app, host, port, *, proxy: calls.append((host, port, proxy)),
    )
    assert main(["serve", "--db", book]) == 0
    assert calls == [("127.0.0.1", 8000, False)]
    assert "http://127.0.0.1:8000/" in capsys.readouterr().out
    assert main(["serve", "--db", book, "--host", "0.0.0.0", "--port", "9000"]) == 0
    assert calls[-1] == ("0.0.0.0", 9000, False)
    assert "without TLS" in capsys.readouterr().err
    assert main(["serve", "--db", book, "--host", "0.0.0.0", "--https"]) == 0
    assert calls[-1] == ("0.0.0.0", 8000, True)


def test_serve_refuses_a_book_without_the_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--db", str(tmp_path / "none.db")]) == 3
    assert "no book" in capsys.readouterr().err
