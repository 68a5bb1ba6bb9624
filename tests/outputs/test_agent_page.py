"""The agent page and calendar: structure, times matching plan.json, no CDN, one event per visit."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from icalendar import Calendar

from optimizer.day import DayPlan
from optimizer.domain import Mode
from optimizer.outputs.agent_page import agent_page
from optimizer.outputs.calendar import agent_calendar
from optimizer.outputs.export import plan_to_dict, write_calendars, write_plan
from optimizer.outputs.maps import save_maps
from optimizer.settings import NoticeSettings
from tests.helpers import make_day


@pytest.fixture(scope="module")
def day() -> DayPlan:
    return make_day()


@pytest.fixture(scope="module")
def out(day: DayPlan, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("plan") / "out"
    write_plan(day, folder, renderers=[save_maps, write_calendars])
    return folder


class Cards(HTMLParser):
    """Collects stop cards (data-seq, data-visit-id) and their <time> values, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.cards: list[dict[str, str]] = []
        self.scripts_with_src: list[str] = []
        self.links: list[str] = []
        self.kinds: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "article" and "stop" in a.get("class", ""):
            self.cards.append({"seq": a["data-seq"], "visit_id": a["data-visit-id"]})
            self.kinds.append("stop")
        elif tag == "div" and a.get("id") in {"start", "end", "break"}:
            self.kinds.append(a["id"])
        elif tag == "time" and self.cards:
            self.cards[-1][a["class"]] = a["datetime"]
        elif tag == "script" and "src" in a:
            self.scripts_with_src.append(a["src"])
        elif tag == "link":
            self.links.append(a.get("href", ""))
        elif tag == "a" and self.cards and "btn" in a.get("class", ""):
            self.cards[-1][a["class"]] = a["href"]


def parse(html: str) -> Cards:
    p = Cards()
    p.feed(html)
    return p


def test_one_card_per_stop_in_order_with_plan_json_times(day: DayPlan, out: Path) -> None:
    doc = plan_to_dict(day)
    for route in doc["routes"]:
        page = parse((out / f"agent-{route['agent_id']}.html").read_text(encoding="utf-8"))
        assert [c["visit_id"] for c in page.cards] == [s["visit_id"] for s in route["stops"]]
        assert [c["seq"] for c in page.cards] == [str(s["seq"]) for s in route["stops"]]
        for card, stop in zip(page.cards, route["stops"], strict=True):
            assert (card["arrive"], card["start"], card["end"]) == (
                stop["arrive"],
                stop["start"],
                stop["end"],
            )


def test_start_break_end_in_time_line(day: DayPlan, out: Path) -> None:
    a1 = parse((out / "agent-A1.html").read_text(encoding="utf-8"))
    assert a1.kinds[0] == "start"
    assert a1.kinds[-1] == "end"
    assert a1.kinds.count("break") == (day.plan.route_of("A1").break_start_s is not None)  # type: ignore[union-attr]


def test_every_card_has_call_and_four_navigation_links(out: Path) -> None:
    page = parse((out / "agent-A1.html").read_text(encoding="utf-8"))
    for card in page.cards:
        assert card["btn call"].startswith("tel:139")
        assert card["btn nav amap"].startswith("https://uri.amap.com/navigation?")
        assert card["btn nav baidu"].startswith("https://api.map.baidu.com/direction?")
        assert card["btn nav apple"].startswith("https://maps.apple.com/directions?")
        assert card["btn nav google"].startswith("https://www.google.com/maps/dir/")
        assert "mode=car" in card["btn nav amap"]
        assert "travelmode=driving" in card["btn nav google"]


def test_navigation_follows_the_agents_mode_from_the_previous_place(day: DayPlan) -> None:
    """A walking agent gets walking directions; Baidu starts from the previous stop."""
    from dataclasses import replace
    from urllib.parse import parse_qs, urlsplit

    walker = replace(
        day,
        agents=tuple(replace(a, mode=Mode.WALK) if a.agent_id == "A1" else a for a in day.agents),
    )
    page = parse(agent_page(walker, "A1"))
    route = day.plan.route_of("A1")
    assert route is not None
    names = ["S", *(s.visit_id for s in route.stops)]
    for k, card in enumerate(page.cards):
        assert "mode=walk&" in card["btn nav amap"]
        assert "mode=walking" in card["btn nav apple"]
        assert "travelmode=walking" in card["btn nav google"]
        baidu = parse_qs(urlsplit(card["btn nav baidu"]).query)
        assert baidu["mode"] == ["walking"]
        assert baidu["origin"][0].endswith(f"|name:{names[k]}")
        assert baidu["destination"][0].endswith(f"|name:{card['visit_id']}")


def test_page_is_self_contained(out: Path) -> None:
    html = (out / "agent-A1.html").read_text(encoding="utf-8")
    page = parse(html)
    assert page.scripts_with_src == []
    assert page.links == []
    assert not re.search(r"(https?:)?//[^\"' ]*cdn", html, re.IGNORECASE)
    assert "Leaflet 1.9.4" in html  # inlined
    assert re.search(r"L\.map\(", html)
    assert 'data-marker="1"' in html  # card -> map link
    assert "tileerror" in html  # degrades to the list


def test_map_markers_numbered_like_cards(day: DayPlan, out: Path) -> None:
    html = (out / "agent-A1.html").read_text(encoding="utf-8")
    route = day.plan.route_of("A1")
    assert route is not None
    for s in route.stops:
        assert f"{s.seq}\\u003c/div\\u003e" in html or f">{s.seq}</div>" in html
    for label in ("S", "B"):
        assert f"{label}\\u003c/div\\u003e" in html or f">{label}</div>" in html


def test_print_and_phone_layout() -> None:
    html = agent_page(make_day(), "A2")
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    assert "@page { size: A4" in html
    assert "今天没有拜访" not in html


def test_agent_without_route_gets_an_empty_day(day: DayPlan) -> None:
    from dataclasses import replace

    empty = replace(day, plan=replace(day.plan, routes=()))
    assert "今天没有拜访" in agent_page(empty, "A1")
    english = replace(empty, settings=replace(empty.settings, notices=NoticeSettings(lang="en")))
    assert "No visits today." in agent_page(english, "A1")


#: Neutral words on the lock screen; a type the labels do not know ("debt_collection_visit")
#: must never be echoed there.
PURPOSE_ZH = {
    "identity_check": "身份信息核实",
    "asset_check": "资料核对",
    "overdue_followup": "客户回访",
}


def test_calendar_parses_with_one_event_per_visit(day: DayPlan, out: Path) -> None:
    doc = plan_to_dict(day)
    types = {v.visit_id: v.visit_type for v in day.visits}
    for route in doc["routes"]:
        cal = Calendar.from_ical((out / f"agent-{route['agent_id']}.ics").read_bytes())
        events = cal.walk("VEVENT")
        assert len(events) == len(route["stops"])
        assert len({str(e["UID"]) for e in events}) == len(events)
        for event, stop in zip(events, route["stops"], strict=True):
            assert str(event["SUMMARY"]) == (
                f"第{stop['seq']}站 · {PURPOSE_ZH.get(types[stop['visit_id']], '上门拜访')}"
            )
            assert f"拜访 {stop['visit_id']}，第 {stop['seq']} 站" in str(event["DESCRIPTION"])
            start = event.decoded("DTSTART")
            assert start.replace(tzinfo=None) == dt.datetime.fromisoformat(stop["start"])
            assert str(start.tzinfo) == "Asia/Shanghai"
            assert event.decoded("DTEND").replace(tzinfo=None) == dt.datetime.fromisoformat(
                stop["end"]
            )
            assert "测试路" in str(event["LOCATION"])
            assert str(event["URL"]).startswith("geo:")
            assert "预约时段：" in str(event["DESCRIPTION"])
            lat, lon = event.decoded("GEO")
            v = next(v for v in day.visits if v.visit_id == stop["visit_id"])
            assert v.location is not None
            assert (round(lat, 6), round(lon, 6)) == (
                round(v.location.lat, 6),
                round(v.location.lon, 6),
            )
        assert cal.walk("VTIMEZONE")


def test_calendar_is_rfc5545_shaped(day: DayPlan) -> None:
    raw = agent_calendar(day, "A1", stamp=dt.datetime(2026, 11, 30, tzinfo=dt.UTC))
    text = raw.decode("utf-8")
    assert text.startswith("BEGIN:VCALENDAR\r\n")
    assert "VERSION:2.0" in text
    assert "PRODID:" in text
    assert all(len(line.encode("utf-8")) <= 75 for line in text.split("\r\n"))
    assert "DTSTAMP:20261130T000000Z" in text


def _in(lang: str, day: DayPlan) -> DayPlan:
    from dataclasses import replace

    notices = replace(day.settings.notices, lang=lang)
    return replace(day, settings=replace(day.settings, notices=notices))


#: Words of today's English page that a Chinese page must not show.
ENGLISH = (
    "leave the start point",
    "back at the end point",
    "first start",
    "show on map",
    "from the previous place",
    "Call 1",
    ">AMap<",
    "Personal data",
    "arrive ",
)


def test_agent_page_and_print_sheet_speak_the_notices_language(day: DayPlan) -> None:
    """Issue 10 item 11: zh by default (notices.lang / --lang), en on request."""
    from optimizer.outputs.maps import agent_route_map, map_fragment

    fmap, markers = agent_route_map(day, "A1")
    fragment = map_fragment(fmap, markers, "#123456")
    zh = agent_page(day, "A1", fragment)
    assert '<html lang="zh-CN">' in zh
    for words in (
        "从起点出发",
        "回到终点（驾车",
        "首个开始",
        "拨打 1390",
        ">高德<",
        ">百度<",
        "距上一地点",
        "在地图上查看",
        "行程时间按直线距离估算",
        "地图无法加载",
        "周二",
    ):
        assert words in zh, words
    assert [w for w in ENGLISH if w in zh] == []
    assert ">客户回访<" in zh  # overdue_followup, neutrally worded on the sheet
    assert "付款凭证" in zh  # "repayment records" as printed
    en = agent_page(_in("en", day), "A1", fragment)
    assert '<html lang="en">' in en
    assert all(w in en for w in ("leave the start point", "first start", ">AMap<", "Tue"))


def test_overview_labels_speak_the_notices_language(day: DayPlan) -> None:
    from optimizer.outputs.maps import overview_map

    zh = overview_map(day).get_root().render()
    assert all(w in zh for w in ("FieldRoute 计划 2026-12-01", "未安排：1", "个拜访", "出发"))
    assert not any(w in zh for w in ("unassigned", " visits,", "planned start"))
    en = overview_map(_in("en", day)).get_root().render()
    assert all(w in en for w in ("FieldRoute plan 2026-12-01", "unassigned: 1", "planned start"))


def test_calendar_titles_are_discreet_and_details_inside(day: DayPlan) -> None:
    """A lock screen shows the stop number and a neutral purpose, nothing else."""
    from optimizer.outputs.notices import forbidden_words

    for lang in ("zh", "en"):
        cal = Calendar.from_ical(agent_calendar(_in(lang, day), "A2"))
        route = day.plan.route_of("A2")
        assert route is not None
        for event, stop in zip(cal.walk("VEVENT"), route.stops, strict=True):
            title = str(event["SUMMARY"])
            assert str(stop.seq) in title
            assert stop.visit_id not in title
            assert "_" not in title and not forbidden_words(title)
            assert stop.visit_id in str(event["DESCRIPTION"])
        text = "".join(str(e["DESCRIPTION"]) for e in cal.walk("VEVENT"))
        assert ("Appointment window" in text) == (lang == "en")
        assert ("预约时段" in text) == (lang == "zh")


def test_labels_files_hold_the_same_keys_and_neutral_types(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import tomllib
    from importlib import resources

    from optimizer.errors import ConfigurationError
    from optimizer.outputs import labels as labels_module

    files = {
        lang: tomllib.loads(
            (resources.files("optimizer") / "templates" / f"labels.{lang}.toml").read_text("utf-8")
        )
        for lang in ("en", "zh")
    }
    assert set(files["en"]["text"]) == set(files["zh"]["text"])
    assert set(files["en"]["visit_types"]) == set(files["zh"]["visit_types"])
    files["zh"]["visit_types"] = {"": "催收"}
    monkeypatch.setattr(labels_module, "_raw", lambda lang: files[lang])
    with pytest.raises(ConfigurationError, match="must use neutral words; found '催'"):
        labels_module.labels.__wrapped__("zh")
    del files["zh"]["text"]["call"]
    with pytest.raises(ConfigurationError, match="key 'call' is missing"):
        labels_module.labels.__wrapped__("zh")
