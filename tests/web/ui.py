"""What a person does on the page, as small helpers over Playwright's sync API."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
from playwright.sync_api import Page, expect


def show_tab(page: Page, name: str) -> None:
    """Shows one face of the centre: "Drawing" (units and links) or "Layers" (cards)."""
    tab = page.get_by_role("tab", name=name, exact=True)
    if tab.get_attribute("aria-selected") != "true":
        tab.click()


def canvas(page: Page):
    """The layers' cards (the centre's Layers tab, shown first)."""
    show_tab(page, "Layers")
    return page.get_by_test_id("canvas")


def drawing(page: Page):
    """The network drawing (the centre's Drawing tab, shown first)."""
    show_tab(page, "Drawing")
    return page.get_by_test_id("network-view")


def node(page: Page, node_id: str):
    return canvas(page).locator(f'.node[data-id="{node_id}"]')


def node_ids(page: Page) -> list[str]:
    return canvas(page).locator(".node").evaluate_all("els => els.map(e => e.dataset.id)")


def expect_node_ids(page: Page, ids: list[str], timeout_s: float = 30.0) -> None:
    """The canvas shows exactly these nodes, in order, within the timeout (the page redraws
    after the server has validated the edit, so a loaded machine can take a while)."""
    deadline = time.monotonic() + timeout_s
    while (found := node_ids(page)) != ids and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert found == ids


def wait_checked(page: Page) -> None:
    """Waits until the server's check of the last edit has landed and the canvas has redrawn
    (a pending check shows '…' as a node's shape), as a person sees the result of one
    edit before making the next: a drag begun during the redraw has no target to land on."""
    # the cards exist (and are checked) whichever tab shows: leave the tab as it is
    expect(page.get_by_test_id("canvas").locator(".shape", has_text="…")).to_have_count(0)


def drag_to_canvas(page: Page, kind: str) -> None:
    """Drops a palette item on an empty spot of the canvas: appends it after the output."""
    wait_checked(page)
    box = canvas(page).bounding_box()
    assert box is not None
    page.locator(f'.pal-item[data-kind="{kind}"]').drag_to(
        canvas(page), target_position={"x": 14, "y": box["height"] - 14}, steps=8)


def drag_between(page: Page, kind: str, source: str, target: str) -> None:
    wait_checked(page)
    slot = canvas(page).locator(f'.slot[data-source="{source}"][data-target="{target}"]')
    page.locator(f'.pal-item[data-kind="{kind}"]').drag_to(slot, steps=8)


def set_param(page: Page, node_id: str, key: str, value: str) -> None:
    """Selects a layer and types a value into its inspector field."""
    node(page, node_id).click()
    field = page.locator(f'.inspector .field[data-key="{key}"] input')
    field.fill(value)
    field.press("Enter")


def set_training(page: Page, key: str, value: str) -> None:
    field = page.locator(f'.training-panel .field[data-key="{key}"] input')
    field.fill(value)
    field.press("Enter")


def settled_step(page: Page) -> int | None:
    """The step counter if two reads 0.4 s apart agree (else None): it redraws per frame."""
    first = step_count(page)
    page.wait_for_timeout(400)
    return first if step_count(page) == first else None


def step_count(page: Page) -> int:
    return int(page.get_by_test_id("step").inner_text())


def wait_valid(page: Page) -> None:
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_enabled()


def wait_until(predicate, timeout: float = 60.0, every: float = 0.2):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s")
        time.sleep(every)


def settled_metric(page: Page, name: str, timeout: float = 30.0) -> float:
    """A readout's value once two reads 0.4 s apart agree (it redraws at most ~8 Hz)."""
    def settled() -> float | None:
        first = metric(page, name)
        page.wait_for_timeout(400)
        return first if first is not None and metric(page, name) == first else None
    return float(wait_until(settled, timeout=timeout))


def metric(page: Page, name: str) -> float | None:
    text = page.get_by_test_id(name).inner_text()
    try:
        return float(text)
    except ValueError:
        return None


def boundary_pixels(page: Page) -> str:
    return page.get_by_test_id("boundary").evaluate("c => c.toDataURL()")


def open_lessons(page: Page) -> None:
    """Opens the Lessons menu at the top, if it is closed."""
    menu = page.get_by_test_id("lessons")
    if not menu.evaluate("d => d.open"):
        menu.locator("summary").click()


def preset_button(page: Page, name: str):
    """A lesson's button in the Lessons menu at the top, the menu opened if it was closed."""
    open_lessons(page)
    return page.locator(f'button.preset[data-preset="{name}"]')


def load_preset(page: Page, name: str) -> None:
    """Chooses a preset by its name and waits until the server has checked its network."""
    preset_button(page, name).click()
    wait_checked(page)
    wait_valid(page)


def open_section(page: Page, name: str):
    """Opens an Internals section (a <details>) if closed and scrolls it into view: off-screen
    sections do not redraw."""
    section = page.locator(f'details.internals-section[data-section="{name}"]')
    if not section.evaluate("d => d.open"):
        section.locator("summary").click()
    section.scroll_into_view_if_needed()
    return section


def data_int(page: Page, test_id: str, attr: str) -> int:
    """An integer data-* attribute of a test id's element (-1 when absent)."""
    value = page.get_by_test_id(test_id).get_attribute(f"data-{attr}")
    return int(value) if value not in (None, "") else -1


def long_run_link(server: Any) -> str:
    """The first preset's settings, xor, a 2-4-1 tanh MLP and epochs enough to outlast the
    test, as a page link (the document travels in the URL hash); `server` is a conftest
    Server (its url and, with a token, its headers)."""
    presets = httpx.get(f"{server.url}/api/v1/catalog/presets", headers=server.headers)
    spec = presets.json()[0]["spec"]
    spec.pop("schema_version", None)
    spec.pop("networks", None)
    spec["data"] = {"name": "xor", "params": {}}
    spec["training"]["epochs"] = 100_000
    nodes = [("input1", "input", {}), ("linear1", "linear", {"out_features": 4}),
             ("tanh1", "tanh", {}), ("linear2", "linear", {"out_features": 1})]
    spec["network"] = {"nodes": [{"id": i, "kind": k, "params": p} for i, k, p in nodes],
                       "edges": [{"source": a[0], "target": b[0]}
                                 for a, b in zip(nodes, nodes[1:], strict=False)],
                       "output": None}
    doc = base64.urlsafe_b64encode(json.dumps(spec).encode()).decode().rstrip("=")
    return f"/#s={doc}"
