"""Rough edges a person meets on the page (issue 13), each as that person would meet it: the
console shows no 404 while the page loads and while a run fails (favicon, checkpoint), and the
network picture's caption is true for a network without hidden layers."""

from __future__ import annotations

import base64
import json

import httpx
from playwright.sync_api import expect

from tests.web import ui


def not_found(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The URLs of this page's responses that are 404s, collected from now on."""
    seen: list[str] = []
    page.on("response", lambda r: seen.append(r.url) if r.status == 404 else None)
    return seen


def test_no_404_while_loading_and_while_a_run_fails(app) -> None:  # type: ignore[no-untyped-def]
    missing = not_found(app.page)
    page = app.open()
    # the page links its icon, and tools that ask /favicon.ico anyway get it too
    assert page.locator('link[rel="icon"]').get_attribute("href") == "/favicon.svg"
    assert page.evaluate("fetch('/favicon.ico').then(r => r.status)") == 200
    ui.load_preset(page, "lr_too_high")  # plain SGD at lr 0.7: diverges within ~100 steps
    page.get_by_role("button", name="Play", exact=True).click()
    expect(page.get_by_test_id("status")).to_contain_text("failed", timeout=120_000)
    expect(page.get_by_test_id("diagnosis")).to_contain_text("Diverged at step")
    page.wait_for_timeout(2000)  # the network view looks for weights once the run has ended
    assert missing == [], missing
    expect(page.get_by_test_id("network-view")).not_to_have_attribute("data-source", "checkpoint")


def no_hidden_link(url: str) -> str:
    """xor straight from input to one output unit (no hidden layer), long enough to stream."""
    spec = httpx.get(f"{url}/api/v1/catalog/presets").json()[0]["spec"]
    spec.pop("schema_version", None)
    spec.pop("networks", None)
    spec["data"] = {"name": "xor", "params": {}}
    spec["training"]["epochs"] = 100_000
    spec["network"] = {"nodes": [{"id": "input1", "kind": "input", "params": {}},
                                 {"id": "linear1", "kind": "linear",
                                  "params": {"out_features": 1}}],
                       "edges": [{"source": "input1", "target": "linear1"}], "output": None}
    return "/#s=" + base64.urlsafe_b64encode(json.dumps(spec).encode()).decode().rstrip("=")


def test_caption_of_a_network_without_hidden_layers(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open(no_hidden_link(app.url))
    ui.wait_valid(page)
    view = page.get_by_test_id("network-view")
    expect(view.locator(".link")).to_have_count(2)  # 2 inputs -> 1 output
    page.get_by_role("button", name="Play", exact=True).click()
    expect(view).to_have_attribute("data-source", "stream")
    caption = view.locator("p")
    expect(caption).to_contain_text("No hidden layer")
    expect(caption).not_to_contain_text("hidden unit")
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_test_id("status")).to_have_text("stopped")
    expect(view).to_have_attribute("data-source", "checkpoint")
    expect(caption).not_to_contain_text("hidden unit")
