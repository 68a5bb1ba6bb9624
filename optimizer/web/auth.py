"""Passwords, sessions, CSRF and roles: the console's security rules in one place.

- Passwords are argon2id hashes (argon2-cffi, its default parameters); a hash made with
  older parameters is replaced at the next login.
- A session is a random cookie value; the book keeps only its SHA-256, so a copy of the
  database opens no session. The cookie is HttpOnly, SameSite=Strict, and Secure when
  the console is served over https (directly or behind a TLS proxy).
- Every state-changing request (anything but GET/HEAD/OPTIONS) must carry the session's
  CSRF token in ``X-CSRF-Token``; POST /api/login returns it and every page carries it.
- Logins are rate-limited per user name and per client address.
- Roles are checked on the server by :func:`require_user` on every route.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import HTTPException, Request

from optimizer.book.accounts import User, find_session

COOKIE = "fieldroute_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_LIFETIME = dt.timedelta(hours=12)
#: What each role may do: an admin may do everything a dispatcher may.
GRANTS: dict[str, frozenset[str]] = {
    "admin": frozenset({"admin", "dispatcher"}),
    "dispatcher": frozenset({"dispatcher"}),
}

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (salted; parameters inside the hash)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> tuple[bool, bool]:
    """(matches, should be re-hashed). A malformed stored hash never matches."""
    try:
        _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False, False
    return True, _hasher.check_needs_rehash(password_hash)


#: Checked against when the user does not exist, so a wrong name costs the same time
#: as a wrong password (no user enumeration by timing).
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def new_secret() -> str:
    """An unguessable value for cookies, CSRF tokens and links (256 bits)."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """How a secret is stored: its SHA-256 in hex (the secret has 256 bits; no salt needed)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two secrets."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class LoginLimiter:
    """At most ``max_failures`` failed logins per user name and per client address in
    ``window_s`` seconds; more are refused (429) until the oldest failure ages out.

    Kept in memory: the console is one process, and a restart forgetting the count
    costs an attacker a restart per ``max_failures`` tries.
    """

    max_failures: int = 5
    window_s: float = 300.0
    clock: Callable[[], dt.datetime] = utc_now
    _failures: dict[str, deque[dt.datetime]] = field(
        default_factory=lambda: defaultdict(deque), init=False, repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def retry_after(self, keys: Iterable[str]) -> int | None:
        """Seconds to wait when any key is over the limit, else None."""
        now = self.clock()
        horizon = now - dt.timedelta(seconds=self.window_s)
        wait = 0.0
        with self._lock:
            for key in keys:
                times = self._failures.get(key)
                if times is None:
                    continue
                while times and times[0] <= horizon:
                    times.popleft()
                if len(times) >= self.max_failures:
                    wait = max(wait, (times[0] - horizon).total_seconds())
        return max(1, int(wait) + 1) if wait else None

    def failed(self, keys: Iterable[str]) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                self._failures[key].append(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


class LoginRequired(Exception):  # noqa: N818 - a signal to the app's handler, not an error
    """No live session: 401 for the API, a redirect to the login page for pages."""


def session_token(request: Request) -> str | None:
    return request.cookies.get(COOKIE) or None


def require_user(role: str = "dispatcher") -> Callable[[Request], User]:
    """A dependency: the logged-in user, who must hold ``role`` (403 otherwise).

    State-changing requests must also carry the session's CSRF token (403 otherwise).

    Raises
    ------
    LoginRequired
        No cookie, or the session expired, was closed, or its user is disabled.
    HTTPException
        403: CSRF token missing or wrong, or the user's role does not grant ``role``.
    """
    if role not in GRANTS:
        msg = f"role {role!r} is not known; expected one of {', '.join(GRANTS)}"
        raise ValueError(msg)

    def dependency(request: Request) -> User:
        from optimizer.web.context import get_context

        ctx = get_context(request)
        token = session_token(request)
        info = find_session(ctx.book, digest(token), now=ctx.clock()) if token else None
        if info is None:
            raise LoginRequired
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not sent or not same(sent, info.csrf_token):
                raise HTTPException(403, "CSRF token missing or wrong (X-CSRF-Token header)")
        if role not in GRANTS.get(info.user.role, frozenset()):
            raise HTTPException(403, f"this needs the {role} role")
        request.state.user = info.user
        request.state.csrf_token = info.csrf_token
        return info.user

    return dependency
