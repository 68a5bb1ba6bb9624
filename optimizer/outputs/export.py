"""Writing a plan: plan.json, itineraries.csv, unassigned.csv and the re-open bundle.

The plan folder keeps the parsed inputs and the settings used (``inputs/``), so that a
plan can be re-opened from its folder alone. Everything is written into a temporary
folder first and moved into place at the end: a failed run leaves nothing half-written.

The folder holds personal data: it is readable by the owner only (folders 0700, files
0600) unless ``share=True``; ``inputs/`` (every input column, unmasked) stays
owner-only even then. The dispatcher tables pass :func:`optimizer.outputs.privacy.check_columns`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.clock import format_hhmm
from optimizer.day import DayPlan, HorizonPlan
from optimizer.domain import WEEKDAYS, Agent, Visit
from optimizer.inputs.schema import starts_like_formula
from optimizer.outputs.calendar import agent_calendar, cancel_calendar
from optimizer.outputs.calls import AGENT_COLUMNS, BORROWER_COLUMNS, agent_calls, borrower_calls
from optimizer.outputs.folder import (
    agent_file,
    notice_file,
    set_permissions,
    staged_dir,
    unique_names,
)
from optimizer.outputs.notices import build_notices, load_template
from optimizer.outputs.privacy import Audience, check_columns
from optimizer.plan import Plan, Route

#: Plan-derived columns of the dispatcher tables: no personal data in them.
PLAN_COLUMNS = frozenset(
    {"agent_id", "seq", "arrive", "start", "end", "wait_min", "travel_min", "distance_km", "reason"}
)


def iso(date: dt.date, seconds: int) -> str:
    """Local ISO 8601 time on the plan date (seconds past midnight may roll over)."""
    moment = dt.datetime.combine(date, dt.time()) + dt.timedelta(seconds=int(seconds))
    return moment.isoformat(timespec="seconds")


def _minutes(seconds: int) -> float:
    return round(seconds / 60, 1)


def _km(metres: int) -> float:
    return round(metres / 1000, 2)


def summary(plan: Plan, total_visits: int) -> dict[str, Any]:
    served = {s.visit_id for r in plan.routes for s in r.stops}
    return {
        "visits": total_visits,
        "assigned": len(served),
        "unassigned": len(plan.unassigned),
        "agents_used": len(plan.routes),
        "travel_min": _minutes(sum(r.travel_s for r in plan.routes)),
        "distance_km": _km(sum(r.distance_m for r in plan.routes)),
    }


def plan_to_dict(day: DayPlan) -> dict[str, Any]:
    """The plan.json document (VROOM-like shape)."""
    plan = day.plan
    priority = {v.visit_id: v.priority for v in day.visits}
    doc_summary = summary(plan, len(day.visits))
    doc_summary["priority_served"] = sum(priority[vid] for vid in plan.assigned_ids)
    doc_summary["priority_total"] = sum(priority.values())
    return {
        "date": plan.date.isoformat(),
        "timezone": plan.timezone,
        "solver": {
            "engine": plan.solver.engine,
            "status": plan.solver.status,
            "time_limit_s": plan.solver.time_limit_s,
            "wall_s": plan.solver.wall_s,
            "lost_searches": list(plan.solver.lost_searches),
        },
        "travel": dict(plan.travel),
        "summary": doc_summary,
        "routes": [_route_dict(plan.date, r) for r in plan.routes],
        "unassigned": [{"visit_id": u.visit_id, "reason": u.reason} for u in plan.unassigned],
    }


def _route_dict(date: dt.date, route: Route) -> dict[str, Any]:
    out: dict[str, Any] = {
        "agent_id": route.agent_id,
        "start": iso(date, route.depart_s),
        "end": iso(date, route.return_s),
        "travel_min": _minutes(route.travel_s),
        "distance_km": _km(route.distance_m),
        "break": None,
        "stops": [
            {
                "seq": s.seq,
                "visit_id": s.visit_id,
                "arrive": iso(date, s.arrive_s),
                "start": iso(date, s.start_s),
                "end": iso(date, s.end_s),
                "wait_min": _minutes(s.wait_s),
                "travel_min": _minutes(s.travel_s),
                "distance_km": _km(s.distance_m),
            }
            for s in route.stops
        ],
    }
    if route.break_start_s is not None and route.break_end_s is not None:
        out["break"] = {
            "start": iso(date, route.break_start_s),
            "end": iso(date, route.break_end_s),
        }
    return out


def _place_and_window(v: Visit) -> dict[str, object]:
    """The address, coordinate and window cells, as the input format writes them."""
    return {
        "address": v.address,
        "lat": v.location.lat if v.location else "",
        "lon": v.location.lon if v.location else "",
        "window_start": format_hhmm(v.window.start_s) if v.window else "",
        "window_end": format_hhmm(v.window.end_s) if v.window else "",
    }


def itineraries_frame(day: DayPlan) -> pd.DataFrame:
    """One row per stop, in route order: the dispatcher's spreadsheet."""
    visits = {v.visit_id: v for v in day.visits}
    rows = []
    for route in day.plan.routes:
        for s in route.stops:
            v = visits[s.visit_id]
            rows.append(
                {
                    "agent_id": route.agent_id,
                    "seq": s.seq,
                    "visit_id": s.visit_id,
                    **_place_and_window(v),
                    "arrive": format_hhmm(s.arrive_s),
                    "start": format_hhmm(s.start_s),
                    "end": format_hhmm(s.end_s),
                    "wait_min": _minutes(s.wait_s),
                    "travel_min": _minutes(s.travel_s),
                    "distance_km": _km(s.distance_m),
                    "visit_type": v.visit_type,
                    "priority": v.priority,
                    "documents": "; ".join(v.documents),
                }
            )
    columns = [
        "agent_id",
        "seq",
        "visit_id",
        "address",
        "lat",
        "lon",
        "window_start",
        "window_end",
        "arrive",
        "start",
        "end",
        "wait_min",
        "travel_min",
        "distance_km",
        "visit_type",
        "priority",
        "documents",
    ]
    return pd.DataFrame(rows, columns=columns)


def unassigned_frame(day: DayPlan) -> pd.DataFrame:
    visits = {v.visit_id: v for v in day.visits}
    rows = [
        {
            "visit_id": u.visit_id,
            "priority": visits[u.visit_id].priority,
            "window_start": format_hhmm(w.start_s) if (w := visits[u.visit_id].window) else "",
            "window_end": format_hhmm(w.end_s) if w else "",
            "reason": u.reason,
        }
        for u in day.plan.unassigned
    ]
    return pd.DataFrame(
        rows, columns=["visit_id", "priority", "window_start", "window_end", "reason"]
    )


def visits_frame(visits: Sequence[Visit]) -> pd.DataFrame:
    """Visits back in the input format, so the loader can re-open them."""
    return pd.DataFrame(
        [
            {
                "visit_id": v.visit_id,
                "name": v.name,
                "phone": v.phone,
                **_place_and_window(v),
                "duration_min": v.duration_s / 60,
                "visit_type": v.visit_type,
                "skills": ";".join(sorted(v.skills)),
                "priority": v.priority,
                "documents": ";".join(v.documents),
                "agent_id": v.pinned_agent or "",
                "demand": v.demand or "",
                "due_date": v.due_date.isoformat() if v.due_date else "",
                "earliest_date": v.earliest_date.isoformat() if v.earliest_date else "",
                "preferred_days": ";".join(WEEKDAYS[d] for d in sorted(v.preferred_days)),
                **dict(v.extra),
            }
            for v in visits
        ]
    )


def agents_frame(agents: Sequence[Agent]) -> pd.DataFrame:
    """Agents back in the input format."""
    rows = []
    for a in agents:
        rule = a.break_rule
        rows.append(
            {
                "agent_id": a.agent_id,
                "name": a.name,
                "phone": a.phone,
                "start_lat": a.start.lat if a.start else "",
                "start_lon": a.start.lon if a.start else "",
                "end_lat": a.end.lat if a.end else "",
                "end_lon": a.end.lon if a.end else "",
                "shift_start": format_hhmm(a.shift.start_s),
                "shift_end": format_hhmm(a.shift.end_s),
                "break_start": format_hhmm(rule.window.start_s) if rule else "",
                "break_end": format_hhmm(rule.window.end_s) if rule else "",
                "break_min": rule.duration_s / 60 if rule else "",
                "skills": ";".join(sorted(a.skills)),
                "max_visits": "" if a.max_visits is None else a.max_visits,
                "capacity": "" if a.capacity is None else a.capacity,
                "mode": a.mode.value,
                "days_off": a.days_off.as_text(),
            }
        )
    return pd.DataFrame(rows)


def neutralise_cell(value: object) -> object:
    """A cell as a spreadsheet must show it: text that would run as a formula gets a ``'``.

    Every CSV we write is opened in Excel by a dispatcher; a cell such as
    ``=HYPERLINK(...)`` or ``+cmd|...`` from the lending system's export must stay text.
    The loader removes the ``'`` again (:func:`optimizer.inputs.load.restore_cell`), so
    re-reading ``inputs/`` is lossless. Numbers and other types pass unchanged.
    """
    if isinstance(value, str) and starts_like_formula(value):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell passed through :func:`neutralise_cell`."""
    return frame.map(neutralise_cell)


#: Control characters XML 1.0 cannot hold (openpyxl refuses them): shown as U+FFFD.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xml_safe(value: object) -> object:
    return _XML_ILLEGAL.sub("\ufffd", value) if isinstance(value, str) else value


def write_xlsx(frame: pd.DataFrame, path: Path, sheet: str) -> None:
    """One sheet for Excel, header frozen, cells neutralised by :func:`neutralise_cell`.

    An id or text with a NUL or another control character (a careless export) is
    shown with U+FFFD there: an .xlsx cannot hold it, and the CSV keeps it exact.
    """
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        cells = neutralise_frame(frame).map(_xml_safe)
        cells.to_excel(writer, sheet_name=sheet, index=False, freeze_panes=(1, 0))
        book = writer.sheets[sheet]
        for k, name in enumerate(frame.columns):
            longest = max([len(str(name)), *(len(str(v)) for v in frame[name])])
            letter = book.cell(row=1, column=k + 1).column_letter
            book.column_dimensions[letter].width = min(60, longest + 2)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Every CSV for a person goes through here: cells neutralised, UTF-8 with BOM."""
    # utf-8-sig: Excel opens it with the right characters (Chinese names, addresses).
    neutralise_frame(frame).to_csv(path, index=False, encoding="utf-8-sig")


def write_rows_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str], path: Path) -> None:
    """Plain rows (e.g. the re-plan's changes.csv) as a CSV with these columns."""
    write_csv(pd.DataFrame(list(rows), columns=list(columns)), path)


def write_calls(
    before: DayPlan,
    after: DayPlan,
    out: Path,
    *,
    agents: Collection[str],
    visits: Collection[str],
    now_s: int,
    lead_s: int,
) -> list[Path]:
    """calls-agents.csv and calls-borrowers.csv: who to call after a re-plan, and what
    to say (:mod:`optimizer.outputs.calls`)."""
    paths = [out / "calls-agents.csv", out / "calls-borrowers.csv"]
    write_rows_csv(
        [asdict(c) for c in agent_calls(before, after, agents, now_s)], AGENT_COLUMNS, paths[0]
    )
    write_rows_csv(
        [asdict(c) for c in borrower_calls(after, visits, now_s, lead_s)],
        BORROWER_COLUMNS,
        paths[1],
    )
    return paths


def write_json(doc: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def write_tables(day: DayPlan, out: Path) -> list[Path]:
    """plan.json, itineraries and unassigned (.csv and .xlsx) and inputs/ into ``out``."""
    paths = [out / "plan.json", out / "itineraries.csv", out / "unassigned.csv"]
    itineraries, unassigned = itineraries_frame(day), unassigned_frame(day)
    for frame in (itineraries, unassigned):
        check_columns(Audience.DISPATCHER, list(frame.columns), derived=PLAN_COLUMNS)
    write_json(plan_to_dict(day), paths[0])
    write_csv(itineraries, paths[1])
    write_csv(unassigned, paths[2])
    # The same tables for Excel, where dispatchers live (issue 10 item 11).
    paths += [out / "itineraries.xlsx", out / "unassigned.xlsx"]
    write_xlsx(itineraries, paths[3], "itineraries")
    write_xlsx(unassigned, paths[4], "unassigned")
    inputs = out / "inputs"
    inputs.mkdir(exist_ok=True)
    write_csv(visits_frame(day.visits), inputs / "visits.csv")
    write_csv(agents_frame(day.agents), inputs / "agents.csv")
    write_json(day.settings.to_dict(), inputs / "settings.json")
    return paths


def write_calendars(
    day: DayPlan,
    out: Path,
    agents: Collection[str] | None = None,
    *,
    sequence: int = 0,
    before: DayPlan | None = None,
) -> list[Path]:
    """agent-<safe name>.ics for every agent with a route (or only ``agents``).

    A re-plan passes the plan it re-planned (``before``) and a higher ``sequence``:
    visits taken off an agent then go to cancel-agent-<safe name>.ics (METHOD:CANCEL).
    """
    paths = []
    for route in day.plan.routes:
        if agents is not None and route.agent_id not in agents:
            continue
        path = out / agent_file(route.agent_id, "ics")
        path.write_bytes(agent_calendar(day, route.agent_id, sequence=sequence))
        paths.append(path)
    if before is None:
        return paths
    for old in before.plan.routes:
        if agents is not None and old.agent_id not in agents:
            continue
        new = day.plan.route_of(old.agent_id)
        kept = {s.visit_id for s in new.stops} if new is not None else set()
        removed = [s.visit_id for s in old.stops if s.visit_id not in kept]
        if not removed:
            continue
        path = out / f"cancel-{agent_file(old.agent_id, 'ics')}"
        path.write_bytes(cancel_calendar(before, old.agent_id, removed, sequence=sequence))
        paths.append(path)
    return paths


def write_notices(
    day: DayPlan,
    out: Path,
    visits: Collection[str] | None = None,
    not_before_s: int | None = None,
) -> list[Path]:
    """notices.csv (every visit, or only ``visits``) and notices/<safe name>.txt (routed ones).

    ``not_before_s``: no window told opens before then (a re-plan's now plus the lead).
    """
    lang = day.settings.notices.lang
    notices = build_notices(
        day, load_template(day.settings.notices, lang), lang=lang, not_before_s=not_before_s
    )
    if visits is not None:
        notices = [n for n in notices if n.visit_id in visits]
    folder = out / "notices"
    folder.mkdir(exist_ok=True)
    paths = [out / "notices.csv"]
    columns = ["visit_id", "phone", "lang", "window_start", "window_end", "text", "status"]
    frame = pd.DataFrame([[getattr(n, c) for c in columns] for n in notices], columns=columns)
    write_csv(frame, paths[0])
    for n in notices:
        if n.text:
            path = folder / notice_file(n.visit_id)
            path.write_text(n.text + "\n", encoding="utf-8")
            paths.append(path)
    return paths


def write_plan(
    day: DayPlan,
    out: Path,
    renderers: Sequence[Callable[[DayPlan, Path], list[Path]]] = (),
    *,
    share: bool = False,
) -> list[Path]:
    """Write every output into a staging folder, then swap it in whole; the final paths.

    See :mod:`optimizer.outputs.folder`: files are private from their creation, and a
    failure or a signal leaves ``out`` as it was.

    Raises
    ------
    ConfigurationError
        If ``out`` is a folder FieldRoute did not write.
    EnvironmentFaultError
        If the machine stops the write (disk full, read-only ...), naming the file.
    """
    # File names come from ids (optimizer.outputs.folder.safe_name): check them distinct.
    unique_names(a.agent_id for a in day.agents)
    unique_names(v.visit_id for v in day.visits)
    written: list[Path] = []
    with staged_dir(out) as tmp:
        written += write_tables(day, tmp)
        for render in renderers:
            written += render(day, tmp)
        set_permissions(tmp, share=share)
    return [out / p.relative_to(tmp) for p in written]


HORIZON_COLUMNS = (
    "visit_id",
    "date",
    "agent_id",
    "start",
    "status",
    "reason",
    "previous_date",
    "day_changed",
)


def horizon_rows(
    horizon: HorizonPlan, previous: Mapping[str, dt.date] | None = None
) -> list[dict[str, Any]]:
    """Every visit once, in input order: its day, agent and start, or why it has none.

    With the ``previous`` run's days, a visit whose day changed is flagged: its
    borrower may have been told the old day and needs a new notice.
    """
    before = previous or {}
    rows = []
    for e in horizon.entries:
        old = before.get(e.visit_id)
        rows.append(
            {
                "visit_id": e.visit_id,
                "date": e.date.isoformat() if e.date else "",
                "agent_id": e.agent_id or "",
                "start": iso(e.date, e.start_s) if e.date and e.start_s is not None else "",
                "status": "planned" if e.date else "unassigned",
                "reason": e.reason or "",
                "previous_date": old.isoformat() if old else "",
                "day_changed": old is not None and old != e.date,
            }
        )
    return rows


def write_horizon(
    horizon: HorizonPlan,
    out: Path,
    renderers: Sequence[Callable[[DayPlan, Path], list[Path]]] = (),
    *,
    timezone: str,
    share: bool = False,
    previous: Mapping[str, dt.date] | None = None,
    finish: Callable[[Path], object] | None = None,
) -> list[Path]:
    """One complete day folder per date plus horizon.json/csv, the whole swapped in at once.

    ``previous`` (the last run's day per visit) adds the churn: visits moved to
    another day, for new notices. ``finish`` runs last inside the staging folder (the
    book stores the horizon there): when it raises, no folder appears.
    """
    written: list[Path] = []
    with staged_dir(out) as tmp:
        for day in horizon.days:
            folder = tmp / day.plan.date.isoformat()
            written += write_plan(day, folder, renderers, share=share)
        rows = horizon_rows(horizon, previous)
        planned = sum(1 for r in rows if r["status"] == "planned")
        moved = [r["visit_id"] for r in rows if r["day_changed"]]
        doc = {
            "first_date": horizon.dates[0].isoformat(),
            "dates": [d.isoformat() for d in horizon.dates],
            "timezone": timezone,
            "summary": {
                "visits": len(rows),
                "planned": planned,
                "unassigned": len(rows) - planned,
                "per_day": {
                    d.plan.date.isoformat(): len(d.plan.assigned_ids) for d in horizon.days
                },
                "previous_planned": len(previous or {}),
                "day_changed": len(moved),
                "churn": round(len(moved) / len(previous), 4) if previous else None,
            },
            "day_changed": moved,
            "visits": rows,
        }
        write_json(doc, tmp / "horizon.json")
        write_rows_csv(rows, HORIZON_COLUMNS, tmp / "horizon.csv")
        written += [tmp / "horizon.json", tmp / "horizon.csv"]
        set_permissions(tmp, share=share)
        if finish is not None:
            finish(tmp)
    return [out / p.relative_to(tmp) for p in written]
