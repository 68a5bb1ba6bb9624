"""The borrower's link: ``GET /b/{token}`` (their visit) and ``POST /b/{token}/reply``.

The notice's link (``[web] public_url``) opens one visit: the arrival window the notice
promised, what to prepare, the agent's name and the door code the agent's page shows
for the same visit, so the borrower can tell a real agent from an impostor. Two answers:
confirm (the window becomes hard for every later plan of that date, with that agent:
:func:`optimizer.book.links.confirm_window`) or ask for another time (a ``reschedule``
outcome: the case goes back to the pool from the asked day, with the reason).

The page reads the visit through the borrower's privacy view and uses the notices'
neutral words: nothing on it names a debt, and nothing of any other visit is shown.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from optimizer.book.links import (
    BORROWER,
    BorrowerDay,
    Link,
    borrower_day,
    confirm_window,
    find_link,
    form_token,
)
from optimizer.book.repository import Actor, record_outcomes
from optimizer.book.rules import Kind, Outcome
from optimizer.clock import arrival_window, format_hhmm
from optimizer.domain import TimeWindow
from optimizer.errors import InputError
from optimizer.outputs.labels import labels
from optimizer.outputs.notices import (
    DESK_UNSET,
    PURPOSES,
    date_text,
    document_table,
    documents_text,
)
from optimizer.outputs.privacy import Audience, agent_view, visit_view
from optimizer.web.context import WebContext, get_context
from optimizer.web.field import HEADERS, check_form, local_date, not_found, render, text_field, zone

router = APIRouter()
Ctx = Annotated[WebContext, Depends(get_context)]
FORM = "reply"


def actor(link: Link) -> Actor:
    return Actor(f"link:borrower:{link.visit_id}", "web /b")


def _live(ctx: WebContext, token: str) -> Link:
    link = find_link(ctx.book, token, BORROWER, now=ctx.clock())
    if link is None or link.visit_id is None:
        not_found()
    return link


def _day(ctx: WebContext, link: Link) -> BorrowerDay:
    day = borrower_day(ctx.book, link, zone(ctx), actor(link), now=ctx.clock())
    if day is None:
        not_found()
    return day


def promised_window(ctx: WebContext, day: BorrowerDay) -> TimeWindow | None:
    """The window the borrower was told: the confirmed one, else the notice's rule."""
    if day.confirmed is not None:
        return day.confirmed
    if day.start_s is None or day.agent is None:
        return None
    bounds = day.visit.window or day.agent.shift
    return arrival_window(day.start_s, ctx.settings.notices.window_min * 60, bounds)


@router.get("/b/{token}", include_in_schema=False)
async def borrower_page(token: str, ctx: Ctx) -> Response:
    link = await run_in_threadpool(_live, ctx, token)
    day = await run_in_threadpool(_day, ctx, link)
    return render("borrower.html.j2", **_values(ctx, token, link, day, ""))


def _values(
    ctx: WebContext, token: str, link: Link, day: BorrowerDay, error: str
) -> dict[str, Any]:
    cfg = ctx.settings.notices
    lang = cfg.lang
    t = labels(lang)
    view = visit_view(day.visit, Audience.BORROWER)
    window = promised_window(ctx, day)
    asked = any(r.kind is Kind.RESCHEDULE for r in day.reported) or (
        day.status not in ("planned", "pending")
    )
    name = ""
    if day.agent is not None:
        name = agent_view(day.agent, Audience.BORROWER)["name"] or (
            "工作人员" if lang == "zh" else "our staff"
        )
    return {
        "t": t,
        "date": date_text(day.day, lang),
        "window": (
            {"start": format_hhmm(window.start_s), "end": format_hhmm(window.end_s)}
            if window and not asked
            else None
        ),
        "agent_name": name,
        "purpose": PURPOSES[lang].get(view["visit_type"], PURPOSES[lang][""]),
        "documents": documents_text(
            view["visit_id"], view["documents"], lang, document_table(cfg, lang)
        ),
        "door_code": day.door_code,
        "confirmed": day.confirmed is not None,
        "asked": asked,
        "desk": cfg.desk_phone or DESK_UNSET[lang],
        "action": f"/b/{quote(token, safe='')}/reply",
        "form_token": form_token(link, FORM),
        "min_date": (day.day + dt.timedelta(days=1)).isoformat(),
        "error": error,
    }


@router.post("/b/{token}/reply", include_in_schema=False)
async def reply(token: str, request: Request, ctx: Ctx) -> Response:
    """Confirm the window, or ask for another time; back to the page (303)."""
    link = await run_in_threadpool(_live, ctx, token)
    form = await request.form()
    check_form(form, link, FORM)
    day = await run_in_threadpool(_day, ctx, link)
    action = text_field(form, "action")
    page = f"/b/{quote(token, safe='')}"
    now = ctx.clock()
    if action == "confirm":
        window = promised_window(ctx, day)
        if window is None or day.agent is None:
            not_found()
        await run_in_threadpool(
            confirm_window, ctx.book, link, window, day.agent.agent_id, actor(link), now=now
        )
        return RedirectResponse(page, status_code=303, headers=HEADERS)
    if action != "reschedule":
        not_found()
    t = labels(ctx.settings.notices.lang)
    asked_date = local_date(text_field(form, "date"))
    if asked_date is not None and asked_date <= link.day:
        error = t("b_bad_date", date=date_text(link.day, ctx.settings.notices.lang))
        return render("borrower.html.j2", status_code=422, **_values(ctx, token, link, day, error))
    assert link.visit_id is not None  # a borrower link always names its visit
    outcome = Outcome(
        visit_id=link.visit_id,
        kind=Kind.RESCHEDULE,
        at=now,
        note=text_field(form, "reason"),
        new_date=asked_date or link.day + dt.timedelta(days=1),
    )
    # a case already closed takes no outcome: nothing to move, the page says the desk calls
    with contextlib.suppress(InputError):
        await run_in_threadpool(
            record_outcomes,
            ctx.book,
            [outcome],
            ctx.settings.compliance,
            zone(ctx),
            actor(link),
            source="borrower link",
            now=now,
        )
    return RedirectResponse(page, status_code=303, headers=HEADERS)
