"""The network drawing follows training live: while a run streams (batched frames), its links
take the weights of each weights_sampled frame and its hidden units show their maps over the
plane; after the run, the drawing comes from the checkpoint."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.web import ui


def link_widths(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("[data-testid=network-view] .link").evaluate_all(
        "els => els.map(e => e.getAttribute('stroke-width'))")


def weights_step(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.get_by_test_id("network-view").get_attribute("data-weights-step") or 0)


def test_network_drawing_updates_while_the_run_streams(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    ui.open_lessons(page)
    page.get_by_role("button", name=re.compile("Load preset: Like or dislike")).click()
    expect(ui.canvas(page).locator(".node")).to_have_count(4)
    ui.set_training(page, "epochs", "100000")  # trains until the test stops it
    ui.wait_valid(page)
    view = ui.drawing(page)
    expect(view.locator(".link")).to_have_count(2 * 2 + 2 * 1)  # 2 -> 2 -> 1, grey for now
    page.get_by_role("button", name="Play", exact=True).click()

    expect(view).to_have_attribute("data-source", "stream")
    ui.wait_until(lambda: weights_step(page) > 0, timeout=60)
    first_step, first = weights_step(page), link_widths(page)
    # later frames move the links while the run goes on
    ui.wait_until(lambda: weights_step(page) > first_step and link_widths(page) != first,
                  timeout=60)
    expect(page.get_by_test_id("status")).to_have_text("running")
    expect(view).to_have_attribute("data-maps", "2")  # both hidden units show their maps
    assert any("batch=true" in url for url in sockets), sockets
    app.shot("7-live-network")

    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_test_id("status")).to_have_text("stopped")
    expect(view).to_have_attribute("data-source", "checkpoint")  # the final weights
