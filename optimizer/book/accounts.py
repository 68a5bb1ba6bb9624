"""The console's users and their sessions, kept in the book (issue 15).

Hashing is not done here: the web wing hands in argon2 hashes and the SHA-256 of
session cookies, so the book never sees a password or a cookie value. Each function
is one transaction, as in :mod:`optimizer.book.repository`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from optimizer.book.db import Book
from optimizer.book.models import ROLES, AuditEvent, AuditVisitRow, CaseRow, UserRow, WebSessionRow
from optimizer.book.repository import Actor, _chunks, audit
from optimizer.errors import ConfigurationError


@dataclass(frozen=True, slots=True)
class User:
    """A console user as the web wing sees it (no password hash)."""

    user_id: int
    username: str
    role: str


@dataclass(frozen=True, slots=True)
class Credentials:
    """A user with the stored hash, for the login check only."""

    user: User
    password_hash: str


def add_user(
    book: Book, username: str, password_hash: str, role: str, *, now: dt.datetime
) -> tuple[User, bool]:
    """Add ``username``, or set a new password and role when it exists; (user, added).

    Raises
    ------
    ConfigurationError
        The name is empty or the role is not one of :data:`ROLES`.
    """
    if not username.strip() or len(username) > 200:
        msg = f"user name {username!r} is empty or too long; expected 1 to 200 characters"
        raise ConfigurationError(msg)
    if role not in ROLES:
        msg = f"role {role!r} is not known; expected one of {', '.join(ROLES)}"
        raise ConfigurationError(msg)
    with book.write() as session:
        row = session.scalar(select(UserRow).where(UserRow.username == username))
        if row is None:
            user_id = session.execute(
                insert(UserRow)
                .values(
                    username=username,
                    password_hash=password_hash,
                    role=role,
                    active=True,
                    created_at=now,
                )
                .returning(UserRow.id)
            ).scalar_one()
            return User(user_id, username, role), True
        row.password_hash, row.role, row.active = password_hash, role, True
        # a new password ends every session opened with the old one
        session.execute(
            update(WebSessionRow)
            .where(WebSessionRow.user_id == row.id, WebSessionRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return User(row.id, username, role), False


def credentials(book: Book, username: str) -> Credentials | None:
    """The active user of that name with its hash, or None."""
    with book.read() as session:
        row = session.scalar(select(UserRow).where(UserRow.username == username, UserRow.active))
        if row is None:
            return None
        return Credentials(User(row.id, row.username, row.role), row.password_hash)


def set_password_hash(book: Book, user_id: int, password_hash: str) -> None:
    """Store a re-hashed password (argon2 parameters raised since it was set)."""
    with book.write() as session:
        session.execute(
            update(UserRow).where(UserRow.id == user_id).values(password_hash=password_hash)
        )


def open_session(
    book: Book,
    user: User,
    token_hash: str,
    csrf_token: str,
    *,
    now: dt.datetime,
    lifetime: dt.timedelta,
) -> None:
    """Record a login: the session keyed by its cookie's hash, and the login time."""
    with book.write() as session:
        session.execute(
            insert(WebSessionRow).values(
                token_hash=token_hash,
                user_id=user.user_id,
                csrf_token=csrf_token,
                created_at=now,
                expires_at=now + lifetime,
            )
        )
        session.execute(update(UserRow).where(UserRow.id == user.user_id).values(last_login_at=now))


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A live session: who, and the CSRF token state-changing requests must carry."""

    user: User
    csrf_token: str


def find_session(book: Book, token_hash: str, *, now: dt.datetime) -> SessionInfo | None:
    """The live session of that cookie hash (not expired, not revoked, user active)."""
    with book.read() as session:
        found = session.execute(
            select(WebSessionRow, UserRow)
            .join(UserRow, UserRow.id == WebSessionRow.user_id)
            .where(
                WebSessionRow.token_hash == token_hash,
                WebSessionRow.revoked_at.is_(None),
                WebSessionRow.expires_at > now,
                UserRow.active,
            )
        ).first()
        if found is None:
            return None
        web, user = found
        return SessionInfo(User(user.id, user.username, user.role), web.csrf_token)


def close_session(book: Book, token_hash: str, *, now: dt.datetime) -> None:
    """Log out: the cookie stops working at once."""
    with book.write() as session:
        session.execute(
            update(WebSessionRow)
            .where(WebSessionRow.token_hash == token_hash, WebSessionRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )


# --- the audit view -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit event with the visit ids it touched (ids only, as stored)."""

    at: dt.datetime
    actor: str
    command: str
    action: str
    detail: str
    visit_ids: tuple[str, ...]


def audit_log(book: Book, *, limit: int = 200, visits_shown: int = 20) -> list[AuditEntry]:
    """The newest audit events first, each with up to ``visits_shown`` visit ids."""
    with book.read() as session:
        events = list(
            session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit))
        )
        ids: dict[int, list[str]] = {e.id: [] for e in events}
        if events:
            rows = session.execute(
                select(AuditVisitRow.event_id, CaseRow.visit_id)
                .join(CaseRow, CaseRow.id == AuditVisitRow.case_id)
                .where(AuditVisitRow.event_id.in_(list(ids)))
                .order_by(AuditVisitRow.event_id, CaseRow.visit_id)
            )
            for event_id, visit_id in rows:
                ids[event_id].append(visit_id)
        return [
            AuditEntry(
                e.at, e.actor, e.command, e.action, e.detail, tuple(ids[e.id][:visits_shown])
            )
            for e in events
        ]


def record(
    book: Book,
    who: str,
    command: str,
    action: str,
    visit_ids: Sequence[str],
    detail: str,
    *,
    now: dt.datetime,
) -> None:
    """An audit event by a console user (a login, a view, an edit): the cases by id only."""
    with book.write() as session:
        case_ids: list[int] = []
        for chunk in _chunks(sorted(set(visit_ids))):
            case_ids += session.scalars(select(CaseRow.id).where(CaseRow.visit_id.in_(chunk)))
        audit(session, Actor(who, command), action, case_ids, detail, now)
