"""Reading input files: every defect names file, spreadsheet row and column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from optimizer.domain import Mode
from optimizer.errors import InputError
from optimizer.inputs.load import parse_visits, read_inputs, read_table
from tests.helpers import DATA_DIR

BAD = DATA_DIR / "bad"
OK_VISITS = DATA_DIR / "ok" / "visits.csv"
OK_AGENTS = DATA_DIR / "ok" / "agents.csv"

# file, spreadsheet row (None: file-level), column, fragment of the message
BAD_CASES = [
    (
        "visits_missing_column.csv",
        1,
        "visit_id",
        "missing column 'visit_id'; found: address, lat, lon",
    ),
    ("visits_bad_time_format.csv", 3, "window_start", "expected HH:MM"),
    (
        "visits_window_end_before_start.csv",
        2,
        "window_end",
        "ends (09:00) before it starts (11:00)",
    ),
    ("visits_duplicate_id.csv", 4, "visit_id", "first seen on row 2"),
    ("visits_lat_out_of_range.csv", 3, "lat", "expected decimal degrees in [-90, 90]"),
    ("visits_no_address_no_coords.csv", 2, "address", "expected an address or coordinates"),
    ("visits_bad_duration.csv", 2, "duration_min", "not a number of minutes"),
    ("visits_bad_priority.csv", 2, "priority", "whole number >= 1"),
    # the blank line is row 3: the error must be reported on row 5, not 4
    ("visits_blank_line_before_error.csv", 5, "window_end", "expected both or neither"),
    ("visits_empty.csv", None, None, "file is empty"),
    ("visits_header_only.csv", None, None, "has no data rows"),
    ("visits_unknown_pinned_agent.csv", 3, "agent_id", "is not an agent in the agents file"),
    ("agents_unknown_mode.csv", 2, "mode", "expected one of: car, ebike, walk, transit"),
    ("agents_shift_end_before_start.csv", 2, "shift_end", "ends (08:00) before it starts (17:00)"),
    ("agents_missing_start.csv", 2, "start_lat", "expected the latitude"),
    ("visits_bad_due_date.csv", 2, "due_date", "expected YYYY-MM-DD"),
    ("visits_due_before_earliest.csv", 2, "due_date", "is before earliest_date (2026-12-05)"),
    ("visits_bad_preferred_day.csv", 2, "preferred_days", "'funday' is not a weekday"),
    ("agents_bad_days_off.csv", 2, "days_off", "'someday' is neither a weekday"),
    (
        "agents_partial_break.csv",
        2,
        "break_min",
        "expected all of break_start, break_end, break_min or none",
    ),
]


def _paths(name: str) -> tuple[Path, Path]:
    return (BAD / name, OK_AGENTS) if name.startswith("visits") else (OK_VISITS, BAD / name)


@pytest.mark.parametrize(("name", "row", "column", "fragment"), BAD_CASES)
def test_bad_file_names_row_and_column(
    name: str, row: int | None, column: str | None, fragment: str
) -> None:
    with pytest.raises(InputError) as info:
        read_inputs(*_paths(name))
    issues = info.value.issues
    assert len(issues) == 1, issues
    issue = issues[0]
    assert (issue.source, issue.row, issue.column) == (name, row, column)
    assert fragment in issue.problem
    line = str(issue)
    assert line.startswith(name)
    assert "\n" not in line
    if row is not None:
        assert f"row {row}" in line


def test_every_bad_file_is_covered() -> None:
    covered = {case[0] for case in BAD_CASES} | {"visits_excel_bom.csv", "visits_gbk.csv"}
    assert covered == {p.name for p in BAD.glob("*.csv")}


def test_excel_bom_parses() -> None:
    inputs = read_inputs(BAD / "visits_excel_bom.csv", OK_AGENTS)
    assert [v.visit_id for v in inputs.visits] == ["V1"]


def test_gb18030_is_detected() -> None:
    inputs = read_inputs(BAD / "visits_gbk.csv", OK_AGENTS)
    assert inputs.visits[0].address == "成都市锦江区春熙路1号"


def test_ok_files_parse_with_defaults_and_extras() -> None:
    inputs = read_inputs(OK_VISITS, OK_AGENTS)
    v1, v2, v3 = inputs.visits
    assert v1.window is not None and v1.window.start_s == 9 * 3600
    assert v1.documents == ("ID card", "household register")
    assert dict(v1.extra) == {"notes": "call first"}
    assert (
        v2.skills == frozenset({"asset_appraisal"}) and v2.priority == 2 and v2.duration_s == 2700
    )
    assert v3.window is None and v3.pinned_agent == "A2"
    a1, a2 = inputs.agents
    assert a1.break_rule is not None and a1.break_rule.duration_s == 45 * 60
    assert a1.end_point == a1.start
    assert a2.mode is Mode.EBIKE and a2.end is not None and a2.end != a2.start


def test_xlsx_reads_like_csv(tmp_path: Path) -> None:
    frame = pd.read_csv(OK_VISITS, dtype=str, keep_default_na=False)
    path = tmp_path / "visits.xlsx"
    frame.to_excel(path, index=False)
    visits = parse_visits(read_table(path), path.name)
    assert [v.visit_id for v in visits] == ["V1", "V2", "V3"]


def test_all_problems_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "visits.csv"
    path.write_text("visit_id,lat,lon,duration_min\nV1,91,0,30\nV2,0,0,-3\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        parse_visits(read_table(path), path.name)
    assert [(i.row, i.column) for i in info.value.issues] == [(2, "lat"), (3, "duration_min")]


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        read_table(tmp_path / "nope.csv")


def test_horizon_columns_are_read_and_written_back(tmp_path: Path) -> None:
    import datetime as dt

    from optimizer.domain import DaySet
    from optimizer.outputs.export import agents_frame, visits_frame, write_csv

    visits_csv = tmp_path / "visits.csv"
    visits_csv.write_text(
        "visit_id,lat,lon,due_date,earliest_date,preferred_days\n"
        "V1,30.66,104.06,2026-12-04,2026-12-02,mon;Wednesday\n"
        "V2,30.67,104.07,,,\n",
        encoding="utf-8",
    )
    agents_csv = tmp_path / "agents.csv"
    agents_csv.write_text(
        "agent_id,start_lat,start_lon,shift_start,shift_end,days_off\n"
        "A1,30.66,104.06,08:30,17:30,sat;sun;2026-12-25\n",
        encoding="utf-8",
    )
    inputs = read_inputs(visits_csv, agents_csv)
    visits, agents = inputs.visits, inputs.agents
    v1, v2 = visits
    assert (v1.due_date, v1.earliest_date) == (dt.date(2026, 12, 4), dt.date(2026, 12, 2))
    assert v1.preferred_days == frozenset({0, 2})
    assert not v1.allowed_on(dt.date(2026, 12, 1))
    assert v1.allowed_on(dt.date(2026, 12, 4))
    assert not v1.allowed_on(dt.date(2026, 12, 5))
    assert (v2.due_date, v2.earliest_date, v2.preferred_days) == (None, None, frozenset())
    (a1,) = agents
    assert a1.days_off == DaySet(frozenset({dt.date(2026, 12, 25)}), frozenset({5, 6}))
    assert not a1.works_on(dt.date(2026, 12, 5))  # a Saturday
    assert not a1.works_on(dt.date(2026, 12, 25))
    assert a1.works_on(dt.date(2026, 12, 4))
    # written back in the input format, they read back the same
    write_csv(visits_frame(visits), tmp_path / "v2.csv")
    write_csv(agents_frame(agents), tmp_path / "a2.csv")
    again = read_inputs(tmp_path / "v2.csv", tmp_path / "a2.csv")
    again_v, again_a = again.visits, again.agents
    assert [(v.due_date, v.earliest_date, v.preferred_days) for v in again_v] == [
        (v.due_date, v.earliest_date, v.preferred_days) for v in visits
    ]
    assert again_a[0].days_off == a1.days_off
