"""Headless Chromium for the page tests: Debian's browser, driven through its chromedriver.

Playwright cannot download its browsers here, so Selenium drives the system's
``chromium`` (``.ci/run`` installs ``chromium`` and ``chromium-driver``). Every page test
opens its browser through :func:`chromium`, so the flags that keep it offline and the
recorder that catches planted script are the same everywhere.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
#: No network: background requests off, and (unless told otherwise) no name resolves.
BASE_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking")
OFFLINE = "MAP * ~NOTFOUND"
#: Nothing resolves but the test server on 127.0.0.1.
LOCAL_ONLY = "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"

#: Runs before any page script: records every write to window.__pwned (the payloads'
#: marker), alert() calls and script errors (a broken literal kills the whole map).
RECORDER = """
window.__hits = []; window.__errors = [];
Object.defineProperty(window, '__pwned', {
  configurable: false,
  get: function () { return window.__hits.length; },
  set: function (v) { window.__hits.push(String(v)); }
});
window.alert = function (x) { window.__hits.push('alert ' + x); };
window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); });
"""


@contextmanager
def chromium(
    *,
    host_rules: str | None = OFFLINE,
    flags: tuple[str, ...] = (),
    mobile: Mapping[str, Any] | None = None,
) -> Iterator[Any]:
    """A headless Chromium with :data:`RECORDER` in every page; skipped (failed in CI)
    when the browser or its driver is missing."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install chromium and chromium-driver (apt) for the page tests")
        pytest.skip("headless Chromium not found: apt-get install chromium chromium-driver")
    webdriver = pytest.importorskip("selenium.webdriver", reason="pip install selenium")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in BASE_FLAGS + flags:
        options.add_argument(flag)
    if host_rules is not None:
        options.add_argument(f"--host-resolver-rules={host_rules}")
    if mobile is not None:
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": dict(mobile)})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORDER})
    try:
        yield driver
    finally:
        driver.quit()
