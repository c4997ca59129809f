"""The network drawing in the centre, as a student uses it: a lesson played at one epoch per
frame changes the loss chart and every hidden unit's map between two moments; +/- sets a
layer's width; a layer dropped between two columns lands there; hovering a unit enlarges its
map with its range; a link opens its weight; arrow keys walk the units."""

from __future__ import annotations

import base64
import json
import re

import httpx
from playwright.sync_api import Page, expect

from tests.web import ui

LESSON = "spiral_deep_tanh"  # 2 inputs, six hidden layers of 8 tanh units, 2 outputs


def unit_pixels(page: Page, role: str) -> list[str]:
    return page.locator(f"[data-testid=network-view] .unit.{role} canvas").evaluate_all(
        "els => els.map(c => c.toDataURL())")


def loss_pixels(page: Page) -> str:
    return page.locator("[data-testid=loss-chart] canvas").first.evaluate("c => c.toDataURL()")


def test_a_lesson_at_one_epoch_per_frame_changes_every_map(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    ui.load_preset(page, LESSON)
    view = ui.drawing(page)
    expect(view.locator(".unit.hidden")).to_have_count(48)
    expect(view.locator(".link")).to_have_count(2 * 8 + 5 * 8 * 8 + 8 * 2)
    page.get_by_label("Speed", exact=True).select_option(label="1 epoch per frame")
    page.get_by_role("button", name="Play", exact=True).click()
    # every unit shows its map: 2 inputs, 48 hidden units, 2 outputs
    ui.wait_until(lambda: int(view.get_attribute("data-mapped") or 0) == 52, timeout=60)
    ui.wait_until(lambda: ui.step_count(page) > 200, timeout=60)
    maps, outs, loss = unit_pixels(page, "hidden"), unit_pixels(page, "output"), loss_pixels(page)
    page.wait_for_timeout(800)  # about 50 epochs later
    assert ui.step_count(page) < 5000, "the lesson ended before the second look"
    later = unit_pixels(page, "hidden")
    changed = sum(a != b for a, b in zip(maps, later, strict=True))
    assert changed == 48, f"{changed} of 48 hidden maps changed"
    assert all(a != b for a, b in zip(outs, unit_pixels(page, "output"), strict=True))
    assert loss_pixels(page) != loss
    app.shot("drawing-1-training")
    expect(page.get_by_test_id("status")).to_have_text("completed", timeout=60_000)


def test_quick_edits_on_the_drawing(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    ui.load_preset(page, LESSON)
    view = ui.drawing(page)
    # +/- on a hidden layer: its width, undoable
    view.get_by_role("button", name="One unit more in dense2").click()
    expect(view.locator('.unit.hidden[data-col="2"]')).to_have_count(9)
    view.get_by_role("button", name="One unit less in dense2").click()
    view.get_by_role("button", name="One unit less in dense2").click()
    expect(view.locator('.unit.hidden[data-col="2"]')).to_have_count(7)
    page.get_by_role("button", name="Undo").click()
    expect(view.locator('.unit.hidden[data-col="2"]')).to_have_count(8)

    # a header selects its layer for the inspector
    view.locator('[data-select="act3"]').click()
    expect(page.locator(".inspector h3")).to_contain_text("act3")
    page.get_by_role("button", name="Close the inspector").click()

    # a linear layer dropped after the first hidden column lands between act1 and dense2
    ui.wait_checked(page)
    ui.show_tab(page, "Drawing")
    page.locator('.pal-item[data-kind="linear"]').drag_to(  # zones take pointers in a drag only
        view.locator('.drop-zone[data-after="1"]'), steps=8, force=True)
    heads = view.locator(".col-head")
    expect(heads).to_have_count(9)
    assert heads.evaluate_all("els => els.map(e => e.dataset.id)") == [
        "x", "dense1", "linear1", "dense2", "dense3", "dense4", "dense5", "dense6", "out"]
    expect(view.locator('.unit[data-col="2"]')).to_have_count(8)  # the neighbour's width
    page.get_by_role("button", name="Undo").click()
    ui.show_tab(page, "Drawing")

    # hover a unit: its map enlarged with its range, once a run streamed maps
    view.locator('.unit.hidden[data-col="1"][data-unit="0"]').hover()
    expect(page.get_by_test_id("unit-zoom")).to_contain_text("its map comes once a run streams")
    # a link: its weight, which exists once a run trains
    at = view.locator(".link-hit").first.evaluate(
        "p => { const m = p.getScreenCTM(); const q = p.getPointAtLength(p.getTotalLength() / 2);"
        " return [m.a * q.x + m.e, m.d * q.y + m.f]; }")
    page.mouse.click(*at)
    expect(page.get_by_test_id("link-edit")).to_contain_text("Weights exist once a run trains")
    page.get_by_role("button", name="Close").click()
    expect(page.get_by_test_id("link-edit")).to_be_hidden()

    # the keyboard: one tab stop, arrows walk the units, Enter selects the layer
    first = view.locator('.unit[data-col="0"][data-unit="0"]')
    first.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("[document.activeElement.dataset.col,"
                            " document.activeElement.dataset.unit]")
    assert focused == ["1", "1"], focused
    page.keyboard.press("Enter")
    expect(page.locator(".inspector h3")).to_contain_text("dense1")
    app.shot("drawing-2-edits")


def test_a_link_sets_its_weight_on_a_paused_run(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    ui.load_preset(page, LESSON)
    ui.set_training(page, "epochs", "100000")
    ui.wait_valid(page)
    page.get_by_label("Speed", exact=True).select_option(label="One step at a time")
    page.get_by_role("button", name="Play", exact=True).click()  # created held: step 0
    expect(page.get_by_test_id("status")).to_have_text("paused", timeout=120_000)
    page.get_by_role("button", name="Step once").click()
    ui.wait_until(lambda: ui.step_count(page) == 1, timeout=60)
    view = ui.drawing(page)
    ui.wait_until(lambda: int(view.get_attribute("data-weights-step") or -1) >= 1, timeout=120)
    first = view.locator('.link-hit[data-node="dense2"][data-row="3"][data-col="5"]')
    at = first.evaluate(
        "p => { const m = p.getScreenCTM(); const q = p.getPointAtLength(p.getTotalLength() / 2);"
        " return [m.a * q.x + m.e, m.d * q.y + m.f]; }")
    page.mouse.click(*at)
    editor = page.get_by_test_id("link-edit")
    expect(editor).to_contain_text("Set between two steps")
    # links cross: the one on top at that point is the one opened; its name says which
    name = editor.locator("p").first.text_content() or ""
    found = re.fullmatch(r"(\w+)\[(\d+)\] \u2192 (\w+)\[(\d+)\]", name)
    assert found, name
    hit = view.locator(f'.link-hit[data-node="{found[3]}"][data-row="{found[4]}"]'
                       f'[data-col="{found[2]}"]')
    editor.get_by_label("Weight").fill("2.5")
    editor.get_by_role("button", name="Set").click()
    expect(editor).to_be_hidden()
    # the paused run answers with its weights: the link reads the new value
    expect(hit.locator("title")).to_contain_text(": 2.50", timeout=30_000)
    expect(page.get_by_test_id("status")).to_have_text("paused")
    # a bad value is refused on the page, the editor stays
    page.mouse.click(*at)
    editor.get_by_label("Weight").fill("")
    editor.get_by_role("button", name="Set").click()
    expect(editor).to_contain_text("A weight is a finite number")


def residual_link(app) -> str:  # type: ignore[no-untyped-def]
    """xor through input -> linear(2) -> tanh -> add, with the input also fed to the add."""
    presets = httpx.get(f"{app.url}/api/v1/catalog/presets").json()
    spec = presets[0]["spec"]
    spec.pop("schema_version", None)
    spec.pop("networks", None)
    spec["data"] = {"name": "xor", "params": {}}
    nodes = [("x", "input", {}), ("h", "linear", {"out_features": 2}), ("t", "tanh", {}),
             ("sum", "add", {}), ("out", "linear", {"out_features": 1})]
    edges = [("x", "h"), ("h", "t"), ("t", "sum"), ("x", "sum"), ("sum", "out")]
    spec["network"] = {"nodes": [{"id": i, "kind": k, "params": p} for i, k, p in nodes],
                       "edges": [{"source": a, "target": b} for a, b in edges], "output": None}
    return "/#s=" + base64.urlsafe_b64encode(json.dumps(spec).encode()).decode().rstrip("=")


def test_a_skip_connection_is_an_edge_of_its_own(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open(residual_link(app))
    view = ui.drawing(page)
    # drawn unit by unit: the add's two bundles, two links each (unit i -> unit i)
    expect(view.locator('.link[data-target="sum"]')).to_have_count(4)
    expect(view.locator('.link[data-source="x"][data-target="sum"]')).to_have_count(2)
    ui.show_tab(page, "Layers")
    ui.wait_checked(page)
    # the add is fed twice: two edges end on it, and the skip from x goes around h and t
    edges = ui.canvas(page).locator('.edges path[data-target="sum"]')
    expect(edges).to_have_count(2)
    skip = ui.canvas(page).locator('.edges path[data-source="x"][data-target="sum"]')
    points = skip.evaluate("""p => { const m = p.getScreenCTM(); const n = p.getTotalLength();
      return Array.from({ length: 60 }, (_, i) => p.getPointAtLength(n * i / 59))
        .map(q => [m.a * q.x + m.e, m.d * q.y + m.f]); }""")
    for card in ("h", "t"):
        c = ui.node(page, card).bounding_box()
        assert c is not None
        inside = [p for p in points if c["x"] < p[0] < c["x"] + c["width"]
                  and c["y"] < p[1] < c["y"] + c["height"]]
        assert not inside, (card, inside[:3])
    app.shot("drawing-3-skip-connection")
