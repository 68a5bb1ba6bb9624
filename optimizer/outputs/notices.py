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
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from optimizer.clock import arrival_window, format_hhmm
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

#: Words no notice may contain (matched case-insensitively, also inside longer words).
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
    "债",
    "欠",
    "逾期",
    "催",
    "贷",
    "还款",
)
# English words match from a word start ("owe" in "owed", not in "power").
_FORBIDDEN_RE = re.compile(
    "|".join((r"\b" if w.isascii() else "") + re.escape(w) for w in FORBIDDEN), re.IGNORECASE
)

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
_DESK_UNSET = {"zh": "调度台（号码未设置）", "en": "the dispatch desk (number not set)"}


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
    """The forbidden words found in ``text`` (empty when it is neutral)."""
    return [m.group(0) for m in _FORBIDDEN_RE.finditer(text)]


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


def _date_text(date: dt.date, lang: str) -> str:
    return f"{date.month}月{date.day}日" if lang == "zh" else date.strftime("%d %b").lstrip("0")


def _documents_text(visit_id: str, documents: tuple[str, ...], lang: str) -> str:
    names = DOCUMENTS[lang]
    out = []
    for doc in documents:
        label = names.get(doc.strip().lower(), doc.strip())
        if forbidden_words(label):
            logger.warning("visit %s: a document name was replaced by neutral words", visit_id)
            label = names[""]
        if label not in out:
            out.append(label)
    return _LIST_SEP[lang].join(out) if out else _NOTHING[lang]


def build_notices(day: DayPlan, template: str, *, lang: str | None = None) -> list[Notice]:
    """Notices for every routed visit (in route order), then the unassigned ones."""
    cfg = day.settings.notices
    lang = lang or cfg.lang
    tpl = string.Template(template)
    visits = {v.visit_id: v for v in day.visits}
    agents = {a.agent_id: a for a in day.agents}
    desk = cfg.desk_phone or _DESK_UNSET[lang]
    notices: list[Notice] = []
    for route in day.plan.routes:
        shift = agents[route.agent_id].shift
        agent = agent_view(agents[route.agent_id], Audience.BORROWER)
        for stop in route.stops:
            view = visit_view(visits[stop.visit_id], Audience.BORROWER)
            # A visit without an appointment window is promised inside the agent's shift.
            bounds = view["window"] or shift
            window = arrival_window(stop.start_s, cfg.window_min * 60, bounds)
            start, end = format_hhmm(window.start_s), format_hhmm(window.end_s)
            text = tpl.substitute(
                agent_name=agent["name"] or ("工作人员" if lang == "zh" else "our staff"),
                date=_date_text(day.plan.date, lang),
                window_start=start,
                window_end=end,
                purpose=PURPOSES[lang].get(view["visit_type"], PURPOSES[lang][""]),
                documents=_documents_text(view["visit_id"], view["documents"], lang),
                desk_phone=desk,
            )
            if forbidden_words(text):
                # An agent name or desk number may still hold such a word; never send it.
                logger.warning("visit %s: notice text not neutral; left empty", view["visit_id"])
                text = ""
            notices.append(
                Notice(view["visit_id"], view["phone"], lang, start, end, text, STATUS_NOTICE)
            )
    for u in day.plan.unassigned:
        view = visit_view(visits[u.visit_id], Audience.BORROWER)
        notices.append(
            Notice(view["visit_id"], view["phone"], lang, "", "", "", STATUS_NEW_APPOINTMENT)
        )
    return notices
