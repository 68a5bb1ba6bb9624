"""Small files and runners for the book tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from optimizer.cli import main
from tests.helpers import ROOT

VISIT_HEADER = (
    "visit_id,name,phone,address,lat,lon,window_start,window_end,duration_min,priority,due_date\n"
)
AGENT_HEADER = "agent_id,start_lat,start_lon,shift_start,shift_end,days_off\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def visits_csv(
    folder: Path, n: int, *, start: int = 1, due: str = "", name: str = "visits.csv"
) -> Path:
    """``n`` visits around Chengdu, 09:00-17:00 windows, 30 minutes each."""
    rows = [
        f"V{i:03d},Borrower {i},1380000{i:04d},Road {i},{30.65 + (i % 7) * 0.004:.5f},"
        f"{104.06 + (i % 5) * 0.004:.5f},09:00,17:00,30,1,{due}\n"
        for i in range(start, start + n)
    ]
    return write(folder / name, VISIT_HEADER + "".join(rows))


def agents_csv(folder: Path, n: int = 2, *, days_off: str = "") -> Path:
    rows = [f"A{i},30.66,104.07,08:00,17:00,{days_off}\n" for i in range(1, n + 1)]
    return write(folder / "agents.csv", AGENT_HEADER + "".join(rows))


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def run_process(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    """``fieldroute ARGS`` in its own process (for two writers at once)."""
    return subprocess.Popen(
        [sys.executable, "-m", "optimizer", *args],
        cwd=cwd,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
