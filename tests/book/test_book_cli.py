"""The book's commands end to end, on SQLite and PostgreSQL (see conftest)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from optimizer.book.db import head_revision
from tests.book.helpers import agents_csv, run, visits_csv, write

CONFIG = '[solver]\nworkers = 1\ntime_limit_s = 1\nmetaheuristic = "GREEDY_DESCENT"\n'


@pytest.fixture
def book(book_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    code, out, _ = run(["book", "init", "--db", book_url], capsys)
    assert code == 0, out
    assert "Created the book" in out
    return book_url


def _config(tmp_path: Path) -> Path:
    return write(tmp_path / "fieldroute.toml", CONFIG)


def _count(url: str, sql: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(sql)).scalar_one())
    finally:
        engine.dispose()


def test_init_twice_is_up_to_date(book: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["book", "init", "--db", book], capsys)
    assert code == 0
    assert f"up to date (schema {head_revision()})" in out


def test_commands_refuse_a_book_without_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["book", "list", "--db", str(tmp_path / "none.db")], capsys)
    assert code == 3
    assert "no book at" in err
    assert "fieldroute book init" in err
    assert not (tmp_path / "none.db").exists()


def test_reimport_changes_nothing_and_done_is_not_reopened(
    book: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    visits, agents = visits_csv(tmp_path, 5), agents_csv(tmp_path)
    code, out, _ = run(
        ["book", "import", str(visits), "--agents", str(agents), "--db", book], capsys
    )
    assert code == 0
    assert "5 added, 0 updated, 0 unchanged" in out
    code, out, _ = run(
        ["book", "import", str(visits), "--agents", str(agents), "--db", book], capsys
    )
    assert "0 added, 0 updated, 5 unchanged" in out
    assert "agents: 0 added, 0 updated, 2 unchanged" in out
    outcomes = write(tmp_path / "o.csv", "visit_id,outcome,at\nV001,done,2026-12-01T10:00\n")
    assert run(["book", "outcomes", str(outcomes), "--db", book], capsys)[0] == 0
    text = visits.read_text(encoding="utf-8").replace("Road 1,", "Road 1 changed,")
    write(visits, text)
    code, out, _ = run(["book", "import", str(visits), "--db", book], capsys)
    assert "0 added, 0 updated, 4 unchanged" in out
    assert "V001: already done; sent again, not reopened" in out
    assert _count(book, "select count(*) from visits where status = 'done'") == 1


def test_bad_file_exits_2_naming_row_and_column_and_changes_nothing(
    book: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    visits = visits_csv(tmp_path, 3)
    text = visits.read_text(encoding="utf-8").replace(
        "V003,Borrower 3,13800000003,Road 3,30.66200,104.07200,09:00,17:00",
        "V003,Borrower 3,13800000003,Road 3,30.66200,104.07200,09:00,25:00",
    )
    write(visits, text)
    code, _out, err = run(["book", "import", str(visits), "--db", book], capsys)
    assert code == 2
    assert "visits.csv, row 4, column 'window_end'" in err
    assert "Traceback" not in err
    assert _count(book, "select count(*) from visits") == 0


def test_plan_book_matches_the_file_path_and_stores_versions(
    book: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    visits, agents, config = visits_csv(tmp_path, 8), agents_csv(tmp_path), _config(tmp_path)
    run(["book", "import", str(visits), "--agents", str(agents), "--db", book], capsys)
    files_out, book_out = tmp_path / "files", tmp_path / "book"
    args = ["--date", "2026-12-01", "--config", str(config), "-q"]
    assert run(["plan", str(visits), str(agents), *args, "--out", str(files_out)], capsys)[0] == 0
    code, _out, err = run(["plan", "--book", "--db", book, *args, "--out", str(book_out)], capsys)
    assert code == 0, err
    names = sorted(p.relative_to(files_out).as_posix() for p in files_out.rglob("*"))
    assert names == sorted(p.relative_to(book_out).as_posix() for p in book_out.rglob("*"))
    from_files = json.loads((files_out / "plan.json").read_text(encoding="utf-8"))
    from_book = json.loads((book_out / "plan.json").read_text(encoding="utf-8"))
    assert from_files.keys() == from_book.keys()
    for doc in (from_files, from_book):
        doc["solver"].pop("wall_s")
    assert from_book == from_files  # same planner on the same visits: the same plan
    for name in ("itineraries.csv", "unassigned.csv", "notices.csv"):
        assert (book_out / name).read_text(encoding="utf-8") == (files_out / name).read_text(
            encoding="utf-8"
        )
    assert _count(book, "select count(*) from visits where status = 'planned'") == 8
    # planned again: a second version; the newest published one is the field's
    assert run(["plan", "--book", "--db", book, *args, "--out", str(book_out)], capsys)[0] == 0
    assert _count(book, "select max(version) from plans where plan_date = '2026-12-01'") == 2
    assert _count(book, "select count(*) from plan_visits") == 16


def test_visits_not_fitted_stay_pending_with_the_reason(
    book: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    visits = visits_csv(tmp_path, 3)
    text = visits.read_text(encoding="utf-8").replace(
        ",09:00,17:00,30,1,\n", ",09:00,17:00,30,1,\n", 1
    )
    text = text.replace(
        "V002,Borrower 2,13800000002,Road 2,30.65800,104.06800,09:00,17:00,30",
        "V002,Borrower 2,13800000002,Road 2,30.65800,104.06800,06:00,07:00,30",
    )
    write(visits, text)
    run(
        ["book", "import", str(visits), "--agents", str(agents_csv(tmp_path)), "--db", book], capsys
    )
    text = text.replace(",06:00,07:00,30", ",18:00,19:00,30")  # in contact hours, after every shift
    write(visits, text)
    run(["book", "import", str(visits), "--db", book], capsys)
    code, out, _ = run(
        [
            "plan",
            "--book",
            "--db",
            book,
            "--date",
            "2026-12-01",
            "--config",
            str(_config(tmp_path)),
            "--out",
            str(tmp_path / "o"),
        ],
        capsys,
    )
    assert code == 0
    assert "1 not fitted (stay pending)" in out
    code, out, _ = run(["book", "list", "--status", "pending", "--csv", "--db", book], capsys)
    lines = out.strip().splitlines()
    assert lines[0].startswith("visit_id,borrower_id,status")
    assert len(lines) == 2
    assert lines[1].startswith("V002,V002,pending")
    assert (
        "not fitted on 2026-12-01: appointment window 18:00-19:00 is outside every able agent's shift"
        in lines[1]
    )


def test_holiday_is_refused_and_days_off_respected(
    book: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(
        [
            "book",
            "import",
            str(visits_csv(tmp_path, 2)),
            "--agents",
            str(agents_csv(tmp_path, 1, days_off="tue")),
            "--db",
            book,
        ],
        capsys,
    )
    config = write(tmp_path / "h.toml", CONFIG + '[compliance]\nholidays = ["2026-12-02"]\n')
    base = ["plan", "--book", "--db", book, "--config", str(config), "--out", str(tmp_path / "o")]
    code, _, err = run([*base, "--date", "2026-12-02"], capsys)
    assert code == 2
    assert "2026-12-02 is a holiday" in err
    code, _, err = run([*base, "--date", "2026-12-01"], capsys)  # a Tuesday: A1 is off
    assert code == 2
    assert "no agent of the book works on 2026-12-01 (off: A1)" in err
    assert _count(book, "select count(*) from plans") == 0


def test_outcomes_drive_the_next_action(
    book: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(
        [
            "book",
            "import",
            str(visits_csv(tmp_path, 6)),
            "--agents",
            str(agents_csv(tmp_path)),
            "--db",
            book,
        ],
        capsys,
    )
    outcomes = write(
        tmp_path / "outcomes.csv",
        "visit_id,outcome,at,note,promise_date,new_window_start,new_window_end,new_date\n"
        "V001,not_home,2026-12-01T10:00,,,,,\n"
        "V002,promise_to_pay,2026-12-01T10:30,,2026-12-05,,,\n"
        "V003,wrong_address,2026-12-01T11:00,,,,,\n"
        "V004,refused,2026-12-01T11:30,,,,,\n"
        "V005,reschedule,2026-12-01T12:00,,,14:00,15:00,2026-12-04\n"
        "V006,cancelled,2026-12-01T12:30,,,,,\n",
    )
    code, out, err = run(["book", "outcomes", str(outcomes), "--db", book], capsys)
    assert code == 0, err
    assert "6 outcomes recorded" in out
    assert "attention V004: refused on 2026-12-01" in out
    code, out, _ = run(["book", "outcomes", str(outcomes), "--db", book], capsys)
    assert "0 outcomes recorded" in out
    assert "6 already in the book" in out
    code, out, _ = run(["book", "list", "--csv", "--db", book], capsys)
    rows = {line.split(",")[0]: line for line in out.strip().splitlines()[1:]}
    assert ",pending," in rows["V001"] and ",2026-12-02," in rows["V001"]  # after the cooldown
    assert ",2026-12-06," in rows["V002"]  # the day after the promise
    assert ",failed," in rows["V003"] and "address reported wrong" in rows["V003"]
    assert ",closed," in rows["V004"]
    assert ",pending,2026-12-04,2026-12-04," in rows["V005"]
    assert ",cancelled," in rows["V006"]


def test_a_bad_outcome_row_records_nothing(
    book: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["book", "import", str(visits_csv(tmp_path, 2)), "--db", book], capsys)
    outcomes = write(
        tmp_path / "outcomes.csv",
        "visit_id,outcome,at,promise_date\nV001,not_home,2026-12-01T10:00,\nV009,done,2026-12-01T11:00,\nV002,promise_to_pay,2026-12-01T12:00,\n",
    )
    code, _, err = run(["book", "outcomes", str(outcomes), "--db", book], capsys)
    assert code == 2
    assert "outcomes.csv, row 4, column 'promise_date'" in err
    outcomes = write(
        tmp_path / "outcomes.csv",
        "visit_id,outcome,at\nV001,not_home,2026-12-01T10:00\nV009,done,2026-12-01T11:00\n",
    )
    code, _, err = run(["book", "outcomes", str(outcomes), "--db", book], capsys)
    assert code == 2
    assert "outcomes.csv, row 3, column 'visit_id': 'V009' is not a visit in the book" in err
    assert _count(book, "select count(*) from outcomes") == 0
    assert (
        _count(book, "select count(*) from visits where status = 'pending' and attempts = 0") == 2
    )


def test_purge_keeps_history_and_is_audited(
    book: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["book", "import", str(visits_csv(tmp_path, 3)), "--db", book], capsys)
    outcomes = write(
        tmp_path / "o.csv",
        "visit_id,outcome,at,note\nV001,done,2026-12-01T10:00,paid cash to Mr X\nV002,not_home,2026-12-01T10:00,\n",
    )
    run(["book", "outcomes", str(outcomes), "--db", book], capsys)
    code, out, _ = run(["book", "purge", "--closed-before", "2999-01-01", "--db", book], capsys)
    assert code == 0
    assert "personal data of 1 cases" in out
    assert (
        _count(
            book,
            "select count(*) from visits where visit_id = 'V001' and name = '' and phone = '' and address = '' and lat is null and purged_at is not null",
        )
        == 1
    )
    assert _count(book, "select count(*) from visits where visit_id = 'V002' and name <> ''") == 1
    assert _count(book, "select count(*) from outcomes where note <> ''") == 0
    assert _count(book, "select count(*) from outcomes where outcome = 'done'") == 1
    assert (
        _count(
            book,
            "select count(*) from audit_events where action = 'purge' and command = 'book purge'",
        )
        == 1
    )
    assert (
        _count(
            book, "select count(*) from audit_events where action = 'import' and actor like 'os:%'"
        )
        == 1
    )
    assert (
        _count(
            book,
            "select count(*) from audit_visits a join audit_events e on e.id = a.event_id where e.action = 'import'",
        )
        == 3
    )
