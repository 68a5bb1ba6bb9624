"""Re-opening a plan folder: ``plan.json`` plus the inputs and settings kept beside it.

``open_plan`` is the IO edge (reads files); ``plan_from_dict`` is pure. The routes and
times come from ``plan.json`` as written; legs are recomputed from the travel model the
settings describe, so a re-opened plan can be re-checked and re-planned.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from optimizer.day import DayPlan
from optimizer.domain import MAX_TIME_S
from optimizer.errors import ConfigurationError, InputError, Issue
from optimizer.inputs.load import read_inputs
from optimizer.pipeline import travel_provider
from optimizer.plan import Plan, Route, SolverInfo, Stop, Unassigned
from optimizer.problem import RoutingProblem, build_problem
from optimizer.settings import Settings


def open_plan(plan_json: Path) -> DayPlan:
    """Read ``plan.json`` and ``inputs/`` beside it back into a :class:`DayPlan`.

    Raises
    ------
    InputError
        When a file is missing or ``plan.json`` is not a plan (names file and field).
    """
    folder = plan_json.parent
    inputs = folder / "inputs"
    doc = _read_json(plan_json, plan_json.name)
    settings_path = inputs / "settings.json"
    if not settings_path.exists():
        text = f"file not found: {settings_path}; a plan folder keeps its inputs in inputs/"
        raise InputError([Issue("settings.json", None, None, None, text)])
    settings = Settings.from_dict(
        _read_json(settings_path, "settings.json"), source=str(settings_path)
    )
    data = read_inputs(inputs / "visits.csv", inputs / "agents.csv")
    located = [v for v in data.visits if v.location is not None]
    problem = build_problem(located, data.agents, travel_provider(settings))
    plan = plan_from_dict(doc, problem, source=plan_json.name)
    return DayPlan(plan, data.visits, data.agents, problem, settings)


def _read_json(path: Path, name: str) -> dict[str, Any]:
    """A JSON object from ``path``, or one InputError naming the file and what is wrong.

    A plan folder is copied, mailed and hand-edited: a file that is not UTF-8, not JSON,
    nested past reason or not an object is bad input (exit 2), never a traceback.
    """

    def refuse(text: str) -> InputError:
        return InputError([Issue(name, None, None, None, text)])

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise refuse(f"file not found: {path}") from None
    except OSError as err:
        raise refuse(f"cannot be read ({err.strerror})") from None
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise refuse(f"is not UTF-8 text ({err.reason} at byte {err.start})") from None
    except json.JSONDecodeError as err:
        raise refuse(f"is not valid JSON ({err})") from None
    except RecursionError:
        raise refuse("is nested too deeply to be a FieldRoute file") from None
    if not isinstance(doc, dict):
        raise refuse(f"holds a JSON {type(doc).__name__}; expected an object")
    return doc


def _timezone(name: object) -> str:
    try:
        zoneinfo.ZoneInfo(str(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        msg = f"timezone {name!r} is unknown; expected an IANA name such as 'Asia/Shanghai'"
        raise ValueError(msg) from None
    return str(name)


def _seconds(date: dt.date, text: str) -> int:
    moment = dt.datetime.fromisoformat(text)
    seconds = int((moment - dt.datetime.combine(date, dt.time())).total_seconds())
    if not 0 <= seconds <= MAX_TIME_S:
        msg = f"time {text!r} is not on the plan date {date.isoformat()}"
        raise ValueError(msg)
    return seconds


def plan_from_dict(doc: Mapping[str, Any], problem: RoutingProblem, *, source: str) -> Plan:
    """Pure: the plan.json document -> :class:`Plan`, legs recomputed from ``problem``."""
    try:
        return _plan_from_dict(doc, problem)
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as err:
        text = f"is not a FieldRoute plan ({type(err).__name__}: {err})"
        raise InputError([Issue(source, None, None, None, text)]) from None


def _plan_from_dict(doc: Mapping[str, Any], problem: RoutingProblem) -> Plan:
    date = dt.date.fromisoformat(doc["date"])
    node_of = problem.visit_index()
    agent_index = {a.agent_id: k for k, a in enumerate(problem.agents)}
    routes = []
    for r in doc["routes"]:
        a = agent_index[r["agent_id"]]
        prev = problem.start_node(a)
        stops = []
        for s in r["stops"]:
            node = node_of[s["visit_id"]]
            stops.append(
                Stop(
                    visit_id=s["visit_id"],
                    seq=int(s["seq"]),
                    arrive_s=_seconds(date, s["arrive"]),
                    start_s=_seconds(date, s["start"]),
                    end_s=_seconds(date, s["end"]),
                    travel_s=problem.travel_s(a, prev, node),
                    distance_m=problem.distance_m(a, prev, node),
                )
            )
            prev = node
        brk = r.get("break")
        end = problem.end_node(a)
        routes.append(
            Route(
                agent_id=r["agent_id"],
                depart_s=_seconds(date, r["start"]),
                return_s=_seconds(date, r["end"]),
                stops=tuple(stops),
                return_travel_s=problem.travel_s(a, prev, end),
                return_distance_m=problem.distance_m(a, prev, end),
                break_start_s=_seconds(date, brk["start"]) if brk else None,
                break_end_s=_seconds(date, brk["end"]) if brk else None,
            )
        )
    solver = doc.get("solver", {})
    return Plan(
        date=date,
        timezone=_timezone(doc["timezone"]),
        routes=tuple(routes),
        unassigned=tuple(Unassigned(u["visit_id"], u["reason"]) for u in doc["unassigned"]),
        solver=SolverInfo(
            engine=str(solver.get("engine", "")),
            status=str(solver.get("status", "")),
            time_limit_s=float(solver.get("time_limit_s", 0)),
            wall_s=float(solver.get("wall_s", 0)),
        ),
        travel=dict(doc.get("travel", {})),
    )


def read_published(horizon_json: Path) -> dict[str, tuple[dt.date, str]]:
    """Visit id -> (day, agent) of every planned visit in a previous ``horizon.json``.

    Raises
    ------
    ConfigurationError
        The file is not a horizon.json FieldRoute wrote.
    """
    try:
        doc = json.loads(horizon_json.read_text(encoding="utf-8"))
        return {
            str(row["visit_id"]): (dt.date.fromisoformat(row["date"]), str(row["agent_id"]))
            for row in doc["visits"]
            if row.get("date")
        }
    except (OSError, ValueError, KeyError, TypeError) as err:
        msg = f"{horizon_json}: cannot read the published horizon ({err}); move it away to start afresh"
        raise ConfigurationError(msg) from None


_EMPTY_CSV_BYTES = 8


def open_day(plan_json: Path) -> DayPlan:
    """:func:`open_plan`, also for a day of a horizon that got no visit.

    Such a day's ``inputs/visits.csv`` is empty (the loader refuses a visits file
    without rows), yet its agents are free all day: ``slots --days`` offers them.
    """
    from optimizer.inputs.load import parse_agents, read_table

    inputs = plan_json.parent / "inputs"
    visits_file = inputs / "visits.csv"
    # The writer leaves a byte-order mark and a line break in an empty visits file.
    if not visits_file.is_file() or visits_file.stat().st_size > _EMPTY_CSV_BYTES:
        return open_plan(plan_json)
    if visits_file.read_bytes().removeprefix(b"\xef\xbb\xbf").strip():
        return open_plan(plan_json)
    doc = _read_json(plan_json, plan_json.name)
    settings_path = inputs / "settings.json"
    settings = Settings.from_dict(
        _read_json(settings_path, "settings.json"), source=str(settings_path)
    )
    agents = parse_agents(read_table(inputs / "agents.csv"), "agents.csv")
    problem = build_problem((), agents, travel_provider(settings))
    plan = plan_from_dict(doc, problem, source=plan_json.name)
    return DayPlan(plan, (), agents, problem, settings)
