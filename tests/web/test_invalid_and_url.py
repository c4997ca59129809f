"""An invalid build is marked on its node and keeps play disabled; a copied link restores
the same network and settings in a new page; the runs list shows a finished run and reopens
its curves."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.web import ui


def test_merge_of_unequal_shapes_is_marked_and_blocks_play(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    ui.drag_to_canvas(page, "linear")                       # input1 -> linear1
    ui.drag_to_canvas(page, "add")                          # linear1 -> add1
    palette_linear = page.locator('.pal-item[data-kind="linear"]')
    ui.wait_checked(page)
    palette_linear.drag_to(ui.node(page, "input1"), steps=8)  # dropped on a layer: a branch
    ui.expect_node_ids(page, ["input1", "linear1", "add1", "linear2"])
    ui.wait_checked(page)
    ui.node(page, "linear2").locator(".port").drag_to(ui.node(page, "add1"), steps=8)  # the merge
    ui.wait_checked(page)  # 4 and 4 units: the merge is fine (the loss wants one output)
    expect(ui.node(page, "add1").locator(".node-error")).not_to_contain_text("equal shapes")
    ui.set_param(page, "linear2", "out_features", "3")
    error = ui.node(page, "add1").locator(".node-error")
    expect(error).to_contain_text("needs equal shapes")
    expect(error).to_contain_text("(N, 4) and (N, 3)")
    expect(ui.node(page, "add1")).to_have_attribute("aria-invalid", "true")
    play = page.get_by_role("button", name="Play", exact=True)
    expect(play).to_be_disabled()
    expect(page.get_by_test_id("play-reason")).to_contain_text("needs equal shapes")
    app.shot("4-invalid-merge")
    ui.set_param(page, "linear2", "out_features", "4")      # the merge fixed ...
    expect(ui.node(page, "add1").locator(".node-error")).not_to_contain_text("equal shapes")
    # ... the live check now names what is left: the loss wants one output
    expect(page.get_by_test_id("play-reason")).to_contain_text("needs output (N, 1)")
    ui.set_param(page, "linear1", "out_features", "1")
    ui.set_param(page, "linear2", "out_features", "1")
    expect(play).to_be_enabled()                            # fixed: play comes back
    expect(ui.node(page, "add1").locator(".node-error")).to_have_count(0)


def test_link_restores_the_page_and_runs_reopen(app, browser) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    ui.open_lessons(page)
    page.get_by_role("button", name=re.compile("Load preset: Like or dislike")).click()
    expect(ui.canvas(page).locator(".node")).to_have_count(4)
    ui.set_training(page, "epochs", "40")
    ui.set_training(page, "batch_size", "25")
    page.locator('.data-panel .field[data-key="noise"] input').fill("0.2")
    page.locator('.data-panel .field[data-key="noise"] input').dispatch_event("change")
    ui.wait_valid(page)
    page.get_by_role("button", name="Play", exact=True).click()
    expect(page.get_by_test_id("status")).to_have_text("completed", timeout=120_000)
    # the readout redraws at most ~8 times a second, so it may trail the status: read it once
    # it has settled on the final evaluation
    finished = ui.settled_metric(page, "test-loss")
    page.wait_for_function("() => location.hash.includes('run=')")
    link = page.url
    nodes = ui.node_ids(page)

    other = app.context.new_page()
    other.goto(link)
    other.wait_for_selector("body[data-ready=true]")
    assert ui.node_ids(other) == nodes
    expect(other.locator('.training-panel .field[data-key="epochs"] input')).to_have_value("40")
    expect(other.locator('.training-panel .field[data-key="batch_size"] input')).to_have_value("25")
    expect(other.locator('.data-panel .field[data-key="noise"] input')).to_have_value("0.2")
    expect(other.get_by_role("radio", name=re.compile("^band"))).to_have_attribute(
        "aria-checked", "true")
    # the link names the run too: its curves come back
    expect(other.get_by_test_id("status")).to_have_text("completed")
    ui.wait_until(lambda: ui.metric(other, "test-loss") == finished, timeout=30)

    other.get_by_role("button", name="Reset", exact=True).click()
    expect(other.get_by_test_id("test-loss")).to_have_text("\u2013")
    run_id = re.search(r"run=(\w+)", link).group(1)  # type: ignore[union-attr]
    row = other.locator(f'.runs li[data-run="{run_id}"]')
    expect(row.locator(".badge")).to_have_text("completed")
    row.get_by_role("button", name=f"Open run {run_id}").click()
    ui.wait_until(lambda: ui.metric(other, "test-loss") == finished, timeout=30)
    expect(other.get_by_test_id("status")).to_have_text("completed")
    app.page = other
    app.shot("5-reopened-run")
