"""Re-opening a plan folder: ``plan.json`` plus the inputs and settings kept beside it.

``open_plan`` is the IO edge (reads files); ``plan_from_dict`` is pure. The routes and
times come from ``plan.json`` as written; legs are recomputed from the travel model the
settings describe, so a re-opened plan can be re-checked and re-planned.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from optimizer.day import DayPlan
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
    try:
        doc = json.loads(plan_json.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            [Issue(plan_json.name, None, None, None, f"file not found: {plan_json}")]
        ) from None
    except (OSError, json.JSONDecodeError) as err:
        text = f"is not a readable plan.json ({err})"
        raise InputError([Issue(plan_json.name, None, None, None, text)]) from None
    settings_path = inputs / "settings.json"
    try:
        settings = Settings.from_dict(
            json.loads(settings_path.read_text(encoding="utf-8")), source=str(settings_path)
        )
    except FileNotFoundError:
        text = f"file not found: {settings_path}; a plan folder keeps its inputs in inputs/"
        raise InputError([Issue("settings.json", None, None, None, text)]) from None
    data = read_inputs(inputs / "visits.csv", inputs / "agents.csv")
    located = [v for v in data.visits if v.location is not None]
    problem = build_problem(located, data.agents, travel_provider(settings))
    plan = plan_from_dict(doc, problem, source=plan_json.name)
    return DayPlan(plan, data.visits, data.agents, problem, settings)


def _seconds(date: dt.date, text: str) -> int:
    moment = dt.datetime.fromisoformat(text)
    return int((moment - dt.datetime.combine(date, dt.time())).total_seconds())


def plan_from_dict(doc: Mapping[str, Any], problem: RoutingProblem, *, source: str) -> Plan:
    """Pure: the plan.json document -> :class:`Plan`, legs recomputed from ``problem``."""
    try:
        return _plan_from_dict(doc, problem)
    except (KeyError, TypeError, ValueError) as err:
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
        timezone=str(doc["timezone"]),
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
