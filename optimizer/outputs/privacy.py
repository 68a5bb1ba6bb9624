"""Who sees which personal data: one policy table, used by every writer.

Each output has an audience:

* ``dispatcher``: overview map, plan.json, itineraries.csv, unassigned.csv. Shared
  beyond one agent, so borrowers' names are shortened and phones masked.
* ``agent``: that agent's page and calendar. Phones whole (the agent must call),
  names whole; nothing of any other route.
* ``borrower``: that borrower's notice. Only their own phone (for the SMS gateway),
  the window, the neutral purpose and the documents; the agent's name and the desk
  number come from the plan and settings, not from other visits.

A field missing from an audience's row is absent from its outputs: ID numbers, loan
amounts and every extra input column are in no row, so a column added to the input
later cannot leak by default. Renderers read visits only through :func:`visit_view`.

Logs and error messages name visits by id only (see :func:`redact_for_log`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from optimizer.domain import Agent, Visit


class Audience(StrEnum):
    DISPATCHER = "dispatcher"
    AGENT = "agent"
    BORROWER = "borrower"


class Show(StrEnum):
    """How a field appears: whole, or masked/shortened (phones ``138****5678``, names ``王**``)."""

    WHOLE = "whole"
    MASKED = "masked"


#: Visit fields by audience. A field not listed for an audience is never shown to it.
VISIT_POLICY: Mapping[Audience, Mapping[str, Show]] = {
    Audience.DISPATCHER: {
        "visit_id": Show.WHOLE,
        "address": Show.WHOLE,
        "location": Show.WHOLE,
        "window": Show.WHOLE,
        "duration_s": Show.WHOLE,
        "priority": Show.WHOLE,
        "visit_type": Show.WHOLE,
        "documents": Show.WHOLE,
        "name": Show.MASKED,
        "phone": Show.MASKED,
    },
    Audience.AGENT: {
        "visit_id": Show.WHOLE,
        "address": Show.WHOLE,
        "location": Show.WHOLE,
        "window": Show.WHOLE,
        "duration_s": Show.WHOLE,
        "visit_type": Show.WHOLE,
        "documents": Show.WHOLE,
        "name": Show.WHOLE,
        "phone": Show.WHOLE,
    },
    Audience.BORROWER: {
        "visit_id": Show.WHOLE,
        "window": Show.WHOLE,
        "visit_type": Show.WHOLE,
        "documents": Show.WHOLE,
        "phone": Show.WHOLE,
    },
}

#: Agent fields by audience (the agent's own page, the borrower's notice).
AGENT_POLICY: Mapping[Audience, Mapping[str, Show]] = {
    Audience.DISPATCHER: {"agent_id": Show.WHOLE, "name": Show.MASKED},
    Audience.AGENT: {"agent_id": Show.WHOLE, "name": Show.WHOLE},
    Audience.BORROWER: {"name": Show.WHOLE},
}

#: Visit fields that are personal data: never in logs or error messages.
PERSONAL_FIELDS = frozenset({"name", "phone", "address"})


def mask_phone(phone: str) -> str:
    """``13812345678`` -> ``138****5678``; short numbers keep only their last 2 digits."""
    digits = re.sub(r"\D", "", phone)
    if not digits:
        return ""
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * max(len(digits) - 2, 1) + digits[-2:]


def shorten_name(name: str) -> str:
    """``王小明`` -> ``王**``; ``Alice Smith`` -> ``A**``: the first character only."""
    name = name.strip()
    return f"{name[0]}**" if name else ""


def _show(value: Any, field: str, show: Show) -> Any:
    if show is Show.WHOLE:
        return value
    if field == "phone":
        return mask_phone(str(value))
    return shorten_name(str(value))


def visit_view(visit: Visit, audience: Audience) -> dict[str, Any]:
    """The visit's fields this audience may see, masked as the policy says.

    Fields outside the policy (including every ``extra`` input column) are left out.
    """
    return {
        name: _show(getattr(visit, name), name, show)
        for name, show in VISIT_POLICY[audience].items()
    }


def agent_view(agent: Agent, audience: Audience) -> dict[str, Any]:
    """The agent's fields this audience may see."""
    return {
        name: _show(getattr(agent, name), name, show)
        for name, show in AGENT_POLICY[audience].items()
    }


def check_columns(audience: Audience, columns: list[str], *, derived: frozenset[str]) -> None:
    """Raise ValueError if a table for ``audience`` has a visit column outside the policy.

    ``derived`` lists the plan-derived columns (times, sequence, agent id) that carry no
    personal data; every other column must be a visit field the policy allows (``lat``
    and ``lon`` stand for ``location``, ``window_*`` for ``window``).
    """
    allowed = set(VISIT_POLICY[audience]) | set(derived)
    if "location" in allowed:
        allowed |= {"lat", "lon"}
    if "window" in allowed:
        allowed |= {"window_start", "window_end"}
    leaked = [c for c in columns if c not in allowed]
    if leaked:
        msg = f"columns {leaked} are not allowed for the {audience} audience by optimizer.outputs.privacy"
        raise ValueError(msg)


def redact_for_log(visit: Visit) -> str:
    """How logs and errors refer to a visit: its id, nothing personal."""
    return f"visit {visit.visit_id}"
