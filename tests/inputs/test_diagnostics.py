"""Diagnostics that point at the real problem (issue 11, item 11)."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.errors import InputError
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
