"""A server started with an access token (LIVEGRAD_ACCESS_TOKEN), as a teacher serves a
class: the page asks for the token, says so when it is refused, works once it is right (the
run's websocket streams: the token travels as its subprotocol), and keeps it for the tab, so
that a reload does not ask again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect

from tests.web import ui
from tests.web.conftest import Page, Server, page_of, serve_own

TOKEN = "class-token_7f3a"


@pytest.fixture
def locked_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serve_own(tmp_path_factory, "livegrad-token",
                         env={"LIVEGRAD_ACCESS_TOKEN": TOKEN})


@pytest.fixture
def locked_app(browser: object, locked_server: Server) -> Iterator[Page]:
    yield from page_of(browser, locked_server)


def enter(page, token: str) -> None:  # type: ignore[no-untyped-def]
    dialog = page.get_by_role("dialog", name="Access token")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Token").fill(token)
    dialog.get_by_role("button", name="Continue").click()


def test_the_page_asks_for_the_token_and_works_with_it(  # type: ignore[no-untyped-def]
        locked_app, locked_server) -> None:
    assert httpx.get(f"{locked_server.url}/api/v1/catalog").status_code == 401
    page = locked_app.page
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto(locked_server.url + ui.long_run_link(locked_server))
    dialog = page.get_by_role("dialog", name="Access token")
    expect(dialog).to_contain_text("needs an access token")
    locked_app.shot("token-1-asked")
    enter(page, "not-the-token")
    expect(dialog).to_contain_text("refused that token")
    enter(page, TOKEN)
    expect(dialog).to_be_hidden()
    page.wait_for_selector("body[data-ready=true]")

    ui.wait_valid(page)  # the server checked the network: REST carries the token
    page.get_by_role("button", name="Play", exact=True).click()
    ui.wait_until(lambda: ui.step_count(page) > 0, timeout=60)  # the websocket streams
    first = ui.step_count(page)
    ui.wait_until(lambda: ui.step_count(page) > first, timeout=60)
    run = re.search(r"run=(\w+)", page.evaluate("() => location.hash"))
    assert run is not None
    # the stream is the websocket's, with the token as its subprotocol, not in the URL
    assert sockets and all(f"/runs/{run[1]}/events" in u and TOKEN not in u for u in sockets)
    log = (locked_server.data / "server-1.log").read_text(errors="replace")
    assert f'"WebSocket /api/v1/runs/{run[1]}/events?' in log and "[accepted]" in log
    assert TOKEN not in log
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_test_id("status")).to_have_text("stopped")

    page.reload()  # the tab keeps the token: no second prompt
    page.wait_for_selector("body[data-ready=true]")
    expect(dialog).to_be_hidden()
    assert page.evaluate("() => sessionStorage.getItem('livegrad.token')") == TOKEN
    runs = httpx.get(f"{locked_server.url}/api/v1/runs", headers=locked_server.headers).json()
    assert run[1] in {r["id"] for r in runs["items"]}
