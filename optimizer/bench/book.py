"""Benchmarks of the case book, on SQLite and PostgreSQL (``make bench``).

* import of 100,000 visits: wall seconds and peak memory (max RSS) of the
  ``fieldroute book import`` process;
* ``plan --book`` overhead over the file path on 1,000 visits and 50 agents: the same
  day planned from files and from the book, first solution only (so the solve takes
  the same time both ways), best of two runs each; bar: under 1 s added.

PostgreSQL comes from ``FIELDROUTE_TEST_PG``, else a throwaway server from
``scripts/postgres``; without one its rows say so.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from optimizer.bench.synthetic import make_agents, make_visits
from optimizer.book.db import empty_schema, open_book, resolve_url, upgrade
from optimizer.book.repository import Actor, day_snapshot, import_file, store_plan
from optimizer.inputs.load import read_inputs
from optimizer.outputs.export import agents_frame, plan_to_dict, visits_frame, write_csv
from optimizer.pipeline import plan_day
from optimizer.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
BAR_S = 1.0
DATE = dt.date(2026, 12, 1)


@contextmanager
def postgres() -> Iterator[str | None]:
    """A PostgreSQL URL: the given one, a throwaway server, or None."""
    url = os.environ.get("FIELDROUTE_TEST_PG")
    if url:
        yield url
        return
    run = subprocess.run(
        ["bash", str(ROOT / "scripts" / "postgres"), "start"],
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        yield None
        return
    exports = dict(
        line.removeprefix("export ").split("=", 1)
        for line in run.stdout.splitlines()
        if line.startswith("export ")
    )
    try:
        yield exports["FIELDROUTE_TEST_PG"]
    finally:
        subprocess.run(
            ["bash", str(ROOT / "scripts" / "postgres"), "stop", exports["FIELDROUTE_PG_DIR"]],
            capture_output=True,
            check=False,
        )


def _fresh(url: str, name: str) -> str:
    """An empty book: a new SQLite file, or a new PostgreSQL schema."""
    if url.startswith("sqlite"):
        return f"sqlite:///{Path(tempfile.mkdtemp(prefix='fr-bench-')) / name}.db"
    return empty_schema(url, name)


def _process(args: list[str]) -> tuple[float, float]:
    """Run ``fieldroute ARGS``; wall seconds and peak memory in MiB."""
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "optimizer", *args],
        stdout=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - began
    if status != 0:
        msg = f"fieldroute {' '.join(args)} failed ({status})"
        raise RuntimeError(msg)
    return wall, usage.ru_maxrss / 1024


def bench_import(url: str, n: int, folder: Path) -> dict[str, Any]:
    team = make_agents(50, seed=3)
    path = folder / f"visits-{n}.csv"
    if not path.exists():
        write_csv(visits_frame(make_visits(n, team, seed=3)), path)
    book = _fresh(url, "bench_import")
    _process(["book", "init", "--db", book])
    wall, rss = _process(["book", "import", str(path), "--db", book])
    again, _ = _process(["book", "import", str(path), "--db", book])
    return {
        "visits": n,
        "import_s": round(wall, 1),
        "peak_mib": round(rss),
        "reimport_s": round(again, 1),
    }


def bench_overhead(
    url: str, folder: Path, *, visits: int = 1000, agents: int = 50
) -> dict[str, Any]:
    """What the book adds to a plan: its read and its store, less reading the two files.

    Solving and writing the outputs are the same code on both paths, so they are left
    out of both sides: timing them would measure the solver's noise, not the book.
    """
    team = make_agents(agents, seed=5)
    day_visits = make_visits(visits, team, seed=5)
    vpath, apath = folder / "v1000.csv", folder / "a50.csv"
    write_csv(visits_frame(day_visits), vpath)
    write_csv(agents_frame(team), apath)
    base = Settings()
    settings = replace(
        base, solver=replace(base.solver, time_limit_s=60, solution_limit=1, workers=1)
    )
    tz = zoneinfo.ZoneInfo(settings.timezone)
    actor = Actor("os:bench", "bench")
    read_s, snapshot_s, store_s = [], [], []
    for k in range(3):
        began = time.perf_counter()
        inputs = read_inputs(vpath, apath)
        read_s.append(time.perf_counter() - began)
        book_url = _fresh(url, f"bench_plan_{k}")
        book = open_book(resolve_url(book_url, settings.book), settings.book, create=True)
        try:
            upgrade(book)
            import_file(book, inputs.visits, inputs.agents, actor)
            began = time.perf_counter()
            snapshot = day_snapshot(book, DATE, settings.compliance, tz)
            snapshot_s.append(time.perf_counter() - began)
            if k == 0:
                day = plan_day(snapshot.visits, snapshot.agents, settings, date=DATE)
            began = time.perf_counter()
            store_plan(book, snapshot, day.plan, plan_to_dict(day), settings.to_dict(), actor)
            store_s.append(time.perf_counter() - began)
        finally:
            book.close()
    added = min(snapshot_s) + min(store_s) - min(read_s)
    return {
        "visits": visits,
        "read_files_s": round(min(read_s), 3),
        "book_read_s": round(min(snapshot_s), 3),
        "book_store_s": round(min(store_s), 3),
        "added_s": round(added, 3),
        "bar_s": BAR_S,
        "ok": added < BAR_S,
    }


def run(*, import_visits: int = 100_000) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="fr-bench-book-") as tmp, postgres() as pg:
        folder = Path(tmp)
        targets = [("sqlite", "sqlite:///unused"), ("postgresql", pg)]
        for name, url in targets:
            if url is None:
                rows.append({"db": name, "skipped": "no PostgreSQL server (scripts/postgres)"})
                continue
            rows.append({"db": name, "bench": "import", **bench_import(url, import_visits, folder)})
            rows.append(
                {"db": name, "bench": "plan --book overhead", **bench_overhead(url, folder)}
            )
    return rows


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    for row in run(import_visits=n):
        print(row, flush=True)
