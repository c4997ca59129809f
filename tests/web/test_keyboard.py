"""The keyboard path: the same network as the newcomer's, built and started without a mouse:
focus moves with Tab / arrow keys or to a named control, and keys do the rest."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.web import ui


def test_keyboard_builds_moves_deletes_and_starts(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    kb = page.keyboard
    page.get_by_role("radio", name="band").focus()
    kb.press("ArrowRight")  # radio group: arrows choose the data set
    page.get_by_role("radio", name="xor").focus()
    kb.press("Enter")
    expect(page.get_by_role("radio", name="xor")).to_have_attribute("aria-checked", "true")

    page.get_by_role("button", name="Add linear layer").focus()
    kb.press("Enter")                                        # input1 -> linear1 (selected)
    field = page.locator('.inspector .field[data-key="out_features"] input')
    field.focus()
    kb.press("Control+A")
    kb.type("4")
    kb.press("Enter")
    page.get_by_role("button", name="Add dropout layer").focus()
    kb.press("Enter")                                        # linear1 -> dropout1
    page.get_by_role("button", name="Add tanh layer").focus()
    kb.press("Enter")                                        # dropout1 -> tanh1
    ui.expect_node_ids(page, ["input1", "linear1", "dropout1", "tanh1"])

    ui.node(page, "tanh1").focus()
    kb.press("Alt+ArrowUp")                                  # move tanh1 above dropout1
    expect(page.locator(".inspector")).to_be_visible()
    ui.wait_checked(page)  # the server's check redraws the canvas: focus stays on the layer
    expect(ui.node(page, "tanh1")).to_be_focused()
    expect(ui.node(page, "tanh1")).to_have_accessible_name(
        "tanh1: tanh, output (N, 4), 0 parameters")
    kb.press("ArrowDown")                                    # walk to the next layer
    kb.press("Enter")                                        # select dropout1
    expect(ui.node(page, "dropout1")).to_have_attribute("aria-pressed", "true")
    ui.node(page, "dropout1").focus()
    kb.press("Delete")
    ui.expect_node_ids(page, ["input1", "linear1", "tanh1"])
    ui.node(page, "tanh1").focus()
    kb.press("Enter")
    page.get_by_role("button", name="Add linear layer").focus()
    kb.press("Enter")                                        # tanh1 -> linear2
    field = page.locator('.inspector .field[data-key="out_features"] input')
    field.focus()
    kb.press("Control+A")
    kb.type("1")
    kb.press("Enter")
    expect(ui.node(page, "linear2").locator(".shape")).to_have_text("(N, 1)")
    expect(ui.node(page, "linear2")).to_have_accessible_name(
        "linear2: linear, out_features 1, output (N, 1), 5 parameters")
    edges = page.evaluate("() => location.hash")
    assert "linear2" in __import__("base64").urlsafe_b64decode(
        edges.split("s=")[1].split("&")[0] + "==").decode()

    epochs = page.locator('.training-panel .field[data-key="epochs"] input')
    epochs.focus()
    kb.press("Control+A")
    kb.type("100000")
    kb.press("Enter")
    play = page.get_by_role("button", name="Play", exact=True)
    expect(play).to_be_enabled()
    play.focus()
    kb.press("Enter")
    ui.wait_until(lambda: ui.step_count(page) > 0, timeout=60)
    pause = page.get_by_role("button", name="Pause", exact=True)
    expect(pause).to_be_focused()
    kb.press("Space")
    expect(page.get_by_test_id("status")).to_have_text("paused")
    app.shot("6-keyboard")
    page.get_by_role("button", name="Stop", exact=True).focus()
    kb.press("Enter")
    expect(page.get_by_test_id("status")).to_have_text("stopped")
