"""Two writers at once lose nothing: real processes on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

import pytest
import sqlalchemy as sa

from optimizer.book.db import open_book, resolve_url
from optimizer.book.planning import plan_from_book
from optimizer.book.repository import Actor, BookChanged, day_snapshot, store_plan
from optimizer.outputs.export import plan_to_dict
from optimizer.pipeline import plan_day
from optimizer.settings import Settings, SolverSettings
from tests.book.helpers import agents_csv, run, run_process, visits_csv, write

DATE = dt.date(2026, 12, 1)
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
SETTINGS = Settings(
    solver=SolverSettings(time_limit_s=1, workers=1, metaheuristic="GREEDY_DESCENT")
)
ACTOR = Actor("os:test", "test")


def _scalar(url: str, sql: str) -> object:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql)).scalar_one()
    finally:
        engine.dispose()


def test_two_importing_processes_at_once_keep_both(
    book_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["book", "init", "--db", book_url], capsys)[0] == 0
    files = [visits_csv(tmp_path, 400, start=1 + 400 * k, name=f"v{k}.csv") for k in range(2)]
    outcomes = []
    procs = [run_process(["book", "import", str(f), "--db", book_url], tmp_path) for f in files]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "400 added" in out
    # now outcomes for the first file and an import of the second again, at once
    lines = "".join(f"V{i:03d},not_home,2026-12-01T10:00\n" for i in range(1, 401))
    outcomes.append(write(tmp_path / "o.csv", "visit_id,outcome,at\n" + lines))
    procs = [
        run_process(["book", "outcomes", str(outcomes[0]), "--db", book_url], tmp_path),
        run_process(["book", "import", str(files[1]), "--db", book_url], tmp_path),
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert _scalar(book_url, "select count(*) from visits") == 800
    assert _scalar(book_url, "select count(*) from outcomes") == 400
    assert _scalar(book_url, "select count(*) from visits where attempts = 1") == 400
    assert _scalar(book_url, "select count(*) from audit_events") == 4


def test_a_plan_never_overwrites_an_outcome_recorded_while_it_solved(
    book_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["book", "init", "--db", book_url], capsys)[0] == 0
    run(
        [
            "book",
            "import",
            str(visits_csv(tmp_path, 6)),
            "--agents",
            str(agents_csv(tmp_path)),
            "--db",
            book_url,
        ],
        capsys,
    )
    book = open_book(resolve_url(book_url, SETTINGS.book), SETTINGS.book)
    try:
        snapshot = day_snapshot(book, DATE, SETTINGS.compliance, TZ)
        day = plan_day(snapshot.visits, snapshot.agents, SETTINGS, date=DATE)
        # another process records an outcome for a case this plan holds
        outcomes = write(
            tmp_path / "o.csv", "visit_id,outcome,at\nV001,cancelled,2026-11-30T18:00\n"
        )
        proc = run_process(["book", "outcomes", str(outcomes), "--db", book_url], tmp_path)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        with pytest.raises(BookChanged):
            store_plan(book, snapshot, day.plan, plan_to_dict(day), {}, ACTOR)
        assert _scalar(book_url, "select count(*) from plans") == 0
        # the flow plans again from the new state: the cancellation stands
        result = plan_from_book(book, SETTINGS, DATE, tmp_path / "out", ACTOR)
    finally:
        book.close()
    assert result.stored is not None
    assert "V001" not in {v.visit_id for v in result.snapshot.visits}
    assert _scalar(book_url, "select status from visits where visit_id = 'V001'") == "cancelled"
    assert _scalar(book_url, "select count(*) from visits where status = 'planned'") == 5
