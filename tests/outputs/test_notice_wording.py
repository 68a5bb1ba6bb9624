"""The neutral-wording rule covers every part of a notice, in every spelling (item 7).

The documents the reviewers crafted (借款合同, 抵押合同, 征信报告, 信用卡账单, traditional
還款記錄 and 貸款合同, full-width ｌｏａｎ, "mortgage deed", "credit report") must not
reach the SMS text; a neutral table from the settings renames documents; a notice that
still holds a forbidden word is not written, and the run names the visit and the word.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from optimizer.day import DayPlan
from optimizer.errors import ConfigurationError
from optimizer.outputs.notices import (
    STATUS_WITHHELD,
    build_notices,
    forbidden_words,
    load_template,
    neutral_form,
)
from optimizer.settings import NoticeSettings, Settings
from tests.helpers import make_day

CRAFTED = (
    ("借款合同", "抵押合同"),
    ("征信报告", "信用卡账单"),
    ("還款記錄", "貸款合同"),
    ("ｌｏａｎ agreement",),
    ("mortgage deed", "credit report"),
    ("installment schedule", "贷\u200b款 papers"),
)


@pytest.mark.parametrize("word", ["貸款", "ＬＯＡＮ", "Loan", "还 款", "lo\u200ban", "債務"])
def test_spellings_fold_to_the_listed_word(word: str) -> None:
    assert forbidden_words(f"请准备{word}。"), neutral_form(word)


def test_neutral_text_passes() -> None:
    assert forbidden_words("请提前准备：身份证、户口簿。please have your ID card ready") == []


def _day_with_documents(documents: tuple[str, ...], settings: Settings | None = None) -> DayPlan:
    day = make_day(settings) if settings is not None else make_day()
    visits = tuple(replace(v, documents=documents) for v in day.visits)
    return replace(day, visits=visits)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("documents", CRAFTED)
def test_crafted_documents_never_reach_the_text(lang: str, documents: tuple[str, ...]) -> None:
    day = _day_with_documents(documents)
    rows = build_notices(day, load_template(day.settings.notices, lang), lang=lang)
    texts = [n.text for n in rows if n.text]
    assert texts
    for text in texts:
        assert forbidden_words(text) == [], text


def test_configured_neutral_table_renames_documents() -> None:
    base = make_day().settings
    notices = replace(base.notices, documents={"zh": {"征信报告": "个人资料"}})
    day = _day_with_documents(("徵信報告",), replace(base, notices=notices))
    rows = build_notices(day, load_template(day.settings.notices, "zh"), lang="zh")
    assert all("个人资料" in n.text for n in rows if n.text)


def test_a_table_entry_that_is_not_neutral_is_refused() -> None:
    base = make_day().settings
    notices = replace(base.notices, documents={"en": {"x": "loan papers"}})
    day = replace(make_day(), settings=replace(base, notices=notices))
    with pytest.raises(ConfigurationError, match="loan"):
        build_notices(day, load_template(day.settings.notices, "en"), lang="en")


def test_settings_refuse_a_malformed_table() -> None:
    with pytest.raises(ConfigurationError, match=r"notices\.documents"):
        NoticeSettings(documents={"fr": {"a": "b"}})


def test_notice_with_a_forbidden_word_is_withheld_and_named(
    caplog: pytest.LogCaptureFixture,
) -> None:
    day = make_day()
    agents = tuple(replace(a, name="貸款部小王") for a in day.agents)
    day = replace(day, agents=agents)
    with caplog.at_level(logging.WARNING):
        rows = build_notices(day, load_template(day.settings.notices, "zh"), lang="zh")
    withheld = [n for n in rows if n.status == STATUS_WITHHELD]
    assert withheld and all(n.text == "" for n in withheld)
    for n in withheld:
        assert any(n.visit_id in r.getMessage() and "貸" in r.getMessage() for r in caplog.records)
