"""Re-planning and slots follow what really happened (issue 10 items 1, 2, 4, 7).

CLI-level, on the shipped sample days (data/ and data/tiny), as a dispatcher runs them.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from optimizer.cli import main
from optimizer.clock import format_hhmm, parse_hhmm
from optimizer.reopen import open_plan
from optimizer.verify import check_plan
from tests.helpers import ROOT

DATA = ROOT / "data"


def _plan(folder: Path, visits: Path, agents: Path, *extra: str) -> Path:
    code = main(
        [
            "plan",
            str(visits),
            str(agents),
            "--date",
            "2026-12-01",
            "--time-limit",
            "2",
            "--out",
            str(folder),
            *extra,
        ]
    )
    assert code == 0
    return folder / "plan.json"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample day (data/), planned once for the module."""
    folder = tmp_path_factory.mktemp("sample") / "day"
    return _plan(
        folder,
        DATA / "visits.csv",
        DATA / "agents.csv",
        "--config",
        str(DATA / "fieldroute.toml"),
    )


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """data/tiny: A02's day ends at 09:35 while its shift runs to 17:00."""
    folder = tmp_path_factory.mktemp("tiny") / "day"
    return _plan(folder, DATA / "tiny" / "visits.csv", DATA / "tiny" / "agents.csv")


def _events(path: Path, rows: list[str], header: str = "kind,visit_id,agent_id,at") -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _replan(plan_json: Path, out: Path, now: str, events: Path | None = None) -> int:
    argv = ["replan", str(plan_json), "--now", now, "--out", str(out)]
    if events is not None:
        argv += ["--events", str(events)]
    return main(argv)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


# ---------------------------------------------------------- 1. a late agent


def test_a_late_agent_is_not_shown_on_time(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    day = open_plan(sample)
    windows = {v.visit_id: v.window for v in day.visits}
    durations = {v.visit_id: v.duration_s for v in day.visits}
    # A route with a stop followed by one whose window closes soon after: report the
    # first started 40 minutes late, so the next can no longer be made on time.
    route, k = next(
        (r, k)
        for r in day.plan.routes
        for k in range(len(r.stops) - 1)
        if (w := windows[r.stops[k + 1].visit_id]) is not None
        and w.end_s < r.stops[k].start_s + 40 * 60 + durations[r.stops[k].visit_id]
        and r.stops[k].start_s >= 9 * 3600
    )
    late = route.stops[k]
    started = (late.start_s + 40 * 60) // 60 * 60
    now = started + 40 * 60
    events = _events(
        tmp_path / "events.csv",
        [f"started,{late.visit_id},{route.agent_id},{format_hhmm(started)}"],
    )
    out = tmp_path / "r"
    assert _replan(sample, out, format_hhmm(now), events) == 0
    text = capsys.readouterr().out
    assert "No changes" not in text
    again = open_plan(out / "plan.json")
    new = again.plan.route_of(route.agent_id)
    assert new is not None
    seq = [s.visit_id for s in new.stops]
    reported = new.stops[seq.index(late.visit_id)]
    assert reported.start_s == started
    # Every later stop of the agent starts after the late visit ends, in its window.
    for s in new.stops[seq.index(late.visit_id) + 1 :]:
        assert s.start_s >= started + durations[late.visit_id]
        w = windows[s.visit_id]
        assert w is None or w.contains(s.start_s)
    nxt = route.stops[k + 1].visit_id
    reasons = {u.visit_id: u.reason for u in again.plan.unassigned}
    assert nxt in reasons or nxt not in seq or new.stops[seq.index(nxt)].start_s > started
    if nxt in reasons:
        assert "window" in reasons[nxt]


# ------------------------------------------------------- 2. idle agent time


def test_slots_offer_an_idle_agent_and_booking_it_is_served(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    day = open_plan(tiny)
    a02 = day.plan.route_of("A02")
    assert a02 is None or a02.return_s < parse_hhmm("11:30")  # idle after its day
    code = main(
        [
            *("slots", str(tiny), "--lat", "30.66", "--lon", "104.06", "--duration", "30"),
            *("--now", "11:30", "--skills", "collections"),
        ]
    )
    assert code == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    offers = [(ln.split()[0], ln.split()[1]) for ln in lines if ln.strip()]
    assert any(agent == "A02" for _, agent in offers)
    window = next(w for w, agent in offers if agent == "A02")
    ws, we = window.split("-")
    header = (
        "kind,visit_id,agent_id,at,lat,lon,window_start,window_end,duration_min,skills,priority"
    )
    events = _events(
        tmp_path / "events.csv",
        [f"new,N1,A02,11:30,30.66,104.06,{ws},{we},30,collections,1"],
        header=header,
    )
    out = tmp_path / "r"
    assert _replan(tiny, out, "11:30", events) == 0
    again = open_plan(out / "plan.json")
    route = again.plan.route_of("A02")
    assert route is not None
    stop = next(s for s in route.stops if s.visit_id == "N1")
    assert parse_hhmm(ws) <= stop.start_s <= parse_hhmm(we)


# ----------------------------------------------------- 4. told windows ahead


def test_slots_and_new_notices_start_after_now_plus_the_lead(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            *("slots", str(tiny), "--lat", "30.66", "--lon", "104.06", "--duration", "20"),
            *("--now", "11:20"),
        ]
    )
    assert code == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines()[1:] if ln.strip()]
    assert lines
    assert all(parse_hhmm(ln.split()[0].split("-")[0]) >= parse_hhmm("11:50") for ln in lines), (
        lines
    )
    header = "kind,visit_id,agent_id,at,lat,lon,window_start,window_end,duration_min"
    events = _events(
        tmp_path / "events.csv",
        ["new,N1,,11:20,30.66,104.06,10:30,14:00,20", "new,N2,,11:20,30.66,104.07,10:30,11:40,20"],
        header=header,
    )
    out = tmp_path / "r"
    assert _replan(tiny, out, "11:20", events) == 0
    notices = {r["visit_id"]: r for r in _rows(out / "notices.csv")}
    assert notices["N1"]["window_start"]
    assert parse_hhmm(notices["N1"]["window_start"]) >= parse_hhmm("11:50")
    again = open_plan(out / "plan.json")
    reasons = {u.visit_id: u.reason for u in again.plan.unassigned}
    assert "N2" in reasons
    assert "lead" in reasons["N2"]


# ------------------------------------------ 7. the whole day verified; facts checked


def test_no_event_replan_reopens_as_a_valid_plan(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert _replan(sample, out, "11:20") == 0
    again = open_plan(out / "plan.json")
    assert check_plan(again.plan, again.visits, again.problem) == []
    before = open_plan(sample)
    assert {s.visit_id: r.agent_id for r in again.plan.routes for s in r.stops} == {
        s.visit_id: r.agent_id for r in before.plan.routes for s in r.stops
    }


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        ("done,{first},,01:00", "before agent"),
        ("done,{first},,23:00", "after --now"),
    ],
)
def test_facts_against_the_clock_are_input_errors(
    sample: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    row: str,
    fragment: str,
) -> None:
    day = open_plan(sample)
    first = day.plan.routes[0].stops[0].visit_id
    events = _events(tmp_path / "ev.csv", [row.format(first=first)])
    out = tmp_path / "r"
    assert _replan(sample, out, "11:20", events) == 2
    err = capsys.readouterr().err
    assert "ev.csv, row 2, column 'at'" in err
    assert fragment in err
    assert "Traceback" not in err
    assert not out.exists()


def test_a_hand_edited_plan_with_a_stop_at_3am_is_refused(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "day"
    folder.mkdir()
    src = sample.parent
    (folder / "inputs").mkdir()
    for f in (src / "inputs").iterdir():
        (folder / "inputs" / f.name).write_bytes(f.read_bytes())
    doc = json.loads(sample.read_text(encoding="utf-8"))
    stop = doc["routes"][0]["stops"][1]
    for key in ("arrive", "start"):
        stop[key] = stop[key][:11] + "03:00:00"
    (folder / "plan.json").write_text(json.dumps(doc), encoding="utf-8")
    code = _replan(folder / "plan.json", tmp_path / "r", "11:20")
    err = capsys.readouterr().err
    assert code == 2, err
    assert "plan.json" in err
    assert "03:00" in err


# ------------------------------------ 5. calendars drop visits taken off an agent


def test_calendar_cancels_visits_taken_off_an_agent(sample: Path, tmp_path: Path) -> None:
    from icalendar import Calendar

    day = open_plan(sample)
    route = max(day.plan.routes, key=lambda r: len(r.stops))
    gone = route.stops[-1].visit_id
    events = _events(tmp_path / "events.csv", [f"cancelled,{gone},,11:00"])
    out = tmp_path / "r"
    assert _replan(sample, out, "11:20", events) == 0
    name = next(p.name for p in sample.parent.glob("agent-*.ics") if route.agent_id in p.name)
    before = Calendar.from_ical((sample.parent / name).read_bytes())
    uid = next(
        str(e["uid"]) for e in before.walk("VEVENT") if gone in str(e.get("description", ""))
    )
    cancel = Calendar.from_ical((out / f"cancel-{name}").read_bytes())
    assert str(cancel["method"]) == "CANCEL"
    cancelled = list(cancel.walk("VEVENT"))
    assert uid in [str(e["uid"]) for e in cancelled]
    assert {str(e["status"]) for e in cancelled} == {"CANCELLED"}
    # Exactly the visits taken off the agent are cancelled.
    after = open_plan(out / "plan.json").plan.route_of(route.agent_id)
    kept = {s.visit_id for s in after.stops} if after else set()
    removed = [s.visit_id for s in route.stops if s.visit_id not in kept]
    assert len(cancelled) == len(removed)
    assert all(any(vid in str(e["uid"]) for vid in removed) for e in cancelled)
    again = Calendar.from_ical((out / name).read_bytes())
    sequences = {int(e["sequence"]) for e in again.walk("VEVENT")}
    assert sequences == {int(cancelled[0]["sequence"])}
    assert min(sequences) > 0
    assert uid not in {str(e["uid"]) for e in again.walk("VEVENT")}
    # The visits that stay keep their UIDs.
    stayed = [s.visit_id for s in route.stops if s.visit_id in kept]
    assert stayed
    after_uids = [str(e["uid"]) for e in again.walk("VEVENT")]
    before_uids = {str(e["uid"]) for e in before.walk("VEVENT")}
    for vid in stayed:
        uid_now = next(u for u in after_uids if f"-{vid}-" in u)
        assert uid_now in before_uids


# ------------------------------------------------------------- 6. who to call


def test_who_to_call_after_an_agent_leaves(sample: Path, tmp_path: Path) -> None:
    from optimizer.outputs.notices import forbidden_words

    day = open_plan(sample)
    route = max(day.plan.routes, key=lambda r: len(r.stops))
    events = _events(tmp_path / "events.csv", [f"agent_off,,{route.agent_id},11:20"])
    out = tmp_path / "r"
    assert _replan(sample, out, "11:20", events) == 0
    changes = _rows(out / "changes.csv")
    notify = {r["visit_id"] for r in changes if r["notify"] == "yes"}
    assert notify
    agents = {r["agent_id"]: r for r in _rows(out / "calls-agents.csv")}
    people = {a.agent_id: a for a in day.agents}
    assert agents[route.agent_id]["phone"] == people[route.agent_id].phone
    removed = set(agents[route.agent_id]["removed"].split(";"))
    assert {s.visit_id for s in route.stops if s.start_s >= parse_hhmm("11:20")} <= removed
    borrowers = {r["visit_id"]: r for r in _rows(out / "calls-borrowers.csv")}
    assert set(borrowers) == notify
    phones = {v.visit_id: v.phone for v in day.visits}
    again = open_plan(out / "plan.json")
    routed = {s.visit_id: s for r in again.plan.routes for s in r.stops}
    for vid, row in borrowers.items():
        assert row["phone"] == phones[vid]
        assert row["message"]
        assert forbidden_words(row["message"]) == []
        if vid in routed:
            assert row["call"] == "new_window"
            assert row["window_start"] in row["message"]
            assert parse_hhmm(row["window_start"]) >= parse_hhmm("11:50")
            assert parse_hhmm(row["window_start"]) <= routed[vid].start_s
        else:
            assert row["call"] == "not_today"
            assert "今天" in row["message"]


# ------------------------- 7. a reported visit near the shift's end: back late, a fact


def test_a_visit_reported_near_the_shift_end_brings_the_agent_back_late(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dataclasses import replace

    from optimizer.verify import Facts

    day = open_plan(tiny)
    route = max(day.plan.routes, key=lambda r: len(r.stops))
    agent = next(a for a in day.agents if a.agent_id == route.agent_id)
    end = agent.shift.end_s
    # Its first stop reported done a minute before the shift ends: the way home runs
    # past the shift, and what was planned after it can no longer be done by this agent.
    first = route.stops[0].visit_id
    assert route.return_travel_s > 60 or route.stops[0].travel_s > 60
    done = end - 60
    events = _events(
        tmp_path / "events.csv", [f"done,{first},{agent.agent_id},{format_hhmm(done)}"]
    )
    out = tmp_path / "r"
    assert _replan(tiny, out, format_hhmm(end), events) == 0
    text = capsys.readouterr().out
    assert f"Back after the shift: {agent.agent_id}" in text
    again = open_plan(out / "plan.json")
    new = again.plan.route_of(agent.agent_id)
    assert new is not None
    durations = {v.visit_id: v.duration_s for v in again.visits}
    assert [(s.visit_id, s.start_s) for s in new.stops] == [(first, done - durations[first])]
    assert new.return_s > end
    reasons = {u.visit_id: u.reason for u in again.plan.unassigned}
    for s in route.stops[1:]:
        assert s.visit_id in reasons
    # The verifier takes the late return as a fact, and only as one.
    facts = Facts(starts={first: done - durations[first]}, late_returns=frozenset({agent.agent_id}))
    assert check_plan(again.plan, again.visits, again.problem, facts=facts) == []
    plain = check_plan(
        again.plan, again.visits, again.problem, facts=replace(facts, late_returns=frozenset())
    )
    assert any("after the shift ends" in e for e in plain)
    dawdled = replace(
        again.plan,
        routes=tuple(
            replace(r, return_s=r.return_s + 60) if r.agent_id == agent.agent_id else r
            for r in again.plan.routes
        ),
    )
    errors = check_plan(dawdled, again.visits, again.problem, facts=facts)
    assert any("after the shift ends" in e for e in errors)
    # Re-planning that day again (same facts, a minute later) holds as well.
    assert _replan(out / "plan.json", tmp_path / "r2", format_hhmm(end + 60), events) == 0
    assert f"Back after the shift: {agent.agent_id}" in capsys.readouterr().out
    unreported = replace(facts, starts={})
    errors = check_plan(again.plan, again.visits, again.problem, facts=unreported)
    assert any("after the shift ends" in e for e in errors)
