"""Escaping for the context a value lands in: the one place every page goes through.

Ids, visit types, reasons and names come from the lending system's export and are
hostile until shown otherwise. On our pages a value lands in one of four contexts,
each with its own rules:

* HTML text and quoted attributes: :func:`html_text` (``& < > " '``). The agent
  page's Jinja environment (:func:`page_environment`) autoescapes the same characters.
* A JavaScript string inside ``<script>``: :func:`js_string` (JSON with ``< > & '``
  and the line separators as ``\\u`` escapes, so a value cannot end the script).
* A JavaScript template literal: folium builds popups as ``$(`...`)`` and tooltips as
  ``bindTooltip(`...`)``, where ``${...}`` would run on load and a backtick would end
  the literal. :func:`template_literal` escapes the backslash, the backtick, ``$``
  and ``</``.
* HTML inserted by script through ``innerHTML`` (popups, tooltips, and Leaflet's
  layer control, which inserts a layer's name as HTML): :func:`popup_html`,
  :func:`tooltip_html` and :func:`layer_name` compose the contexts in the right order.

Renderers build no markup from input values by hand: they call these functions.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence

import jinja2

_JS_STRING_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "'": "\\u0027",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def html_text(value: object) -> str:
    """``value`` as HTML text, also safe inside a quoted attribute."""
    return html.escape(str(value), quote=True)


def js_string(value: object) -> str:
    """``value`` as a JavaScript string literal (with its quotes) safe inside ``<script>``."""
    text = json.dumps(str(value), ensure_ascii=False)
    return "".join(_JS_STRING_ESCAPES.get(c, c) for c in text)


def template_literal(text: str) -> str:
    """``text`` as the inside of a JavaScript template literal: nothing in it is code.

    The backslash, the backtick and every ``$`` are escaped (``\\$`` is ``$``, so
    ``${`` never opens an expression); ``</`` becomes ``<\\/`` so that the literal
    cannot close the surrounding ``<script>``.
    """
    out = text.replace("\\", "\\\\").replace("`", "\\`").replace("$", "\\$")
    return re.sub(r"<(?=[/!])", r"<\\", out)


def popup_html(title: str, *lines: str, note: str = "") -> str:
    """A popup's markup for a folium template literal: bold ``title``, then ``note``, then lines.

    Every argument is plain text (ids, types, reasons): it is HTML-escaped here, then
    the whole markup is escaped for the template literal.
    """
    head = f"<b>{html_text(title)}</b>" + (f" {html_text(note)}" if note else "")
    body = "<br>".join([head, *(html_text(line) for line in lines)])
    return template_literal(body)


def tooltip_html(text: str) -> str:
    """A tooltip's text for folium's ``bindTooltip(`...`)``: shown as text, never run."""
    return template_literal(html_text(text))


def layer_name(text: str) -> str:
    """A layer name for the layer control, which Leaflet inserts as HTML.

    folium writes the name as a JSON string (safe in the script); the HTML escaping
    keeps it text once Leaflet puts it into the page.
    """
    return html_text(text)


def lines_html(rows: Sequence[str]) -> str:
    """Plain-text lines as HTML ``<div>`` rows (legends, notes)."""
    return "".join(f"<div>{html_text(r)}</div>" for r in rows)


def page_environment(loader: jinja2.BaseLoader) -> jinja2.Environment:
    """The Jinja environment of our pages: autoescaped HTML, ``js`` filter for scripts."""
    env = jinja2.Environment(
        loader=loader,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["js"] = js_string
    return env
