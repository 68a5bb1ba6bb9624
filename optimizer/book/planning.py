"""Planning a day from the book: the file path's planner and verifier, fed by the book.

The flow: read what may be planned on the date (one read transaction), plan it with
:func:`optimizer.pipeline.plan_day` exactly as a plan from files is made, write the
usual outputs into a staging folder, and store the plan in the book as the last step
inside that staging. So either the book holds the new plan and the folder is in place,
or neither: a store that fails leaves no folder, and a failed plan leaves the book as
it was.

Solving takes seconds and holds no lock. If the cases or agents it read changed in the
meantime (an outcome import, another plan), storing refuses and the day is planned
again from the new state, up to ``[book] plan_retries`` times.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from optimizer.book.db import Book
from optimizer.book.links import issue_borrower_links
from optimizer.book.repository import (
    Actor,
    BookChanged,
    Snapshot,
    StoredPlan,
    day_snapshot,
    store_plan,
)
from optimizer.day import DayPlan
from optimizer.errors import BookError, ConfigurationError
from optimizer.geocoding.base import Geocoder
from optimizer.outputs.export import plan_to_dict, write_plan
from optimizer.pipeline import plan_day
from optimizer.settings import Settings
from optimizer.solve.assignment import ProgressCallback
from optimizer.travel.base import TravelProvider

logger = logging.getLogger(__name__)

Renderer = Callable[[DayPlan, Path], list[Path]]


@dataclass(frozen=True, slots=True)
class BookDay:
    """A plan made from the book and stored in it; ``day`` is None when nothing was due."""

    snapshot: Snapshot
    day: DayPlan | None = None
    stored: StoredPlan | None = None
    paths: tuple[Path, ...] = ()
    #: How many times the day was planned (more than 1: the book changed meanwhile).
    tries: int = 1


def _with_borrower_links(
    book: Book, day: DayPlan, public_url: str, tz: dt.tzinfo, actor: Actor
) -> DayPlan:
    """The day with a new link per routed visit, for its notice (``[web] public_url``)."""
    routed = {s.visit_id: r.agent_id for r in day.plan.routes for s in r.stops}
    if not routed:
        return day
    tokens = issue_borrower_links(
        book, routed, day.plan.date, tz, actor, now=dt.datetime.now(dt.UTC)
    )
    base = public_url.rstrip("/")
    return replace(day, notice_links={vid: f"{base}/b/{tok}" for vid, tok in tokens.items()})


def plan_from_book(
    book: Book,
    settings: Settings,
    date: dt.date,
    out: Path,
    actor: Actor,
    *,
    renderers: Sequence[Renderer] = (),
    share: bool = False,
    travel: TravelProvider | None = None,
    geocoder: Geocoder | None = None,
    on_progress: ProgressCallback | None = None,
) -> BookDay:
    """Plan ``date`` from the book, write the outputs to ``out`` and store the plan.

    Raises
    ------
    ConfigurationError
        The date is a holiday, or no agent of the roster works on it.
    BookError
        The book kept changing while the day was planned, or cannot be used.
    """
    rules = settings.compliance
    if date in rules.holiday_dates:
        msg = (
            f"{date.isoformat()} is a holiday ([compliance] holidays): nobody is visited, "
            "nothing was planned"
        )
        raise ConfigurationError(msg)
    tz = zoneinfo.ZoneInfo(settings.timezone)
    for attempt in range(1, settings.book.plan_retries + 1):
        snapshot = day_snapshot(book, date, rules, tz)
        if not snapshot.visits:
            return BookDay(snapshot, tries=attempt)
        if not snapshot.agents:
            off = ", ".join(snapshot.agents_off) or "the roster is empty"
            msg = (
                f"no agent of the book works on {date.isoformat()} (off: {off}); "
                "import agents (book import --agents) or pick another date"
            )
            raise ConfigurationError(msg)
        day = plan_day(
            snapshot.visits,
            snapshot.agents,
            settings,
            date=date,
            travel=travel,
            on_progress=on_progress,
            geocoder=geocoder,
            agents_source="the book's agents",
        )
        if settings.web.public_url:
            day = _with_borrower_links(book, day, settings.web.public_url, tz, actor)
        stored: list[StoredPlan] = []

        def store(
            day: DayPlan,
            _folder: Path,
            snapshot: Snapshot = snapshot,
            stored: list[StoredPlan] = stored,
        ) -> list[Path]:
            # Last step inside the staging folder: the folder appears only once stored.
            stored.append(
                store_plan(book, snapshot, day.plan, plan_to_dict(day), settings.to_dict(), actor)
            )
            return []

        try:
            paths = write_plan(day, out, renderers=[*renderers, store], share=share)
        except BookChanged:
            logger.info("the book changed while %s was planned; planning again", date)
            continue
        return BookDay(snapshot, day, stored[0], tuple(paths), tries=attempt)
    msg = (
        f"the book changed {settings.book.plan_retries} times while {date.isoformat()} was "
        "being planned (other writers are busy); nothing was stored, try again"
    )
    raise BookError(msg)
