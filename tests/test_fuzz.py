"""Mutated sample files never crash the planner, never write outside --out, leave nothing.

Hypothesis with a fixed seed (derandomized, no example database): the same mutants on
every machine. ``make test`` runs FIELDROUTE_FUZZ_EXAMPLES (default 30, about 10 s) of them;
``make bench`` runs 300.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.cli import main
from tests.helpers import ROOT
from tests.hostile import PAYLOADS

TINY = ROOT / "data" / "tiny"
EXAMPLES = int(os.environ.get("FIELDROUTE_FUZZ_EXAMPLES", "30"))
FAST = "[solver]\nworkers = 1\ntime_limit_s = 0.2\n"
NASTY = (*PAYLOADS, "", " ", "nul\x00", "new\nline", '"', ",", "-1", "99:99", "1e3", "００:３０")


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """One to three edits of a CSV: cells, lines, bytes."""
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(
            st.sampled_from(["id", "id", "cell", "cell", "drop", "dup", "blank", "cut", "byte"])
        )
        k = draw(st.integers(0, len(lines) - 1)) if lines else 0
        if kind in ("id", "cell") and lines:
            if kind == "id" and len(lines) > 1:
                k = draw(st.integers(1, len(lines) - 1))  # an id of a data row
            cells = lines[k].split(",")
            c = 0 if kind == "id" else draw(st.integers(0, len(cells) - 1))
            value = draw(st.sampled_from(NASTY))
            cells[c] = f'"{value.replace('"', '""')}"' if set(value) & {",", "\n", '"'} else value
            lines[k] = ",".join(cells)
        elif kind == "drop" and lines:
            del lines[k]
        elif kind == "dup" and lines:
            lines.insert(k, lines[k])
        elif kind == "blank":
            lines.insert(k, "")
        elif kind == "cut" and lines:
            lines[k] = lines[k][: draw(st.integers(0, len(lines[k])))]
        elif kind == "byte" and lines:
            pos = draw(st.integers(0, len(lines[k])))
            lines[k] = (
                lines[k][:pos]
                + draw(st.sampled_from(["\ufeff", "\x00", ";", "\t", "é"]))
                + lines[k][pos:]
            )
    return "\n".join(lines) + "\n"


VISITS = (TINY / "visits.csv").read_text(encoding="utf-8-sig")
AGENTS = (TINY / "agents.csv").read_text(encoding="utf-8-sig")


def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(visits=mutated(VISITS), agents=st.one_of(st.just(AGENTS), mutated(AGENTS)))
def test_mutated_inputs_exit_0_or_2_inside_out_and_leave_nothing(
    visits: str, agents: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with tempfile.TemporaryDirectory(prefix="fr-fuzz-") as work:
        root = Path(work)
        box = root / "box"
        box.mkdir()
        (box / "visits.csv").write_text(visits, encoding="utf-8", errors="surrogatepass")
        (box / "agents.csv").write_text(agents, encoding="utf-8", errors="surrogatepass")
        (box / "fast.toml").write_text(FAST, encoding="utf-8")
        tmp = root / "tmp"
        tmp.mkdir()
        before = _snapshot(root)
        old_tempdir = tempfile.tempdir
        tempfile.tempdir = str(tmp)
        try:
            code = main(
                [
                    "plan",
                    str(box / "visits.csv"),
                    str(box / "agents.csv"),
                    "--date",
                    "2026-12-01",
                    "--config",
                    str(box / "fast.toml"),
                    "--out",
                    str(box / "out"),
                    "-q",
                ]
            )
        finally:
            tempfile.tempdir = old_tempdir
        err = capsys.readouterr().err
        assert code in (0, 2), err
        assert "Traceback" not in err and "this is a bug" not in err
        after = _snapshot(root)
        new = after - before
        if code == 0:
            assert all(p == "box/out" or p.startswith("box/out/") for p in new), new
        else:
            # No partial output, no staging folder; a long error list is written whole
            # beside its input, and the message names it.
            listed = {p for p in new if p.endswith(".csv.errors.txt") and str(root / p) in err}
            assert new == listed, new
        assert after >= before  # nothing of the user's removed
        assert list(tmp.iterdir()) == []
