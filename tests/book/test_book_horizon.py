"""``plan --book --days``: the horizon from the book, on SQLite and PostgreSQL (see conftest)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.book.helpers import agents_csv, run, visits_csv, write

CONFIG = (
    '[solver]\nworkers = 1\ntime_limit_s = 1\nsolution_limit = 1\nmetaheuristic = "GREEDY_DESCENT"\n'
    "[compliance]\ncooldown_days = 3\n"
)
MON = "2026-11-30"
DATES = ["2026-11-30", "2026-12-01", "2026-12-02"]


@pytest.fixture
def book(book_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert run(["book", "init", "--db", book_url], capsys)[0] == 0
    return book_url


def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def _horizon(out: Path) -> dict[str, dict[str, str]]:
    with (out / "horizon.csv").open(encoding="utf-8-sig") as f:
        return {r["visit_id"]: r for r in csv.DictReader(f)}


def _plan(book: str, tmp_path: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> str:
    config = write(tmp_path / "fieldroute.toml", CONFIG)
    code, text, err = run(
        [
            *("plan", "--book", "--days", "3", "--date", MON, "--db", book),
            *("--config", str(config), "--out", str(out)),
        ],
        capsys,
    )
    assert code == 0, err
    return text


def test_every_day_is_stored_with_its_cases(
    book: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    visits = visits_csv(tmp_path, 6, due="2026-12-01")
    run(
        ["book", "import", str(visits), "--agents", str(agents_csv(tmp_path)), "--db", book], capsys
    )
    out = tmp_path / "week"
    text = _plan(book, tmp_path, out, capsys)
    assert "stored as plan v1" in text
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == DATES
    rows = _horizon(out)
    assert len(rows) == 6
    stored = dict(_rows(book, "select visit_id, planned_date from visits where status = 'planned'"))
    for vid, row in rows.items():
        assert row["status"] == "planned"
        assert row["date"] <= "2026-12-01"  # never after the due date
        assert str(stored[vid]) == row["date"]  # the book plans the case for that day
    plans = _rows(book, "select plan_date, version from plans order by plan_date")
    assert [str(d) for d, _ in plans] == DATES and {v for _, v in plans} == {1}
    days = json.loads((out / "horizon.json").read_text(encoding="utf-8"))["summary"]["per_day"]
    members = dict(
        _rows(
            book,
            "select p.plan_date, count(*) from plan_visits v join plans p "
            "on p.id = v.plan_id group by p.plan_date",
        )
    )
    assert {k: v for k, v in days.items() if v} == {str(d): n for d, n in members.items()}


def test_contact_rules_are_hard_and_outcomes_come_back(
    book: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    visits = visits_csv(tmp_path, 4)
    run(
        ["book", "import", str(visits), "--agents", str(agents_csv(tmp_path)), "--db", book], capsys
    )
    # V001 was not home on Sunday: with a 3-day cooldown, not before Wednesday.
    outcome = write(
        tmp_path / "o1.csv",
        "visit_id,outcome,at,note,promise_date,new_window_start,new_window_end,new_date\n"
        "V001,not_home,2026-11-29T10:00,,,,,\n",
    )
    assert run(["book", "outcomes", str(outcome), "--db", book], capsys)[0] == 0
    out = tmp_path / "week"
    _plan(book, tmp_path, out, capsys)
    rows = _horizon(out)
    assert rows["V001"]["date"] == "2026-12-02"
    day = rows["V002"]["date"]
    done = write(
        tmp_path / "o2.csv",
        "visit_id,outcome,at,note,promise_date,new_window_start,new_window_end,new_date\n"
        f"V002,done,{day}T11:00,,,,,\n",
    )
    code, text, err = run(["book", "outcomes", str(done), "--db", book], capsys)
    assert code == 0, err
    assert "1 outcomes recorded" in text
    assert _rows(book, "select status from visits where visit_id = 'V002'") == [("done",)]


def test_a_told_day_is_kept_and_nothing_is_stored_twice_for_a_case(
    book: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    visits = visits_csv(tmp_path, 5)
    run(
        ["book", "import", str(visits), "--agents", str(agents_csv(tmp_path)), "--db", book], capsys
    )
    out = tmp_path / "week"
    _plan(book, tmp_path, out, capsys)
    first = {vid: r["date"] for vid, r in _horizon(out).items()}
    text = _plan(book, tmp_path, out, capsys)  # again: the told days are the book's
    assert "0 of 5 visits already told a day changed day" in text
    assert {vid: r["date"] for vid, r in _horizon(out).items()} == first
    per_case = _rows(
        book,
        "select case_id, count(*) from plan_visits v join plans p on p.id = v.plan_id "
        "where p.version = 2 group by case_id",
    )
    assert len(per_case) == 5 and {n for _, n in per_case} == {1}
