"""An agent's day as an RFC 5545 calendar: one VEVENT per visit (the ``icalendar`` edge).

Each event runs from the planned start to the planned end in the plan's time zone
(with its VTIMEZONE), has the address as LOCATION, GEO and a ``geo:`` URL, and the
appointment window, arrival, documents and borrower's phone in the description. The
title carries the stop number, visit type and id only: calendar titles show on lock
screens and in notifications. Fields come through :mod:`optimizer.outputs.privacy` for the
agent audience.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import TYPE_CHECKING

from icalendar import Calendar, Event, vText

from optimizer.clock import format_hhmm
from optimizer.outputs.folder import safe_name
from optimizer.outputs.privacy import Audience, visit_view

if TYPE_CHECKING:
    from optimizer.day import DayPlan

PRODID = "-//FieldRoute//agent itinerary//EN"


def _at(date: dt.date, seconds: int, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(date, dt.time(), tzinfo=tz) + dt.timedelta(seconds=seconds)


def type_label(visit_type: str) -> str:
    """``identity_check`` -> ``Identity check``."""
    return visit_type.replace("_", " ").capitalize() if visit_type else "Visit"


def agent_calendar(day: DayPlan, agent_id: str, *, stamp: dt.datetime | None = None) -> bytes:
    """The .ics bytes for one agent's route (an empty calendar when they have none).

    ``stamp`` is the DTSTAMP of every event (default: now, UTC); tests pass a fixed one.
    """
    tz = zoneinfo.ZoneInfo(day.plan.timezone)
    stamp = stamp or dt.datetime.now(dt.UTC)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    # An X- property is written raw unless given as text: vText escapes a newline in the id.
    cal.add("x-wr-calname", vText(f"FieldRoute {agent_id} {day.plan.date.isoformat()}"))
    route = day.plan.route_of(agent_id)
    visits = {v.visit_id: v for v in day.visits}
    for stop in route.stops if route is not None else ():
        v = visit_view(visits[stop.visit_id], Audience.AGENT)
        event = Event()
        # Ids are data: the UID (a bare content line, not escaped text) takes their safe names.
        uid = f"{safe_name(agent_id)}-{safe_name(v['visit_id'])}"
        event.add("uid", f"{day.plan.date.isoformat()}-{uid}@fieldroute")
        event.add("dtstamp", stamp)
        event.add("dtstart", _at(day.plan.date, stop.start_s, tz))
        event.add("dtend", _at(day.plan.date, stop.end_s, tz))
        event.add("summary", f"{stop.seq}. {type_label(v['visit_type'])} · {v['visit_id']}")
        if v["address"]:
            event.add("location", v["address"])
        window = v["window"]
        lines = [
            f"Visit {v['visit_id']}, stop {stop.seq}",
            f"Appointment window: {format_hhmm(window.start_s)}-{format_hhmm(window.end_s)}"
            if window
            else "Appointment window: any time",
            f"Planned arrival {format_hhmm(stop.arrive_s)}, start {format_hhmm(stop.start_s)}",
        ]
        if v["name"] or v["phone"]:
            lines.append(f"Borrower: {v['name']} {v['phone']}".rstrip())
        if v["documents"]:
            lines.append("Documents: " + "; ".join(v["documents"]))
        loc = v["location"]
        if loc is not None:
            event.add("geo", (loc.lat, loc.lon))
            event.add("url", f"geo:{loc.lat:.6f},{loc.lon:.6f}")
            lines.append(f"geo:{loc.lat:.6f},{loc.lon:.6f}")
        event.add("description", "\n".join(lines))
        cal.add_component(event)
    cal.add_missing_timezones()
    return bytes(cal.to_ical())
