"""The borrower's link: one visit only, confirm or ask for another time (issue 15)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from optimizer.book.links import door_code, revoke_link, token_hash
from optimizer.book.repository import day_snapshot
from optimizer.errors import ConfigurationError
from optimizer.outputs.notices import forbidden_words
from optimizer.settings import Settings
from tests.web.fieldday import (
    ACTOR,
    DAY,
    SETTINGS,
    TZ,
    Field,
    day,
    form_token,
    import_day,
    plan,
    planned,
)

__all__ = ["day", "planned"]

OTHER_AGENTS = (
    "agent_id,name,start_lat,start_lon,shift_start,shift_end,max_visits\n"
    "A1,Agent Li,30.702,104.122,09:00,17:00,3\n"
    "A2,Agent Wang,30.652,104.062,09:00,17:00,3\n"
)


def _reply(day: Field, visit_id: str, action: str, **extra: str) -> int:
    token = day.borrower_tokens[visit_id]
    page = day.client.get(f"/b/{token}").text
    data = {"form_token": form_token(page), "action": action, **extra}
    return day.client.post(f"/b/{token}/reply", data=data, follow_redirects=False).status_code


def _window(page: str) -> tuple[str, str]:
    found = re.search(r"between (\d\d:\d\d) and (\d\d:\d\d)", page)
    assert found is not None
    return found.group(1), found.group(2)


def test_borrower_page_shows_only_that_visit(day: Field) -> None:
    r = day.client.get(f"/b/{day.borrower_tokens['V01']}")
    assert r.status_code == 200
    page = r.text
    start, end = _window(page)
    assert start < end
    assert "Agent Li" in page and "ID card" in page and "400-000-0000" in page
    # the borrower's page names nobody, not even themselves: no name, phone, address
    for other in ("Borrower", "Road", "1380000", "V0", "Agent Wang"):
        assert other not in page
    assert not forbidden_words(re.sub(r"<[^>]+>", " ", page))


def test_the_door_code_is_the_same_on_both_pages(day: Field) -> None:
    code = door_code(token_hash(day.borrower_tokens["V02"]))
    assert code in day.client.get(f"/b/{day.borrower_tokens['V02']}").text
    agent_page = day.client.get(f"/a/{day.agent_tokens['A1']}").text
    card = agent_page[agent_page.index('data-visit-id="V02"') :]
    card = card[: card.index("</article>")]
    assert f"Door code {code}" in card
    assert code not in day.client.get(f"/a/{day.agent_tokens['A2']}").text


def test_unknown_expired_and_revoked_borrower_tokens_are_404(day: Field) -> None:
    missing = day.client.get("/no/such/page").content
    token = day.borrower_tokens["V01"]
    page = day.client.get(f"/b/{token}").text
    r = day.client.get("/b/" + "y" * 43)
    assert r.status_code == 404 and r.content == missing
    day.clock.now = dt.datetime(2026, 12, 1, 16, 0, tzinfo=dt.UTC)
    assert day.client.get(f"/b/{token}").status_code == 404
    data = {"form_token": form_token(page), "action": "confirm"}
    assert day.client.post(f"/b/{token}/reply", data=data).status_code == 404
    day.clock.now = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)
    book = day.book()
    try:
        assert revoke_link(book, token, ACTOR, now=day.clock.now)
    finally:
        book.close()
    r = day.client.get(f"/b/{token}")
    assert r.status_code == 404 and r.content == missing
    assert day.client.post(f"/b/{token}/reply", data=data).status_code == 404
    assert day.outcomes() == 0 and day.case("V01").confirmed_date is None


def test_a_borrower_token_reaches_no_other_visit(day: Field) -> None:
    token = day.borrower_tokens["V01"]
    page = day.client.get(f"/b/{token}").text
    # an agent's path and an agent's form with another visit: the same 404
    data = {"form_token": form_token(page), "visit_id": "V02", "outcome": "done"}
    assert day.client.post(f"/a/{token}/outcomes", data=data).status_code == 404
    # a visit id slipped into the reply is ignored: only the link's own visit moves
    data = {"form_token": form_token(page), "action": "confirm", "visit_id": "V02"}
    assert day.client.post(f"/b/{token}/reply", data=data).status_code == 200
    assert day.case("V01").confirmed_date == DAY
    assert day.case("V02").confirmed_date is None
    # one borrower's form token does not work on another's link
    other = day.borrower_tokens["V02"]
    data = {"form_token": form_token(page), "action": "reschedule"}
    assert day.client.post(f"/b/{other}/reply", data=data).status_code == 403
    assert day.case("V02").status == "planned"


def test_missing_form_token_is_403(day: Field) -> None:
    token = day.borrower_tokens["V01"]
    assert day.client.post(f"/b/{token}/reply", data={"action": "confirm"}).status_code == 403
    assert day.case("V01").confirmed_date is None and day.outcomes() == 0


def test_confirm_keeps_the_window_and_agent_for_later_plans(day: Field, tmp_path: Path) -> None:
    start, end = _window(day.client.get(f"/b/{day.borrower_tokens['V01']}").text)
    assert _reply(day, "V01", "confirm") == 303
    page = day.client.get(f"/b/{day.borrower_tokens['V01']}").text
    assert "the time is confirmed" in page and _window(page) == (start, end)
    case = day.case("V01")
    assert case.confirmed_date == DAY and case.confirmed_agent == "A1"
    assert day.outcomes("confirmed") == 1
    agent_page = day.client.get(f"/a/{day.agent_tokens['A1']}").text
    assert f"Confirmed by the customer: {start}–{end}" in agent_page
    # A1 and A2 swap their start points: a plan from scratch would give V01 to A2
    import_day(day.url, tmp_path, agents=OTHER_AGENTS)
    book = day.book()
    try:
        snap = day_snapshot(book, DAY, SETTINGS.compliance, TZ)
    finally:
        book.close()
    v01 = next(v for v in snap.visits if v.visit_id == "V01")
    assert v01.pinned_agent == "A1"
    assert v01.window is not None
    lo, hi = (int(x[:2]) * 3600 + int(x[3:]) * 60 for x in (start, end))
    assert (v01.window.start_s, v01.window.end_s) == (lo, hi)
    routed = plan(day.url, tmp_path / "again")
    assert routed["V01"] == "A1"
    assert routed["V02"] == routed["V03"] == "A2"  # the others did swap
    page = day.client.get(f"/b/{day.borrower_tokens['V01']}").text
    assert _window(page) == (start, end) and "Agent Li" in page


def test_another_time_puts_the_visit_back_with_the_reason(day: Field) -> None:
    assert _reply(day, "V05", "confirm") == 303
    assert _reply(day, "V05", "reschedule", reason="evenings please", date="2026-12-03") == 303
    case = day.case("V05")
    assert case.status == "pending"
    assert case.earliest_date == dt.date(2026, 12, 3)
    assert "evenings please" in case.reason
    assert case.confirmed_date is None  # the confirmed window no longer holds
    assert day.outcomes("reschedule") == 1
    page = day.client.get(f"/b/{day.borrower_tokens['V05']}").text
    assert "we will call you" in page and "between" not in page
    # back in the pool: a plan of the asked day may take it, the plan of today does not
    book = day.book()
    try:
        assert "V05" in {
            v.visit_id
            for v in day_snapshot(book, dt.date(2026, 12, 3), SETTINGS.compliance, TZ).visits
        }
        assert "V05" in day_snapshot(book, DAY, SETTINGS.compliance, TZ).held
    finally:
        book.close()
    agent_page = day.client.get(f"/a/{day.agent_tokens['A2']}").text
    assert "Customer asked for another time · evenings please" in agent_page


def test_another_time_without_a_day_is_the_next_day(day: Field) -> None:
    assert _reply(day, "V06", "reschedule") == 303
    assert day.case("V06").earliest_date == DAY + dt.timedelta(days=1)
    assert _reply(day, "V04", "reschedule", date=DAY.isoformat()) == 422
    assert day.case("V04").status == "planned"


def test_notices_carry_the_link_only_with_a_public_url(tmp_path: Path) -> None:
    from tests.web.conftest import make_book

    url = make_book(tmp_path / "book.db")
    import_day(url, tmp_path)
    plan(url, tmp_path / "plain")
    assert "/b/" not in (tmp_path / "plain" / "notices.csv").read_text(encoding="utf-8")
    linked = Settings.from_dict(
        {**SETTINGS.to_dict(), "web": {"public_url": "https://field.example.com/"}}
    )
    plan(url, tmp_path / "linked", linked)
    texts = [p.read_text(encoding="utf-8") for p in (tmp_path / "linked" / "notices").glob("*")]
    links = [re.search(r"https://field\.example\.com/b/([\w-]{43})$", t.strip()) for t in texts]
    assert len(texts) == 6 and all(links)


@pytest.mark.parametrize("bad", ["field.example.com", "ftp://x", "https://x/b?y=1", "https://a b"])
def test_public_url_must_be_an_address(bad: str) -> None:
    with pytest.raises(ConfigurationError, match=r"web\.public_url"):
        Settings.from_dict({"web": {"public_url": bad}})
