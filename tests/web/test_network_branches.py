"""The network drawing of a graph that branches, as a student sees the skip-connection
lesson: the add is fed by two bundles of links (one per edge, unit i -> unit i), the skip's
links run around the column they skip instead of through its units, every unit including
the add's shows its map while the lesson trains, and a layer dropped on the skip edge goes
into the shortcut."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.web import ui

LESSON = "spiral_skip"  # x -> dense1 (8 tanh) -> dense2 (8 tanh) -> skip = add(act2, act1) -> out

# points along a path, in page coordinates
SAMPLES = """p => { const m = p.getScreenCTM(); const n = p.getTotalLength();
  return Array.from({ length: 40 }, (_, i) => p.getPointAtLength(n * i / 39))
    .map(q => [m.a * q.x + m.e, m.d * q.y + m.f]); }"""


def links(view, source: str, target: str):  # type: ignore[no-untyped-def]
    return view.locator(f'.link[data-source="{source}"][data-target="{target}"]')


def inside(points: list[list[float]], box: dict[str, float]) -> list[list[float]]:
    return [p for p in points if box["x"] < p[0] < box["x"] + box["width"]
            and box["y"] < p[1] < box["y"] + box["height"]]


def assert_skip_goes_around(page: Page, view) -> None:  # type: ignore[no-untyped-def]
    """No point of a skip link lies on a unit or the header of dense2, the column skipped."""
    skipped = [view.locator('.unit[data-col="2"]').nth(i).bounding_box() for i in range(8)]
    skipped.append(view.locator('.col-head[data-id="dense2"]').bounding_box())
    for j in range(8):
        points = links(view, "dense1", "skip").nth(j).evaluate(SAMPLES)
        for box in skipped:
            assert box is not None
            assert not inside(points, box), (j, box, inside(points, box)[:3])


def test_the_skip_lesson_draws_two_bundles_into_the_add_and_trains(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    ui.load_preset(page, LESSON)
    view = ui.drawing(page)
    expect(view.locator(".col-head")).to_have_count(5)
    assert view.locator(".col-head").evaluate_all("els => els.map(e => e.dataset.id)") == [
        "x", "dense1", "dense2", "skip", "out"]
    # one bundle per edge into the add: eight links from each source, unit i -> unit i
    expect(view.locator('.link[data-target="skip"]')).to_have_count(16)
    expect(links(view, "dense1", "skip")).to_have_count(8)
    expect(links(view, "dense2", "skip")).to_have_count(8)
    expect(links(view, "dense1", "dense2")).to_have_count(64)  # dense, as before
    tip = view.locator('.link-hit.fixed title').first
    expect(tip).to_have_text("dense2[0] \u2192 skip[0]")
    assert_skip_goes_around(page, view)
    # the add's header selects it; its links have no weight to open
    view.locator('[data-select="skip"]').click()
    expect(page.locator(".inspector h3")).to_contain_text("skip")
    page.get_by_role("button", name="Close the inspector").click()

    page.get_by_label("Speed", exact=True).select_option(label="1 epoch per frame")
    page.get_by_role("button", name="Play", exact=True).click()
    # every unit shows its map: 2 inputs, 8 + 8 hidden, the add's 8, 2 outputs
    ui.wait_until(lambda: int(view.get_attribute("data-mapped") or 0) == 28, timeout=90)
    expect(view.locator(".unit.merge.mapped")).to_have_count(8)
    # weights colour the dense links; the add's stay grey (they are identities)
    ui.wait_until(lambda: int(view.get_attribute("data-weights-step") or -1) >= 1, timeout=60)
    colours = links(view, "dense1", "skip").evaluate_all(
        "els => els.map(e => e.getAttribute('stroke'))")
    assert set(colours) == {"#a9b4bf"}, colours
    expect(view.locator(".netdraw-caption")).to_contain_text("Grey links into an add")
    app.shot("drawing-4-skip-lesson")
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_test_id("status")).to_have_text("stopped")


def test_a_layer_dropped_on_the_skip_goes_into_it(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    ui.load_preset(page, LESSON)
    ui.wait_checked(page)
    view = ui.drawing(page)
    zone = view.locator('.drop-zone[data-source="dense1"][data-target="skip"]')
    expect(zone).to_have_count(1)
    page.locator('.pal-item[data-kind="linear"]').drag_to(zone, steps=8, force=True)
    heads = view.locator(".col-head")
    expect(heads).to_have_count(6)
    # the new layer sits on the shortcut, as wide as its source (8), and feeds the add
    expect(links(view, "dense1", "linear1")).to_have_count(64)
    expect(links(view, "linear1", "skip")).to_have_count(8)
    expect(links(view, "dense2", "skip")).to_have_count(8)
    expect(links(view, "dense1", "skip")).to_have_count(0)
    ui.show_tab(page, "Layers")
    ui.wait_checked(page)
    edges = ui.canvas(page).locator('.edges path[data-target="skip"]').evaluate_all(
        "els => els.map(e => e.dataset.source).sort()")
    assert edges == ["act2", "linear1"], edges
    page.get_by_role("button", name="Undo").click()
    ui.show_tab(page, "Drawing")
    expect(links(view, "dense1", "skip")).to_have_count(8)
    # the keyboard walks the DAG's columns in order: Enter on the add selects it
    view.locator('.unit[data-col="0"][data-unit="0"]').focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    expect(page.locator(".inspector h3")).to_contain_text("skip")


def test_what_cannot_be_drawn_unit_by_unit_still_says_why(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    ui.load_preset(page, "digits_mlp")
    # the centre shows its layers by itself, not an empty drawing
    expect(page.get_by_role("tab", name="Layers")).to_have_attribute("aria-selected", "true")
    view = ui.drawing(page)
    expect(view).to_contain_text("not drawn unit by unit: pixels has 64 units")
    view.get_by_role("button", name="Show it as layers").click()
    expect(page.get_by_role("tab", name="Layers")).to_have_attribute("aria-selected", "true")
