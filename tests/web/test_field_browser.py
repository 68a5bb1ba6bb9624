"""The agent's link in a real browser on a phone-sized screen, against a real server.

An agent opens their link in headless Chromium (390 x 844), records an outcome with a
hostile note, and the dispatcher, logged in, sees it on the field screen. Borrowers'
and agents' names carry every markup payload of tests/hostile.py: nothing runs on any
page (the recorder of tests/outputs/test_page_injection.py counts every attempt).

Needs Debian's chromium and chromium-driver and selenium: skipped outside CI when they
are missing, a failure in CI.
"""

from __future__ import annotations

import _socket
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from optimizer.book.db import open_book, resolve_url
from optimizer.book.links import issue_agent_link, issue_borrower_links
from optimizer.settings import BookSettings
from optimizer.web.app import create_app
from tests.browser import chromium
from tests.hostile import MARKUP
from tests.web.conftest import PASSWORD, make_book
from tests.web.fieldday import ACTOR, DAY, MORNING, SETTINGS, TZ, Clock, import_day, plan

PHONE = {"width": 390, "height": 844, "pixelRatio": 3}
RESULT = "return {hits: window.__hits, errors: window.__errors, width: window.innerWidth};"
#: The socket functions as they were before the suite's network guard replaced them.
_REAL = {"create_connection": socket.create_connection, "getaddrinfo": socket.getaddrinfo}


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A real uvicorn on a free port, on a book with one hostile day planned."""
    folder = tmp_path_factory.mktemp("browser")
    url = make_book(folder / "book.db")
    header = "visit_id,name,phone,address,lat,lon,window_start,window_end,duration_min,documents\n"
    rows = "".join(
        f"V0{i},{_csv_cell(f'Borrower {i} ' + MARKUP[i % len(MARKUP)])},1380000000{i},"
        f"{_csv_cell(f'Road {i} ' + MARKUP[(i + 1) % len(MARKUP)])},{30.650 + i * 0.002:.3f},"
        f"104.060,09:00,17:00,30,{_csv_cell('id card;' + MARKUP[(i + 2) % len(MARKUP)])}\n"
        for i in range(1, 4)
    )
    agents = (
        "agent_id,name,start_lat,start_lon,shift_start,shift_end\n"
        f"A1,{_csv_cell('Agent ' + MARKUP[5])},30.652,104.062,09:00,17:00\n"
    )
    import_day(url, folder, header + rows, agents)
    routed = plan(url, folder / "out")
    book = open_book(resolve_url(url, BookSettings()), BookSettings())
    try:
        agent = issue_agent_link(book, "A1", DAY, TZ, ACTOR, now=MORNING)
        borrowers = issue_borrower_links(book, routed, DAY, TZ, ACTOR, now=MORNING)
    finally:
        book.close()
    app = create_app(url, settings=SETTINGS, out_dir=folder / "console", clock=Clock(MORNING))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert uv.started, "uvicorn did not start"
    try:
        yield {"base": f"http://127.0.0.1:{port}", "agent": agent, "borrowers": borrowers}
    finally:
        uv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def phone(server: dict[str, Any]) -> Iterator[Any]:
    with chromium(host_rules=None, mobile=PHONE) as driver:  # the server is on 127.0.0.1
        yield driver


@pytest.fixture
def loopback(monkeypatch: pytest.MonkeyPatch, _no_network: list[str]) -> None:
    """Let this test reach the local server and chromedriver, and nothing else."""

    def local(host: object) -> bool:
        return host in ("127.0.0.1", "localhost", "::1")

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        if not local(address[0]):
            _no_network.append(f"create_connection{address}")
            msg = "tests must not use the network"
            raise OSError(msg)
        return _REAL["create_connection"](address, *args, **kwargs)  # type: ignore[no-any-return]

    def getaddrinfo(host: object, *args: Any, **kwargs: Any) -> Any:
        if not local(host):
            _no_network.append(f"getaddrinfo({host!r})")
            msg = "tests must not use the network"
            raise OSError(msg)
        return _REAL["getaddrinfo"](host, *args, **kwargs)

    def connect(sock: socket.socket, address: Any) -> None:
        if sock.family != socket.AF_UNIX and not local(address[0]):
            _no_network.append(f"connect{address}")
            msg = "tests must not use the network"
            raise OSError(msg)
        _socket.socket.connect(sock, address)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)


def _nothing_ran(phone: Any) -> dict[str, Any]:
    time.sleep(0.3)  # let any <img onerror> or <svg onload> fire
    seen: dict[str, Any] = phone.execute_script(RESULT)
    assert seen["hits"] == [], "a payload ran"
    return seen


@pytest.mark.usefixtures("loopback")
def test_agent_records_an_outcome_and_the_dispatcher_sees_it(
    server: dict[str, Any], phone: Any
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def wait_for(selector: str) -> Any:
        return WebDriverWait(phone, 30).until(lambda d: d.find_element(By.CSS_SELECTOR, selector))

    base = server["base"]
    phone.get(f"{base}/a/{server['agent']}")
    seen = _nothing_ran(phone)
    assert seen["width"] == PHONE["width"] and seen["errors"] == []
    cards = phone.find_elements(By.CSS_SELECTOR, "article.stop")
    assert len(cards) == 3
    assert MARKUP[5] in phone.find_element(By.CSS_SELECTOR, "h1").text
    # every card fits the phone: nothing wider than the screen
    assert phone.execute_script("return document.documentElement.scrollWidth;") <= PHONE["width"]
    card = phone.find_element(By.CSS_SELECTOR, 'article[data-visit-id="V01"]')
    assert "Door code" in card.text
    note = MARKUP[0] + " " + MARKUP[1]
    card.find_element(By.CSS_SELECTOR, "textarea[name=note]").send_keys(note)
    card.find_element(By.CSS_SELECTOR, "button[value=done]").click()
    flash = wait_for("#flash")
    assert flash.text == "Saved: Done."
    _nothing_ran(phone)
    card = phone.find_element(By.CSS_SELECTOR, 'article[data-visit-id="V01"]')
    assert note in card.find_element(By.CSS_SELECTOR, ".reported").text
    assert not card.find_elements(By.CSS_SELECTOR, "form.outcome")  # done: no more forms
    # the borrower's page of another stop: names carry payloads too, none runs
    phone.get(f"{base}/b/{server['borrowers']['V02']}")
    _nothing_ran(phone)
    assert phone.find_elements(By.CSS_SELECTOR, "button[value=confirm]")
    # the dispatcher logs in and sees the outcome on the field screen
    phone.get(f"{base}/login")
    phone.find_element(By.ID, "username").send_keys("dispatcher")
    phone.find_element(By.ID, "password").send_keys(PASSWORD)
    phone.find_element(By.ID, "login").click()
    WebDriverWait(phone, 30).until(lambda d: not d.current_url.endswith("/login"))
    phone.get(f"{base}/field?date={DAY.isoformat()}")
    _nothing_ran(phone)
    row = wait_for('#field-reports tr[data-visit-id="V01"]')
    assert "done" in row.find_element(By.CSS_SELECTOR, ".outcome").text
    assert row.find_element(By.CSS_SELECTOR, ".note").text == note
    assert "A1" in row.text
