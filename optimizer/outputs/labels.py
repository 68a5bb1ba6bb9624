"""The words of the agent page, the printed sheet, the overview map and the calendar.

They live in message files, ``optimizer/templates/labels.<lang>.toml`` (one per language
of ``[notices] lang`` / ``--lang``), not in code, so a translator edits text, not Python.
Every file must have the same keys as the English one, and the visit-type wording (it
shows on printed sheets and lock screens) must be neutral: a file that breaks either
rule is refused when loaded.
"""

from __future__ import annotations

import datetime as dt
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from optimizer.domain import Mode
from optimizer.errors import ConfigurationError
from optimizer.outputs.notices import forbidden_words

#: Tables every labels file holds, besides ``[text]``.
_TABLES = ("weekdays", "modes", "visit_types", "documents")


@dataclass(frozen=True, slots=True)
class Labels:
    """The texts of one language; call it with a key and the ``${...}`` values."""

    lang: str
    text: Mapping[str, str]
    weekdays: tuple[str, ...]
    modes: Mapping[str, str]
    visit_types: Mapping[str, str]
    documents: Mapping[str, str]

    def __call__(self, key: str, **values: object) -> str:
        """The text of ``key`` with its placeholders filled.

        Raises
        ------
        KeyError
            The key is unknown (a bug in a renderer, caught by the tests).
        """
        return string.Template(self.text[key]).substitute({k: str(v) for k, v in values.items()})

    def weekday(self, date: dt.date) -> str:
        return self.weekdays[date.weekday()]

    def mode(self, mode: Mode) -> str:
        return self.modes[mode.value]

    def purpose(self, visit_type: str) -> str:
        """The neutral words for a visit type; any type not in the file is "a visit".

        Used for calendar titles (lock screens): a dispatcher's own type name is never
        shown there.
        """
        return self.visit_types.get(visit_type) or self.visit_types[""]

    def visit_type(self, visit_type: str) -> str:
        """The badge on the page: the file's words, else the type code made readable
        (unless it holds a word that must not be printed)."""
        if visit_type in self.visit_types:
            return self.visit_types[visit_type]
        readable = visit_type.replace("_", " ").strip().capitalize()
        return readable if readable and not forbidden_words(readable) else self.visit_types[""]

    def document(self, name: str) -> str:
        return self.documents.get(name.strip().lower(), name.strip())


@cache
def _raw(lang: str) -> dict[str, Any]:
    path = resources.files("optimizer") / "templates" / f"labels.{lang}.toml"
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"no labels for language {lang!r} (expected templates/labels.{lang}.toml)"
        raise ConfigurationError(msg) from None


@cache
def labels(lang: str) -> Labels:
    """The labels of ``lang`` (``zh`` or ``en``), checked against the English file.

    Raises
    ------
    ConfigurationError
        The file is missing, lacks a key the English file has, or words a visit type
        with a forbidden word.
    """
    raw, reference = _raw(lang), _raw("en")
    source = f"templates/labels.{lang}.toml"
    for table in ("text", *_TABLES):
        if table not in raw:
            msg = f"{source}: table [{table}] is missing"
            raise ConfigurationError(msg)
    missing = sorted(set(reference["text"]) - set(raw["text"]))
    if missing:
        msg = f"{source}: key {missing[0]!r} is missing from [text]"
        raise ConfigurationError(msg)
    weekdays = tuple(raw["weekdays"]["names"])
    if len(weekdays) != 7:
        msg = f"{source}: [weekdays] names must list 7 days, Monday first"
        raise ConfigurationError(msg)
    modes = {m.value: raw["modes"][m.value] for m in Mode if m.value in raw["modes"]}
    if len(modes) != len(Mode):
        msg = f"{source}: [modes] must name every mode: {', '.join(m.value for m in Mode)}"
        raise ConfigurationError(msg)
    types = dict(raw["visit_types"])
    if "" not in types:
        msg = f'{source}: [visit_types] needs the "" entry (any other type)'
        raise ConfigurationError(msg)
    for code, words in types.items():
        if bad := forbidden_words(words):
            msg = f"{source}: [visit_types] {code!r} must use neutral words; found {bad[0]!r}"
            raise ConfigurationError(msg)
    return Labels(
        lang=lang,
        text=dict(raw["text"]),
        weekdays=weekdays,
        modes=modes,
        visit_types=types,
        documents={k.lower(): v for k, v in raw["documents"].items()},
    )


def travel_note(travel: Mapping[str, Any], used_modes: set[Mode], t: Labels) -> str:
    """What the times rest on, in the page's language (plan.json's note is English)."""
    if travel.get("model") != "osrm":
        return t("travel_straight") if travel.get("model") == "straight-line" else ""
    modes = travel.get("modes", {})
    straight = [
        t.mode(m)
        for m in sorted(used_modes)
        if modes.get(m.value, {}).get("model") == "straight-line"
    ]
    if straight:
        return t("travel_roads_partly", modes=t("list_sep").join(straight))
    return t("travel_roads")
