"""The connection banner, as a person sees it when the server goes away mid-run: the page says
so (an alert), says nothing once the server is back on the same port and the run's stream has
reconnected with `since`, and keeps working: the runs list loads, a new run starts and its
step counter advances.

The server here is this module's own (the session's shared one must not go down): started
with `livegrad serve --port <p> --data-dir <d>`, stopped, and started again with the same port
and data folder, as a restart in place would.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.web import ui
from tests.web.conftest import Page, Server, page_of, serve_own

BANNER = re.compile(r"Connection to the server lost")


@pytest.fixture
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serve_own(tmp_path_factory, "livegrad-reconnect")


@pytest.fixture
def own_app(browser: object, own_server: Server) -> Iterator[Page]:
    yield from page_of(browser, own_server)


def start_and_watch(page) -> str:  # type: ignore[no-untyped-def]
    """Presses Play, waits for the step counter to move; returns the run's id."""
    ui.wait_valid(page)
    before = page.evaluate("() => location.hash")
    page.get_by_role("button", name="Play", exact=True).click()
    # the page names its run in the URL (read from the page: Playwright's page.url is only
    # refreshed while it handles events)
    run = ui.wait_until(lambda: (h := page.evaluate("() => location.hash")) != before
                        and re.search(r"run=(\w+)", h), timeout=60)[1]
    ui.wait_until(lambda: ui.step_count(page) > 0, timeout=60)
    first = ui.step_count(page)
    ui.wait_until(lambda: ui.step_count(page) > first, timeout=60)
    return run


def test_banner_shows_while_the_server_is_away_and_the_page_recovers(  # type: ignore[no-untyped-def]
        own_app, own_server) -> None:
    page = own_app.open(ui.long_run_link(own_server))
    banner = page.get_by_role("alert").filter(has_text=BANNER)
    expect(banner).to_be_hidden()
    first_run = start_and_watch(page)

    own_server.stop()  # the run's socket closes: the page notices by itself
    expect(banner).to_be_visible()
    expect(banner).to_have_text(BANNER)
    own_app.shot("7-connection-lost")
    # it stays up while the server is away (the stream keeps retrying, with backoff)
    page.wait_for_timeout(1000)
    expect(banner).to_be_visible()

    own_server.start()  # same port, same data folder
    expect(banner).to_be_hidden()  # the stream reconnected (with since=<last seq>)

    # the page keeps working: the runs list loads (the first run is in it) ...
    page.get_by_role("button", name="Refresh runs").click()
    expect(page.get_by_role("button", name=f"Open run {first_run}")).to_be_visible()
    # ... and a new run starts and streams
    second_run = start_and_watch(page)
    assert second_run != first_run
    expect(banner).to_be_hidden()
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_test_id("status")).to_have_text("stopped")


def test_banner_clears_by_itself_when_no_run_streams(own_app, own_server) -> None:  # type: ignore[no-untyped-def]
    """No run streams, so nothing else retries: a request that failed while the server was
    away shows the banner, and the page itself notices the server's return."""
    page = own_app.open()
    banner = page.get_by_role("alert").filter(has_text=BANNER)
    own_server.stop()
    page.get_by_role("button", name="Refresh runs").click()  # the request fails
    expect(banner).to_be_visible()
    expect(page.get_by_text("Runs could not be listed")).to_be_visible()
    own_server.start()
    expect(banner).to_be_hidden()  # no click, no reload: the page asked by itself
    page.get_by_role("button", name="Refresh runs").click()
    expect(page.get_by_text("Runs could not be listed")).to_be_hidden()
    expect(page.get_by_text("No runs yet.")).to_be_visible()
