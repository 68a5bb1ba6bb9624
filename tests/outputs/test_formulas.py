"""Formula injection: no cell of a CSV meant for a person runs in a spreadsheet.

Every formula payload of tests/hostile.py is planted in every text field of the tiny
day; every CSV the plan writes must show it as text (a leading ``'``), plan.json must
keep it exact, and re-reading ``inputs/`` must give back the very same values.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from optimizer.cli import main
from optimizer.inputs.load import read_table, restore_cell
from optimizer.inputs.schema import FORMULA_START
from optimizer.outputs.export import neutralise_cell
from tests.helpers import ROOT
from tests.hostile import FORMULAS, PAYLOADS

TEXT_COLUMNS = ("name", "address", "visit_type", "documents")


def _planted(payload: str, folder: Path) -> Path:
    with (ROOT / "data" / "tiny" / "visits.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    for k, row in enumerate(rows):
        for column in TEXT_COLUMNS:
            row[column] = payload
        row["visit_id"] = _id(payload, k)
    path = folder / "visits.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _id(payload: str, k: int) -> str:
    # Ids become file names; "/" in an id is the safe-file-name item's concern.
    return f"{payload.strip().replace('/', '')}{k}"


def _cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [cell for row in csv.reader(fh) for cell in row]


@pytest.mark.parametrize("payload", FORMULAS)
def test_no_csv_cell_starts_a_formula(payload: str, tmp_path: Path) -> None:
    visits = _planted(payload, tmp_path)
    out = tmp_path / "out"
    args = ["plan", str(visits), str(ROOT / "data" / "tiny" / "agents.csv"), "--out", str(out)]
    assert main([*args, "--date", "2026-12-01", "--time-limit", "1", "-q"]) == 0
    csvs = sorted(out.rglob("*.csv"))
    assert {p.name for p in csvs} >= {"itineraries.csv", "notices.csv", "visits.csv"}
    seen = 0
    for path in csvs:
        for cell in _cells(path):
            assert not cell.startswith(FORMULA_START), f"{path.name}: {cell!r}"
            seen += cell.startswith("'" + payload.strip()[:4])
    assert seen >= 6  # the ids at least, in itineraries, notices and inputs
    doc = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    ids = {s["visit_id"] for r in doc["routes"] for s in r["stops"]}
    ids |= {u["visit_id"] for u in doc["unassigned"]}
    assert ids == {_id(payload, k) for k in range(6)}  # plan.json is exact
    frame = read_table(out / "inputs" / "visits.csv")
    assert sorted(frame["visit_id"]) == sorted(_id(payload, k) for k in range(6))
    assert set(frame["address"]) == {payload.strip()}


@pytest.mark.parametrize(
    "value", [*PAYLOADS, "'=1", "''+2", "'", "-0.5", "+86", "plain", "", "'quoted'"]
)
def test_neutralise_then_restore_is_exact(value: str) -> None:
    written = neutralise_cell(value)
    assert isinstance(written, str)
    assert not written.startswith(FORMULA_START)
    assert restore_cell(written) == value


def test_numbers_pass_unchanged_text_numbers_are_quoted() -> None:
    assert neutralise_cell(-104.5) == -104.5
    assert neutralise_cell("-104.5") == "'-104.5"
    assert neutralise_cell("-2+3") == "'-2+3"
