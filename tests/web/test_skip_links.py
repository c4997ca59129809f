"""Rough edge 12: the palette was 29 Tabs away. Skip links come first in the focus order and
take the keyboard to the palette, the network, the output or the data in two keys."""

from __future__ import annotations

from playwright.sync_api import expect


def test_skip_links_reach_the_palette_and_the_network(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    page.keyboard.press("Tab")
    first = page.get_by_role("link", name="Skip to the layer palette")
    expect(first).to_be_focused()
    expect(first).to_be_visible()  # hidden until focused, then on top of the page
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('pal-item')")

    page.goto(app.url + "/")
    page.wait_for_selector("body[data-ready=true]")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to the network")).to_be_focused()
    page.keyboard.press("Enter")
    # the next stops are the centre's own: its tabs, then the drawing or the cards
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('.col.middle')")
    # the run controls stay next in line after the skip links for those who want them
    page.goto(app.url + "/")
    page.wait_for_selector("body[data-ready=true]")
    for _ in range(5):
        page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('header')")
