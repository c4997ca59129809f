"""Convolutional layers in the page: the LeNet-style lesson loads as cards, the inspector
shows how a conv's output size follows from its kernel, stride and padding (the server's own
arithmetic), a padding takes a number or 'same', a kernel too large for its input is marked
on its node, a reshape takes a list of sizes, and the lesson trains to its stated accuracy."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.web import ui


def arithmetic(page):  # type: ignore[no-untyped-def]
    return page.get_by_test_id("shape-arithmetic")


def test_the_inspector_explains_a_convs_output_size_as_it_is_edited(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    ui.load_preset(page, "lenet_digits")
    # a network of image layers is not drawn unit by unit: its cards show by themselves
    expect(page.get_by_role("tab", name="Layers", exact=True)).to_have_attribute(
        "aria-selected", "true")
    expect(ui.node(page, "conv1").locator(".shape")).to_have_text("(N, 16, 8, 8)")
    # the palette's image layers open with image data, and close again on 2-D points
    spatial = page.get_by_test_id("palette-spatial")
    expect(spatial).to_have_attribute("open", "")
    expect(spatial.locator('.pal-item[data-kind="max_pool2d"]')).to_be_visible()
    ui.load_preset(page, "spiral_deep_tanh")
    expect(spatial).not_to_have_attribute("open", "")
    expect(spatial.locator('.pal-item[data-kind="conv2d"]')).to_be_hidden()
    ui.load_preset(page, "lenet_digits")
    expect(spatial).to_have_attribute("open", "")
    ui.node(page, "conv1").click()
    expect(arithmetic(page)).to_contain_text("H: ⌊(8 + 2·1 − 1·(3−1) − 1)/1⌋ + 1 = 8")

    ui.set_param(page, "conv1", "stride", "2")
    ui.wait_checked(page)
    expect(ui.node(page, "conv1").locator(".shape")).to_have_text("(N, 16, 4, 4)")
    expect(arithmetic(page)).to_contain_text("W: ⌊(8 + 2·1 − 1·(3−1) − 1)/2⌋ + 1 = 4")
    app.shot("conv-inspector-arithmetic")

    # 'same' needs stride 1: refused on the node, with the reason
    ui.set_param(page, "conv1", "padding", "same")
    ui.wait_checked(page)
    expect(ui.node(page, "conv1")).to_have_attribute("aria-invalid", "true", timeout=10_000)
    expect(page.locator(".inspector .error")).to_contain_text("padding 'same' needs stride 1")
    ui.set_param(page, "conv1", "stride", "1")
    ui.wait_checked(page)
    expect(ui.node(page, "conv1").locator(".shape")).to_have_text("(N, 16, 8, 8)")
    expect(arithmetic(page)).to_contain_text("H: 'same' pads 1·(3−1) = 2 in all, so 8 stays 8")

    # a word that is not one the field takes is refused in the field, before the server
    page.locator('.inspector .field[data-key="padding"] input').fill("valid")
    page.locator('.inspector .field[data-key="padding"] input').press("Enter")
    expect(page.locator('.inspector .field[data-key="padding"] .field-error')).to_contain_text(
        "enter a number or same")

    # after one 2x2 pooling the 8x8 digits are 4x4 maps, 6x6 padded: a 7x7 kernel cannot fit
    ui.set_param(page, "conv2", "kernel_size", "7")
    ui.wait_checked(page)
    expect(page.locator(".inspector .error")).to_contain_text(
        "kernel 7 is larger than the padded input 6×6")
    expect(ui.node(page, "conv2")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_disabled()
    ui.set_param(page, "conv2", "kernel_size", "3")
    ui.wait_valid(page)


def test_a_reshape_takes_a_list_of_sizes(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    ui.load_preset(page, "lenet_digits")
    ui.drag_between(page, "reshape", "pool2", "flat")
    ui.wait_checked(page)
    added = [i for i in ui.node_ids(page) if i.startswith("reshape")][0]
    ui.set_param(page, added, "shape", "2, 4, 16")  # 32·2·2 = 128 numbers
    ui.wait_checked(page)
    expect(ui.node(page, added).locator(".shape")).to_have_text("(N, 2, 4, 16)")
    ui.set_param(page, added, "shape", "3, -1")
    ui.wait_checked(page)
    expect(page.locator(".inspector .error")).to_contain_text(
        "cannot reshape (N, 32, 2, 2) (128 numbers) to [3, -1]")


def test_the_lenet_lesson_trains_to_its_stated_accuracy(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    ui.load_preset(page, "lenet_digits")
    page.get_by_role("button", name="Play", exact=True).click()
    expect(page.get_by_test_id("status")).to_have_text("completed", timeout=120_000)
    assert ui.settled_metric(page, "test-accuracy") >= 0.97
    app.shot("lenet-digits-trained")


def test_digits_upscaled_to_16_reach_the_conv_layers(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    ui.load_preset(page, "lenet_digits")
    # a size is a number in the spec, though the select shows it as text
    page.locator('.data-panel .field[data-key="size"] select').select_option("16")
    ui.wait_checked(page)
    expect(ui.node(page, "x").locator(".shape")).to_have_text("(N, 1, 16, 16)")
    expect(ui.node(page, "pool2").locator(".shape")).to_have_text("(N, 32, 4, 4)")
    ui.wait_valid(page)
