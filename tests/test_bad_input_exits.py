"""Bad input never ends in a traceback: exit 2 and a line naming the file and the fault.

Issue 11, item 9: non-finite and huge numbers in cells and settings, files that are
not UTF-8, a folder where a file belongs, a duration that rounds to nothing, and
corrupted plan folders given to ``replan`` and ``slots``.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from optimizer.cli import main
from tests.helpers import ROOT

TINY = ROOT / "data" / "tiny"
T = ["--date", "2026-12-01", "--time-limit", "1", "-q"]


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and "this is a bug" not in err
    assert err.startswith("error: ")
    for needle in needles:
        assert needle in err, err
    return err


def _edit(src: Path, dst: Path, row: int, column: str, value: str) -> Path:
    with src.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    rows[row][column] = value
    with dst.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return dst


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("priority", "inf"),
        ("priority", "1e30"),
        ("priority", "9223372036854775808"),
        ("priority", "15906690460"),
        ("demand", "inf"),
        ("demand", "1e400"),
    ],
)
def test_huge_or_infinite_visit_numbers(
    column: str, value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    visits = _edit(TINY / "visits.csv", tmp_path / "visits.csv", 0, column, value)
    argv = ["plan", str(visits), str(TINY / "agents.csv"), "--out", str(tmp_path / "o"), *T]
    _refused(argv, capsys, "visits.csv, row 2", f"column '{column}'")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_infinite_capacity(suffix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    agents = _edit(TINY / "agents.csv", tmp_path / "agents.csv", 1, "capacity", "inf")
    if suffix == ".xlsx":
        import pandas as pd

        frame = pd.read_csv(agents, dtype=str, keep_default_na=False)
        agents = tmp_path / "agents.xlsx"
        frame.to_excel(agents, index=False)
    argv = ["plan", str(TINY / "visits.csv"), str(agents), "--out", str(tmp_path / "o"), *T]
    _refused(argv, capsys, f"agents{suffix}, row 3", "column 'capacity'")


@pytest.mark.parametrize(
    "toml",
    [
        "[travel.car]\noverhead_s = 1e30\n",
        "[travel.car]\noverhead_s = inf\n",
        "[solver]\nvehicle_fixed_cost_s = 1e30\n",
        "[replan]\nagent_change_cost_s = 1e30\n",
        "[geocoder]\nmin_delay_s = inf\n",
    ],
)
def test_huge_settings(toml: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "o.toml"
    config.write_text(toml, encoding="utf-8")
    argv = ["plan", str(TINY / "visits.csv"), str(TINY / "agents.csv"), "--config", str(config)]
    _refused([*argv, "--out", str(tmp_path / "o"), *T], capsys, "o.toml")


def _config_dir(tmp_path: Path) -> Path:
    (tmp_path / "d.toml").mkdir()
    return tmp_path / "d.toml"


def _config_latin1(tmp_path: Path) -> Path:
    path = tmp_path / "l.toml"
    path.write_bytes('[notices]\ndesk_phone = "caf\xe9"\n'.encode("latin-1"))
    return path


def _template_latin1(tmp_path: Path) -> Path:
    template = tmp_path / "t.txt"
    template.write_bytes("Bonjour, caf\xe9 ${date}".encode("latin-1"))
    path = tmp_path / "t.toml"
    path.write_text(f'[notices]\ntemplate = "{template}"\n', encoding="utf-8")
    return path


def _output_dir_file(tmp_path: Path) -> Path:
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    path = tmp_path / "f.toml"
    path.write_text(f'[plan]\noutput_dir = "{tmp_path / "afile"}"\n', encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (_config_dir, "is a folder"),
        (_config_latin1, "not UTF-8"),
        (_template_latin1, "t.txt' is not UTF-8"),
        (_output_dir_file, "output_dir"),
    ],
)
def test_unusable_settings_files(
    make: Callable[[Path], Path], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make(tmp_path)
    argv = ["plan", str(TINY / "visits.csv"), str(TINY / "agents.csv"), "--config", str(config)]
    extra = [] if make is _output_dir_file else ["--out", str(tmp_path / "o")]
    named = "t.txt" if make is _template_latin1 else config.name  # the file at fault
    _refused([*argv, *extra, *T], capsys, named, needle)


def test_geocode_on_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "d.csv").mkdir()
    argv = ["geocode", str(tmp_path / "d.csv"), "--out", str(tmp_path / "x.csv")]
    _refused(argv, capsys, "d.csv", "folder")


@pytest.fixture(scope="module")
def plan_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny day planned once; each test corrupts a copy."""
    out = tmp_path_factory.mktemp("plan") / "out"
    assert (
        main(["plan", str(TINY / "visits.csv"), str(TINY / "agents.csv"), "--out", str(out), *T])
        == 0
    )
    return out


def test_slots_duration_that_rounds_to_nothing(
    plan_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["slots", str(plan_folder / "plan.json"), "--lat", "30.65", "--lon", "104.05"]
    _refused([*argv, "--duration", "0.001"], capsys, "--duration")


def _text(name: str, content: bytes) -> Callable[[Path], None]:
    def corrupt(folder: Path) -> None:
        (folder / name).write_bytes(content)

    return corrupt


def _plan_field(edit: Callable[[str], str]) -> Callable[[Path], None]:
    def corrupt(folder: Path) -> None:
        path = folder / "plan.json"
        path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")

    return corrupt


CORRUPTIONS: dict[str, tuple[Callable[[Path], None], str, str]] = {
    "not utf-8": (_text("plan.json", b"\xff\xfe{}"), "plan.json", "not UTF-8"),
    "deep nesting": (_text("plan.json", b"[" * 100_000 + b"]" * 100_000), "plan.json", ""),
    "a list": (_text("plan.json", b"[]"), "plan.json", "expected an object"),
    "null": (_text("plan.json", b"null"), "plan.json", "expected an object"),
    "solver a list": (
        _plan_field(lambda t: t.replace('"solver": {', '"solver": [], "x": {', 1)),
        "plan.json",
        "",
    ),
    "unknown time zone": (
        _plan_field(lambda t: t.replace('"Asia/Shanghai"', '"Mars/Olympus"', 1)),
        "plan.json",
        "Mars/Olympus",
    ),
    "another date": (
        _plan_field(lambda t: t.replace('"date": "2026-12-01"', '"date": "2026-12-09"', 1)),
        "plan.json",
        "plan date",
    ),
    "seq 1e999": (_plan_field(lambda t: t.replace('"seq": 1', '"seq": 1e999', 1)), "plan.json", ""),
    "settings not json": (_text("inputs/settings.json", b"{oops"), "settings.json", "JSON"),
    "settings not utf-8": (_text("inputs/settings.json", b"\xff{}"), "settings.json", "UTF-8"),
}


@pytest.mark.parametrize("command", ["replan", "slots"])
@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
def test_corrupted_plan_folder(
    case: str, command: str, plan_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corrupt, name, needle = CORRUPTIONS[case]
    folder = tmp_path / "p"
    shutil.copytree(plan_folder, folder)
    corrupt(folder)
    plan = str(folder / "plan.json")
    if command == "replan":
        argv = ["replan", plan, "--now", "11:20", "--out", str(tmp_path / "r")]
    else:
        argv = ["slots", plan, "--lat", "30.65", "--lon", "104.05", "--duration", "30"]
    _refused(argv, capsys, name, needle)
