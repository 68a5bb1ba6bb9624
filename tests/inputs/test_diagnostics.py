"""Diagnostics that point at the real problem (issue 11, item 11)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from optimizer.cli import main
from optimizer.errors import MAX_ISSUES_SHOWN, InputError
from optimizer.inputs.load import parse_visits, read_table
from tests.helpers import ROOT

TINY = ROOT / "data" / "tiny" / "visits.csv"


def _lines(tmp_path: Path, edit: dict[int, str]) -> Path:
    lines = TINY.read_text(encoding="utf-8-sig").splitlines()
    for k, text in edit.items():
        lines[k] = text
    path = tmp_path / "visits.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("line", [1, 4])
def test_an_extra_field_is_named_on_its_row(line: int, tmp_path: Path) -> None:
    original = TINY.read_text(encoding="utf-8-sig").splitlines()
    path = _lines(tmp_path, {line: original[line] + ",x"})
    with pytest.raises(InputError) as err:
        read_table(path)
    header = len(original[0].split(","))
    assert [(i.row, i.column) for i in err.value.issues] == [(line + 1, None)]
    assert f"has {header + 1} fields, the header {header}" in str(err.value)


@pytest.mark.parametrize(
    "twin", ["v0001", "Ｖ０００１", "V0001\u200b", "V\u200c0001", "V0001\ufeff"]
)
def test_ids_that_look_the_same_are_duplicates(twin: str, tmp_path: Path) -> None:
    original = TINY.read_text(encoding="utf-8-sig").splitlines()
    path = _lines(tmp_path, {2: twin + original[2][len("V0002") :]})
    with pytest.raises(InputError) as err:
        parse_visits(read_table(path), path.name)
    assert [(i.row, i.column) for i in err.value.issues] == [(3, "visit_id")]
    assert "duplicate id (first seen on row 2" in str(err.value)


def _swapped(tmp_path: Path, a: str, b: str) -> Path:
    lines = TINY.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    i, j = header.index(a), header.index(b)
    header[i], header[j] = header[j], header[i]
    return _lines(tmp_path, {0: ",".join(header)})


@pytest.mark.parametrize(
    ("a", "b"), [("address", "window_start"), ("phone", "window_end"), ("name", "lat")]
)
def test_swapped_columns_do_not_print_personal_data(a: str, b: str, tmp_path: Path) -> None:
    path = _swapped(tmp_path, a, b)
    with pytest.raises(InputError) as err:
        parse_visits(read_table(path), path.name)
    message = str(err.value)
    for text in TINY.read_text(encoding="utf-8-sig").splitlines()[1:]:
        cells = text.split(",")
        for personal in cells[1:4]:  # name, phone, address
            assert personal not in message
    assert "characters)" in message  # shown as a prefix and a length


def test_plain_values_are_still_quoted_whole(tmp_path: Path) -> None:
    original = TINY.read_text(encoding="utf-8-sig").splitlines()
    path = _lines(tmp_path, {1: original[1].replace("14:30", "25:61")})
    with pytest.raises(InputError, match="'25:61' is not a time of day"):
        parse_visits(read_table(path), path.name)


@pytest.mark.parametrize(
    "bad",
    [
        "徐桂".encode("gbk"),
        "café".encode("latin-1"),
        "科华".encode()[:-1],  # cut in the middle of a character
    ],
)
def test_a_utf8_file_with_a_bad_row_names_that_row(bad: bytes, tmp_path: Path) -> None:
    lines = TINY.read_bytes().splitlines()
    first = lines[3].split(b",")
    first[1] = bad
    lines[3] = b",".join(first)
    path = tmp_path / "visits.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(InputError) as err:
        read_table(path)
    assert [(i.row, i.column) for i in err.value.issues] == [(4, "name")]
    assert "not UTF-8" in str(err.value)


def test_a_whole_gbk_file_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "visits.csv"
    path.write_bytes(TINY.read_text(encoding="utf-8-sig").encode("gb18030"))
    frame = read_table(path)
    assert frame.loc[2, "name"] == "徐桂"


def _many_bad_rows(tmp_path: Path, n: int) -> Path:
    """``n`` rows, each with a window that ends before it starts."""
    lines = TINY.read_text(encoding="utf-8-sig").splitlines()
    header, row = lines[0], lines[1]
    cells = row.split(",")
    cols = header.split(",")
    cells[cols.index("window_start")], cells[cols.index("window_end")] = "16:00", "15:00"
    body = [",".join([f"B{k:03d}", *cells[1:]]) for k in range(n)]
    path = tmp_path / "in" / "visits.csv"
    path.parent.mkdir()
    path.write_text("\n".join([header, *body]) + "\n", encoding="utf-8")
    return path


def _plan(visits: Path, out: Path) -> list[str]:
    agents = ROOT / "data" / "tiny" / "agents.csv"
    return ["plan", str(visits), str(agents), "--out", str(out), "--date", "2026-12-01", "-q"]


def test_a_long_error_list_is_written_whole_beside_the_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    visits = _many_bad_rows(tmp_path, 70)
    out = tmp_path / "out"
    assert main(_plan(visits, out)) == 2
    err = capsys.readouterr().err.splitlines()
    assert len([line for line in err if "column 'window_end'" in line]) == MAX_ISSUES_SHOWN
    assert "... and 20 more" in err
    listed = visits.with_name("visits.csv.errors.txt")
    assert err[-1] == f"the full list of 70 problems is in {listed}"
    rows = [line for line in listed.read_text(encoding="utf-8").splitlines() if "row " in line]
    assert [int(line.split("row ")[1].split(",")[0]) for line in rows] == list(range(2, 72))
    assert listed.stat().st_mode & 0o777 == 0o600
    assert not out.exists()
    assert sorted(p.name for p in visits.parent.iterdir()) == ["visits.csv", listed.name]


def test_a_short_error_list_writes_no_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    visits = _many_bad_rows(tmp_path, 3)
    assert main(_plan(visits, tmp_path / "out")) == 2
    assert "full list" not in capsys.readouterr().err
    assert [p.name for p in visits.parent.iterdir()] == ["visits.csv"]


def test_the_list_goes_to_the_temporary_folder_when_the_input_folder_refuses_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    visits = _many_bad_rows(tmp_path, 60)
    visits.with_name("visits.csv.errors.txt").mkdir()  # cannot be written as a file
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    assert main(_plan(visits, tmp_path / "out")) == 2
    last = capsys.readouterr().err.splitlines()[-1]
    (written,) = tmp.iterdir()
    assert last == f"the full list of 60 problems is in {written}"
    assert written.read_text(encoding="utf-8").count("column 'window_end'") == 60
