"""Phones are checked on input; a Call button only ever dials a checked number (issue 11, item 11)."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import pytest

from optimizer.cli import main
from optimizer.errors import InputError
from optimizer.inputs.load import parse_agents, parse_visits, read_table
from optimizer.outputs.agent_page import agent_page, tel_link
from optimizer.phones import parse_phone
from tests.helpers import ROOT, make_day

TINY = ROOT / "data" / "tiny"


def _with_phone(src: Path, dst: Path, row: int, phone: str) -> Path:
    with src.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    rows[row]["phone"] = phone
    with dst.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return dst


@pytest.mark.parametrize(
    "bad",
    [
        "javascript:alert(1)",
        "tel:1",
        "<img src=x onerror=alert(1)>",
        "138 0013 8000; DROP",
        "1+2",
        "(010 6552 1234",
        "12",  # too short to dial
        "1" * 16,  # longer than E.164 allows
        "none",
    ],
)
def test_a_cell_that_is_no_phone_number_is_an_input_error(bad: str, tmp_path: Path) -> None:
    path = _with_phone(TINY / "visits.csv", tmp_path / "visits.csv", 1, bad)
    with pytest.raises(InputError) as err:
        parse_visits(read_table(path), path.name)
    assert [(i.row, i.column) for i in err.value.issues] == [(3, "phone")]
    assert "expected a phone number" in str(err.value)
    assert bad not in str(err.value) or len(bad) < 4  # personal column: masked


def test_an_agents_phone_is_checked_too(tmp_path: Path) -> None:
    path = _with_phone(TINY / "agents.csv", tmp_path / "agents.csv", 0, "javascript:alert(1)")
    with pytest.raises(InputError) as err:
        parse_agents(read_table(path), path.name)
    assert [(i.row, i.column) for i in err.value.issues] == [(2, "phone")]


def test_the_cli_refuses_it_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    visits = _with_phone(TINY / "visits.csv", tmp_path / "visits.csv", 0, "javascript:alert(1)")
    out = tmp_path / "out"
    argv = ["plan", str(visits), str(TINY / "agents.csv"), "--out", str(out), "-q"]
    assert main([*argv, "--date", "2026-12-01", "--time-limit", "1"]) == 2
    err = capsys.readouterr().err
    assert "visits.csv, row 2, column 'phone'" in err
    assert "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("typed", "tel"),
    [
        ("15906690460", "tel:15906690460"),
        ("+86 138-0013-8000", "tel:+8613800138000"),
        ("(010) 6552.1234", "tel:01065521234"),
        ("+86 10 6552 1234 ext. 12", "tel:+861065521234;ext=12"),
        ("010-65521234转123", "tel:01065521234;ext=123"),
        ("010 6552 1234 x7", "tel:01065521234;ext=7"),
        ("１３８ ００１３ ８０００", "tel:13800138000"),  # full-width, as typed in Chinese
    ],
)
def test_phone_shapes_people_type_are_kept_as_typed(typed: str, tel: str, tmp_path: Path) -> None:
    path = _with_phone(TINY / "visits.csv", tmp_path / "visits.csv", 0, typed)
    visits = parse_visits(read_table(path), path.name)
    assert visits[0].phone == typed  # shown as typed
    assert parse_phone(typed).tel_uri == tel
    assert tel_link(typed) == tel


@pytest.mark.parametrize("text", ["javascript:alert(1)", "tel:1", "call me", ""])
def test_no_call_button_from_unchecked_text(text: str) -> None:
    """A plan read from a book or an old folder may hold text the loader never saw."""
    assert tel_link(text) == ""
    day = make_day()
    visits = tuple(replace(v, phone=text) for v in day.visits)
    day = replace(day, visits=visits)
    html = agent_page(day, day.plan.routes[0].agent_id)
    assert 'class="btn call"' not in html
    assert 'href="tel:' not in html
