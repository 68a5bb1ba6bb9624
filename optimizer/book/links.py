"""Agents' and borrowers' links: tokens, what each link may see, and what it may change.

A link is a bearer secret in a URL (``/a/<token>``, ``/b/<token>``): 256 random bits
(:func:`new_token`), kept in the book only as its SHA-256 (:func:`token_hash`; with that
much entropy no salt or slow hash is needed), valid for one day in the plan's time zone
and revocable. An agent link sees that agent's route of that day in the newest
published plan; a borrower link sees one visit. Every lookup answers None for an
unknown, expired or revoked token and for a visit outside the link, so the web wing
answers all of them with the same 404.

Each public function is one transaction, as in :mod:`optimizer.book.repository`; reads
of personal data are audited (the log names the link's agent or visit, never the data).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import CursorResult, func, insert, select, update
from sqlalchemy.orm import Session

from optimizer.book.db import Book
from optimizer.book.models import AgentRow, CaseRow, OutcomeRow, PlanRow, PlanVisitRow, TokenRow
from optimizer.book.repository import Actor, agent_from_row, audit, visit_from_row
from optimizer.book.rules import Kind, Status
from optimizer.domain import Agent, TimeWindow, Visit
from optimizer.plan import Route, Stop

AGENT = "agent"
BORROWER = "borrower"
#: Digits of the code an agent shows at the door (the borrower's page shows the same).
DOOR_CODE_DIGITS = 6


def new_token() -> str:
    """A link's secret: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """How a link is stored and looked up: the SHA-256 of its token, in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def door_code(borrower_hash: str) -> str:
    """The visit's door code, derived from the borrower link (so both pages agree).

    Only a holder of the borrower's link (or the book) can know it: an impostor at the
    door cannot.
    """
    digest = hashlib.sha256(f"door:{borrower_hash}".encode()).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**DOOR_CODE_DIGITS:0{DOOR_CODE_DIGITS}d}"


def form_token(link: Link, purpose: str) -> str:
    """The token a link's page puts in its forms (CSRF), bound to the link and the form."""
    key = (link.form_key or link.token_hash).encode("utf-8")
    return hmac.new(key, f"{purpose}:{link.token_hash}".encode(), hashlib.sha256).hexdigest()


def end_of_day(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """Midnight after ``day`` in the plan's zone: when a link of that day stops working."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz)


@dataclass(frozen=True, slots=True)
class Link:
    """A live link as found by its token: whose it is and for which day."""

    kind: str
    token_hash: str
    agent_id: str
    day: dt.date
    visit_id: str | None = None
    form_key: str | None = None


def _add(
    session: Session,
    link: Link,
    tz: dt.tzinfo,
    now: dt.datetime,
) -> None:
    session.execute(
        insert(TokenRow).values(
            token_hash=link.token_hash,
            kind=link.kind,
            agent_id=link.agent_id,
            visit_id=link.visit_id,
            day=link.day,
            created_at=now,
            expires_at=end_of_day(link.day, tz),
            revoked_at=None,
            form_key=link.form_key,
        )
    )


def issue_agent_link(
    book: Book, agent_id: str, day: dt.date, tz: dt.tzinfo, actor: Actor, *, now: dt.datetime
) -> str:
    """A new link for ``agent_id``'s day; the token, which the book does not keep.

    Links issued before for the same day stay valid (the agent may hold one already):
    :func:`revoke_agent_links` ends them.
    """
    token = new_token()
    link = Link(AGENT, token_hash(token), agent_id, day, form_key=secrets.token_hex(32))
    with book.write() as session:
        _add(session, link, tz, now)
        audit(session, actor, "link", (), f"agent link issued for {agent_id} on {day}", now)
    return token


def issue_borrower_links(
    book: Book,
    visits: Mapping[str, str],
    day: dt.date,
    tz: dt.tzinfo,
    actor: Actor,
    *,
    now: dt.datetime,
) -> dict[str, str]:
    """A link per visit (``visit_id -> agent_id``) for ``day``; visit_id -> token.

    A visit has one live borrower link a day: an earlier one (an earlier notice of the
    same day) is revoked, so the door code on the agent's page is the one of the
    borrower's newest notice.
    """
    tokens = {vid: new_token() for vid in visits}
    with book.write() as session:
        ids = sorted(visits)
        session.execute(
            update(TokenRow)
            .where(
                TokenRow.kind == BORROWER,
                TokenRow.day == day,
                TokenRow.visit_id.in_(ids),
                TokenRow.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        for vid in ids:
            link = Link(
                BORROWER,
                token_hash(tokens[vid]),
                visits[vid],
                day,
                visit_id=vid,
                form_key=secrets.token_hex(32),
            )
            _add(session, link, tz, now)
        cases = session.scalars(select(CaseRow.id).where(CaseRow.visit_id.in_(ids))).all()
        audit(session, actor, "link", cases, f"{len(ids)} borrower links issued for {day}", now)
    return tokens


def find_link(book: Book, token: str, kind: str, *, now: dt.datetime) -> Link | None:
    """The live link of ``token`` (None: unknown, another kind, expired or revoked)."""
    if not token or len(token) > 100:
        return None
    with book.read() as session:
        row = session.scalar(select(TokenRow).where(TokenRow.token_hash == token_hash(token)))
    if row is None or row.kind != kind or row.revoked_at is not None or row.expires_at <= now:
        return None
    return Link(row.kind, row.token_hash, row.agent_id, row.day, row.visit_id, row.form_key)


def _rowcount(result: Any) -> int:
    return int(cast("CursorResult[Any]", result).rowcount)


def revoke_agent_links(
    book: Book, agent_id: str, day: dt.date, actor: Actor, *, now: dt.datetime
) -> int:
    """End every live link of ``agent_id`` for ``day``; how many there were."""
    with book.write() as session:
        ended = _rowcount(
            session.execute(
                update(TokenRow)
                .where(
                    TokenRow.kind == AGENT,
                    TokenRow.agent_id == agent_id,
                    TokenRow.day == day,
                    TokenRow.revoked_at.is_(None),
                )
                .values(revoked_at=now)
            )
        )
        audit(
            session, actor, "link", (), f"{ended} agent links of {agent_id} on {day} revoked", now
        )
    return ended


def revoke_link(book: Book, token: str, actor: Actor, *, now: dt.datetime) -> bool:
    """End one link; False when there was no live link of that token."""
    with book.write() as session:
        ended = _rowcount(
            session.execute(
                update(TokenRow)
                .where(TokenRow.token_hash == token_hash(token), TokenRow.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        )
        if ended:
            audit(session, actor, "link", (), "a link was revoked", now)
    return bool(ended)


# --- what a link sees ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reported:
    """An outcome of the day as the field pages show it."""

    kind: Kind
    at: dt.datetime
    note: str = ""
    promise_date: dt.date | None = None
    new_date: dt.date | None = None


@dataclass(frozen=True, slots=True)
class AgentDay:
    """An agent's day as their link shows it: the route of the newest published plan.

    ``route`` is None when the newest plan gives the agent no route (or there is no
    plan yet). ``reported`` holds each visit's outcomes of the day, oldest first;
    ``door_codes`` the code of each visit whose borrower has a live link.
    """

    agent: Agent
    day: dt.date
    plan_version: int | None = None
    route: Route | None = None
    visits: tuple[Visit, ...] = ()
    status: Mapping[str, str] = field(default_factory=dict)
    reported: Mapping[str, tuple[Reported, ...]] = field(default_factory=dict)
    door_codes: Mapping[str, str] = field(default_factory=dict)
    confirmed: Mapping[str, TimeWindow] = field(default_factory=dict)


def _newest_plan(session: Session, day: dt.date) -> PlanRow | None:
    return session.scalar(
        select(PlanRow)
        .where(PlanRow.plan_date == day, PlanRow.published_at.is_not(None))
        .order_by(PlanRow.version.desc())
        .limit(1)
    )


def _seconds(day: dt.date, text: str) -> int:
    """A plan.json local time on ``day`` as seconds since that midnight."""
    moment = dt.datetime.fromisoformat(text)
    return int((moment - dt.datetime.combine(day, dt.time())).total_seconds())


def route_from_document(day: dt.date, doc: Mapping[str, Any]) -> Route:
    """A plan.json route back as a Route (minutes and kilometres as stored, rounded)."""
    stops = tuple(
        Stop(
            visit_id=str(s["visit_id"]),
            seq=int(s["seq"]),
            arrive_s=_seconds(day, s["arrive"]),
            start_s=_seconds(day, s["start"]),
            end_s=_seconds(day, s["end"]),
            travel_s=round(float(s["travel_min"]) * 60),
            distance_m=round(float(s["distance_km"]) * 1000),
        )
        for s in doc["stops"]
    )
    brk = doc.get("break")
    travel_s = round(float(doc["travel_min"]) * 60)
    distance_m = round(float(doc["distance_km"]) * 1000)
    return Route(
        agent_id=str(doc["agent_id"]),
        depart_s=_seconds(day, doc["start"]),
        return_s=_seconds(day, doc["end"]),
        stops=stops,
        return_travel_s=max(0, travel_s - sum(s.travel_s for s in stops)),
        return_distance_m=max(0, distance_m - sum(s.distance_m for s in stops)),
        break_start_s=_seconds(day, brk["start"]) if brk else None,
        break_end_s=_seconds(day, brk["end"]) if brk else None,
    )


def _day_outcomes(
    session: Session, case_ids: Sequence[int], day: dt.date, tz: dt.tzinfo
) -> dict[int, list[Reported]]:
    start = dt.datetime.combine(day, dt.time(), tz)
    rows = session.execute(
        select(OutcomeRow)
        .where(
            OutcomeRow.case_id.in_(case_ids),
            OutcomeRow.at >= start,
            OutcomeRow.at < end_of_day(day, tz),
        )
        .order_by(OutcomeRow.at, OutcomeRow.id)
    ).scalars()
    out: dict[int, list[Reported]] = defaultdict(list)
    for r in rows:
        out[r.case_id].append(Reported(Kind(r.outcome), r.at, r.note, r.promise_date, r.new_date))
    return out


def _door_codes(
    session: Session, visit_ids: Sequence[str], day: dt.date, now: dt.datetime
) -> dict[str, str]:
    rows = session.execute(
        select(TokenRow.visit_id, TokenRow.token_hash)
        .where(
            TokenRow.kind == BORROWER,
            TokenRow.day == day,
            TokenRow.visit_id.in_(visit_ids),
            TokenRow.revoked_at.is_(None),
            TokenRow.expires_at > now,
        )
        .order_by(TokenRow.id)
    )
    return {str(vid): door_code(h) for vid, h in rows}


def _confirmed(row: CaseRow, day: dt.date) -> TimeWindow | None:
    if row.confirmed_date != day or row.confirmed_start_s is None or row.confirmed_end_s is None:
        return None
    return TimeWindow(row.confirmed_start_s, row.confirmed_end_s)


def agent_day(
    book: Book, link: Link, tz: dt.tzinfo, actor: Actor, *, now: dt.datetime
) -> AgentDay | None:
    """What the agent's link shows (None: the agent is no longer in the book).

    The read of the borrowers' details is audited, naming the agent and the cases.
    """
    with book.write() as session:
        agent_row = session.scalar(select(AgentRow).where(AgentRow.agent_id == link.agent_id))
        if agent_row is None:
            return None
        agent = agent_from_row(agent_row)
        plan = _newest_plan(session, link.day)
        docs = [
            r
            for r in (plan.document.get("routes", []) if plan else [])
            if r["agent_id"] == link.agent_id
        ]
        if plan is None or not docs:
            return AgentDay(agent, link.day, plan.version if plan else None)
        route = route_from_document(link.day, docs[0])
        ids = [s.visit_id for s in route.stops]
        rows = {
            r.visit_id: r for r in session.scalars(select(CaseRow).where(CaseRow.visit_id.in_(ids)))
        }
        outcomes = _day_outcomes(session, [r.id for r in rows.values()], link.day, tz)
        codes = _door_codes(session, ids, link.day, now)
        audit(
            session,
            actor,
            "read",
            [r.id for r in rows.values() if r.purged_at is None],
            f"agent page of {link.agent_id} for {link.day} opened",
            now,
        )
    confirmed = {vid: w for vid, r in rows.items() if (w := _confirmed(r, link.day))}
    return AgentDay(
        agent=agent,
        day=link.day,
        plan_version=plan.version,
        route=route,
        visits=tuple(visit_from_row(rows[vid]) for vid in ids if vid in rows),
        status={vid: r.status for vid, r in rows.items()},
        reported={vid: tuple(outcomes.get(r.id, ())) for vid, r in rows.items()},
        door_codes=codes,
        confirmed=confirmed,
    )


def agent_has_visit(book: Book, link: Link, visit_id: str) -> bool:
    """Whether ``visit_id`` is on the link's agent's route in the newest plan of the day."""
    with book.read() as session:
        plan = _newest_plan(session, link.day)
        if plan is None:
            return False
        found = session.scalar(
            select(PlanVisitRow.case_id)
            .join(CaseRow, CaseRow.id == PlanVisitRow.case_id)
            .where(
                PlanVisitRow.plan_id == plan.id,
                PlanVisitRow.agent_id == link.agent_id,
                CaseRow.visit_id == visit_id,
            )
        )
    return found is not None


@dataclass(frozen=True, slots=True)
class BorrowerDay:
    """What a borrower's link shows: their visit, and its agent and start when routed."""

    visit: Visit
    day: dt.date
    status: str
    agent: Agent | None = None
    start_s: int | None = None
    confirmed: TimeWindow | None = None
    reported: tuple[Reported, ...] = ()
    door_code: str = ""


def borrower_day(
    book: Book, link: Link, tz: dt.tzinfo, actor: Actor, *, now: dt.datetime
) -> BorrowerDay | None:
    """The link's visit as its borrower sees it (None: the visit is gone from the book)."""
    with book.write() as session:
        row = session.scalar(select(CaseRow).where(CaseRow.visit_id == link.visit_id))
        if row is None or row.purged_at is not None:
            return None
        plan = _newest_plan(session, link.day)
        member = (
            session.scalar(
                select(PlanVisitRow).where(
                    PlanVisitRow.plan_id == plan.id, PlanVisitRow.case_id == row.id
                )
            )
            if plan is not None
            else None
        )
        agent = None
        if member is not None and member.agent_id is not None:
            agent_row = session.scalar(select(AgentRow).where(AgentRow.agent_id == member.agent_id))
            agent = agent_from_row(agent_row) if agent_row is not None else None
        reported = _day_outcomes(session, [row.id], link.day, tz).get(row.id, [])
        audit(session, actor, "read", [row.id], f"borrower page for {link.day} opened", now)
    return BorrowerDay(
        visit=visit_from_row(row),
        day=link.day,
        status=row.status,
        agent=agent,
        start_s=member.start_s if member is not None and agent is not None else None,
        confirmed=_confirmed(row, link.day),
        reported=tuple(reported),
        door_code=door_code(link.token_hash),
    )


def confirm_window(
    book: Book,
    link: Link,
    window: TimeWindow,
    agent_id: str,
    actor: Actor,
    *,
    now: dt.datetime,
) -> bool:
    """Keep ``window`` with ``agent_id`` for the link's visit and day; False if it cannot.

    The confirmation is an outcome (``confirmed``, for the dispatcher's history) and the
    case's confirmed window, which every later plan of that date keeps. A case that is
    no longer open (done, closed, held for its address) is not confirmed.
    """
    with book.write() as session:
        row = session.scalar(
            select(CaseRow).where(CaseRow.visit_id == link.visit_id).with_for_update()
        )
        if row is None or row.status not in (Status.PENDING.value, Status.PLANNED.value):
            return False
        session.execute(
            insert(OutcomeRow).values(
                case_id=row.id,
                borrower_id=row.borrower_id,
                plan_id=row.plan_id,
                outcome=Kind.CONFIRMED.value,
                at=now,
                attempt=False,
                note="",
                promise_date=None,
                new_window_start_s=window.start_s,
                new_window_end_s=window.end_s,
                new_date=link.day,
                recorded_at=now,
                recorded_by=actor.who,
            )
        )
        session.execute(
            update(CaseRow)
            .where(CaseRow.id == row.id)
            .values(
                confirmed_date=link.day,
                confirmed_start_s=window.start_s,
                confirmed_end_s=window.end_s,
                confirmed_agent=agent_id,
                updated_at=now,
                version=row.version + 1,
            )
        )
        audit(session, actor, "outcomes", [row.id], f"window for {link.day} confirmed", now)
    return True


# --- what the dispatcher sees of the field ------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldReport:
    """One outcome of the day, for the dispatcher: whose stop, what, when, by whom."""

    visit_id: str
    agent_id: str
    kind: Kind
    at: dt.datetime
    note: str
    promise_date: dt.date | None
    new_date: dt.date | None
    recorded_by: str
    status: str


def field_reports(
    book: Book, day: dt.date, tz: dt.tzinfo, actor: Actor, *, now: dt.datetime
) -> list[FieldReport]:
    """The day's outcomes, newest first, with the agent of each stop in the newest plan.

    Notes are the field's words about a borrower: the read is audited.
    """
    with book.write() as session:
        plan = _newest_plan(session, day)
        agents: dict[int, str] = {}
        if plan is not None:
            agents = {
                c: a
                for c, a in session.execute(
                    select(PlanVisitRow.case_id, PlanVisitRow.agent_id).where(
                        PlanVisitRow.plan_id == plan.id
                    )
                )
                if a is not None
            }
        rows = session.execute(
            select(OutcomeRow, CaseRow.visit_id, CaseRow.status)
            .join(CaseRow, CaseRow.id == OutcomeRow.case_id)
            .where(OutcomeRow.at >= dt.datetime.combine(day, dt.time(), tz))
            .where(OutcomeRow.at < end_of_day(day, tz))
            .order_by(OutcomeRow.at.desc(), OutcomeRow.id.desc())
        ).all()
        reports = [
            FieldReport(
                visit_id=vid,
                agent_id=agents.get(o.case_id, ""),
                kind=Kind(o.outcome),
                at=o.at,
                note=o.note,
                promise_date=o.promise_date,
                new_date=o.new_date,
                recorded_by=o.recorded_by,
                status=status,
            )
            for o, vid, status in rows
        ]
        audit(
            session,
            actor,
            "read",
            sorted({o.case_id for o, _, _ in rows}),
            f"field reports of {day} read ({len(reports)})",
            now,
        )
    return reports


def day_agents(book: Book, day: dt.date) -> list[str]:
    """The agents with a route in the newest plan of ``day`` (whom links are for)."""
    with book.read() as session:
        plan = _newest_plan(session, day)
        if plan is None:
            return []
        return sorted({str(r["agent_id"]) for r in plan.document.get("routes", [])})


def outcome_count(book: Book) -> int:
    """How many outcomes the book holds (the field-links benchmark counts them)."""
    with book.read() as session:
        return int(session.scalar(select(func.count()).select_from(OutcomeRow)) or 0)
