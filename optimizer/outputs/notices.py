"""Borrower notices: one SMS-ready message per routed visit, from an editable template.

A notice tells one borrower who comes (the agent's name), when (an arrival window of
``notices.window_min`` minutes around the planned start, kept inside the appointment
window, never the exact minute), why in neutral words, what to prepare, and whom to
call (the dispatch desk, never the agent's own number). An SMS preview is read on
shared phones, so neither the template nor the text may carry a word of debt,
arrears, loans or collection (:data:`FORBIDDEN`). Visits left unassigned get no notice;
they are listed with status ``needs_new_appointment``.

The notice reads visits only through :func:`optimizer.outputs.privacy.visit_view` for the
borrower audience, so it can carry no other borrower's data.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import string
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import opencc

from optimizer.clock import arrival_window, format_hhmm, told_window
from optimizer.errors import ConfigurationError
from optimizer.outputs.privacy import Audience, agent_view, visit_view

if TYPE_CHECKING:
    from optimizer.day import DayPlan
    from optimizer.settings import NoticeSettings

logger = logging.getLogger(__name__)

PLACEHOLDERS = (
    "agent_name",
    "date",
    "window_start",
    "window_end",
    "purpose",
    "documents",
    "desk_phone",
)
STATUS_NOTICE = "notice"
STATUS_NEW_APPOINTMENT = "needs_new_appointment"
#: A notice that would still carry a forbidden word: not written, the run says why.
STATUS_WITHHELD = "withheld_wording"

#: Words no notice may contain, in their normalised form (:func:`neutral_form`:
#: NFKC, case folded, traditional script folded to simplified), also inside longer words.
FORBIDDEN = (
    "debt",
    "arrear",
    "collect",
    "overdue",
    "loan",
    "owe",
    "owing",
    "repay",
    "delinquen",
    "default",
    "mortgage",
    "credit",
    "lend",
    "borrow",
    "instalment",
    "installment",
    "collateral",
    "pawn",
    "lien",
    "bailiff",
    "债",
    "欠",
    "逾期",
    "催",
    "贷",
    "还款",
    "借款",
    "借据",
    "借条",
    "抵押",
    "征信",
    "信用",
    "分期",
    "典当",
    "利息",
    "本金",
    "违约",
    "按揭",
    "透支",
    "罚息",
    "清收",
)
# English words match from a word start ("owe" in "owed", not in "power"); a Chinese
# character before one counts as a start ("请准备loan").
_FORBIDDEN_RE = re.compile(
    "|".join((r"(?<![a-z0-9])" if w.isascii() else "") + re.escape(w) for w in FORBIDDEN)
)
_CJK_FORBIDDEN_RE = re.compile("|".join(re.escape(w) for w in FORBIDDEN if not w.isascii()))
#: Characters that do not show: zero-width spaces and joiners, the BOM, soft hyphens.
_INVISIBLE = re.compile(r"[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


@cache
def _to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def neutral_form(text: str) -> str:
    """``text`` as the wording check reads it: what a phone shows, in one spelling.

    NFKC folds full-width ``ｌｏａｎ`` to ``loan``; invisible characters are dropped;
    case is folded; traditional characters (``貸``, ``還``) become simplified (OpenCC).
    """
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).casefold()
    return str(_to_simplified().convert(text))


#: Neutral wording of each visit type; unknown types get the ``""`` entry, so a
#: dispatcher's internal type name is never echoed to the borrower.
PURPOSES: dict[str, dict[str, str]] = {
    "zh": {
        "identity_check": "身份信息核实",
        "asset_check": "资料核对",
        "overdue_followup": "客户回访",
        "": "上门服务",
    },
    "en": {
        "identity_check": "an identity check",
        "asset_check": "a document check",
        "overdue_followup": "a customer service visit",
        "": "a scheduled visit",
    },
}

#: Document names as borrowers read them. A document missing here is passed through
#: unless it contains a forbidden word, then it becomes the neutral ``""`` entry.
DOCUMENTS: dict[str, dict[str, str]] = {
    "zh": {
        "id card": "身份证",
        "household register": "户口簿",
        "property certificate": "房产证",
        "vehicle registration": "机动车登记证书",
        "repayment records": "付款凭证",
        "bank statements": "银行流水",
        "": "相关证明材料",
    },
    "en": {
        "id card": "ID card",
        "household register": "household register",
        "property certificate": "property certificate",
        "vehicle registration": "vehicle registration",
        "repayment records": "payment receipts",
        "bank statements": "bank statements",
        "": "supporting papers",
    },
}
_NOTHING = {"zh": "无需准备材料", "en": "nothing in particular"}
_LIST_SEP = {"zh": "、", "en": ", "}
#: Before the borrower's own link (``[web] public_url``): confirm the time or ask for another.
_LINK_LINE = {"zh": "确认时间或改约：", "en": "Confirm the time or ask for another: "}
DESK_UNSET = {"zh": "调度台（号码未设置）", "en": "the dispatch desk (number not set)"}


@dataclass(frozen=True, slots=True)
class Notice:
    """One row of notices.csv; ``text`` is empty for visits needing a new appointment."""

    visit_id: str
    phone: str
    lang: str
    window_start: str
    window_end: str
    text: str
    status: str


def forbidden_words(text: str) -> list[str]:
    """The forbidden words found in ``text`` (empty when it is neutral), as listed.

    Chinese words are also found across spaces and punctuation put between their
    characters (``贷 款``).
    """
    form = neutral_form(text)
    # Quote the text as written where the folding kept its length (plain ASCII does).
    shown = text if len(form) == len(text) else form
    found = [shown[m.start() : m.end()] for m in _FORBIDDEN_RE.finditer(form)]
    squeezed = "".join(c for c in form if c.isalnum())
    found += [
        m.group(0)
        for m in _CJK_FORBIDDEN_RE.finditer(squeezed)
        if m.group(0) not in map(neutral_form, found)
    ]
    return found


def load_template(settings: NoticeSettings, lang: str) -> str:
    """The notice template text for ``lang``: the configured file or the packaged one.

    Raises
    ------
    ConfigurationError
        When the file is missing, uses an unknown placeholder or a forbidden word.
    """
    if settings.template:
        path = Path(settings.template.replace("{lang}", lang))
        try:
            raw = path.read_text(encoding="utf-8")
        except OSError as err:
            msg = f"notices.template {str(path)!r} cannot be read ({err.strerror})"
            raise ConfigurationError(msg) from None
        except UnicodeDecodeError as err:
            msg = f"notices.template {str(path)!r} is not UTF-8 text ({err.reason} at byte {err.start}); save it as UTF-8"
            raise ConfigurationError(msg) from None
        source = str(path)
    else:
        raw = (resources.files("optimizer") / "templates" / f"notice.{lang}.txt").read_text(
            encoding="utf-8"
        )
        source = f"packaged notice.{lang}.txt"
    text = "\n".join(line for line in raw.splitlines() if not line.startswith("#")).strip()
    tpl = string.Template(text)
    unknown = sorted(set(tpl.get_identifiers()) - set(PLACEHOLDERS))
    if unknown or not tpl.is_valid():
        msg = (
            f"{source}: unknown placeholder ${{{unknown[0] if unknown else '?'}}}; "
            f"options are: {', '.join('${' + p + '}' for p in PLACEHOLDERS)}"
        )
        raise ConfigurationError(msg)
    if bad := forbidden_words(text):
        msg = f"{source}: notices must use neutral words; found {bad[0]!r}"
        raise ConfigurationError(msg)
    return text


def date_text(date: dt.date, lang: str) -> str:
    return f"{date.month}月{date.day}日" if lang == "zh" else date.strftime("%d %b").lstrip("0")


def document_table(settings: NoticeSettings, lang: str) -> dict[str, str]:
    """Neutral document names for ``lang``: the packaged table, then ``[notices.documents]``.

    Keys are compared in :func:`neutral_form`, so case, width and script do not matter.

    Raises
    ------
    ConfigurationError
        A configured neutral wording itself holds a forbidden word.
    """
    table = {neutral_form(k): v for k, v in DOCUMENTS[lang].items()}
    for name, wording in settings.documents.get(lang, {}).items():
        if bad := forbidden_words(wording):
            msg = f"notices.documents.{lang}: {wording!r} is not neutral; found {bad[0]!r}"
            raise ConfigurationError(msg)
        table[neutral_form(name.strip())] = wording
    return table


def documents_text(
    visit_id: str, documents: tuple[str, ...], lang: str, names: dict[str, str]
) -> str:
    out = []
    for doc in documents:
        label = names.get(neutral_form(doc.strip()), doc.strip())
        if forbidden_words(label):
            logger.warning("visit %s: a document name was replaced by neutral words", visit_id)
            label = names.get("", DOCUMENTS[lang][""])
        if label not in out:
            out.append(label)
    return _LIST_SEP[lang].join(out) if out else _NOTHING[lang]


def build_notices(
    day: DayPlan, template: str, *, lang: str | None = None, not_before_s: int | None = None
) -> list[Notice]:
    """Notices for every routed visit (in route order), then the unassigned ones.

    ``not_before_s`` (a re-plan: now plus ``[notices] lead_min``): no window told opens
    before then (:func:`optimizer.clock.told_window`).
    """
    cfg = day.settings.notices
    lang = lang or cfg.lang
    tpl = string.Template(template)
    visits = {v.visit_id: v for v in day.visits}
    agents = {a.agent_id: a for a in day.agents}
    desk = cfg.desk_phone or DESK_UNSET[lang]
    names = document_table(cfg, lang)
    notices: list[Notice] = []
    for route in day.plan.routes:
        shift = agents[route.agent_id].shift
        agent = agent_view(agents[route.agent_id], Audience.BORROWER)
        for stop in route.stops:
            view = visit_view(visits[stop.visit_id], Audience.BORROWER)
            # A visit without an appointment window is promised inside the agent's shift.
            bounds = view["window"] or shift
            window = (
                arrival_window(stop.start_s, cfg.window_min * 60, bounds)
                if not_before_s is None
                else told_window(stop.start_s, cfg.window_min * 60, bounds, not_before_s)
            )
            start, end = format_hhmm(window.start_s), format_hhmm(window.end_s)
            text = tpl.substitute(
                agent_name=agent["name"] or ("工作人员" if lang == "zh" else "our staff"),
                date=date_text(day.plan.date, lang),
                window_start=start,
                window_end=end,
                purpose=PURPOSES[lang].get(view["visit_type"], PURPOSES[lang][""]),
                documents=documents_text(view["visit_id"], view["documents"], lang, names),
                desk_phone=desk,
            )
            status = STATUS_NOTICE
            if bad := forbidden_words(text):
                # An agent name or desk number may still hold such a word: never send it.
                logger.warning(
                    "visit %s: notice not written: it would contain %r; fix the wording "
                    "(agent name, [notices] desk_phone or documents) and tell the borrower",
                    view["visit_id"],
                    bad[0],
                )
                text, status = "", STATUS_WITHHELD
            link = day.notice_links.get(stop.visit_id, "")
            if link and text:
                text = f"{text}\n{_LINK_LINE[lang]}{link}"
            notices.append(Notice(view["visit_id"], view["phone"], lang, start, end, text, status))
    for u in day.plan.unassigned:
        view = visit_view(visits[u.visit_id], Audience.BORROWER)
        notices.append(
            Notice(view["visit_id"], view["phone"], lang, "", "", "", STATUS_NEW_APPOINTMENT)
        )
    return notices
