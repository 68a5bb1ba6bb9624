"""50 agents posting outcomes from their links for a minute, against a real server.

``python -m optimizer.bench.web_field [AGENTS] [SECONDS]`` (in ``make bench``): a book
with a planned day of 50 agents (synthetic Chengdu day, first solution), one link per
agent, and ``fieldroute``'s app under uvicorn in its own process on a free port. Each
agent (an asyncio task with its own HTTP client) opens its page, then posts outcomes
for its stops in turn (arrived, not home, ...; about 0.1 s between taps, far faster
than a person) and follows the redirect back to its page, as a phone does, until the
time is up. The bar: no error (every POST answered 303 and every page 200) and no lost
outcome (the outcomes in the book equal the POSTs the server said it recorded).

SQLite always; PostgreSQL too when ``FIELDROUTE_TEST_PG`` is set. Latencies are of
POST + redirected GET, on whatever else the machine is doing: read them as such.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zoneinfo
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx2 as httpx  # the dev extra's client (Starlette's TestClient uses it too)

from optimizer.bench.synthetic import make_agents, make_visits
from optimizer.book.db import empty_schema, open_book, resolve_url, upgrade
from optimizer.book.links import issue_agent_link, outcome_count
from optimizer.book.planning import plan_from_book
from optimizer.book.repository import Actor, import_file
from optimizer.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
ACTOR = Actor("os:bench", "bench web_field")
KINDS = ("arrived", "not_home")
THINK_S = 0.1


def app_from_env() -> Any:
    """The console on ``FIELDROUTE_DB`` (uvicorn ``--factory``)."""
    from optimizer.web.app import create_app

    return create_app(os.environ["FIELDROUTE_DB"], settings=Settings())


def _day() -> dt.date:
    """Today in the plan's zone: links of today work now (they expire at midnight)."""
    return dt.datetime.now(zoneinfo.ZoneInfo(Settings().timezone)).date()


def prepare(url: str, agents: int, folder: Path) -> dict[str, list[str]]:
    """A book with today planned for ``agents`` agents; link token -> its visit ids."""
    settings = Settings()
    settings = replace(
        settings, solver=replace(settings.solver, time_limit_s=60, solution_limit=1, workers=1)
    )
    # some synthetic agents are off on a given weekday: a larger team, the first routed
    team = make_agents(agents * 3 // 2 + 5, seed=7)
    visits = make_visits(len(team) * 6, team, seed=7)
    book = open_book(resolve_url(url, settings.book), settings.book, create=True)
    tz = zoneinfo.ZoneInfo(settings.timezone)
    now = dt.datetime.now(dt.UTC)
    try:
        upgrade(book)
        import_file(book, visits, team, ACTOR)
        # the synthetic day's agents may not work today (days off): plan whoever works
        day = plan_from_book(book, settings, _day(), folder / "out", ACTOR)
        assert day.day is not None
        routes = [r for r in day.day.plan.routes if r.stops][:agents]
        if len(routes) < agents:
            msg = f"only {len(routes)} agents have a route today; expected {agents}"
            raise RuntimeError(msg)
        return {
            issue_agent_link(book, r.agent_id, _day(), tz, ACTOR, now=now): [
                s.visit_id for s in r.stops
            ]
            for r in routes
        }
    finally:
        book.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(url: str, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "optimizer.bench.web_field:app_from_env",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT), "FIELDROUTE_DB": url},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    msg = "uvicorn did not start within 60 s"
    raise RuntimeError(msg)


@dataclass
class Tally:
    recorded: int = 0
    already: int = 0
    errors: list[str] = field(default_factory=list)
    latency_s: list[float] = field(default_factory=list)


async def agent(base: str, token: str, visits: list[str], until: float, tally: Tally) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        page = await client.get(f"/a/{token}")
        found = re.search(r'name="form_token" value="([0-9a-f]+)"', page.text)
        if page.status_code != 200 or found is None:
            tally.errors.append(f"page {page.status_code}")
            return
        form = found.group(1)
        step = 0
        while time.monotonic() < until:
            visit = visits[step % len(visits)]
            kind = KINDS[(step // len(visits)) % len(KINDS)]
            step += 1
            began = time.perf_counter()
            try:
                r = await client.post(
                    f"/a/{token}/outcomes",
                    data={"form_token": form, "visit_id": visit, "outcome": kind, "note": "bench"},
                )
                again = await client.get(r.headers.get("location", f"/a/{token}"))
            except httpx.HTTPError as err:
                tally.errors.append(type(err).__name__)
                continue
            tally.latency_s.append(time.perf_counter() - began)
            if r.status_code != 303 or again.status_code != 200:
                tally.errors.append(f"{r.status_code}/{again.status_code}")
            elif r.headers.get("x-fieldroute-recorded") == "1":
                tally.recorded += 1
            else:
                tally.already += 1
            await asyncio.sleep(THINK_S)


async def run_agents(base: str, links: dict[str, list[str]], seconds: float) -> Tally:
    tally = Tally()
    until = time.monotonic() + seconds
    await asyncio.gather(*(agent(base, t, v, until, tally) for t, v in links.items()))
    return tally


def count_outcomes(url: str) -> int:
    settings = Settings()
    book = open_book(resolve_url(url, settings.book), settings.book)
    try:
        return outcome_count(book)
    finally:
        book.close()


def bench(url: str, agents: int, seconds: float, folder: Path) -> dict[str, Any]:
    links = prepare(url, agents, folder)
    port = _free_port()
    server = serve(url, port)
    try:
        began = time.perf_counter()
        tally = asyncio.run(run_agents(f"http://127.0.0.1:{port}", links, seconds))
        wall = time.perf_counter() - began
    finally:
        server.terminate()
        server.wait(timeout=30)
    in_book = count_outcomes(url)
    lat = sorted(tally.latency_s)
    return {
        "agents": len(links),
        "seconds": round(wall, 1),
        "posts": tally.recorded + tally.already,
        "recorded": tally.recorded,
        "same_second_repeats": tally.already,
        "in_book": in_book,
        "lost": tally.recorded - in_book,
        "errors": len(tally.errors),
        "error_kinds": sorted(set(tally.errors))[:5],
        "per_s": round((tally.recorded + tally.already) / wall, 1),
        "p50_ms": round(statistics.median(lat) * 1000) if lat else None,
        "p95_ms": round(lat[int(0.95 * (len(lat) - 1))] * 1000) if lat else None,
    }


def main(argv: list[str]) -> int:
    agents = int(argv[0]) if argv else 50
    seconds = float(argv[1]) if len(argv) > 1 else 60.0
    folder = Path(tempfile.mkdtemp(prefix="fr-bench-web-"))
    targets = {"sqlite": f"sqlite:///{folder / 'web.db'}"}
    pg = os.environ.get("FIELDROUTE_TEST_PG")
    if pg:
        targets["postgresql"] = empty_schema(pg, "bench_web_field")
    ok = True
    for name, url in targets.items():
        row = bench(url, agents, seconds, folder / name)
        print(name, row, flush=True)
        ok = ok and row["errors"] == 0 and row["lost"] == 0 and row["posts"] > 0
    if not pg:
        print("postgresql: skipped (set FIELDROUTE_TEST_PG to run it)", flush=True)
    print("bar (no error, no lost outcome):", "met" if ok else "NOT met", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
