"""The command line against hostile ids, odd --out folders, signals and a full disk."""

from __future__ import annotations

import csv
import io
import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer.cli import main
from tests.helpers import ROOT
from tests.hostile import TRAVERSAL

TINY = ROOT / "data" / "tiny"
ODD_IDS = (*TRAVERSAL, "nul\x00id", "new\nline")
FAST = "[solver]\nworkers = 1\ntime_limit_s = 0.3\n"


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _with_ids(tmp: Path, visit_id: str, agent_id: str) -> tuple[Path, Path]:
    """data/tiny with the first visit's id and the first agent's id replaced."""
    files = []
    for name, column, new in (
        ("visits.csv", "visit_id", visit_id),
        ("agents.csv", "agent_id", agent_id),
    ):
        rows = list(csv.DictReader(io.StringIO((TINY / name).read_text(encoding="utf-8-sig"))))
        old = rows[0][column]
        rows[0][column] = new
        for row in rows:  # a pin to the agent follows it
            if row.get("agent_id") == old and column == "agent_id":
                row["agent_id"] = new
        path = tmp / name
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        files.append(path)
    return files[0], files[1]


@pytest.mark.parametrize("odd", ODD_IDS)
def test_hostile_ids_write_only_inside_out_and_the_real_id_is_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], odd: str
) -> None:
    sandbox = tmp_path / "a" / "b"
    sandbox.mkdir(parents=True)
    visits, agents = _with_ids(sandbox, odd, odd)
    config = sandbox / "fast.toml"
    config.write_text(FAST, encoding="utf-8")
    absolute = (
        [Path(odd + suffix) for suffix in (".txt", ".html", ".ics")] if odd.startswith("/") else []
    )
    for p in absolute:
        p.unlink(missing_ok=True)
    out = sandbox / "out"
    args = ["plan", str(visits), str(agents), "--date", "2026-12-01", "--config", str(config)]
    code = main([*args, "--out", str(out), "-q"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "Traceback" not in err
    assert _tree(tmp_path) - {"a", "a/b"} == {
        f"a/b/{p}" for p in ("visits.csv", "agents.csv", "fast.toml", "out")
    } | {f"a/b/out/{p}" for p in _tree(out)}
    assert not any(p.exists() for p in absolute)
    for path in out.rglob("*"):
        assert (
            path.name.isprintable() and not path.name.startswith(".")
        ) or path.name == ".fieldroute"
    doc = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    routed = {s["visit_id"] for r in doc["routes"] for s in r["stops"]}
    assert odd in {r["agent_id"] for r in doc["routes"]} and odd in routed


def _run(out: Path, *extra: str, config: Path | None = None) -> int:
    config = config or out.parent / "fast.toml"
    config.write_text(FAST, encoding="utf-8")
    return main(
        [
            "plan",
            str(TINY / "visits.csv"),
            str(TINY / "agents.csv"),
            "--date",
            "2026-12-01",
            "--config",
            str(config),
            "--out",
            str(out),
            "-q",
            *extra,
        ]
    )


def test_out_is_refused_when_fieldroute_did_not_write_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "user"
    user.mkdir()
    (user / "my_notes.txt").write_text("keep", encoding="utf-8")
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("visits.csv", "agents.csv"):
        (inputs / name).write_bytes((TINY / name).read_bytes())
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    cases = [
        (user, "did not write"),
        (Path(), "folder you are working in"),
        (Path("afile/out"), "is a file"),
    ]
    for out, fragment in cases:
        capsys.readouterr()
        assert _run(out, config=tmp_path / "fast.toml") == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and fragment in err and "Traceback" not in err
    args = ["plan", str(inputs / "visits.csv"), str(inputs / "agents.csv"), "--date", "2026-12-01"]
    assert main([*args, "--out", str(inputs)]) == 2
    assert "holds the input file" in capsys.readouterr().err
    assert (user / "my_notes.txt").read_text(encoding="utf-8") == "keep"
    assert sorted(p.name for p in inputs.iterdir()) == ["agents.csv", "visits.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "fast.toml", "in", "user"]


_SIGTERM_DURING_WRITE = """
import os, signal, sys
import optimizer.outputs.export as export
from optimizer.cli import main
real = export.write_notices
def terminated(day, out, visits=None):
    os.kill(os.getpid(), signal.SIGTERM)
    return real(day, out, visits)
export.write_notices = terminated
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_during_the_write_is_handled_like_ctrl_c(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _run(out) == 0
    before = (out / "plan.json").read_bytes()
    args = ["plan", str(TINY / "visits.csv"), str(TINY / "agents.csv"), "--date", "2026-12-01"]
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            _SIGTERM_DURING_WRITE,
            *args,
            "--config",
            str(tmp_path / "fast.toml"),
            "--out",
            str(out),
            "-q",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 128 + signal.SIGTERM, run.stderr
    assert "terminated" in run.stderr and "Traceback" not in run.stderr
    assert (out / "plan.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fast.toml", "out"]


def _small_file_limit() -> None:
    # Writes past 64 kB fail with EFBIG (SIGXFSZ ignored), as a full disk fails them.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64_000, 64_000))


def test_a_write_the_machine_refuses_is_exit_5_naming_the_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (tmp_path / "fast.toml").write_text(FAST, encoding="utf-8")
    args = ["plan", str(TINY / "visits.csv"), str(TINY / "agents.csv"), "--date", "2026-12-01"]
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "optimizer",
            *args,
            "--config",
            str(tmp_path / "fast.toml"),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=_small_file_limit,
    )
    assert run.returncode == 5, run.stderr
    assert "File too large" in run.stderr and str(out) in run.stderr
    assert "Traceback" not in run.stderr and "this is a bug" not in run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fast.toml"]
