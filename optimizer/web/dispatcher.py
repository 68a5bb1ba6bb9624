"""The dispatcher's console: login, and the pages and JSON API of issue 15.

Every route but the login takes its user from :func:`~optimizer.web.auth.require_user`,
so the role check and the CSRF check cannot be forgotten on one of them. Reads of a
borrower's personal details (the call list, a visit's details) are written to the
audit log with the user's name.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from optimizer.book.accounts import (
    User,
    audit_log,
    close_session,
    credentials,
    open_session,
    record,
    set_password_hash,
)
from optimizer.web.auth import (
    COOKIE,
    DUMMY_HASH,
    SESSION_LIFETIME,
    digest,
    hash_password,
    new_secret,
    require_user,
    session_token,
    verify_password,
)
from optimizer.web.context import WebContext, get_context

router = APIRouter()

Ctx = Annotated[WebContext, Depends(get_context)]
Dispatcher = Annotated[User, Depends(require_user("dispatcher"))]
Admin = Annotated[User, Depends(require_user("admin"))]


def who(user: User) -> str:
    """The audit log's name for a console user."""
    return f"web:{user.username}"


# --- login --------------------------------------------------------------------------------


async def _login_fields(request: Request) -> tuple[str, str, bool]:
    """(username, password, came from a form) from a JSON body or a form."""
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/json"):
        try:
            body = await request.json()
        except json.JSONDecodeError:
            body = None
        if not isinstance(body, dict):
            raise HTTPException(422, "expected a JSON object {username, password}")
        fields: dict[str, Any] = body
        form = False
    else:
        fields = dict(await request.form())
        form = True
    username, password = fields.get("username"), fields.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username:
        raise HTTPException(422, "expected username and password")
    return username[:200], password[:1000], form


def _check_password(ctx: WebContext, username: str, password: str) -> User | None:
    creds = credentials(ctx.book, username)
    ok, rehash = verify_password(creds.password_hash if creds else DUMMY_HASH, password)
    if creds is None or not ok:
        return None
    if rehash:
        set_password_hash(ctx.book, creds.user.user_id, hash_password(password))
    return creds.user


@router.post("/api/login")
async def login(request: Request, ctx: Ctx) -> Response:
    """Form or JSON {username, password}: sets the session cookie, returns {csrf_token}."""
    username, password, form = await _login_fields(request)
    client = request.client.host if request.client else "?"
    keys = (f"user:{username.casefold()}", f"ip:{client}")
    wait = ctx.limiter.retry_after(keys)
    if wait is not None:
        detail = f"too many failed logins; try again in {wait} s"
        return JSONResponse({"detail": detail}, status_code=429, headers={"Retry-After": str(wait)})
    user = await run_in_threadpool(_check_password, ctx, username, password)
    if user is None:
        ctx.limiter.failed(keys)
        if form and "text/html" in request.headers.get("accept", ""):
            return ctx.render(
                request, "login.html", 401, error="Wrong user name or password.", username=username
            )
        return JSONResponse({"detail": "wrong user name or password"}, status_code=401)
    ctx.limiter.succeeded(keys[0])
    token, csrf = new_secret(), new_secret()
    now = ctx.clock()
    await run_in_threadpool(
        open_session, ctx.book, user, digest(token), csrf, now=now, lifetime=SESSION_LIFETIME
    )
    await run_in_threadpool(
        record, ctx.book, who(user), "console", "login", (), "logged in", now=now
    )
    response: Response
    if form and "text/html" in request.headers.get("accept", ""):
        response = RedirectResponse("/", status_code=303)
    else:
        response = JSONResponse({"csrf_token": csrf, "username": user.username, "role": user.role})
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=ctx.https or request.url.scheme == "https",
    )
    return response


@router.post("/api/logout")
def logout(request: Request, ctx: Ctx, _user: Dispatcher) -> Response:
    token = session_token(request)
    if token:
        close_session(ctx.book, digest(token), now=ctx.clock())
    response = JSONResponse({"ok": True})
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("/api/me")
def me(user: Dispatcher) -> dict[str, str]:
    return {"username": user.username, "role": user.role}


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, ctx: Ctx) -> HTMLResponse:
    return ctx.render(request, "login.html", error="", username="")


# --- pages --------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def plan_page(request: Request, ctx: Ctx, _user: Dispatcher) -> HTMLResponse:
    return ctx.render(request, "plan.html")


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, ctx: Ctx, _user: Admin) -> HTMLResponse:
    return ctx.render(request, "audit.html", entries=audit_log(ctx.book))


@router.get("/api/audit")
def audit_api(ctx: Ctx, _user: Admin) -> list[dict[str, Any]]:
    """The audit log, newest first (admin only)."""
    return [
        {
            "at": e.at.isoformat(),
            "actor": e.actor,
            "command": e.command,
            "action": e.action,
            "detail": e.detail,
            "visit_ids": list(e.visit_ids),
        }
        for e in audit_log(ctx.book)
    ]
