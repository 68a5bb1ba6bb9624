"""The agent's link: ``GET /a/{token}`` (their day, live) and ``POST /a/{token}/outcomes``.

The page is the static agent page's day (:mod:`optimizer.outputs.agent_page`: the same
cards, labels and stylesheet, no map) read from the book's newest published plan on
every request, with a form on each stop: arrived, done, not home, refused, promise to
pay (with the date), wrong address, and a note. An outcome goes through the book's
outcome rules (:func:`optimizer.book.repository.record_outcomes`, as ``book outcomes``
does), so the dispatcher's plan view, which reads the book, shows it at once.

The link sees only its agent's stops of its day: a visit id of anyone else's in a
POST is the same 404 as a wrong token.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from importlib import resources
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from optimizer.book.links import (
    AGENT,
    AgentDay,
    Link,
    Reported,
    agent_day,
    agent_has_visit,
    find_link,
    form_token,
)
from optimizer.book.repository import Actor, record_outcomes
from optimizer.book.rules import Kind, Outcome
from optimizer.clock import format_hhmm
from optimizer.errors import InputError
from optimizer.outputs.agent_page import route_summary, route_timeline
from optimizer.outputs.labels import Labels, labels
from optimizer.outputs.privacy import Audience, agent_view
from optimizer.web.context import WebContext, get_context
from optimizer.web.field import (
    HEADERS,
    check_form,
    local_date,
    not_found,
    render,
    text_field,
    zone,
)

router = APIRouter()
Ctx = Annotated[WebContext, Depends(get_context)]

#: What an agent may record from their page, in the order of the buttons.
AGENT_KINDS = (
    Kind.ARRIVED,
    Kind.DONE,
    Kind.NOT_HOME,
    Kind.REFUSED,
    Kind.PROMISE_TO_PAY,
    Kind.WRONG_ADDRESS,
)
FORM = "outcomes"
#: Header telling a client (the benchmark) whether the POST added an outcome (1) or
#: found the same one already in the book (0).
RECORDED_HEADER = "X-FieldRoute-Recorded"


def actor(link: Link) -> Actor:
    return Actor(f"link:agent:{link.agent_id}", "web /a")


def _live(ctx: WebContext, token: str) -> Link:
    link = find_link(ctx.book, token, AGENT, now=ctx.clock())
    if link is None:
        not_found()
    return link


@router.get("/field/agent.css", include_in_schema=False)
def stylesheet() -> Response:
    """The static agent page's stylesheet, for the live page (whose CSP bars inline styles)."""
    css = (resources.files("optimizer") / "templates" / "agent_page.css").read_text("utf-8")
    return Response(css, media_type="text/css; charset=utf-8")


@router.get("/a/{token}", include_in_schema=False)
async def agent_page(token: str, request: Request, ctx: Ctx) -> Response:
    link = await run_in_threadpool(_live, ctx, token)
    saved = request.query_params.get("saved", "")
    message = None
    t = labels(ctx.settings.notices.lang)
    if saved in {k.value for k in AGENT_KINDS}:
        message = {"kind": "ok", "text": t("saved", what=t(f"outcome_{saved}"))}
    return await run_in_threadpool(_page, ctx, token, link, message, 200)


def _page(
    ctx: WebContext, token: str, link: Link, message: dict[str, str] | None, status: int
) -> Response:
    day = agent_day(ctx.book, link, zone(ctx), actor(link), now=ctx.clock())
    if day is None:
        not_found()
    return render(
        "agent_live.html.j2",
        status_code=status,
        **_values(day, token, link, labels(ctx.settings.notices.lang), ctx),
        message=message,
    )


def _values(day: AgentDay, token: str, link: Link, t: Labels, ctx: WebContext) -> dict[str, Any]:
    who = agent_view(day.agent, Audience.AGENT)
    items: list[dict[str, Any]] = []
    summary: dict[str, Any] = {"visits": 0}
    live: dict[str, dict[str, Any]] = {}
    tz = zone(ctx)
    if day.route is not None:
        visits = {v.visit_id: v for v in day.visits}
        route = day.route
        if set(visits) != {s.visit_id for s in route.stops}:
            # a case gone from the book (purged) leaves its stop out of the cards
            route = replace(route, stops=tuple(s for s in route.stops if s.visit_id in visits))
        items = route_timeline(day.day, visits, day.agent, route, t)
        summary = route_summary(route)
        for vid in visits:
            status = day.status.get(vid, "planned")
            window = day.confirmed.get(vid)
            live[vid] = {
                "reported": [_reported(r, t, tz) for r in day.reported.get(vid, ())],
                "open": status in ("planned", "pending"),
                "status": "" if status == "planned" else t(f"status_{status}"),
                "state": status,
                "door_code": day.door_codes.get(vid, ""),
                "confirmed": (
                    t(
                        "confirmed_by_customer",
                        window=f"{format_hhmm(window.start_s)}–{format_hhmm(window.end_s)}",
                    )
                    if window
                    else ""
                ),
            }
    return {
        "t": t,
        "agent_id": who["agent_id"],
        "agent_name": who["name"],
        "date": day.day.isoformat(),
        "weekday": t.weekday(day.day),
        "summary": summary,
        "items": items,
        "live": live,
        "kinds": [(k.value, t(f"outcome_{k.value}")) for k in AGENT_KINDS],
        "action": f"/a/{quote(token, safe='')}/outcomes",
        "form_token": form_token(link, FORM),
        "today": day.day.isoformat(),
    }


def _reported(r: Reported, t: Labels, tz: dt.tzinfo) -> str:
    time = r.at.astimezone(tz).strftime("%H:%M")
    what = t(f"outcome_{r.kind.value}")
    text = (
        t("reported_promise", time=time, what=what, date=r.promise_date.isoformat())
        if r.promise_date
        else t("reported", time=time, what=what)
    )
    return f"{text} · {r.note}" if r.note else text


@router.post("/a/{token}/outcomes", include_in_schema=False)
async def record_outcome(token: str, request: Request, ctx: Ctx) -> Response:
    """Record one outcome of one of the link's stops; back to the page (303)."""
    link = await run_in_threadpool(_live, ctx, token)
    form = await request.form()
    check_form(form, link, FORM)
    visit_id = text_field(form, "visit_id")
    if not visit_id or not await run_in_threadpool(agent_has_visit, ctx.book, link, visit_id):
        not_found()
    t = labels(ctx.settings.notices.lang)
    kind = next((k for k in AGENT_KINDS if k.value == text_field(form, "outcome")), None)
    now = ctx.clock()
    tz = zone(ctx)
    promise = local_date(text_field(form, "promise_date"))
    why = ""
    if kind is None:
        why = t("unknown_outcome")
    elif kind is Kind.PROMISE_TO_PAY and (promise is None or promise < now.astimezone(tz).date()):
        why = t("promise_needed")
    if kind is None or why:
        return await run_in_threadpool(
            _page, ctx, token, link, {"kind": "error", "text": t("not_saved", why=why)}, 422
        )
    outcome = Outcome(
        visit_id=visit_id,
        kind=kind,
        at=now,
        note=text_field(form, "note"),
        promise_date=promise if kind is Kind.PROMISE_TO_PAY else None,
    )
    try:
        report = await run_in_threadpool(
            record_outcomes,
            ctx.book,
            [outcome],
            ctx.settings.compliance,
            tz,
            actor(link),
            source="agent link",
            now=now,
        )
    except InputError as err:
        # e.g. the case is already final: say why, on the page, nothing recorded
        text = t("not_saved", why=err.issues[0].problem)
        return await run_in_threadpool(
            _page, ctx, token, link, {"kind": "error", "text": text}, 409
        )
    query = urlencode({"saved": kind.value})
    return RedirectResponse(
        f"/a/{quote(token, safe='')}?{query}",
        status_code=303,
        headers={**HEADERS, RECORDED_HEADER: "1" if sum(report.recorded.values()) else "0"},
    )
