"""Live validation covers the loss and the task against the output (rough edge 4), as a
person meets it: on the spiral lesson (cross-entropy on two outputs), choosing binary
cross-entropy marks the output layer at once, with the reason, and disables Play saying
why; choosing cross-entropy again clears both. Nothing waits for Play to find it.
And one dangling layer blanks only itself (rough edge 6): a link to a network with a layer
nothing feeds still shows every other layer's shape."""

from __future__ import annotations

import base64
import json
import re

from playwright.sync_api import expect

from tests.web import ui


def test_a_loss_that_does_not_fit_the_output_is_marked_on_the_node(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    ui.load_preset(page, "spiral_deep_tanh")
    out = ui.node_ids(page)[-1]
    page.locator("#choice-loss").select_option("binary_cross_entropy")
    error = ui.node(page, out).locator(".node-error")
    expect(error).to_contain_text("binary_cross_entropy on 2 classes needs output (N, 1)")
    expect(ui.node(page, out)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_disabled()
    expect(page.get_by_test_id("play-reason")).to_contain_text("needs output (N, 1)")

    page.locator("#choice-loss").select_option("cross_entropy")
    ui.wait_valid(page)
    expect(ui.node(page, out).locator(".node-error")).to_have_count(0)


def test_a_dangling_layer_leaves_every_other_shape_shown(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    ui.load_preset(page, "spiral_deep_tanh")
    doc_text = page.evaluate("new URLSearchParams(location.hash.slice(1)).get('s')")
    doc = json.loads(base64.urlsafe_b64decode(doc_text + "=" * (-len(doc_text) % 4)))
    doc["network"]["nodes"].append({"id": "lonely", "kind": "linear", "params": {}})
    encoded = base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")
    page.goto("about:blank")
    page = app.open(f"/#s={encoded}")
    ui.wait_checked(page)
    expect(ui.node(page, "lonely").locator(".node-error")).to_contain_text("nothing feeds")
    expect(ui.node(page, "lonely").locator(".shape")).to_have_text("?")
    expect(ui.node(page, "x").locator(".shape")).to_have_text("(N, 2)")
    expect(ui.node(page, "dense1").locator(".shape")).to_have_text("(N, 8)")


def test_a_layer_dropped_on_a_middle_layer_branches_and_keeps_the_output(app) -> None:  # type: ignore[no-untyped-def]
    """Rough edge 7: the old output stays the output; the branch says it waits for a merge."""
    page = app.open()
    ui.load_preset(page, "spiral_deep_tanh")
    out = ui.node_ids(page)[-1]
    expect(ui.node(page, out)).to_have_class(re.compile(r"\boutput\b"))
    page.locator('.pal-item[data-kind="linear"]').drag_to(ui.node(page, "dense2"), steps=8)
    ui.wait_checked(page)
    branch = ui.node_ids(page)[-1]
    assert branch != out
    expect(ui.node(page, out)).to_have_class(re.compile(r"\boutput\b"))
    expect(ui.node(page, branch)).not_to_have_class(re.compile(r"\boutput\b"))
    expect(ui.node(page, branch).locator(".node-error")).to_contain_text(
        f"the network's output is '{out}'")
    page.get_by_role("button", name="Undo").click()
    ui.wait_valid(page)
