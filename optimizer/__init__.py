"""FieldRoute: route and appointment optimizer for teams of field agents.

The public API, for use from Python::

    from optimizer import plan_day, Settings, Visit, Agent
    day = plan_day(visits, agents, Settings(), date=dt.date(2026, 12, 1))
    assert not verify(day.plan, day.visits, day.problem)

Names are loaded on first use, so that ``import optimizer.plan`` (reading a plan) does
not pay for OR-Tools and OSRM, which ``plan_day`` needs.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_PUBLIC = {
    "plan_day": "optimizer.pipeline",
    "DayPlan": "optimizer.day",
    "Settings": "optimizer.settings",
    "Visit": "optimizer.domain",
    "Agent": "optimizer.domain",
    "Plan": "optimizer.plan",
    "verify": "optimizer.verify",
}

__all__ = ["Agent", "DayPlan", "Plan", "Settings", "Visit", "__version__", "plan_day", "verify"]

if TYPE_CHECKING:
    from optimizer.day import DayPlan
    from optimizer.domain import Agent, Visit
    from optimizer.pipeline import plan_day
    from optimizer.plan import Plan
    from optimizer.settings import Settings
    from optimizer.verify import check_plan as verify


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is asked for."""
    if name not in _PUBLIC:
        msg = f"module 'optimizer' has no attribute {name!r}"
        raise AttributeError(msg)
    module = import_module(_PUBLIC[name])
    value = getattr(module, "check_plan" if name == "verify" else name)
    globals()[name] = value
    return value
