"""The console's access rules, one test per rule (issue 15, Security)."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from optimizer.web.app import _routers, create_app
from optimizer.web.auth import COOKIE, LoginLimiter
from tests.web.conftest import PASSWORD, login


def test_unauthenticated_api_call_is_401(client: TestClient) -> None:
    assert client.get("/api/me").status_code == 401


def test_unauthenticated_page_goes_to_login(client: TestClient) -> None:
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"


def test_wrong_role_is_403(client: TestClient) -> None:
    login(client, "dispatcher")
    assert client.get("/audit").status_code == 403
    assert client.get("/api/audit").status_code == 403


def test_admin_may_do_what_a_dispatcher_may(client: TestClient) -> None:
    login(client, "admin")
    assert client.get("/audit").status_code == 200
    assert client.get("/api/me").json()["role"] == "admin"


def test_state_change_without_csrf_token_is_403(client: TestClient) -> None:
    token = login(client)
    assert client.post("/api/logout").status_code == 403
    assert client.post("/api/logout", headers={"X-CSRF-Token": "x" + token}).status_code == 403
    assert client.get("/api/me").status_code == 200  # still logged in
    assert client.post("/api/logout", headers={"X-CSRF-Token": token}).status_code == 200
    assert client.get("/api/me").status_code == 401


def test_wrong_password_is_401(client: TestClient) -> None:
    r = client.post("/api/login", json={"username": "dispatcher", "password": "nope"})
    assert r.status_code == 401 and COOKIE not in r.cookies
    r = client.post("/api/login", json={"username": "nobody", "password": PASSWORD})
    assert r.status_code == 401


def test_login_is_rate_limited(book_path: str) -> None:
    now = [dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)]
    limiter = LoginLimiter(max_failures=3, window_s=60, clock=lambda: now[0])
    with TestClient(create_app(book_path, limiter=limiter)) as c:
        bad = {"username": "dispatcher", "password": "guess"}
        assert [c.post("/api/login", json=bad).status_code for _ in range(3)] == [401] * 3
        good = {"username": "dispatcher", "password": PASSWORD}
        r = c.post("/api/login", json=good)
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        now[0] += dt.timedelta(seconds=61)
        assert c.post("/api/login", json=good).status_code == 200


def test_session_cookie_flags(client: TestClient, book_path: str) -> None:
    r = client.post("/api/login", json={"username": "dispatcher", "password": PASSWORD})
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie
    with TestClient(create_app(book_path, https=True), base_url="https://console") as c:
        r = c.post("/api/login", json={"username": "dispatcher", "password": PASSWORD})
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "secure" in cookie


def test_a_forged_cookie_opens_nothing(client: TestClient) -> None:
    client.cookies.set(COOKIE, "forged")
    assert client.get("/api/me").status_code == 401


def test_pages_forbid_inline_script(client: TestClient) -> None:
    r = client.get("/login")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "unsafe-inline" not in r.headers["content-security-policy"].split("script-src")[1]
    assert r.headers["referrer-policy"] == "no-referrer"


def _all_routes() -> list[object]:
    return [route for router in _routers() for route in router.routes]


def _api_routes() -> list[tuple[str, str]]:
    """Every (method, path) of the console's API, path parameters filled in."""
    out = []
    for route in _all_routes():
        path = getattr(route, "path", "")
        if not path.startswith("/api/") or path == "/api/login":
            continue
        filled = (
            path.replace("{date}", "2026-12-01")
            .replace("{visit_id}", "V0001")
            .replace("{agent_id}", "A01")
        )
        out += [(m, filled) for m in sorted(getattr(route, "methods", ())) if m != "HEAD"]
    assert len(out) > 10
    return out


def test_every_api_route_wants_a_session(client: TestClient) -> None:
    for method, path in _api_routes():
        r = client.request(method, path)
        assert r.status_code == 401, (method, path, r.status_code)


def test_every_state_changing_api_route_wants_the_csrf_token(client: TestClient) -> None:
    login(client, "admin")
    changing = [(m, p) for m, p in _api_routes() if m not in ("GET", "OPTIONS")]
    assert len(changing) > 5
    for method, path in changing:
        r = client.request(method, path, json={})
        assert r.status_code == 403, (method, path, r.status_code)
        assert "CSRF" in r.json()["detail"]


def test_every_page_wants_a_session(client: TestClient) -> None:
    for route in _all_routes():
        path = getattr(route, "path", "")
        if "GET" not in getattr(route, "methods", ()) or path.startswith(("/api/", "/a/", "/b/")):
            continue
        if path == "/login" or path.startswith("/static/") or path.endswith((".css", ".js")):
            continue  # the login page and files that hold no data
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login", path


def test_text_is_escaped_in_server_rendered_pages(client: TestClient) -> None:
    from tests.hostile import MARKUP

    payload = " ".join(MARKUP)
    r = client.post(
        "/api/login",
        data={"username": payload, "password": "x"},
        headers={"accept": "text/html"},
    )
    assert r.status_code == 401
    assert "<script>" not in r.text.split("<body>")[1].split("<script src")[0]
    assert "&lt;script&gt;" in r.text and "<img src=x" not in r.text
