"""A new document and the run shown (rough edges 1 and 8), as a person meets them: loading a
lesson while a run trains asks first, then stops that run and clears its boundary, counters
and status; declining keeps both. A link with `&run=` keeps it in the address from the first
moment of the load, and adding `&run=` to the address by hand opens that run.
"""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import expect

from tests.web import ui

RUN = re.compile(r"[#&]run=(\w+)")


def start_lesson(page, name: str = "spiral_deep_tanh", epochs: str | None = None) -> str:  # type: ignore[no-untyped-def]
    ui.load_preset(page, name)
    if epochs:
        ui.set_training(page, "epochs", epochs)
    page.get_by_role("button", name="Play", exact=True).click()
    ui.wait_until(lambda: ui.step_count(page) > 0, timeout=60)
    return RUN.search(page.url).group(1)  # type: ignore[union-attr]


def status_of(server: str, run: str) -> str:
    return httpx.get(f"{server}/api/v1/runs/{run}").json()["status"]


def test_a_new_lesson_asks_then_leaves_the_running_run(app, server) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    run = start_lesson(page, epochs="100000")  # long enough to be training when asked
    asked: list[str] = []

    def decline(dialog):  # type: ignore[no-untyped-def]
        asked.append(dialog.message)
        dialog.dismiss()
    page.once("dialog", decline)
    ui.preset_button(page, "plane_regression").click()
    ui.wait_until(lambda: asked, timeout=10)
    assert "A run is training" in asked[0]
    expect(page.get_by_test_id("status")).to_have_text("running")  # declined: nothing moved
    assert status_of(server, run) == "running"

    page.once("dialog", lambda dialog: dialog.accept())
    ui.preset_button(page, "plane_regression").click()
    expect(page.get_by_test_id("status")).to_have_text("idle")
    expect(page.get_by_test_id("step")).to_have_text("0")
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_enabled()
    assert not RUN.search(page.url)
    ui.wait_until(lambda: status_of(server, run) == "stopped", timeout=30)


def test_a_run_link_keeps_its_run_and_a_hand_added_run_opens(app, server) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    run = start_lesson(page, "plane_regression")
    ui.wait_until(lambda: status_of(server, run) == "completed", timeout=120)
    link = page.url
    page.goto("about:blank")
    seen: list[str] = []
    page.goto(link)
    for _ in range(20):  # the address as a person could copy it, through the page's load
        seen.append(page.evaluate("location.hash"))
        page.wait_for_timeout(20)
    page.wait_for_selector("body[data-ready=true]")
    assert all(f"run={run}" in h for h in seen), [h[-30:] for h in seen]
    expect(page.get_by_test_id("status")).to_have_text("completed")

    page.goto("about:blank")
    page.goto(link.split("&run=")[0])  # the same document, no run
    page.wait_for_selector("body[data-ready=true]")
    expect(page.get_by_test_id("status")).to_have_text("idle")
    page.evaluate("(id) => { location.hash += `&run=${id}`; }", run)
    expect(page.get_by_test_id("status")).to_have_text("completed")
    ui.wait_until(lambda: ui.step_count(page) > 0, timeout=30)  # its events follow
