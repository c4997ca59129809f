"""A family of several networks on the page: an autoencoder lesson loads both its encoder
and its decoder, the centre edits one at a time (undoable), and Play trains them together,
its reconstructions changing as it learns."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.web import ui
from tests.web.test_family_views import RECONSTRUCTED


def test_an_autoencoder_lesson_is_edited_by_role_and_trains(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    ui.load_preset(page, "ae_digits_2d")
    roles = page.get_by_role("group", name="Network to edit")
    expect(roles.get_by_role("button", name="encoder")).to_have_attribute("aria-pressed", "true")
    ui.expect_node_ids(page, ["x", "flat", "enc1", "enc_act1", "code"])
    # the decoder is checked over the encoder's code width: its shapes are known
    roles.get_by_role("button", name="decoder").click()
    ui.expect_node_ids(page, ["z", "dec1", "dec_act1", "recon"])
    ui.wait_checked(page)
    expect(ui.node(page, "z").locator(".shape")).to_have_text("(N, 2)")
    # an edit of the decoder, then undo twice: back to the untouched encoder
    ui.set_param(page, "dec1", "out_features", "24")
    page.get_by_role("button", name="Undo").click()
    page.get_by_role("button", name="Undo").click()
    expect(roles.get_by_role("button", name="encoder")).to_have_attribute("aria-pressed", "true")
    ui.expect_node_ids(page, ["x", "flat", "enc1", "enc_act1", "code"])

    ui.set_training(page, "epochs", "100000")  # trains until the test stops it
    ui.wait_valid(page)
    page.get_by_role("button", name="Play", exact=True).click()
    rows = page.get_by_test_id("reconstructions")
    reconstructed = rows.locator("canvas[data-row=reconstructed]")
    expect(reconstructed.first).to_be_visible(timeout=120_000)
    first = reconstructed.evaluate_all(RECONSTRUCTED)
    first_step = int(rows.get_attribute("data-step") or 0)
    ui.wait_until(lambda: int(rows.get_attribute("data-step") or 0) > first_step
                  and reconstructed.evaluate_all(RECONSTRUCTED) != first, timeout=90)
    expect(page.get_by_test_id("status")).to_have_text("running")
    app.shot("roles-autoencoder")
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_test_id("status")).to_have_text("stopped")
