"""Stored XSS: every markup payload of tests/hostile.py, in every text field, runs nowhere.

Each payload is planted in every text field of both input files (ids, names, address,
visit type, skills, documents, the pin), the day is planned through the CLI, and every
page is opened in headless Chromium: nothing may run on load, nor after every popup and
tooltip is opened, and the map must still work (markers, popups, layer control).

The browser test needs Debian's ``chromium`` and ``chromium-driver`` and the Python
package ``selenium``; it is skipped with a message when they are missing outside CI,
and fails in CI. The page-source checks below it run everywhere.
"""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from optimizer.cli import main
from optimizer.outputs.escaping import js_string, popup_html, template_literal, tooltip_html
from tests.browser import chromium
from tests.helpers import ROOT
from tests.hostile import MARKUP

OPEN_EVERYTHING = """
var maps = [];
for (var k in window) {
  try { if (window.L && window[k] instanceof L.Map) { maps.push(window[k]); } } catch (e) {}
}
var n = {maps: maps.length, markers: 0, popups: 0, tooltips: 0};
maps.forEach(function (m) { m.eachLayer(function (l) {
  if (l.getLatLng) { n.markers += 1; }
  if (l.getPopup && l.getPopup()) { l.openPopup(); n.popups += 1; }
  if (l.getTooltip && l.getTooltip()) { l.openTooltip(); n.tooltips += 1; }
}); });
n.layers = document.querySelectorAll('.leaflet-control-layers-overlays label').length;
return n;
"""
RESULT = "return {hits: window.__hits, errors: window.__errors, title: document.title};"
CONFIG = '[maps]\ntiles = "none"\n[solver]\nworkers = 1\nmetaheuristic = "GREEDY_DESCENT"\n'


def _id_safe(payload: str) -> str:
    # Ids become file names; ids with "/" are another item's concern (safe file names).
    return payload.replace("/", "")


def _plant(payload: str, folder: Path) -> tuple[Path, Path]:
    """data/tiny with ``payload`` in every text field, plus one visit nobody can serve."""
    with (ROOT / "data" / "tiny" / "visits.csv").open(encoding="utf-8-sig") as fh:
        visits = list(csv.DictReader(fh))
    with (ROOT / "data" / "tiny" / "agents.csv").open(encoding="utf-8-sig") as fh:
        agents = list(csv.DictReader(fh))
    ids = {a["agent_id"]: f"{a['agent_id']}{_id_safe(payload)}" for a in agents}
    for a in agents:
        a["agent_id"] = ids[a["agent_id"]]
        a["name"] = f"{a['name']}{payload}"
        a["skills"] = f"{a['skills']};{payload}"
    late = dict(visits[0], window_start="05:00", window_end="05:30")
    late["visit_id"] = "V0099"
    for v in [*visits, late]:
        v["visit_id"] = f"{v['visit_id']}{_id_safe(payload)}"
        for column in ("name", "address", "visit_type", "documents"):
            v[column] = f"{v[column]}{payload}"
    visits[0]["agent_id"] = ids["A01"]  # a pin carries the hostile agent id
    late["skills"] = payload
    visits.append(late)
    paths = folder / "visits.csv", folder / "agents.csv"
    for path, rows in zip(paths, (visits, agents), strict=True):
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return paths


def _plan(payload: str, folder: Path) -> Path:
    visits, agents = _plant(payload, folder)
    config = folder / "w1.toml"
    config.write_text(CONFIG, encoding="utf-8")
    out = folder / "out"
    args = ["plan", str(visits), str(agents), "--date", "2026-12-01", "--time-limit", "1"]
    assert main([*args, "--config", str(config), "--out", str(out), "-q"]) == 0
    return out


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One planned folder per markup payload."""
    return {p: _plan(p, tmp_path_factory.mktemp(f"xss{k}")) for k, p in enumerate(MARKUP)}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as driver:
        yield driver


@pytest.mark.parametrize("payload", MARKUP)
def test_no_payload_runs_and_the_map_works(
    payload: str, planned: dict[str, Path], browser: Any
) -> None:
    out = planned[payload]
    pages = sorted(out.glob("*.html"))
    assert len(pages) == 3  # overview and the two agents' pages
    for page in pages:
        browser.get(page.as_uri())
        opened = browser.execute_script(OPEN_EVERYTHING)
        time.sleep(0.3)  # let <img onerror> and <svg onload> in opened popups fire
        seen = browser.execute_script(RESULT)
        assert seen["hits"] == [], f"{page.name}: payload ran"
        assert seen["errors"] == [], f"{page.name}: script errors {seen['errors']}"
        assert opened["maps"] == 1 and opened["markers"] >= 2 and opened["popups"] >= 1
        assert opened["tooltips"] >= opened["popups"]
        if page.name == "overview.html":
            assert opened["layers"] == 3  # two agents and the unassigned layer
            assert opened["popups"] == 7  # six routed visits and the unassigned one
        else:
            assert payload in browser.find_element("css selector", "h1").text


# --------------------------------------------------- page source, no browser needed


@pytest.mark.parametrize("payload", MARKUP)
def test_escaped_text_cannot_open_code_in_a_template_literal(payload: str) -> None:
    for text in (tooltip_html(payload), popup_html(payload, payload, note=payload)):
        unescaped = text.replace("\\\\", "")
        assert "${" not in unescaped.replace("\\${", "")
        assert "`" not in unescaped.replace("\\`", "")
        assert "</" not in text
        assert "<script" not in text.lower() and "<img" not in text.lower()


@pytest.mark.parametrize("payload", MARKUP)
def test_js_string_cannot_end_the_script(payload: str) -> None:
    text = js_string(payload)
    assert "<" not in text and ">" not in text and "'" not in text
    assert text.startswith('"') and text.endswith('"')


def test_template_literal_keeps_plain_text() -> None:
    assert template_literal("V0001 10:30") == "V0001 10:30"
    assert template_literal("a$b`c\\d") == "a\\$b\\`c\\\\d"


@pytest.mark.parametrize("payload", MARKUP)
def test_scripts_hold_no_live_markup(payload: str, planned: dict[str, Path]) -> None:
    for page in planned[payload].glob("*.html"):
        text = page.read_text(encoding="utf-8")
        scripts = re.findall(r"<script>(.*?)</script>", text, flags=re.DOTALL)
        for script in scripts:
            assert "<img src=x onerror" not in script and "<svg onload" not in script
