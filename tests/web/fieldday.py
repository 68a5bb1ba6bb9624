"""A planned day in a book, links to it, and an app with a clock the test moves."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from optimizer.book.db import Book, open_book, resolve_url
from optimizer.book.links import issue_agent_link, issue_borrower_links
from optimizer.book.models import CaseRow, OutcomeRow
from optimizer.book.planning import plan_from_book
from optimizer.book.repository import Actor, import_file
from optimizer.inputs.load import read_inputs
from optimizer.outputs.export import write_notices
from optimizer.settings import BookSettings, Settings
from optimizer.web.app import create_app
from tests.book.helpers import write
from tests.web.conftest import make_book

DAY = dt.date(2026, 12, 1)
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
#: 10:00 in Shanghai on the plan's day.
MORNING = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
ACTOR = Actor("test", "test")
SETTINGS = Settings.from_dict(
    {
        "solver": {"time_limit_s": 1, "workers": 1, "metaheuristic": "GREEDY_DESCENT"},
        "notices": {"lang": "en", "desk_phone": "400-000-0000"},
    }
)

VISITS = (
    "visit_id,name,phone,address,lat,lon,window_start,window_end,duration_min,documents\n"
    "V01,Borrower One,13800000001,Road 1,30.650,104.060,09:00,17:00,30,id card\n"
    "V02,Borrower Two,13800000002,Road 2,30.654,104.064,09:00,17:00,30,\n"
    "V03,Borrower Three,13800000003,Road 3,30.658,104.068,09:00,17:00,30,\n"
    "V04,Borrower Four,13800000004,Road 4,30.700,104.120,09:00,17:00,30,\n"
    "V05,Borrower Five,13800000005,Road 5,30.704,104.124,09:00,17:00,30,\n"
    "V06,Borrower Six,13800000006,Road 6,30.708,104.128,09:00,17:00,30,\n"
)
#: A1 starts by V01-V03, A2 by V04-V06, and each may serve at most three visits.
AGENTS = (
    "agent_id,name,start_lat,start_lon,shift_start,shift_end,max_visits\n"
    "A1,Agent Li,30.652,104.062,09:00,17:00,3\n"
    "A2,Agent Wang,30.702,104.122,09:00,17:00,3\n"
)


class Clock:
    """The app's clock: tests move it (links expire, outcomes get their time)."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def import_day(url: str, folder: Path, visits: str = VISITS, agents: str = AGENTS) -> None:
    inputs = read_inputs(write(folder / "visits.csv", visits), write(folder / "agents.csv", agents))
    book = open_book(resolve_url(url, BookSettings()), BookSettings())
    try:
        import_file(book, inputs.visits, inputs.agents, ACTOR, now=MORNING)
    finally:
        book.close()


def plan(url: str, folder: Path, settings: Settings = SETTINGS) -> dict[str, str]:
    """Plan DAY from the book; visit_id -> agent_id of the stored plan."""
    book = open_book(resolve_url(url, BookSettings()), BookSettings())
    try:
        done = plan_from_book(book, settings, DAY, folder, ACTOR, renderers=[write_notices])
        assert done.day is not None
        return {s.visit_id: r.agent_id for r in done.day.plan.routes for s in r.stops}
    finally:
        book.close()


@dataclass
class Field:
    """The planned day: the app on it, its clock, links, and where each visit went."""

    url: str
    client: TestClient
    clock: Clock
    routed: dict[str, str]
    agent_tokens: dict[str, str] = field(default_factory=dict)
    borrower_tokens: dict[str, str] = field(default_factory=dict)

    def book(self) -> Book:
        return open_book(resolve_url(self.url, BookSettings()), BookSettings())

    def visits_of(self, agent_id: str) -> list[str]:
        return sorted(v for v, a in self.routed.items() if a == agent_id)

    def outcomes(self, kind: str | None = None) -> int:
        book = self.book()
        try:
            with book.read() as session:
                query = select(func.count()).select_from(OutcomeRow)
                if kind is not None:
                    query = query.where(OutcomeRow.outcome == kind)
                return int(session.scalar(query) or 0)
        finally:
            book.close()

    def case(self, visit_id: str) -> CaseRow:
        book = self.book()
        try:
            with book.read() as session:
                row = session.scalar(select(CaseRow).where(CaseRow.visit_id == visit_id))
                assert row is not None
                return row
        finally:
            book.close()


def form_token(page: str) -> str:
    found = re.search(r'name="form_token" value="([0-9a-f]+)"', page)
    assert found is not None, "the page has no form token"
    return found.group(1)


def planned_book(folder: Path, settings: Settings = SETTINGS) -> tuple[Path, dict[str, str]]:
    """A book with DAY planned (once per test module: planning takes a second)."""
    url = make_book(folder / "book.db")
    import_day(url, folder)
    return folder / "book.db", plan(url, folder / "out", settings)


def make_field(
    tmp_path: Path, template: tuple[Path, dict[str, str]], settings: Settings = SETTINGS
) -> Iterator[Field]:
    path = tmp_path / "book.db"
    shutil.copyfile(template[0], path)
    url, routed = str(path), dict(template[1])
    clock = Clock(MORNING)
    book = open_book(resolve_url(url, BookSettings()), BookSettings())
    try:
        agents = {a: issue_agent_link(book, a, DAY, TZ, ACTOR, now=MORNING) for a in ("A1", "A2")}
        borrowers = issue_borrower_links(book, routed, DAY, TZ, ACTOR, now=MORNING)
    finally:
        book.close()
    app = create_app(url, settings=settings, out_dir=tmp_path / "console", clock=clock)
    with TestClient(app) as client:
        yield Field(url, client, clock, routed, agents, borrowers)


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    return planned_book(tmp_path_factory.mktemp("planned"))


@pytest.fixture
def day(tmp_path: Path, planned: tuple[Path, dict[str, str]]) -> Iterator[Field]:
    """Six visits planned for two agents, a link per agent and per borrower, at 10:00."""
    yield from make_field(tmp_path, planned)
