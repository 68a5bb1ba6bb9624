"""Borrower notices: window inside the appointment, neutral words, templates, unassigned rows."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optimizer.clock import arrival_window, parse_hhmm
from optimizer.day import DayPlan
from optimizer.domain import TimeWindow
from optimizer.errors import ConfigurationError
from optimizer.outputs.notices import (
    STATUS_NEW_APPOINTMENT,
    STATUS_NOTICE,
    build_notices,
    forbidden_words,
    load_template,
)
from optimizer.settings import NoticeSettings, Settings
from tests.helpers import make_day

H = 3600


@pytest.fixture(scope="module")
def day() -> DayPlan:
    return make_day()


def notices(day: DayPlan, lang: str = "zh") -> list:  # type: ignore[type-arg]
    return build_notices(day, load_template(day.settings.notices, lang), lang=lang)


def test_one_notice_per_routed_visit_and_unassigned_listed(day: DayPlan) -> None:
    rows = notices(day)
    routed = day.plan.assigned_ids
    assert [n.visit_id for n in rows if n.status == STATUS_NOTICE] == routed
    new = [n for n in rows if n.status == STATUS_NEW_APPOINTMENT]
    assert [n.visit_id for n in new] == ["V301"]
    assert new[0].text == ""
    assert new[0].window_start == ""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_window_inside_appointment_and_in_text(day: DayPlan, lang: str) -> None:
    visits = {v.visit_id: v for v in day.visits}
    starts = {s.visit_id: s.start_s for r in day.plan.routes for s in r.stops}
    for n in notices(day, lang):
        if n.status != STATUS_NOTICE:
            continue
        v = visits[n.visit_id]
        lo, hi = parse_hhmm(n.window_start), parse_hhmm(n.window_end)
        bounds = v.window or next(a.shift for a in day.agents if a.agent_id == v.pinned_agent)
        assert bounds.start_s <= lo <= starts[n.visit_id] <= hi <= bounds.end_s
        assert hi - lo == min(60 * 60, bounds.end_s - bounds.start_s)
        assert n.window_start in n.text
        assert n.window_end in n.text
        assert n.lang == lang


def test_text_has_agent_name_desk_documents_and_no_exact_minute(day: DayPlan) -> None:
    rows = {n.visit_id: n for n in notices(day)}
    n = rows["V101"]
    assert "李四光" in n.text
    assert "028-8888-0000" in n.text
    assert "13811112222" not in n.text  # never the agent's own number
    assert "身份证、户口簿" in n.text
    stop = next(s for r in day.plan.routes for s in r.stops if s.visit_id == "V201")
    exact = f"{stop.start_s // H:02d}:{stop.start_s % H // 60:02d}"
    if stop.start_s % 1800:  # off the grid: the exact minute must not appear
        assert exact not in rows["V201"].text


def test_english_notice(day: DayPlan) -> None:
    rows = {n.visit_id: n for n in notices(day, "en")}
    assert rows["V101"].text.startswith("Hello, our staff member 李四光 will visit you on 1 Dec")
    assert "ID card, household register" in rows["V101"].text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_debt_words_in_any_notice_or_template(day: DayPlan, lang: str) -> None:
    # V103 is an overdue follow-up with "repayment records"; V203 has type
    # "debt_collection_visit" and a "loan contract": all must come out neutral.
    assert forbidden_words(load_template(NoticeSettings(), lang)) == []
    for n in notices(day, lang):
        assert forbidden_words(n.text) == [], n.visit_id
    texts = " ".join(n.text for n in notices(day, lang)).lower()
    for word in (
        "debt",
        "arrear",
        "collection",
        "overdue",
        "loan",
        "债",
        "欠",
        "逾期",
        "催收",
        "贷",
        "还款",
    ):
        assert word not in texts


def test_forbidden_words_are_matched() -> None:
    assert forbidden_words("Please repay your LOAN") == ["repay", "LOAN"]
    assert forbidden_words("逾期欠款") == ["欠", "逾期"] or set(forbidden_words("逾期欠款")) == {
        "欠",
        "逾期",
    }
    assert forbidden_words("power, however, flowers") == []


def test_template_override_with_lang_in_path(day: DayPlan, tmp_path: Path) -> None:
    (tmp_path / "n.en.txt").write_text(
        "# note\n${agent_name} comes ${window_start}-${window_end}. ${desk_phone}\n"
    )
    cfg = replace(day.settings.notices, template=str(tmp_path / "n.{lang}.txt"))
    text = load_template(cfg, "en")
    assert text == "${agent_name} comes ${window_start}-${window_end}. ${desk_phone}"
    custom = replace(day, settings=replace(day.settings, notices=cfg))
    assert build_notices(custom, text, lang="en")[0].text.startswith("李四光 comes ")


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("Hi ${borrower_name}", r"unknown placeholder \$\{borrower_name\}; options are"),
        ("About your loan, ${agent_name}", "neutral words; found 'loan'"),
    ],
)
def test_bad_templates_refused(tmp_path: Path, body: str, match: str) -> None:
    (tmp_path / "t.txt").write_text(body)
    with pytest.raises(ConfigurationError, match=match):
        load_template(NoticeSettings(template=str(tmp_path / "t.txt")), "en")


def test_missing_template_file_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot be read"):
        load_template(NoticeSettings(template=str(tmp_path / "nope.txt")), "zh")


@given(
    start=st.integers(0, 20 * 60),
    length=st.integers(0, 8 * 60),
    offset=st.integers(0, 8 * 60),
    width=st.sampled_from([20, 30, 60, 90, 120]),
)
def test_arrival_window_properties(start: int, length: int, offset: int, width: int) -> None:
    appointment = TimeWindow(start * 60, (start + length) * 60)
    planned = appointment.start_s + min(offset, length) * 60
    w = arrival_window(planned, width * 60, appointment)
    assert appointment.start_s <= w.start_s <= planned <= w.end_s <= appointment.end_s
    assert w.end_s - w.start_s == min(width * 60, appointment.end_s - appointment.start_s)
    grid = min(1800, width * 30)
    # Each edge is on the grid, or set by the borrower's own window (slid against it).
    own = {appointment.start_s, appointment.end_s}
    own |= {appointment.start_s + width * 60, appointment.end_s - width * 60}
    for edge in (w.start_s, w.end_s):
        assert edge % grid == 0 or edge in own


def test_notice_settings_from_config() -> None:
    s = Settings.from_dict({"notices": {"lang": "en", "window_min": 90, "desk_phone": "110"}})
    assert (s.notices.lang, s.notices.window_min, s.notices.desk_phone) == ("en", 90, "110")
    assert Settings.from_dict(s.to_dict()) == s
    with pytest.raises(ConfigurationError, match=r"unknown setting 'notices\.width'"):
        Settings.from_dict({"notices": {"width": 60}})
    with pytest.raises(ConfigurationError, match=r"notices\.lang 'fr' is unknown"):
        Settings.from_dict({"notices": {"lang": "fr"}})
    with pytest.raises(ConfigurationError, match=r"notices\.window_min 7"):
        Settings.from_dict({"notices": {"window_min": 7}})
