"""The second search's worker: ends at the deadline, dies with its parent, never lost silently."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from optimizer.bench.synthetic import make_agents, make_visits
from optimizer.errors import ConfigurationError
from optimizer.pipeline import plan_day
from optimizer.problem import build_problem
from optimizer.settings import Settings
from optimizer.solve import parallel
from optimizer.solve.construct import Insertion
from optimizer.solve.params import SolverSettings
from optimizer.travel.straight import StraightLineModel
from tests.helpers import DATE, ROOT, make_agent, make_visit


def _problem(n: int = 60):  # type: ignore[no-untyped-def]
    agents = make_agents(4, seed=3)
    visits = make_visits(n, agents, seed=3)
    return build_problem([v for v in visits if v.location is not None], agents, StraightLineModel())


def test_second_search_asks_the_clock_inside_its_long_steps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With its deadline already past, the worker's search inserts nothing at all.

    Before: the four regret starts were built whole (hundreds of insertions) whatever
    the clock said, which is how a loaded machine made the worker overrun.
    """
    inserted = []
    real = Insertion._insert

    def counting(self: Insertion, u: int, a: int) -> None:
        inserted.append(u)
        real(self, u, a)

    monkeypatch.setattr(Insertion, "_insert", counting)
    result = parallel.lns_search(_problem(), SolverSettings(), time.time() - 1)
    assert inserted == []
    assert result.routes  # still an answer: every visit dropped, routes valid


def _two_searches(monkeypatch: pytest.MonkeyPatch, command: list[str]) -> Settings:
    monkeypatch.setattr(parallel, "worker_command", lambda: command)
    return Settings(solver=SolverSettings(time_limit_s=0.5, workers=2))


def test_a_worker_that_dies_is_recorded_in_the_plan_and_the_log(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    dead = [sys.executable, "-c", "import sys; sys.stdin.buffer.read(); sys.exit(3)"]
    settings = _two_searches(monkeypatch, dead)
    visits = (make_visit("V1"), make_visit("V2"))
    with caplog.at_level(logging.WARNING, logger="optimizer.solve.parallel"):
        day = plan_day(visits, (make_agent("A1"),), settings, date=DATE)
    (lost,) = day.plan.solver.lost_searches
    assert "second search (lns)" in lost and "exit code 3" in lost
    assert any(lost in r.getMessage() for r in caplog.records)


def test_a_worker_that_overruns_is_stopped_and_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    slow = [sys.executable, "-c", "import sys, time; sys.stdin.buffer.read(); time.sleep(60)"]
    settings = _two_searches(monkeypatch, slow)
    monkeypatch.setattr(parallel, "GRACE_S", 0.2)
    started: list[subprocess.Popen[bytes]] = []
    real_popen = subprocess.Popen

    def popen(*args: object, **kwargs: object) -> subprocess.Popen[bytes]:
        proc = real_popen(*args, **kwargs)  # type: ignore[call-overload]
        started.append(proc)
        return proc  # type: ignore[no-any-return]

    monkeypatch.setattr(subprocess, "Popen", popen)
    visits = (make_visit("V1"), make_visit("V2"))
    day = plan_day(visits, (make_agent("A1"),), settings, date=DATE)
    (lost,) = day.plan.solver.lost_searches
    assert "gave no result" in lost
    assert started and all(p.poll() is not None for p in started)


_PARENT = """
import sys
sys.path.insert(0, sys.argv[1])
from tests.solve.test_parallel import _problem
from optimizer.solve.params import SolverSettings
from optimizer.solve.parallel import solve_parallel
print("solving", flush=True)
solve_parallel(_problem(), SolverSettings(time_limit_s=120, workers=2))
"""


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux")
def test_the_worker_dies_with_its_parent_and_leaves_no_temp_folder(tmp_path: Path) -> None:
    """kill -9 of the planning process takes its worker along, however long the budget."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT, str(ROOT)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp)},
        stdout=subprocess.PIPE,
    )
    try:
        assert parent.stdout is not None and parent.stdout.readline() == b"solving\n"
        waited = 0.0
        while not (workers := _children(parent.pid)) and waited < 30:
            time.sleep(0.1)
            waited += 0.1
        assert workers, "the worker never started"
        time.sleep(2)  # past reading its problem: now it is searching
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        waited = 0.0
        while any(Path(f"/proc/{w}").exists() for w in workers) and waited < 15:
            time.sleep(0.1)
            waited += 0.1
        alive = [w for w in workers if Path(f"/proc/{w}").exists()]
        for w in alive:  # never leave an orphan behind, even when the test fails
            os.kill(w, signal.SIGKILL)
        assert not alive, "the worker outlived its parent"
        assert list(tmp.iterdir()) == []
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()


def test_main_search_lns_never_asks_ortools(monkeypatch: pytest.MonkeyPatch) -> None:
    """A multi-day model: OR-Tools would spend its budget failing to read the start."""

    def no_ortools(*_: object, **__: object) -> None:
        pytest.fail("OR-Tools was asked although main_search is lns")

    monkeypatch.setattr(parallel, "solve", no_ortools)
    problem = _problem(30)
    result = parallel.solve_parallel(
        problem, SolverSettings(time_limit_s=0.5, workers=1, main_search="lns")
    )
    assert result.status == "LNS"
    served = {i for r in result.routes for i in r.visits}
    assert served | set(result.dropped) == set(range(problem.num_visits))
    with pytest.raises(ConfigurationError, match="main_search 'cp' is unknown"):
        SolverSettings(main_search="cp")
