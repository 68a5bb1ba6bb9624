"""An agent's day as an RFC 5545 calendar: one VEVENT per visit (the ``icalendar`` edge).

Each event runs from the planned start to the planned end in the plan's time zone
(with its VTIMEZONE), has the address as LOCATION, GEO and a ``geo:`` URL, and the
appointment window, arrival, visit id and type, documents and borrower's phone in the
description. UIDs are stable through the day's re-plans and carry a SEQUENCE; visits a
re-plan takes off an agent go out as METHOD:CANCEL (:func:`cancel_calendar`). The title carries only the stop number and the visit's neutral purpose:
calendar titles show on lock screens and in notifications. Every word comes from the
labels file of ``[notices] lang`` (:mod:`optimizer.outputs.labels`). Fields come through :mod:`optimizer.outputs.privacy` for the
agent audience.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import cache
from typing import TYPE_CHECKING

from icalendar import Calendar, Event, Timezone, vText

from optimizer.clock import format_hhmm
from optimizer.outputs.folder import safe_name
from optimizer.outputs.labels import labels
from optimizer.outputs.privacy import Audience, visit_view

if TYPE_CHECKING:
    from collections.abc import Collection

    from optimizer.day import DayPlan

PRODID = "-//FieldRoute//agent itinerary//EN"


def _at(date: dt.date, seconds: int, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(date, dt.time(), tzinfo=tz) + dt.timedelta(seconds=seconds)


def event_uid(day: DayPlan, agent_id: str, visit_id: str) -> str:
    """The UID of an agent's visit: the same in every re-plan of the day, so that a
    re-imported calendar updates its events instead of adding copies."""
    return f"{day.plan.date.isoformat()}-{safe_name(agent_id)}-{safe_name(visit_id)}@fieldroute"


def agent_calendar(
    day: DayPlan, agent_id: str, *, stamp: dt.datetime | None = None, sequence: int = 0
) -> bytes:
    """The .ics bytes for one agent's route (an empty calendar when they have none).

    ``stamp`` is the DTSTAMP of every event (default: now, UTC); tests pass a fixed one.
    ``sequence`` is every event's SEQUENCE: 0 for the day plan, higher for each re-plan
    (the minute of the day it was made), so a calendar takes the newer version.
    """
    tz = zoneinfo.ZoneInfo(day.plan.timezone)
    stamp = stamp or dt.datetime.now(dt.UTC)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    t = labels(day.settings.notices.lang)
    # An X- property is written raw unless given as text: vText escapes a newline in the id.
    name = t("calendar_name", agent=agent_id, date=day.plan.date.isoformat())
    cal.add("x-wr-calname", vText(name))
    route = day.plan.route_of(agent_id)
    visits = {v.visit_id: v for v in day.visits}
    for stop in route.stops if route is not None else ():
        v = visit_view(visits[stop.visit_id], Audience.AGENT)
        event = Event()
        # Ids are data: the UID (a bare content line, not escaped text) takes their safe names.
        event.add("uid", event_uid(day, agent_id, v["visit_id"]))
        event.add("dtstamp", stamp)
        event.add("sequence", sequence)
        event.add("dtstart", _at(day.plan.date, stop.start_s, tz))
        event.add("dtend", _at(day.plan.date, stop.end_s, tz))
        event.add("summary", t("event_title", seq=stop.seq, purpose=t.purpose(v["visit_type"])))
        if v["address"]:
            event.add("location", v["address"])
        window = v["window"]
        span = (
            f"{format_hhmm(window.start_s)}-{format_hhmm(window.end_s)}"
            if window
            else t("any_time")
        )
        lines = [
            t("event_visit", visit=v["visit_id"], seq=stop.seq, type=t.visit_type(v["visit_type"])),
            t("event_window", window=span),
            t(
                "event_planned",
                arrive=format_hhmm(stop.arrive_s),
                start=format_hhmm(stop.start_s),
            ),
        ]
        if v["name"] or v["phone"]:
            lines.append(t("event_borrower", who=f"{v['name']} {v['phone']}".strip()))
        if v["documents"]:
            docs = t("list_sep").join(t.document(d) for d in v["documents"])
            lines.append(t("event_documents", documents=docs))
        loc = v["location"]
        if loc is not None:
            event.add("geo", (loc.lat, loc.lon))
            event.add("url", f"geo:{loc.lat:.6f},{loc.lon:.6f}")
            lines.append(f"geo:{loc.lat:.6f},{loc.lon:.6f}")
        event.add("description", "\n".join(lines))
        cal.add_component(event)
    _add_timezones(cal)
    return bytes(cal.to_ical())


@cache
def _vtimezone(tzid: str) -> Timezone | None:
    try:
        return Timezone.from_tzid(tzid)
    except ValueError:
        return None


def _add_timezones(cal: Calendar) -> None:
    """``cal.add_missing_timezones()``, each VTIMEZONE built once per process.

    Building one walks decades of offsets (0.1 s): a week of 40 agents' calendars spent
    20 s there. The components are only serialised, so calendars can share them.
    """
    for tzid in sorted(cal.get_missing_tzids()):
        tz = _vtimezone(tzid)
        if tz is not None:
            cal.subcomponents.insert(len(cal.timezones), tz)


def cancel_calendar(
    before: DayPlan,
    agent_id: str,
    visit_ids: Collection[str],
    *,
    sequence: int,
    stamp: dt.datetime | None = None,
) -> bytes:
    """METHOD:CANCEL for the visits taken off ``agent_id`` by a re-plan (RFC 5546).

    Each event has the UID and times it had in ``before`` (the plan re-planned), STATUS
    CANCELLED and a higher SEQUENCE, so that the agent's calendar drops it. The title is
    the discreet one the event had; nothing else about the visit is repeated.
    """
    tz = zoneinfo.ZoneInfo(before.plan.timezone)
    stamp = stamp or dt.datetime.now(dt.UTC)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "CANCEL")
    t = labels(before.settings.notices.lang)
    route = before.plan.route_of(agent_id)
    visits = {v.visit_id: v for v in before.visits}
    for stop in route.stops if route is not None else ():
        if stop.visit_id not in visit_ids:
            continue
        v = visit_view(visits[stop.visit_id], Audience.AGENT)
        event = Event()
        event.add("uid", event_uid(before, agent_id, v["visit_id"]))
        event.add("dtstamp", stamp)
        event.add("sequence", sequence)
        event.add("status", "CANCELLED")
        event.add("dtstart", _at(before.plan.date, stop.start_s, tz))
        event.add("dtend", _at(before.plan.date, stop.end_s, tz))
        event.add("summary", t("event_title", seq=stop.seq, purpose=t.purpose(v["visit_type"])))
        cal.add_component(event)
    _add_timezones(cal)
    return bytes(cal.to_ical())
