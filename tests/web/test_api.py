"""The dispatcher's JSON API on a small day (data/tiny): import, plan, edits, booking."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from optimizer.book.accounts import audit_log
from optimizer.settings import Settings
from optimizer.verify import check_plan
from optimizer.web.app import create_app
from optimizer.web.days import open_day
from tests.book.conftest import book_url, pg_server  # noqa: F401 - fixtures
from tests.helpers import ROOT
from tests.web.conftest import login, make_book

DATE = "2026-12-01"
TINY = ROOT / "data" / "tiny"


def _files() -> dict[str, tuple[str, bytes, str]]:
    return {
        "visits": ("visits.csv", (TINY / "visits.csv").read_bytes(), "text/csv"),
        "agents": ("agents.csv", (TINY / "agents.csv").read_bytes(), "text/csv"),
    }


@pytest.fixture
def csrf(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": login(client)}


@pytest.fixture
def planned(client: TestClient, csrf: dict[str, str]) -> dict[str, object]:
    """data/tiny imported and 2026-12-01 planned; the plan document."""
    assert client.post("/api/import", headers=csrf, files=_files()).status_code == 200
    r = client.post(f"/api/plans/{DATE}", headers=csrf, json={"time_limit": 1})
    assert r.status_code == 200, r.text
    doc: dict[str, object] = r.json()
    return doc


def _routed(doc: dict[str, object]) -> dict[str, tuple[str, int]]:
    routes = doc["routes"]
    assert isinstance(routes, list)
    return {s["visit_id"]: (r["agent_id"], k) for r in routes for k, s in enumerate(r["stops"])}


def test_import_with_a_bad_row_saves_nothing(client: TestClient, csrf: dict[str, str]) -> None:
    text = (TINY / "visits.csv").read_text(encoding="utf-8-sig").splitlines()
    header = text[0].split(",")
    bad = text[3].split(",")
    bad[header.index("window_start")] = "25:00"
    text[3] = ",".join(bad)
    files = _files()
    files["visits"] = ("visits.csv", "\n".join(text).encode(), "text/csv")
    r = client.post("/api/import", headers=csrf, files=files)
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert [(e["source"], e["row"], e["column"]) for e in errors] == [
        ("visits.csv", 4, "window_start")
    ]
    assert "25:00" in errors[0]["message"]
    # the good agents file was not imported either: nothing to plan, no agent
    r = client.post(f"/api/plans/{DATE}", headers=csrf, json={"time_limit": 1})
    assert r.status_code == 409 and "nothing to plan" in r.json()["detail"]


def test_import_reads_xlsx(client: TestClient, csrf: dict[str, str]) -> None:
    frame = pd.read_csv(TINY / "visits.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)
    files = {"visits": ("visits.xlsx", buffer.getvalue(), "application/octet-stream")}
    r = client.post("/api/import", headers=csrf, files=files)
    assert r.status_code == 200 and r.json()["added"] == len(frame)


def test_import_refuses_other_files(client: TestClient, csrf: dict[str, str]) -> None:
    files = {"visits": ("visits.exe", b"MZ", "application/octet-stream")}
    assert client.post("/api/import", headers=csrf, files=files).status_code == 422


def test_plan_is_verified_and_has_every_visit_once(
    client: TestClient, planned: dict[str, object]
) -> None:
    ids = [s["visit_id"] for r in planned["routes"] for s in r["stops"]]  # type: ignore[attr-defined]
    ids += [u["visit_id"] for u in planned["unassigned"]]  # type: ignore[attr-defined]
    assert sorted(ids) == [f"V000{k}" for k in range(1, 7)]
    ctx = client.app.state.fieldroute  # type: ignore[attr-defined]
    ctx.days.clear()  # re-opened from the book, as after a restart
    opened = open_day(ctx, pd.Timestamp(DATE).date())
    assert opened is not None and opened.version == planned["version"] == 1
    assert check_plan(opened.day.plan, opened.day.visits, opened.day.problem) == []
    r = client.get(f"/api/plans/{DATE}")
    assert r.status_code == 200
    got = r.json()
    assert {k: got[k] for k in ("date", "routes", "unassigned", "summary")} == {
        k: planned[k] for k in ("date", "routes", "unassigned", "summary")
    }


def test_unknown_plan_is_404(client: TestClient, csrf: dict[str, str]) -> None:
    assert client.get("/api/plans/2026-12-09").status_code == 404
    assert client.get("/api/plans/not-a-date").status_code == 422


def test_check_shows_the_violation_and_saves_nothing(
    client: TestClient, csrf: dict[str, str], planned: dict[str, object]
) -> None:
    routed = _routed(planned)
    # V0004 (09:00-10:00) at the end of the other agent's day cannot keep its window
    agent, _ = routed["V0004"]
    other = "A02" if agent == "A01" else "A01"
    move = {"visit_id": "V0004", "agent_id": other, "position": 99}
    r = client.post(f"/api/plans/{DATE}/check", headers=csrf, json=move)
    assert r.status_code == 422 or r.json()["ok"] is False
    move["position"] = len([v for v, (a, _) in routed.items() if a == other])
    r = client.post(f"/api/plans/{DATE}/check", headers=csrf, json=move)
    body = r.json()
    assert r.status_code == 200 and body["ok"] is False
    assert any(v["visit_id"] == "V0004" and v["code"] == "window" for v in body["violations"])
    r = client.post(f"/api/plans/{DATE}/moves", headers=csrf, json=move)
    assert r.status_code == 409 and r.json()["violations"] == body["violations"]
    assert client.get(f"/api/plans/{DATE}").json()["version"] == 1


def _a_good_move(
    client: TestClient, csrf: dict[str, str], doc: dict[str, object]
) -> dict[str, object]:
    routed = _routed(doc)
    for visit_id, (agent, k) in sorted(routed.items()):
        for other in ("A01", "A02"):
            for position in range(4):
                if (other, position) == (agent, k):
                    continue
                move = {"visit_id": visit_id, "agent_id": other, "position": position}
                if client.post(f"/api/plans/{DATE}/check", headers=csrf, json=move).json()["ok"]:
                    return move
    pytest.fail("no move of data/tiny breaks nothing")


def test_a_good_move_is_saved_locked_and_audited(
    client: TestClient, csrf: dict[str, str], planned: dict[str, object]
) -> None:
    move = _a_good_move(client, csrf, planned)
    r = client.post(f"/api/plans/{DATE}/moves", headers=csrf, json={**move, "version": 1})
    assert r.status_code == 200 and r.json() == {"ok": True, "violations": [], "version": 2}
    doc = client.get(f"/api/plans/{DATE}").json()
    assert doc["version"] == 2 and doc["locked"] == [move["visit_id"]]
    assert _routed(doc)[move["visit_id"]] == (move["agent_id"], move["position"])  # type: ignore[index]
    # an edit of the version before is refused
    stale = client.post(f"/api/plans/{DATE}/moves", headers=csrf, json={**move, "version": 1})
    assert stale.status_code == 409 and "changed" in stale.json()["detail"]
    ctx = client.app.state.fieldroute  # type: ignore[attr-defined]
    edits = [e for e in audit_log(ctx.book) if e.action == "edit"]
    assert edits[0].actor == "web:dispatcher" and edits[0].command == "console move"
    # re-optimising the rest keeps the locked visit where it was put
    r = client.post(f"/api/plans/{DATE}/solve", headers=csrf, json={"time_limit": 1})
    assert r.status_code == 200, r.text
    assert r.json()["locked"] == [move["visit_id"]]
    assert _routed(r.json())[move["visit_id"]][0] == move["agent_id"]  # type: ignore[index]
    ctx.days.clear()
    opened = open_day(ctx, pd.Timestamp(DATE).date())
    assert opened is not None and opened.version == 3
    assert check_plan(opened.day.plan, opened.day.visits, opened.day.problem) == []


def test_slots_then_booking_puts_the_visit_in_the_checked_plan(
    client: TestClient, csrf: dict[str, str], planned: dict[str, object]
) -> None:
    q = {"date": DATE, "lat": 30.65, "lon": 104.05, "duration": 20}
    r = client.get("/api/slots", params=q)
    assert r.status_code == 200
    offered = r.json()["slots"]
    assert offered
    slot = offered[0]
    booking = {
        "name": "Ms Test",
        "phone": "1",
        "address": "somewhere",
        "lat": 30.65,
        "lon": 104.05,
        "duration": 20,
        "window_start_s": slot["window_start_s"],
        "agent_id": slot["agent_id"],
    }
    r = client.post(f"/api/plans/{DATE}/bookings", headers=csrf, json=booking)
    assert r.status_code == 200, r.text
    new = r.json()["visit_id"]
    assert r.json()["notice"]  # the borrower's notice is ready
    doc = client.get(f"/api/plans/{DATE}").json()
    assert _routed(doc)[new][0] == slot["agent_id"]
    ctx = client.app.state.fieldroute  # type: ignore[attr-defined]
    ctx.days.clear()
    opened = open_day(ctx, pd.Timestamp(DATE).date())
    assert opened is not None
    assert check_plan(opened.day.plan, opened.day.visits, opened.day.problem) == []
    # the same window with a now-busier agent is refused unless still offered
    again = client.post(
        f"/api/plans/{DATE}/bookings", headers=csrf, json={**booking, "window_start_s": 1}
    )
    assert again.status_code == 409


def test_slots_for_an_address(
    client: TestClient, csrf: dict[str, str], planned: dict[str, object]
) -> None:
    r = client.get("/api/slots", params={"date": DATE, "address": "Chengdu 玉林路 149号"})
    assert r.status_code == 200, r.text
    assert (r.json()["lat"], r.json()["lon"]) == (30.664693, 104.108406)
    r = client.get("/api/slots", params={"date": DATE, "address": "Nowhere 1"})
    assert r.status_code == 422 and "not found" in r.json()["detail"]


def test_slots_outside_the_area_are_refused(
    client: TestClient, csrf: dict[str, str], planned: dict[str, object]
) -> None:
    r = client.get("/api/slots", params={"date": DATE, "lat": 48.1, "lon": 11.5})
    assert r.status_code == 422


def test_opening_a_borrowers_details_is_audited(
    client: TestClient, csrf: dict[str, str], planned: dict[str, object]
) -> None:
    r = client.get("/api/visits/V0001")
    assert r.status_code == 200 and r.json()["phone"]
    assert client.get("/api/visits/NOPE").status_code == 404
    client.post("/api/logout", headers=csrf)
    login(client, "admin")
    entries = client.get("/api/audit").json()
    views = [e for e in entries if e["action"] == "view"]
    assert views[0]["actor"] == "web:dispatcher" and views[0]["visit_ids"] == ["V0001"]


def test_call_list_names_the_borrowers_to_tell(
    client: TestClient, csrf: dict[str, str], planned: dict[str, object]
) -> None:
    routed = _routed(planned)
    moved = sorted(routed)[0]
    r = client.post(
        f"/api/plans/{DATE}/moves", headers=csrf, json={"visit_id": moved, "agent_id": None}
    )
    assert r.status_code == 200, r.text
    calls = client.get(f"/api/plans/{DATE}/calls").json()
    told = {b["visit_id"]: b for b in calls["borrowers"]}
    assert moved in told and told[moved]["phone"] and told[moved]["message"]
    assert {a["agent_id"] for a in calls["agents"]} <= {"A01", "A02"}


def test_the_whole_round_on_sqlite_and_postgresql(
    book_url: str,  # noqa: F811 - the fixture
    settings: Settings,
    tmp_path: Path,
) -> None:
    """Import, plan, a saved move, a booking and the call list, on both databases."""
    url = make_book(book_url)
    with TestClient(create_app(url, settings=settings, out_dir=tmp_path / "out")) as c:
        csrf = {"X-CSRF-Token": login(c)}
        assert c.post("/api/import", headers=csrf, files=_files()).status_code == 200
        doc = c.post(f"/api/plans/{DATE}", headers=csrf, json={"time_limit": 1}).json()
        move = _a_good_move(c, csrf, doc)
        assert c.post(f"/api/plans/{DATE}/moves", headers=csrf, json=move).status_code == 200
        slot = c.get("/api/slots", params={"date": DATE, "lat": 30.65, "lon": 104.05}).json()
        booking = {
            "lat": 30.65,
            "lon": 104.05,
            "window_start_s": slot["slots"][0]["window_start_s"],
            "agent_id": slot["slots"][0]["agent_id"],
        }
        r = c.post(f"/api/plans/{DATE}/bookings", headers=csrf, json=booking)
        assert r.status_code == 200 and r.json()["version"] == 3
        got = c.get(f"/api/plans/{DATE}").json()
        assert got["locked"] == [move["visit_id"]] and r.json()["visit_id"] in _routed(got)
        assert c.get(f"/api/plans/{DATE}/calls").status_code == 200


def test_a_locked_visit_moves_only_once_unlocked(
    client: TestClient, csrf: dict[str, str], planned: dict[str, object]
) -> None:
    move = _a_good_move(client, csrf, planned)
    assert client.post(f"/api/plans/{DATE}/moves", headers=csrf, json=move).status_code == 200
    again = {**move, "agent_id": None}
    r = client.post(f"/api/plans/{DATE}/check", headers=csrf, json=again)
    assert r.json()["ok"] is False and r.json()["violations"][0]["code"] == "locked"
    r = client.post(
        f"/api/plans/{DATE}/locks",
        headers=csrf,
        json={"visit_id": move["visit_id"], "locked": False},
    )
    assert r.status_code == 200 and r.json()["locked"] == []
    r = client.post(f"/api/plans/{DATE}/check", headers=csrf, json=again)
    assert r.json()["ok"] is True


def _horizon_files() -> dict[str, tuple[str, bytes, str]]:
    """data/tiny with V0003 not before the 2nd, V0005 not before the 3rd, V0007 unfittable."""
    frame = pd.read_csv(TINY / "visits.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame["earliest_date"] = ""
    frame.loc[frame["visit_id"] == "V0003", "earliest_date"] = "2026-12-02"
    frame.loc[frame["visit_id"] == "V0005", "earliest_date"] = "2026-12-03"
    extra = frame.iloc[[0]].copy()
    extra["visit_id"] = "V0007"
    extra["skills"] = "diving"  # no agent has it
    frame = pd.concat([frame, extra], ignore_index=True)
    files = _files()
    files["visits"] = ("visits.csv", frame.to_csv(index=False).encode(), "text/csv")
    return files


def test_a_horizon_stores_each_day_with_every_visit_once(
    client: TestClient, csrf: dict[str, str]
) -> None:
    assert client.post("/api/import", headers=csrf, files=_horizon_files()).status_code == 200
    r = client.post(f"/api/plans/{DATE}", headers=csrf, json={"days": 3, "time_limit": 1})
    assert r.status_code == 200, r.text
    summary = r.json()
    dates = ["2026-12-01", "2026-12-02", "2026-12-03"]
    assert [d["date"] for d in summary["days"]] == dates
    assert [u["visit_id"] for u in summary["unassigned"]] == ["V0007"]
    assert all(u["reason"] for u in summary["unassigned"])
    seen: list[str] = []
    day_of: dict[str, str] = {}
    for entry in summary["days"]:
        got = client.get(f"/api/plans/{entry['date']}")
        assert got.status_code == 200, got.text
        doc = got.json()
        assert doc["date"] == entry["date"] and doc["version"] == entry["version"]
        routed = [s["visit_id"] for route in doc["routes"] for s in route["stops"]]
        assert len(routed) == entry["routed"]
        assert len(doc["unassigned"]) == entry["unassigned"]
        assert all(u["reason"] for u in doc["unassigned"])
        seen += routed + [u["visit_id"] for u in doc["unassigned"]]
        if entry["date"] == dates[0]:  # the not-fitted are listed on the first date
            assert summary["unassigned"] == doc["unassigned"]
        day_of |= dict.fromkeys(routed, entry["date"])
        assert client.get(f"/api/plans/{entry['date']}/view").status_code == 200
    assert sorted(seen) == [f"V000{k}" for k in range(1, 8)]
    assert day_of["V0003"] in dates[1:] and day_of["V0005"] == dates[2]


@pytest.mark.parametrize("days", [0, 15, 2.5, "3", True])
def test_days_out_of_range_is_refused_with_a_message(
    client: TestClient, csrf: dict[str, str], days: object
) -> None:
    r = client.post(f"/api/plans/{DATE}", headers=csrf, json={"days": days})
    assert r.status_code == 422
    assert "expected 1 to 14 working days" in r.json()["detail"]
    assert client.get(f"/api/plans/{DATE}").status_code == 404


def test_a_horizon_wants_a_session_and_the_csrf_token(client: TestClient) -> None:
    assert client.post(f"/api/plans/{DATE}", json={"days": 3}).status_code == 401
    login(client)
    r = client.post(f"/api/plans/{DATE}", json={"days": 3})
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    assert client.get(f"/api/plans/{DATE}").status_code == 404


def test_the_plan_form_has_a_days_field(client: TestClient) -> None:
    login(client)
    page = client.get("/").text
    assert 'id="days"' in page and 'max="14"' in page and 'value="1"' in page


def test_a_full_date_offers_the_earliest_windows_of_later_dates(
    client: TestClient, csrf: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the phone: "not today, but on the 2nd with A01" -- and that window books."""
    from optimizer.web import dispatcher

    assert client.post("/api/import", headers=csrf, files=_horizon_files()).status_code == 200
    r = client.post(f"/api/plans/{DATE}", headers=csrf, json={"days": 3, "time_limit": 1})
    assert r.status_code == 200, r.text
    q = {"date": DATE, "lat": 30.65, "lon": 104.05, "duration": 20}
    assert client.get("/api/slots", params=q).json()["later"] == []  # today has windows
    monkeypatch.setattr(dispatcher, "_offer", lambda *_a, **_k: [])  # today is full
    answer = client.get("/api/slots", params=q).json()
    assert answer["slots"] == [] and answer["why"]
    later = answer["later"]
    assert later and all(d["date"] > DATE and 0 < len(d["slots"]) <= 3 for d in later)
    assert [d["date"] for d in later] == sorted(d["date"] for d in later)
    first = later[0]
    slot = first["slots"][0]
    booking = {
        "name": "Ms Later",
        "lat": 30.65,
        "lon": 104.05,
        "duration": 20,
        "window_start_s": slot["window_start_s"],
        "agent_id": slot["agent_id"],
    }
    r = client.post(f"/api/plans/{first['date']}/bookings", headers=csrf, json=booking)
    assert r.status_code == 200, r.text
    doc = client.get(f"/api/plans/{first['date']}").json()
    assert _routed(doc)[r.json()["visit_id"]][0] == slot["agent_id"]
