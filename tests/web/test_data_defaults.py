"""A data set brings its lesson's defaults (rough edge 5), as a newcomer meets it: on a fresh
page, build input -> linear(32) -> relu -> linear from the palette, then pick digits. The
page takes the digits lesson's training settings (cross-entropy, not the first lesson's
binary cross-entropy; its Adam settings) and widens the last layer to the ten classes, says
so, and one Undo takes it all back. Trained with those defaults, the net learns digits.

Budget: >= 95% test accuracy on scikit-learn's digits (20% held out) within the lesson's
20 epochs of batch 32 (Adam, lr 0.003, He init), seeded; the lesson's own 64-unit net
reaches 98%. Wall time is generous (3 minutes) for loaded machines.
"""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import expect

from tests.web import ui


def test_digits_from_scratch_take_the_lessons_defaults_and_learn(app, server) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    ui.drag_to_canvas(page, "linear")
    ui.drag_to_canvas(page, "relu")
    ui.drag_to_canvas(page, "linear")
    ui.expect_node_ids(page, ["input1", "linear1", "relu1", "linear2"])
    ui.set_param(page, "linear1", "out_features", "32")
    loss = page.locator("#choice-loss")
    before = loss.input_value()

    page.get_by_role("radio", name=re.compile(r"^digits")).click()
    expect(loss).to_have_value("cross_entropy")
    adapted = page.get_by_test_id("data-adapted")
    expect(adapted).to_contain_text('the lesson "Handwritten digits with an MLP"')
    expect(adapted).to_contain_text("linear2 has 10 outputs")
    expect(ui.node(page, "linear2").locator(".shape")).to_have_text("(N, 10)")

    page.get_by_role("button", name="Undo").click()  # one step back: data, loss, width
    expect(loss).to_have_value(before)
    expect(ui.node(page, "linear2").locator(".shape")).not_to_have_text("(N, 10)")
    page.get_by_role("button", name="Redo").click()
    expect(loss).to_have_value("cross_entropy")

    ui.wait_valid(page)
    page.get_by_role("button", name="Play", exact=True).click()
    run = ui.wait_until(lambda: (m := re.search(r"run=(\w+)", page.evaluate("location.hash")))
                        and m.group(1))

    def final() -> dict | None:  # type: ignore[type-arg]
        r = httpx.get(f"{server}/api/v1/runs/{run}").json()
        return r if r["status"] in ("completed", "failed") else None
    done = ui.wait_until(final, timeout=180, every=1.0)
    assert done["status"] == "completed", done
    assert done["metrics"]["test_accuracy"] >= 0.95, done["metrics"]
