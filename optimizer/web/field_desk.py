"""The dispatcher's side of the field links: issuing and revoking agents' links, and
the day's field reports (what agents and borrowers sent from their links).

``GET /api/plans/{date}/links`` issues a new link for each agent with a route in the
date's newest plan (the book keeps only hashes, so a link cannot be shown twice; links
issued before stay valid until revoked or the day ends). ``GET /field`` is the screen
where the dispatcher sees each outcome as soon as it is recorded.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse

from optimizer.book.accounts import User
from optimizer.book.links import (
    FieldReport,
    day_agents,
    field_reports,
    issue_agent_link,
    revoke_agent_links,
)
from optimizer.book.repository import Actor
from optimizer.web.auth import require_user
from optimizer.web.context import WebContext, get_context
from optimizer.web.field import zone

router = APIRouter()
Ctx = Annotated[WebContext, Depends(get_context)]
Dispatcher = Annotated[User, Depends(require_user("dispatcher"))]


def _actor(user: User, command: str) -> Actor:
    return Actor(f"web:{user.username}", command)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise HTTPException(422, f"{text!r} is not a date; expected YYYY-MM-DD") from None


def _base(ctx: WebContext, request: Request) -> str:
    return ctx.public_url or str(request.base_url).rstrip("/")


@router.get("/api/plans/{date}/links")
def agent_links(date: str, request: Request, ctx: Ctx, user: Dispatcher) -> list[dict[str, str]]:
    """A new link per agent of the date's newest plan: [{agent_id, url}] (dispatchers only)."""
    day = _date(date)
    agents = day_agents(ctx.book, day)
    if not agents:
        raise HTTPException(404, f"no plan of {date} in the book: plan it first")
    actor = _actor(user, "web links")
    base = _base(ctx, request)
    now = ctx.clock()
    return [
        {
            "agent_id": a,
            "url": f"{base}/a/{issue_agent_link(ctx.book, a, day, zone(ctx), actor, now=now)}",
        }
        for a in agents
    ]


@router.post("/api/plans/{date}/links/{agent_id}/revoke")
def revoke(date: str, agent_id: str, ctx: Ctx, user: Dispatcher) -> dict[str, int]:
    """End every link of the agent for the date (a lost phone, a changed agent)."""
    n = revoke_agent_links(
        ctx.book, agent_id, _date(date), _actor(user, "web links"), now=ctx.clock()
    )
    return {"revoked": n}


def _report(r: FieldReport, ctx: WebContext) -> dict[str, Any]:
    return {
        "visit_id": r.visit_id,
        "agent_id": r.agent_id,
        "outcome": r.kind.value,
        "at": r.at.astimezone(zone(ctx)).isoformat(timespec="seconds"),
        "note": r.note,
        "promise_date": r.promise_date.isoformat() if r.promise_date else None,
        "new_date": r.new_date.isoformat() if r.new_date else None,
        "by": r.recorded_by,
        "status": r.status,
    }


def _reports(ctx: WebContext, day: dt.date, user: User) -> list[dict[str, Any]]:
    found = field_reports(ctx.book, day, zone(ctx), _actor(user, "web field"), now=ctx.clock())
    return [_report(r, ctx) for r in found]


@router.get("/api/plans/{date}/field")
def reports_api(date: str, ctx: Ctx, user: Dispatcher) -> dict[str, Any]:
    """The date's outcomes from the field, newest first (audited: notes are personal)."""
    day = _date(date)
    return {"date": day.isoformat(), "reports": _reports(ctx, day, user)}


@router.get("/field", response_class=HTMLResponse)
def reports_page(request: Request, ctx: Ctx, user: Dispatcher, date: str = "") -> HTMLResponse:
    """The field's reports of a date, reloaded every 20 seconds (today by default)."""
    day = _date(date) if date else ctx.clock().astimezone(zone(ctx)).date()
    return ctx.render(request, "field.html", date=day.isoformat(), reports=_reports(ctx, day, user))
