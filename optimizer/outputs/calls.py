"""Who to call after a re-plan: agents whose day changed, borrowers told something new.

``changes.csv`` names visits by id; a dispatcher on the phone needs the number and
what to say. Two lists, both pure functions of the plan before and after:

* per agent whose route changed: the phone, the next stop, the visits added and
  removed (the dispatcher's own view: the agent sees only their own visits);
* per borrower to notify: the phone and the message, from template files beside the
  notices (``optimizer/templates/call_new_window.<lang>.txt`` for a new window,
  ``call_not_today.<lang>.txt`` for "we will not come today, we will call to rebook"),
  checked for neutral wording as the notices are.
"""

from __future__ import annotations

import string
from collections.abc import Collection
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from optimizer.clock import format_hhmm, told_window
from optimizer.errors import ConfigurationError
from optimizer.outputs.notices import DESK_UNSET, date_text, forbidden_words
from optimizer.outputs.privacy import Audience, visit_view

if TYPE_CHECKING:
    from optimizer.day import DayPlan

AGENT_COLUMNS = ("agent_id", "name", "phone", "next_stop", "next_start", "added", "removed")
BORROWER_COLUMNS = ("visit_id", "phone", "lang", "call", "window_start", "window_end", "message")
#: The two messages a borrower may get, by the ``call`` column's value.
MESSAGES = ("new_window", "not_today")


@dataclass(frozen=True, slots=True)
class AgentCall:
    agent_id: str
    name: str
    phone: str
    next_stop: str
    next_start: str
    added: str
    removed: str


@dataclass(frozen=True, slots=True)
class BorrowerCall:
    visit_id: str
    phone: str
    lang: str
    call: str
    window_start: str
    window_end: str
    message: str


def load_call_template(kind: str, lang: str) -> string.Template:
    """The packaged message ``kind`` (one of :data:`MESSAGES`) for ``lang``.

    Raises
    ------
    ConfigurationError
        The text holds a word the notices refuse (a packaging mistake).
    """
    raw = (resources.files("optimizer") / "templates" / f"call_{kind}.{lang}.txt").read_text(
        encoding="utf-8"
    )
    text = "\n".join(line for line in raw.splitlines() if not line.startswith("#")).strip()
    if bad := forbidden_words(text):
        msg = f"packaged call_{kind}.{lang}.txt uses the word {bad[0]!r}; keep it neutral"
        raise ConfigurationError(msg)
    return string.Template(text)


def agent_calls(
    before: DayPlan, after: DayPlan, agents: Collection[str], now_s: int
) -> list[AgentCall]:
    """One row per agent in ``agents`` (those whose route changed), in plan order."""
    people = {a.agent_id: a for a in after.agents}
    rows = []
    for agent_id in [a.agent_id for a in after.agents if a.agent_id in agents]:
        old, new = before.plan.route_of(agent_id), after.plan.route_of(agent_id)
        was = [s.visit_id for s in old.stops] if old else []
        now = [s.visit_id for s in new.stops] if new else []
        nxt = next((s for s in (new.stops if new else ()) if s.start_s >= now_s), None)
        agent = people[agent_id]
        rows.append(
            AgentCall(
                agent_id=agent_id,
                name=agent.name,
                phone=agent.phone,
                next_stop=nxt.visit_id if nxt else "",
                next_start=format_hhmm(nxt.start_s) if nxt else "",
                added=";".join(v for v in now if v not in was),
                removed=";".join(v for v in was if v not in now),
            )
        )
    return rows


def borrower_calls(
    after: DayPlan, visits: Collection[str], now_s: int, lead_s: int
) -> list[BorrowerCall]:
    """One row per visit in ``visits`` (those to notify): the new window, or not today.

    A message that would hold a refused word (an odd desk number) is withheld, as a
    notice would be: the row keeps the phone, the message is empty.
    """
    cfg = after.settings.notices
    lang = cfg.lang
    desk = cfg.desk_phone or DESK_UNSET[lang]
    date = date_text(after.plan.date, lang)
    templates = {kind: load_call_template(kind, lang) for kind in MESSAGES}
    agents = {a.agent_id: a for a in after.agents}
    by_id = {v.visit_id: v for v in after.visits}
    stops = {s.visit_id: (r.agent_id, s) for r in after.plan.routes for s in r.stops}
    rows = []
    for vid in [v.visit_id for v in after.visits if v.visit_id in visits]:
        view = visit_view(by_id[vid], Audience.BORROWER)
        if vid in stops:
            agent_id, stop = stops[vid]
            bounds = view["window"] or agents[agent_id].shift
            window = told_window(stop.start_s, cfg.window_min * 60, bounds, now_s + lead_s)
            start, end = format_hhmm(window.start_s), format_hhmm(window.end_s)
            kind = "new_window"
            text = templates[kind].substitute(
                date=date, window_start=start, window_end=end, desk_phone=desk
            )
        else:
            start = end = ""
            kind = "not_today"
            text = templates[kind].substitute(date=date, desk_phone=desk)
        if forbidden_words(text):
            text = ""
        rows.append(BorrowerCall(vid, view["phone"], lang, kind, start, end, text))
    return rows
