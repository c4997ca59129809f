"""The page's main states at 1280x800 and 1920x1080, as screenshots in tests/web/screenshots/
(main-idle-*, main-training-*, main-diverged-*; the image-data and autoencoder states come from
test_family_views.py), each checked for what a person would notice first: no horizontal
scroll, a header of one row, the network drawing in view, nothing clipped off the right; the
same at 1366x768, and the stacked layout below 1200 px without sideways scroll."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.web import ui

SIZES = [(1280, 800), (1920, 1080)]


def check_layout(page: Page) -> None:
    found = page.evaluate("""() => ({
      scroll: document.documentElement.scrollWidth - innerWidth,
      header: document.querySelector('header.top').offsetHeight,
      drawing: document.querySelector('[data-testid=network-view]')
        .getBoundingClientRect().toJSON(),
      right: Math.max(...[...document.querySelectorAll('.col')]
        .map(c => c.getBoundingClientRect().right)),
    })""")
    assert found["scroll"] <= 0, found
    assert found["header"] <= 70, found  # one row: status and messages have their own place
    assert found["right"] <= page.viewport_size["width"], found
    assert found["drawing"]["height"] >= 280 and found["drawing"]["top"] < 300, found


def check_stacked(page: Page) -> None:
    """Below 1200 px the output goes under the data and the network: still no sideways scroll."""
    found = page.evaluate("""() => ({ scroll: document.documentElement.scrollWidth - innerWidth,
      drawing: document.querySelector('[data-testid=network-view]').offsetWidth })""")
    assert found["scroll"] <= 0 and found["drawing"] >= 400, found


def shots(app, name: str) -> None:  # type: ignore[no-untyped-def]
    for w, h in SIZES:
        app.page.set_viewport_size({"width": w, "height": h})
        app.page.wait_for_timeout(400)
        check_layout(app.page)
        app.shot(f"main-{name}-{w}")
    app.page.set_viewport_size({"width": 1366, "height": 768})
    app.page.wait_for_timeout(400)
    check_layout(app.page)
    app.page.set_viewport_size({"width": 1100, "height": 800})
    app.page.wait_for_timeout(400)
    check_stacked(app.page)


def test_idle_training_and_diverged_fit_one_screen(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    ui.load_preset(page, "spiral_deep_tanh")
    ui.show_tab(page, "Drawing")
    shots(app, "idle")
    ui.set_training(page, "epochs", "100000")
    ui.wait_valid(page)
    page.get_by_label("Speed", exact=True).select_option(label="1 epoch per frame")
    page.get_by_role("button", name="Play", exact=True).click()
    ui.wait_until(lambda: ui.step_count(page) > 1500, timeout=120)
    shots(app, "training")
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_test_id("status")).to_have_text("stopped")

    ui.load_preset(page, "lr_too_high")
    page.get_by_label("Speed", exact=True).select_option(label="As fast as it goes")
    page.get_by_role("button", name="Play", exact=True).click()
    expect(page.get_by_test_id("status")).to_contain_text("failed", timeout=120_000)
    expect(page.get_by_test_id("diagnosis")).to_contain_text("Diverged at step")
    shots(app, "diverged")
