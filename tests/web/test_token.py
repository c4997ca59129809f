"""A server started with an access token (LIVEGRAD_ACCESS_TOKEN), as a teacher serves a
class: the page asks for the token, says so when it is refused, works once it is right (the
run's websocket streams: the token travels as its subprotocol), and keeps it for the tab, so
that a reload does not ask again.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect

from tests.web import ui
from tests.web.conftest import ROOT, Page, Server

TOKEN = "class-token_7f3a"


@pytest.fixture(scope="module")
def locked_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not (ROOT / "web" / "node_modules" / "uplot").is_dir():
        pytest.skip("web/node_modules is missing: run `make setup` (npm ci in web/)")
    server = Server(tmp_path_factory.mktemp("livegrad-token"),
                    env={"LIVEGRAD_ACCESS_TOKEN": TOKEN})
    server.start()
    yield server
    server.stop()


@pytest.fixture
def locked_app(browser: object, locked_server: Server) -> Iterator[Page]:
    page = Page(browser, locked_server.url)
    yield page
    page.context.close()
    assert not page.errors, page.errors


def run_link(server: Server) -> str:
    """The first preset with a 2-4-1 tanh MLP on xor, long enough to outlast the test."""
    presets = httpx.get(f"{server.url}/api/v1/catalog/presets", headers=server.headers)
    spec = presets.json()[0]["spec"]
    spec.pop("schema_version", None)
    spec["data"] = {"name": "xor", "params": {}}
    spec["training"]["epochs"] = 100_000
    nodes = [("input1", "input", {}), ("linear1", "linear", {"out_features": 4}),
             ("tanh1", "tanh", {}), ("linear2", "linear", {"out_features": 1})]
    spec["network"] = {"nodes": [{"id": i, "kind": k, "params": p} for i, k, p in nodes],
                       "edges": [{"source": a[0], "target": b[0]}
                                 for a, b in zip(nodes, nodes[1:], strict=False)],
                       "output": None}
    spec.pop("networks", None)
    doc = base64.urlsafe_b64encode(json.dumps(spec).encode()).decode().rstrip("=")
    return f"/#s={doc}"


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
    page.goto(locked_server.url + run_link(locked_server))
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
