"""The agent's link: their own day only, live, and outcomes into the book (issue 15)."""

from __future__ import annotations

import datetime as dt

from markupsafe import escape

from optimizer.book.links import find_link, revoke_agent_links
from tests.hostile import MARKUP
from tests.web.conftest import login
from tests.web.fieldday import ACTOR, DAY, Field, day, form_token, planned

__all__ = ["day", "planned"]


def _post(day: Field, agent: str, visit_id: str, outcome: str, **extra: str) -> int:
    token = day.agent_tokens[agent]
    page = day.client.get(f"/a/{token}").text
    data = {"form_token": form_token(page), "visit_id": visit_id, "outcome": outcome, **extra}
    r = day.client.post(f"/a/{token}/outcomes", data=data, follow_redirects=False)
    return r.status_code


def test_the_day_is_split_between_the_two_agents(day: Field) -> None:
    assert day.visits_of("A1") == ["V01", "V02", "V03"]
    assert day.visits_of("A2") == ["V04", "V05", "V06"]


def test_agent_page_shows_only_the_agents_own_visits(day: Field) -> None:
    r = day.client.get(f"/a/{day.agent_tokens['A1']}")
    assert r.status_code == 200
    assert 'name="viewport"' in r.text
    for vid in ("V01", "V02", "V03"):
        assert f'data-visit-id="{vid}"' in r.text
    for vid, name in (("V04", "Four"), ("V05", "Five"), ("V06", "Six")):
        assert vid not in r.text and name not in r.text
    assert "Borrower One" in r.text and "Agent Li" in r.text
    assert r.headers["cache-control"] == "no-store"


def test_unknown_token_is_the_same_404_as_a_missing_page(day: Field) -> None:
    missing = day.client.get("/no/such/page")
    for path in ("/a/" + "x" * 43, "/a/", "/a/" + day.agent_tokens["A1"][:-1]):
        r = day.client.get(path)
        assert r.status_code == 404
        assert r.content == missing.content
    r = day.client.post("/a/" + "x" * 43 + "/outcomes", data={"visit_id": "V01"})
    assert r.status_code == 404 and r.content == missing.content


def test_token_of_agent_a_against_a_visit_of_agent_b_is_404(day: Field) -> None:
    assert _post(day, "A1", "V04", "done") == 404
    assert _post(day, "A1", "V99", "done") == 404  # no such visit: the same answer
    assert day.outcomes() == 0
    assert day.case("V04").status == "planned"


def test_expired_token_is_404(day: Field) -> None:
    token = day.agent_tokens["A1"]
    page = day.client.get(f"/a/{token}").text
    # midnight in Shanghai: the day's link ends
    day.clock.now = dt.datetime(2026, 12, 1, 16, 0, tzinfo=dt.UTC)
    assert day.client.get(f"/a/{token}").status_code == 404
    data = {"form_token": form_token(page), "visit_id": "V01", "outcome": "done"}
    assert day.client.post(f"/a/{token}/outcomes", data=data).status_code == 404
    assert day.outcomes() == 0
    day.clock.now = dt.datetime(2026, 12, 1, 15, 59, tzinfo=dt.UTC)
    assert day.client.get(f"/a/{token}").status_code == 200


def test_revoked_token_is_404(day: Field) -> None:
    token = day.agent_tokens["A1"]
    page = day.client.get(f"/a/{token}").text
    book = day.book()
    try:
        assert revoke_agent_links(book, "A1", DAY, ACTOR, now=day.clock.now) == 1
        assert find_link(book, day.agent_tokens["A2"], "agent", now=day.clock.now) is not None
    finally:
        book.close()
    assert day.client.get(f"/a/{token}").status_code == 404
    data = {"form_token": form_token(page), "visit_id": "V01", "outcome": "done"}
    assert day.client.post(f"/a/{token}/outcomes", data=data).status_code == 404
    assert day.client.get(f"/a/{day.agent_tokens['A2']}").status_code == 200
    assert day.outcomes() == 0


def test_a_borrower_token_opens_no_agent_page(day: Field) -> None:
    assert day.client.get(f"/a/{day.borrower_tokens['V01']}").status_code == 404


def test_missing_or_foreign_form_token_is_403(day: Field) -> None:
    token = day.agent_tokens["A1"]
    r = day.client.post(f"/a/{token}/outcomes", data={"visit_id": "V01", "outcome": "done"})
    assert r.status_code == 403
    other = form_token(day.client.get(f"/a/{day.agent_tokens['A2']}").text)
    data = {"form_token": other, "visit_id": "V01", "outcome": "done"}
    assert day.client.post(f"/a/{token}/outcomes", data=data).status_code == 403
    assert day.outcomes() == 0


def test_outcomes_land_in_the_book_and_show_on_the_page(day: Field) -> None:
    assert _post(day, "A1", "V01", "arrived") == 303
    day.clock.now += dt.timedelta(minutes=20)
    assert _post(day, "A1", "V01", "done", note="signed") == 303
    assert _post(day, "A1", "V02", "not_home") == 303
    promise = (DAY + dt.timedelta(days=3)).isoformat()
    assert _post(day, "A1", "V03", "promise_to_pay", promise_date=promise) == 303
    assert _post(day, "A2", "V04", "wrong_address") == 303
    assert _post(day, "A2", "V05", "refused") == 303
    assert day.outcomes() == 6
    assert day.outcomes("arrived") == 1
    assert day.case("V01").status == "done"
    assert day.case("V02").status == "pending"
    assert day.case("V03").earliest_date == DAY + dt.timedelta(days=4)
    assert day.case("V04").status == "failed"
    page = day.client.get(f"/a/{day.agent_tokens['A1']}").text
    assert "10:20 Done · signed" in page and "10:00 Arrived" in page
    # a final case takes no more outcomes: said on the page, nothing recorded
    day.clock.now += dt.timedelta(minutes=1)
    assert _post(day, "A1", "V01", "done") == 409
    assert day.outcomes() == 6


def test_a_promise_needs_its_date(day: Field) -> None:
    assert _post(day, "A1", "V01", "promise_to_pay") == 422
    assert _post(day, "A1", "V01", "promise_to_pay", promise_date="2026-11-30") == 422
    assert _post(day, "A1", "V01", "paid") == 422  # not an agent's outcome
    assert day.outcomes() == 0


def test_the_same_tap_twice_in_a_second_is_one_outcome(day: Field) -> None:
    assert _post(day, "A1", "V02", "arrived") == 303
    assert _post(day, "A1", "V02", "arrived") == 303
    assert day.outcomes() == 1


def test_hostile_notes_are_text_on_the_page(day: Field) -> None:
    for k, payload in enumerate(MARKUP):
        day.clock.now += dt.timedelta(minutes=1)
        assert _post(day, "A1", f"V0{1 + k % 3}", "arrived", note=payload) == 303
    page = day.client.get(f"/a/{day.agent_tokens['A1']}").text
    for payload in MARKUP:
        assert str(escape(payload)) in page
    assert "<script>window" not in page and "<img src=x" not in page
    assert "<svg onload" not in page


def test_dispatcher_issues_links_and_sees_outcomes_at_once(day: Field) -> None:
    assert day.client.get("/api/plans/2026-12-01/links").status_code == 401
    assert day.client.get("/api/plans/2026-12-01/field").status_code == 401
    csrf = login(day.client)
    links = day.client.get("/api/plans/2026-12-01/links").json()
    assert [x["agent_id"] for x in links] == ["A1", "A2"]
    assert day.client.get("/api/plans/2026-11-30/links").status_code == 404
    path = links[0]["url"].removeprefix("http://testserver")
    assert path.startswith("/a/") and day.client.get(path).status_code == 200
    assert _post(day, "A1", "V02", "not_home", note="<b>dog</b> at the gate") == 303
    reports = day.client.get("/api/plans/2026-12-01/field").json()["reports"]
    assert [(r["visit_id"], r["agent_id"], r["outcome"]) for r in reports] == [
        ("V02", "A1", "not_home")
    ]
    page = day.client.get("/field?date=2026-12-01").text
    assert "&lt;b&gt;dog&lt;/b&gt; at the gate" in page and "not_home" in page
    revoke = "/api/plans/2026-12-01/links/A1/revoke"
    assert day.client.post(revoke).status_code == 403  # no CSRF token
    r = day.client.post(revoke, headers={"X-CSRF-Token": csrf})
    assert r.json() == {"revoked": 2}
    assert day.client.get(path).status_code == 404
