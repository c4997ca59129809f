"""The builder keeps its layers' elements across the server's check of an edit: a drag begun
while the check is in flight lands where it was dropped, as a person dragging quickly sees.

Unlike the other browser tests these do NOT wait for the check (ui.wait_checked) before a
drag: each round makes an edit and drags at once, and holds the pointer over its target until
the check's answer has redrawn the canvas, so the answer lands under the pointer, mid-drag.
"""

from __future__ import annotations

import time

from playwright.sync_api import Page, expect

from tests.web import ui

ROUNDS = 5


def open_tall(app):  # type: ignore[no-untyped-def]
    """The page on a screen tall enough to show the palette and a dozen layers at once: the
    drags below use the bare mouse, which does not scroll a target into view."""
    page = app.open()
    page.set_viewport_size({"width": 1440, "height": 1700})
    return page


def checked(page: Page) -> bool:
    """True once no layer shows a pending shape ('…'): the last edit's check has landed."""
    return page.locator('[data-testid=canvas] .shape:text-is("…")').count() == 0


def pending(page: Page) -> bool:
    return not checked(page)


class HeldChecks:
    """Holds the page's requests to /graphs/validate while armed, until released: the test
    decides when the check of an edit lands (here: while the pointer is over the target)."""

    def __init__(self, page: Page) -> None:
        self.held: list = []  # type: ignore[type-arg]
        self.armed = False
        page.route("**/api/v1/graphs/validate", self._take)

    def _take(self, route) -> None:  # type: ignore[no-untyped-def]
        if self.armed:
            self.held.append(route)
        else:
            route.continue_()

    def arm(self, page: Page) -> None:
        """Waits for the last check (of the last drop) to land, then holds the next ones."""
        ui.wait_checked(page)
        self.armed = True

    def release(self) -> None:
        self.armed = False
        while self.held:
            self.held.pop(0).continue_()


def hold_drag(page: Page, checks: HeldChecks, source, target) -> None:  # type: ignore[no-untyped-def]
    """Drags source onto target with the mouse; over the target, lets the held check of the
    last edit go and keeps hovering (small moves, as a hand does) until its answer has
    redrawn the canvas, then drops."""
    a = source.bounding_box()
    page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    page.mouse.down()
    b = target.bounding_box()
    x, y = b["x"] + b["width"] / 2, b["y"] + b["height"] / 2
    page.mouse.move(x, y, steps=6)
    wobble = 0

    def hover() -> None:
        nonlocal wobble
        wobble ^= 1
        page.mouse.move(x + wobble, y)  # also lets Playwright take the held request

    assert pending(page), "the edit's check should still be under way"
    deadline = time.monotonic() + 30
    while not checks.held:
        hover()
        assert time.monotonic() < deadline, "the page sent no check of the edit"
    checks.release()
    while pending(page):
        hover()
        assert time.monotonic() < deadline, "the check's answer never reached the canvas"
    page.mouse.up()


def test_palette_drops_land_while_the_check_is_in_flight(app) -> None:  # type: ignore[no-untyped-def]
    page = open_tall(app)
    expected = ["input1"]
    checks = HeldChecks(page)
    for i in range(1, ROUNDS + 1):
        checks.arm(page)
        page.get_by_role("button", name="Add relu layer").click()  # the edit: relu{i}, selected
        expected.append(f"relu{i}")
        # drop a linear on the new layer itself: a branch from it (here: after it)
        hold_drag(page, checks, page.locator('.pal-item[data-kind="linear"]'),
                  ui.node(page, f"relu{i}"))
        expected.append(f"linear{i}")
        ui.expect_node_ids(page, expected)
        ui.node(page, f"linear{i}").click()  # the next relu goes after it
    expect(ui.node(page, f"linear{ROUNDS}")).to_have_attribute("aria-pressed", "true")


def visual_order(page: Page) -> list[str]:
    """The layers top to bottom (then left to right), as the eye reads the canvas."""
    return ui.canvas(page).locator(".node").evaluate_all(
        "els => els.map(e => [e.offsetTop, e.offsetLeft, e.dataset.id])"
        ".sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(a => a[2])")


def expect_order(page: Page, ids: list[str]) -> None:
    ui.wait_until(lambda: visual_order(page) == ids, timeout=30, every=0.1)


def test_quick_edits_and_drags_in_a_row(app) -> None:  # type: ignore[no-untyped-def]
    """Five edit-then-drag pairs without a pause: each drop goes in right under the input."""
    page = open_tall(app)
    page.get_by_role("button", name="Add linear layer").click()  # input1 -> linear1
    order = ["input1", "linear1"]
    for i in range(1, ROUNDS + 1):
        ui.node(page, order[-1]).click()
        page.get_by_role("button", name="Add tanh layer").click()  # the edit: at the end
        order.append(f"tanh{i}")
        slot = ui.canvas(page).locator(f'.slot[data-source="input1"][data-target="{order[1]}"]')
        page.locator('.pal-item[data-kind="relu"]').drag_to(slot, steps=8)  # no wait
        order.insert(1, f"relu{i}")
        expect_order(page, order)


def test_a_layer_moved_while_the_check_is_in_flight(app) -> None:  # type: ignore[no-untyped-def]
    """Node drags: the dragged layer's own element and the slot it goes to both survive."""
    page = open_tall(app)
    for kind in ("linear", "tanh", "linear"):
        page.get_by_role("button", name=f"Add {kind} layer").click()
    order = ["input1", "linear1", "tanh1", "linear2"]
    expect_order(page, order)
    checks = HeldChecks(page)
    for i in range(1, ROUNDS + 1):
        ui.node(page, order[-1]).click()
        checks.arm(page)
        page.get_by_role("button", name="Add relu layer").click()  # the edit, then the drag
        order.append(f"relu{i}")
        moving = order[-2]  # the layer above the new one goes up, right under the input
        slot = ui.canvas(page).locator(f'.slot[data-source="input1"][data-target="{order[1]}"]')
        hold_drag(page, checks, ui.node(page, moving), slot)
        order.remove(moving)
        order.insert(1, moving)
        expect_order(page, order)
