"""The application factory: one FastAPI app on one book.

``create_app`` opens the book (its schema must be this FieldRoute's), keeps a
:class:`~optimizer.web.context.WebContext` on ``app.state``, adds the security headers
and registers each audience's routes (:func:`_routers`). Nothing here listens on a
socket: ``fieldroute serve`` hands the app to uvicorn, tests to ``TestClient``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from optimizer.book.db import check_schema, open_book, resolve_url
from optimizer.errors import BookError, GeocodingServiceError, OptimizerError, VerificationError
from optimizer.settings import Settings
from optimizer.travel.base import TravelProvider
from optimizer.web.auth import LoginLimiter, LoginRequired, utc_now
from optimizer.web.context import CSP, WebContext


def _routers() -> list[APIRouter]:
    """Every audience's routes. Each module exports ``router``; add new ones here."""
    from optimizer.web import agent, borrower, dispatcher, field_desk, static

    return [
        static.router,
        dispatcher.router,
        agent.router,
        borrower.router,
        field_desk.router,
    ]


def create_app(
    db_url: str | None = None,
    *,
    settings: Settings | None = None,
    out_dir: Path | None = None,
    https: bool = False,
    public_url: str = "",
    clock: Callable[[], dt.datetime] = utc_now,
    limiter: LoginLimiter | None = None,
    travel: TravelProvider | None = None,
    offline: bool = False,
) -> FastAPI:
    """The console on the book at ``db_url`` (``--db`` rules: FIELDROUTE_DB, [book] url).

    ``https``: the console is reached over https (e.g. behind a TLS proxy), so cookies
    are marked Secure. ``out_dir``: where plans made in the console write their files
    (default: the settings' output folder). ``offline``: geocode from the cache and the
    gazetteer only. ``clock``, ``limiter`` and ``travel`` are test seams.

    Raises
    ------
    BookError
        No book there, or its schema is not this FieldRoute's (run ``fieldroute book init``).
    """
    settings = settings or Settings()
    book = open_book(resolve_url(db_url, settings.book), settings.book)
    try:
        check_schema(book)
    except BookError:
        book.close()
        raise
    ctx = WebContext(
        book=book,
        settings=settings,
        out_dir=out_dir or Path(settings.output_dir),
        https=https,
        clock=clock,
        limiter=limiter or LoginLimiter(clock=clock),
        travel=travel,
        offline=offline,
        public_url=(public_url or settings.web.public_url).rstrip("/"),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        book.close()

    app = FastAPI(
        title="FieldRoute console",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.fieldroute = ctx
    app.add_exception_handler(LoginRequired, _login_required)  # type: ignore[arg-type]
    app.add_exception_handler(OptimizerError, _optimizer_error)  # type: ignore[arg-type]
    app.middleware("http")(_security_headers)
    for router in _routers():
        app.include_router(router)
    return app


async def _login_required(request: Request, _exc: LoginRequired) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": "log in first"}, status_code=401)
    return RedirectResponse("/login", status_code=303)


async def _optimizer_error(_request: Request, exc: OptimizerError) -> Response:
    """A fault of the book or the settings: its message (no traceback, no personal data)."""
    status = 400
    if isinstance(exc, BookError | GeocodingServiceError):
        status = 503  # the book or the geocoder cannot be used now
    elif isinstance(exc, VerificationError):
        status = 500  # a plan the verifier refused: a bug
    return JSONResponse({"detail": str(exc)}, status_code=status)


async def _security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    # links carry tokens in their path: never leak them to another site
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Cache-Control", "no-store")
    return response
