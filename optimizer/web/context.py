"""What every route needs: the open book, the settings, the clock, the page renderer.

One :class:`WebContext` per application, kept on ``app.state``; routes reach it through
the :func:`get_context` / :func:`get_book` dependencies, so tests build an app on a
temporary book with a fixed clock and nothing is global.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader

from optimizer.book.db import Book
from optimizer.settings import Settings
from optimizer.travel.base import TravelProvider
from optimizer.web.auth import LoginLimiter

#: Pages may load scripts and styles only from the console itself: no inline script
#: runs, so text that slipped through escaping still could not execute.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def templates() -> Environment:
    """The page templates; autoescaping is on for every template, whatever its name."""
    env = Environment(loader=PackageLoader("optimizer.web", "templates"), autoescape=True)
    env.globals["app_name"] = "FieldRoute"
    return env


@dataclass
class WebContext:
    """The application's state. ``days`` caches the verified DayPlan of each date."""

    book: Book
    settings: Settings
    out_dir: Path
    https: bool = False
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    travel: TravelProvider | None = None
    #: Geocode from the cache and gazetteer only (no geocoding service is asked).
    offline: bool = False
    #: The address agents' and borrowers' links start with (else the request's own).
    public_url: str = ""
    env: Environment = field(default_factory=templates)
    days: dict[dt.date, Any] = field(default_factory=dict)
    #: One planner or editor per date at a time (the book also refuses stale writes).
    lock: threading.Lock = field(default_factory=threading.Lock)

    def render(
        self, request: Request, name: str, status_code: int = 200, **values: Any
    ) -> HTMLResponse:
        """A page from ``templates/name`` with the user and CSRF token of the request."""
        page = self.env.get_template(name).render(
            user=getattr(request.state, "user", None),
            csrf_token=getattr(request.state, "csrf_token", ""),
            **values,
        )
        return HTMLResponse(page, status_code=status_code, headers={"Cache-Control": "no-store"})


def get_context(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.fieldroute
    return ctx


def get_book(request: Request) -> Book:
    """The book of the application (each book function is its own transaction)."""
    return get_context(request).book
