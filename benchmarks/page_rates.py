"""What the page paints, counted in the page: how often the network drawing paints a new
neuron-maps event (its root's `data-maps-step` changes) and the boundary a new grid (its
canvas's `data-step`), with how many units show a map (`data-mapped`) and the steps per second
the page's counter moved, over a window while a run streams. Chromium driven by Playwright,
as the browser tests launch it; a MutationObserver counts the attribute changes.

    page_round(url, run_id, seconds, warmup) -> {"page_maps_hz", "page_grid_hz",
        "page_mapped_units", "page_epochs_per_s"}

May import: stdlib, playwright.
"""

from __future__ import annotations

import shutil
from typing import Any

from playwright.sync_api import sync_playwright

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]

COUNT = """() => {
  const view = document.querySelector('[data-testid=network-view]');
  const grid = document.querySelector('[data-testid=boundary]');
  window.paints = { maps: 0, grid: 0 };
  new MutationObserver(() => { window.paints.maps++; })
    .observe(view, { attributes: true, attributeFilter: ['data-maps-step'] });
  new MutationObserver(() => { window.paints.grid++; })
    .observe(grid, { attributes: true, attributeFilter: ['data-step'] });
  return [Number(document.querySelector('[data-testid=epoch]').textContent), performance.now()];
}"""
READ = """() => [window.paints.maps, window.paints.grid,
  Number(document.querySelector('[data-testid=network-view]').dataset.mapped || 0),
  Number(document.querySelector('[data-testid=epoch]').textContent), performance.now()]"""


def page_round(url: str, run_id: str, seconds: float, warmup: float) -> dict[str, Any]:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(f"{url}/#run={run_id}")
            page.wait_for_selector("body[data-ready=true]")
            page.get_by_role("tab", name="Drawing", exact=True).click()
            page.wait_for_function("() => Number(document.querySelector("
                                   "'[data-testid=network-view]').dataset.mapped || 0) > 0",
                                   timeout=120_000)
            page.wait_for_timeout(warmup * 1000)
            epoch0, t0 = page.evaluate(COUNT)
            page.wait_for_timeout(seconds * 1000)
            maps, grids, mapped, epoch1, t1 = page.evaluate(READ)
        finally:
            browser.close()
    dt = (t1 - t0) / 1000
    return {"page_maps_hz": round(maps / dt, 1), "page_grid_hz": round(grids / dt, 1),
            "page_mapped_units": mapped, "page_epochs_per_s": round((epoch1 - epoch0) / dt, 1)}
