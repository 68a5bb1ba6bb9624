"""The dispatcher's console: login, and the pages and JSON API of issue 15.

Every route but the login takes its user from :func:`~optimizer.web.auth.require_user`,
so the role check and the CSRF check cannot be forgotten on one of them. Reads of a
borrower's personal details (the call list, a visit's details) are written to the
audit log with the user's name.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, replace
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, HTTPException, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from optimizer.book.accounts import (
    User,
    audit_log,
    close_session,
    credentials,
    open_session,
    record,
    set_password_hash,
)
from optimizer.book.console import (
    agent_contacts,
    latest_plan,
    plan_versions,
    visit_details,
    visits_by_id,
)
from optimizer.book.repository import Actor, import_file
from optimizer.clock import format_hhmm, parse_list
from optimizer.datums import CoordSystem
from optimizer.day import DayPlan, route_lines
from optimizer.domain import Agent, GeoPoint, Visit
from optimizer.edits import LockError, Move, Violation, apply_move, reoptimise
from optimizer.errors import InputError, Issue, VerificationError
from optimizer.geocoding import open_geocoder
from optimizer.geocoding.resolve import Place, locate_places
from optimizer.inputs.load import parse_agents, parse_visits, read_table
from optimizer.outputs.export import plan_to_dict
from optimizer.outputs.notices import Notice, build_notices, load_template
from optimizer.pipeline import travel_provider
from optimizer.plan import Plan, Route, SolverInfo, Stop, Unassigned
from optimizer.problem import build_problem
from optimizer.replan import Change, diff
from optimizer.slots import Slot, offer_slots, outside_service_area, why_no_slot
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
from optimizer.web.days import (
    OPEN_DAYS,
    OpenDay,
    open_day,
    plan_date,
    plan_horizon_dates,
    save_edit,
    verified,
)

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
def plan_page(request: Request, ctx: Ctx, _user: Dispatcher, date: str = "") -> HTMLResponse:
    return ctx.render(request, "plan.html", date=_date(date).isoformat() if date else "")


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


# --- import -------------------------------------------------------------------------------

#: Upload suffixes read_table understands.
_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".txt")
#: Larger uploads are refused before parsing (a day's file is well under this).
MAX_UPLOAD = 20 * 1024 * 1024


def _upload_name(upload: UploadFile, kind: str) -> str:
    """A safe local name for an upload that keeps what messages show: its base name."""
    raw = PurePosixPath((upload.filename or kind).replace("\\", "/")).name or kind
    suffix = PurePosixPath(raw).suffix.lower()
    if suffix not in _SUFFIXES:
        msg = f"{raw}: expected a .csv or .xlsx file"
        raise HTTPException(422, msg)
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in raw[: -len(suffix)])[:80]
    return f"{stem or kind}{suffix}"


def _issue_json(issue: Issue) -> dict[str, Any]:
    return {
        "source": issue.source,
        "row": issue.row,
        "column": issue.column,
        "value": issue.value,
        "problem": issue.problem,
        "message": str(issue),
    }


def _parse_upload(
    ctx: WebContext, data: bytes, name: str, kind: str
) -> tuple[tuple[Visit, ...], tuple[Agent, ...]]:
    coords = CoordSystem.parse(ctx.settings.geocoder.coord_system)
    with tempfile.TemporaryDirectory(prefix="fieldroute-upload-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        frame = read_table(path)
        if kind == "visits":
            return parse_visits(frame, name, coord_system=coords), ()
        return (), parse_agents(frame, name, coord_system=coords)


@router.post("/api/import")
async def import_files(
    ctx: Ctx,
    user: Dispatcher,
    visits: Annotated[UploadFile | None, File()] = None,
    agents: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Visits and/or agents (CSV/XLSX) into the book; every row error as JSON, or nothing saved."""
    if visits is None and agents is None:
        raise HTTPException(422, "send a visits file, an agents file, or both")
    issues: list[Issue] = []
    parsed_visits: tuple[Visit, ...] = ()
    parsed_agents: tuple[Agent, ...] = ()
    for kind, upload in (("visits", visits), ("agents", agents)):
        if upload is None:
            continue
        name = _upload_name(upload, kind)
        data = await upload.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            raise HTTPException(413, f"{name}: larger than {MAX_UPLOAD // 2**20} MB")
        try:
            v, a = await run_in_threadpool(_parse_upload, ctx, data, name, kind)
        except InputError as err:
            issues += err.issues
            continue
        parsed_visits += v
        parsed_agents += a
    if issues:
        return JSONResponse(
            {"detail": "nothing was imported", "errors": [_issue_json(i) for i in issues]},
            status_code=422,
        )
    report = await run_in_threadpool(
        import_file, ctx.book, parsed_visits, parsed_agents, Actor(who(user), "console import")
    )
    return JSONResponse(
        {
            "added": report.added,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "agents_added": report.agents_added,
            "agents_updated": report.agents_updated,
            "agents_unchanged": report.agents_unchanged,
            "not_reopened": [list(x) for x in report.not_reopened],
            "planned_changed": [[v, d.isoformat()] for v, d in report.planned_changed],
        }
    )


# --- plans --------------------------------------------------------------------------------


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise HTTPException(422, f"{text!r} is not a date; expected YYYY-MM-DD") from None


#: The longest horizon the console plans at once (the days it keeps open, too).
MAX_DAYS = OPEN_DAYS


class PlanRequest(BaseModel):
    time_limit: float | None = Field(default=None, gt=0, le=600)
    #: Working days from the date (checked in :func:`_days`, for a one-line message).
    days: Any = 1


def _days(value: Any) -> int:
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"days {value!r} is not a whole number; expected 1 to {MAX_DAYS} working days"
        raise HTTPException(422, msg)
    if not 1 <= value <= MAX_DAYS:
        msg = f"days {value} is out of range; expected 1 to {MAX_DAYS} working days"
        raise HTTPException(422, msg)
    return value


@router.post("/api/plans/{date}")
def plan(date: str, ctx: Ctx, user: Dispatcher, body: PlanRequest | None = None) -> Response:
    """Plan the date's pending visits from the book (the CLI's planner and verifier).

    With ``days`` > 1, the horizon from that date, as ``plan --book --days``: every
    day stored as its date's plan; the answer is a summary per day.
    """
    day = _date(date)
    days = _days(body.days if body else 1)
    if days > 1:
        return _plan_horizon(ctx, user, day, days, body.time_limit if body else None)
    with ctx.lock:
        result = plan_date(
            ctx,
            day,
            Actor(who(user), "console plan"),
            time_limit_s=body.time_limit if body else None,
        )
    if result.day is None or result.stored is None:
        return JSONResponse(
            {
                "detail": f"nothing to plan on {day.isoformat()}: no pending visit may be visited that day",
                "held": dict(result.snapshot.held),
            },
            status_code=409,
        )
    doc = plan_to_dict(result.day)
    return JSONResponse(
        {
            **doc,
            "version": result.stored.version,
            "held": dict(result.snapshot.held),
            "locked": [],
        }
    )


def _plan_horizon(
    ctx: WebContext, user: User, first: dt.date, days: int, time_limit: float | None
) -> Response:
    with ctx.lock:
        result = plan_horizon_dates(
            ctx, first, days, Actor(who(user), "console plan --days"), time_limit_s=time_limit
        )
    span = f"{result.dates[0].isoformat()} to {result.dates[-1].isoformat()}"
    if result.horizon is None:
        return JSONResponse(
            {
                "detail": f"nothing to plan from {span}: no pending visit may be visited on those days",
                "held": dict(result.held),
            },
            status_code=409,
        )
    horizon = result.horizon
    return JSONResponse(
        {
            "dates": [d.isoformat() for d in result.dates],
            "days": [
                {
                    "date": d.plan.date.isoformat(),
                    "version": stored.version,
                    "routed": len(d.plan.assigned_ids),
                    # the first date's document lists the horizon's not-fitted (below)
                    "unassigned": len(horizon.unassigned if k == 0 else d.plan.unassigned),
                }
                for k, (d, stored) in enumerate(zip(horizon.days, result.stored, strict=True))
            ],
            "unassigned": [
                {"visit_id": e.visit_id, "reason": e.reason or ""} for e in horizon.unassigned
            ],
            "held": dict(result.held),
        }
    )


def _opened(ctx: WebContext, text: str) -> OpenDay:
    opened = open_day(ctx, _date(text))
    if opened is None:
        raise HTTPException(404, f"no plan of {text} in the book: plan it first")
    return opened


@router.get("/api/plans/{date}")
def get_plan(date: str, ctx: Ctx, _user: Dispatcher) -> Response:
    """The newest published plan of the date (plan.json shape, ids and times only)."""
    stored = latest_plan(ctx.book, _date(date))
    if stored is None:
        raise HTTPException(404, f"no plan of {date} in the book: plan it first")
    return JSONResponse(
        {**stored.document, "version": stored.version, "locked": sorted(stored.locked)}
    )


def _point(p: GeoPoint | None) -> list[float] | None:
    return None if p is None else [p.lat, p.lon]


@router.get("/api/plans/{date}/view")
def plan_view(date: str, ctx: Ctx, _user: Dispatcher) -> Response:
    """What the plan page draws: routes with coordinates, timelines, figures (no personal data)."""
    opened = _opened(ctx, date)
    day = opened.day
    places = {v.visit_id: v for v in day.visits}
    agents = {a.agent_id: a for a in day.agents}
    doc = plan_to_dict(day)
    routes = []
    for route, rdoc in zip(day.plan.routes, doc["routes"], strict=True):
        agent = agents[route.agent_id]
        stops = []
        for stop, sdoc in zip(route.stops, rdoc["stops"], strict=True):
            v = places[stop.visit_id]
            stops.append(
                {
                    **sdoc,
                    "at": _point(v.location),
                    "arrive_s": stop.arrive_s,
                    "start_s": stop.start_s,
                    "end_s": stop.end_s,
                    "window": [v.window.start_s, v.window.end_s] if v.window else None,
                    "locked": stop.visit_id in opened.locked,
                }
            )
        routes.append(
            {
                **rdoc,
                "stops": stops,
                "depart_s": route.depart_s,
                "return_s": route.return_s,
                "break_s": [route.break_start_s, route.break_end_s]
                if route.break_start_s is not None
                else None,
                "shift": [agent.shift.start_s, agent.shift.end_s],
                "home": _point(agent.start),
                "line": [_point(p) for p in day.route_lines.get(route.agent_id, ())],
                "visits": len(route.stops),
            }
        )
    unassigned = [
        {"visit_id": u.visit_id, "reason": u.reason, "at": _point(places[u.visit_id].location)}
        for u in day.plan.unassigned
    ]
    idle = [
        a.agent_id for a in day.agents if a.agent_id not in {r.agent_id for r in day.plan.routes}
    ]
    return JSONResponse(
        {
            "date": doc["date"],
            "version": opened.version,
            "summary": doc["summary"],
            "routes": routes,
            "unassigned": unassigned,
            "idle_agents": idle,
            "agents": [a.agent_id for a in day.agents],
            "locked": sorted(opened.locked),
        }
    )


@router.get("/api/visits/{visit_id}")
def visit(visit_id: str, ctx: Ctx, user: Dispatcher) -> dict[str, Any]:
    """A borrower's details (name, phone, address, notes); the read is audited."""
    found = visit_details(
        ctx.book,
        [visit_id],
        Actor(who(user), "console"),
        "opened a borrower's details",
        now=ctx.clock(),
    )
    if visit_id not in found:
        raise HTTPException(404, "no such visit")
    return asdict(found[visit_id])


# --- booking while on the phone -----------------------------------------------------------


def _slot_json(slot: Slot) -> dict[str, Any]:
    return {
        "window_start": format_hhmm(slot.window.start_s),
        "window_end": format_hhmm(slot.window.end_s),
        "window_start_s": slot.window.start_s,
        "agent_id": slot.agent_id,
        "start": format_hhmm(slot.start_s),
        "extra_travel_min": round(slot.extra_travel_s / 60, 1),
        "after_seq": slot.after_seq,
    }


def _located(lat: float, lon: float) -> GeoPoint:
    try:
        return GeoPoint(lat, lon)
    except ValueError as err:
        raise HTTPException(422, f"lat/lon: {err}") from None


def _duration_s(minutes: float) -> int:
    if not 0 < minutes <= 24 * 60:
        raise HTTPException(422, "duration must be minutes in (0, 1440]")
    return math.ceil(minutes * 60)


def _offer(
    day: DayPlan, point: GeoPoint, duration_s: int, skills: frozenset[str], width_min: int
) -> list[Slot]:
    if (outside := outside_service_area(day, point)) is not None:
        raise HTTPException(422, outside)
    return offer_slots(day, point, duration_s, skills, window_width_s=width_min * 60)


def _where(
    ctx: WebContext, day: DayPlan, lat: float | None, lon: float | None, address: str
) -> GeoPoint:
    """The point asked about: given, or the address located by the configured geocoder."""
    if lat is not None and lon is not None:
        return _located(lat, lon)
    if not address.strip():
        raise HTTPException(422, "give lat and lon, or an address")
    geo = ctx.settings.geocoder
    bases = [p for a in day.agents for p in (a.start, a.end_point) if p is not None]
    with open_geocoder(geo, offline=ctx.offline) as geocoder:
        outcomes, _ = locate_places(
            [Place("address", address.strip())],
            geocoder,
            accept_coarse=geo.accept_coarse,
            service_bbox=geo.service_bbox,
            service_radius_km=geo.service_radius_km,
            bases=bases,
        )
    found = outcomes["address"]
    if found.point is None:
        raise HTTPException(422, f"address: {found.reason}")
    return found.point


@router.get("/api/slots")
def slots(
    ctx: Ctx,
    _user: Dispatcher,
    date: str,
    lat: float | None = None,
    lon: float | None = None,
    address: Annotated[str, Query(max_length=1000)] = "",
    duration: float = 30,
    skills: str = "",
    window_width: Annotated[int, Query(gt=0, le=24 * 60)] = 60,
) -> dict[str, Any]:
    """Windows that can be promised on the date's plan without moving anyone else's.

    The place is ``lat``/``lon``, or an ``address`` located by the configured geocoder.
    """
    opened = _opened(ctx, date)
    point, seconds = _where(ctx, opened.day, lat, lon, address), _duration_s(duration)
    wanted = frozenset(parse_list(skills))
    offer = _offer(opened.day, point, seconds, wanted, window_width)
    why = "" if offer else why_no_slot(opened.day, seconds, wanted, window_width * 60)
    later = (
        []
        if offer
        else _later_offers(ctx, opened.day.plan.date, point, seconds, wanted, window_width)
    )
    return {
        "date": date,
        "version": opened.version,
        "lat": point.lat,
        "lon": point.lon,
        "slots": [_slot_json(s) for s in offer],
        "why": why,
        "later": later,
    }


#: When the asked date is full: how far ahead to look (the dates the console keeps
#: open), on how many later dates with windows, and how many windows each.
LATER_HORIZON_DAYS = 14
LATER_DATES = 3
LATER_PER_DATE = 3


def _later_offers(
    ctx: WebContext,
    first: dt.date,
    point: GeoPoint,
    seconds: int,
    wanted: frozenset[str],
    width_min: int,
) -> list[dict[str, Any]]:
    """The earliest windows on later dates that have a plan in the book (the phone call
    goes on: "not today, but Thursday 10:00-11:00 with A02")."""
    found: list[dict[str, Any]] = []
    for k in range(1, LATER_HORIZON_DAYS + 1):
        later = open_day(ctx, first + dt.timedelta(days=k))
        if later is None:
            continue
        if outside_service_area(later.day, point) is not None:
            continue
        offer = offer_slots(later.day, point, seconds, wanted, window_width_s=width_min * 60)
        if offer:
            found.append(
                {
                    "date": later.day.plan.date.isoformat(),
                    "version": later.version,
                    "slots": [_slot_json(s) for s in offer[:LATER_PER_DATE]],
                }
            )
        if len(found) == LATER_DATES:
            break
    return found


class BookingRequest(BaseModel):
    """A new visit booked into one offered window (the dispatcher is on the phone)."""

    visit_id: str = Field(default="", max_length=200)
    name: str = Field(default="", max_length=500)
    phone: str = Field(default="", max_length=100)
    address: str = Field(default="", max_length=1000)
    lat: float
    lon: float
    duration: float = 30
    skills: str = Field(default="", max_length=500)
    window_start_s: int
    window_width: int = Field(default=60, gt=0, le=24 * 60)
    agent_id: str = Field(max_length=200)


@router.post("/api/plans/{date}/bookings")
def book(date: str, body: BookingRequest, ctx: Ctx, user: Dispatcher) -> Response:
    """Book an offered window: the visit goes into the book and the checked plan."""
    with ctx.lock:
        opened = _opened(ctx, date)
        day = opened.day
        point, seconds = _located(body.lat, body.lon), _duration_s(body.duration)
        wanted = frozenset(parse_list(body.skills))
        visit_id = body.visit_id.strip() or f"B{day.plan.date:%m%d}-{secrets.token_hex(3).upper()}"
        if visit_id in {v.visit_id for v in day.visits} or visits_by_id(ctx.book, [visit_id]):
            raise HTTPException(409, f"visit {visit_id!r} is already in the book")
        offer = offer_slots(
            day, point, seconds, wanted, window_width_s=body.window_width * 60, visit_id=visit_id
        )
        chosen = next(
            (
                s
                for s in offer
                if s.agent_id == body.agent_id and s.window.start_s == body.window_start_s
            ),
            None,
        )
        if chosen is None:
            return JSONResponse(
                {"detail": "that window is no longer free: ask for the slots again"},
                status_code=409,
            )
        visit = Visit(
            visit_id,
            point,
            seconds,
            window=chosen.window,
            skills=wanted,
            address=body.address,
            name=body.name,
            phone=body.phone,
        )
        provider = ctx.travel or travel_provider(ctx.settings)
        problem = build_problem([*day.problem.visits, visit], day.agents, provider)
        booked = DayPlan(
            chosen.booked,
            (*day.visits, visit),
            day.agents,
            problem,
            day.settings,
            route_lines=route_lines(problem, chosen.booked, provider),
        )
        if wrong := verified(booked, booked.plan):
            raise VerificationError(wrong)
        actor = Actor(who(user), "console booking")
        import_file(ctx.book, [visit], [], actor)
        detail = f"booked {visit_id} with {chosen.agent_id} at {format_hhmm(chosen.window.start_s)}"
        saved = save_edit(ctx, opened, booked, opened.locked, actor, detail)
    notice = next((n for n in _notices(booked) if n.visit_id == visit_id), None)
    return JSONResponse(
        {
            "visit_id": visit_id,
            "version": saved.version,
            "slot": _slot_json(chosen),
            "notice": notice.text if notice else "",
        }
    )


def _notices(day: DayPlan) -> list[Notice]:
    lang = day.settings.notices.lang
    return build_notices(day, load_template(day.settings.notices, lang), lang=lang)


# --- hand edits ---------------------------------------------------------------------------


class MoveRequest(BaseModel):
    """Put ``visit_id`` on ``agent_id``'s route at ``position`` (0-based; none: cheapest).

    ``agent_id`` null takes the visit out of every route. ``version``: the plan version
    the dispatcher is looking at (an edit of an older one is refused). ``lock``: a saved
    move keeps its place when the rest is re-optimised.
    """

    visit_id: str = Field(max_length=200)
    agent_id: str | None = Field(default=None, max_length=200)
    position: int | None = Field(default=None, ge=0, le=10_000)
    version: int | None = None
    lock: bool = True


def _violation_json(v: Violation) -> dict[str, Any]:
    return {"code": v.code, "agent_id": v.agent_id, "visit_id": v.visit_id, "message": v.message}


def _same_version(opened: OpenDay, version: int | None) -> None:
    if version is not None and version != opened.version:
        raise HTTPException(
            409, f"the plan changed (now version {opened.version}, you edited {version}): reload"
        )


def _edited(ctx: WebContext, day: DayPlan, plan: Plan) -> DayPlan:
    provider = ctx.travel or travel_provider(ctx.settings)
    return replace(day, plan=plan, route_lines=route_lines(day.problem, plan, provider))


def _locks(opened: OpenDay) -> dict[str, str]:
    """The locked visits of the day with the agent each is locked to."""
    return {
        s.visit_id: r.agent_id
        for r in opened.day.plan.routes
        for s in r.stops
        if s.visit_id in opened.locked
    }


@router.post("/api/plans/{date}/check")
def check_move(date: str, body: MoveRequest, ctx: Ctx, _user: Dispatcher) -> dict[str, Any]:
    """What the edit would break, without saving anything."""
    opened = _opened(ctx, date)
    _same_version(opened, body.version)
    day = opened.day
    result = apply_move(
        day.problem,
        day.visits,
        day.plan,
        Move(body.visit_id, body.agent_id, body.position),
        locked=_locks(opened),
    )
    return {
        "ok": result.ok,
        "violations": [_violation_json(v) for v in result.violations],
        "version": opened.version,
    }


@router.post("/api/plans/{date}/moves")
def save_move(date: str, body: MoveRequest, ctx: Ctx, user: Dispatcher) -> Response:
    """The edit, saved as the plan's next version when it breaks nothing (409 otherwise)."""
    with ctx.lock:
        opened = _opened(ctx, date)
        _same_version(opened, body.version)
        day = opened.day
        move = Move(body.visit_id, body.agent_id, body.position)
        result = apply_move(day.problem, day.visits, day.plan, move, locked=_locks(opened))
        if not result.ok:
            return JSONResponse(
                {
                    "ok": False,
                    "violations": [_violation_json(v) for v in result.violations],
                    "version": opened.version,
                },
                status_code=409,
            )
        edited = _edited(ctx, day, result.plan)
        if wrong := verified(edited, edited.plan):
            raise VerificationError(wrong)
        locked = set(opened.locked) - {body.visit_id}
        if body.lock and body.agent_id is not None:
            locked.add(body.visit_id)
        where = f"{body.agent_id} position {body.position}" if body.agent_id else "unassigned"
        saved = save_edit(
            ctx,
            opened,
            edited,
            locked,
            Actor(who(user), "console move"),
            f"moved {body.visit_id} to {where}" + (" (locked)" if body.visit_id in locked else ""),
        )
    return JSONResponse({"ok": True, "violations": [], "version": saved.version})


class SolveRequest(BaseModel):
    time_limit: float | None = Field(default=None, gt=0, le=600)
    version: int | None = None


@router.post("/api/plans/{date}/solve")
def solve_around_locks(
    date: str, ctx: Ctx, user: Dispatcher, body: SolveRequest | None = None
) -> Response:
    """Re-optimise the rest of the day, keeping the locked visits where they are."""
    body = body or SolveRequest()
    with ctx.lock:
        opened = _opened(ctx, date)
        _same_version(opened, body.version)
        day = opened.day
        locked = _locks(opened)
        limit = body.time_limit or ctx.settings.solver.time_limit_s
        try:
            plan = reoptimise(day.problem, day.visits, day.plan, locked, ctx.settings, limit)
        except LockError as err:
            return JSONResponse(
                {"ok": False, "violations": [_violation_json(v) for v in err.violations]},
                status_code=409,
            )
        edited = _edited(ctx, day, plan)
        if wrong := verified(edited, edited.plan):
            raise VerificationError(wrong)
        saved = save_edit(
            ctx,
            opened,
            edited,
            set(locked),
            Actor(who(user), "console solve"),
            f"re-optimised around {len(locked)} locked visits",
        )
    doc = plan_to_dict(edited)
    return JSONResponse({**doc, "version": saved.version, "locked": sorted(locked)})


class LockRequest(BaseModel):
    visit_id: str = Field(max_length=200)
    locked: bool
    version: int | None = None


@router.post("/api/plans/{date}/locks")
def lock_visit(date: str, body: LockRequest, ctx: Ctx, user: Dispatcher) -> dict[str, Any]:
    """Lock a routed visit where it is (or unlock it); saved as the plan's next version."""
    with ctx.lock:
        opened = _opened(ctx, date)
        _same_version(opened, body.version)
        if body.visit_id not in opened.day.plan.assigned_ids:
            raise HTTPException(422, f"{body.visit_id!r} is not in a route of this plan")
        locked = set(opened.locked)
        (locked.add if body.locked else locked.discard)(body.visit_id)
        word = "locked" if body.locked else "unlocked"
        saved = save_edit(
            ctx,
            opened,
            opened.day,
            locked,
            Actor(who(user), "console lock"),
            f"{word} {body.visit_id}",
        )
    return {"version": saved.version, "locked": sorted(saved.locked)}


# --- who to call --------------------------------------------------------------------------

#: What a borrower who will not be visited is told (no word of debt: see notices.FORBIDDEN).
NOT_VISITED = {
    "zh": "您好，原定今天的上门服务需要改期，我们会尽快与您联系确定新的时间。如有疑问请致电 {desk}。",
    "en": "Hello, today's home visit has to move to another day; we will call you to agree "
    "a new time. Questions: {desk}.",
}


def _told_plan(doc: Mapping[str, Any]) -> Plan:
    """The first published version's agents and starts: what the borrowers were told."""
    date = dt.date.fromisoformat(doc["date"])
    midnight = dt.datetime.combine(date, dt.time())

    def seconds(text: str) -> int:
        return int((dt.datetime.fromisoformat(text) - midnight).total_seconds())

    routes = tuple(
        Route(
            r["agent_id"],
            0,
            0,
            tuple(
                Stop(s["visit_id"], int(s["seq"]), 0, seconds(s["start"]), 0, 0, 0)
                for s in r["stops"]
            ),
            0,
            0,
        )
        for r in doc["routes"]
    )
    unassigned = tuple(Unassigned(u["visit_id"], u["reason"]) for u in doc["unassigned"])
    return Plan(date, doc["timezone"], routes, unassigned, SolverInfo("", "", 0, 0))


def call_list(ctx: WebContext, opened: OpenDay, user: User) -> dict[str, Any]:
    """Agents to call (their day), and borrowers whose window changed or who will not be
    visited since the first published version, with the message for each; audited."""
    day = opened.day
    date = day.plan.date
    versions = plan_versions(ctx.book, date)
    told = _told_plan(versions[0][1]) if versions else day.plan
    visits = {v.visit_id: v for v in day.visits}
    width = day.settings.notices.window_min * 60
    changes = [c for c in diff(told, day.plan, visits, width) if c.notify]
    # visits never routed in any version were never told a window: tell them too
    was_routed = {s["visit_id"] for _, doc in versions for r in doc["routes"] for s in r["stops"]}
    known = {c.visit_id for c in changes}
    for u in day.plan.unassigned:
        if u.visit_id not in known and u.visit_id not in was_routed:
            changes.append(
                Change(u.visit_id, "not visited", "", "", None, None, None, True, u.reason)
            )
    details = visit_details(
        ctx.book,
        [c.visit_id for c in changes],
        Actor(who(user), "console calls"),
        f"opened the call list of {date.isoformat()}",
        now=ctx.clock(),
    )
    notices = {n.visit_id: n for n in _notices(day)}
    cfg = day.settings.notices
    desk = cfg.desk_phone or ("调度台" if cfg.lang == "zh" else "the dispatch desk")
    borrowers = []
    for c in changes:
        d = details.get(c.visit_id)
        notice = notices.get(c.visit_id)
        routed = c.new_start_s is not None
        message = (
            notice.text
            if routed and notice
            else NOT_VISITED.get(cfg.lang, NOT_VISITED["en"]).format(desk=desk)
        )
        borrowers.append(
            {
                "visit_id": c.visit_id,
                "name": d.name if d else "",
                "phone": d.phone if d else "",
                "change": c.change,
                "agent_id": c.new_agent,
                "window": f"{notice.window_start}-{notice.window_end}" if routed and notice else "",
                "reason": c.reason,
                "message": message,
            }
        )
    contacts = agent_contacts(ctx.book)
    agents = [
        {
            "agent_id": r.agent_id,
            "name": contacts[r.agent_id].name if r.agent_id in contacts else "",
            "phone": contacts[r.agent_id].phone if r.agent_id in contacts else "",
            "visits": len(r.stops),
            "first": format_hhmm(r.stops[0].start_s) if r.stops else "",
            "changed": any(c.new_agent == r.agent_id or c.old_agent == r.agent_id for c in changes),
        }
        for r in day.plan.routes
    ]
    return {
        "date": date.isoformat(),
        "version": opened.version,
        "agents": agents,
        "borrowers": borrowers,
    }


@router.get("/api/plans/{date}/calls")
def calls(date: str, ctx: Ctx, user: Dispatcher) -> dict[str, Any]:
    """Who to call: agents, and borrowers to tell, with phones (dispatchers only; audited)."""
    return call_list(ctx, _opened(ctx, date), user)


@router.get("/calls", response_class=HTMLResponse)
def calls_page(request: Request, ctx: Ctx, user: Dispatcher, date: str = "") -> HTMLResponse:
    listing = None
    error = ""
    if date:
        opened = open_day(ctx, _date(date))
        if opened is None:
            error = f"No plan of {date} in the book."
        else:
            listing = call_list(ctx, opened, user)
    return ctx.render(request, "calls.html", date=date, listing=listing, error=error)


@router.get("/import", response_class=HTMLResponse)
def import_page(request: Request, ctx: Ctx, _user: Dispatcher) -> HTMLResponse:
    return ctx.render(request, "import.html")


@router.get("/book", response_class=HTMLResponse)
def book_page(request: Request, ctx: Ctx, _user: Dispatcher, date: str = "") -> HTMLResponse:
    return ctx.render(request, "book.html", date=_date(date).isoformat() if date else "")
