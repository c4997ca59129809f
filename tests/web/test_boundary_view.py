"""The output view as a student reads it (issue 13): axes with ticks at round numbers inside
the plane's extent, a colour legend with its scale, a "discretize output" toggle that really
draws hard regions, regression points coloured on the surface's own scale, and a diverged run
whose boundary says which step it is from and that the run diverged after it."""

from __future__ import annotations

import base64
import json
import re
from statistics import median
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.web import ui

# distinct colours of the plane's pixels away from the points (whose antialiased edges
# blend fill, outline and background into thousands of colours of their own), and the share
# of those pixels that is exactly one of the two binary region colours (orange and blue, as
# colour-scales.js's NEG and POS)
COUNT_COLOURS = """(c, dots) => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const near = new Uint8Array(c.width * c.height);
  for (const [x, y] of dots) {
    for (let j = Math.floor(y) - 6; j <= y + 6; j++) {
      for (let i = Math.floor(x) - 6; i <= x + 6; i++) {
        if (i >= 0 && j >= 0 && i < c.width && j < c.height) near[j * c.width + i] = 1;
      }
    }
  }
  const seen = new Set();
  let ends = 0;
  let n = 0;
  for (let p = 0; p < near.length; p++) {
    if (near[p]) continue;
    const o = 4 * p;
    n++;
    seen.add((d[o] << 16) | (d[o + 1] << 8) | d[o + 2]);
    const neg = d[o] === 245 && d[o + 1] === 147 && d[o + 2] === 34;
    const pos = d[o] === 8 && d[o + 1] === 119 && d[o + 2] === 189;
    if (neg || pos) ends++;
  }
  return [seen.size, ends / n, n];
}"""
PIXEL = "(c, [x, y]) => [...c.getContext('2d').getImageData(x, y, 1, 1).data.slice(0, 3)]"


def tick_values(page: Any, test_id: str) -> list[float]:
    texts = page.get_by_test_id(test_id).locator(".tick").all_inner_texts()
    return [float(t.replace("\u2212", "-")) for t in texts]


def expect_axes_within(page: Any, extent: list[float]) -> None:
    x0, x1, y0, y1 = extent
    for test_id, lo, hi in (("axis-x", x0, x1), ("axis-y", y0, y1)):
        ticks = tick_values(page, test_id)
        assert 3 <= len(ticks) <= 8, ticks
        assert all(lo <= v <= hi for v in ticks), (ticks, extent)
        assert all(v == round(v * 2) / 2 for v in ticks), ticks  # round numbers
    expect(page.get_by_test_id("axis-x")).to_contain_text("x1")
    expect(page.get_by_test_id("axis-y")).to_contain_text("x2")


def points_of(url: str, data: dict[str, Any]) -> dict[str, Any]:
    r = httpx.post(f"{url}/api/v1/datasets/points", json=data)
    r.raise_for_status()
    return r.json()


def on_canvas(data: dict[str, Any], split: str | None = None, size: int = 300
              ) -> list[tuple[float, float]]:
    """The points' places on the plane's canvas, in pixels from its top-left."""
    x0, x1, y0, y1 = data["extent"]
    return [(((a - x0) / (x1 - x0)) * size, (1 - (b - y0) / (y1 - y0)) * size)
            for (a, b), s in zip(data["x"], data["split"], strict=True)
            if split is None or s == split]


def show_output(page: Any) -> None:
    """Scrolls the output panel's top into view (choosing a preset scrolled its column)."""
    page.locator(".output-panel").evaluate("e => e.scrollIntoView({block: 'start'})")


def play_and_wait(page: Any, status: str, timeout_ms: int = 180_000) -> None:
    page.get_by_role("button", name="Play", exact=True).click()
    expect(page.get_by_test_id("status")).to_contain_text(status, timeout=timeout_ms)


def test_binary_boundary_has_axes_legend_and_a_discretize_toggle(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    page.set_viewport_size({"width": 1280, "height": 800})
    ui.load_preset(page, "band_221_sigmoid")
    boundary = page.get_by_test_id("boundary")
    data = points_of(app.url, {"name": "band", "params": {"noise": 0.0}})
    extent, dots = data["extent"], on_canvas(data)
    assert extent[1] - extent[0] < 12  # fitted to the points, not the old fixed [-6, 6]
    expect_axes_within(page, extent)  # before any run: the data set's plane
    play_and_wait(page, "completed")
    expect(boundary).to_have_attribute("data-step", re.compile(r"\d+"))
    legend = page.get_by_test_id("boundary-legend")
    expect(legend).to_have_attribute("data-kind", "score")
    assert tick_values(page, "legend-ticks") == [-1, -0.5, 0, 0.5, 1]
    expect(legend).to_contain_text("class 0")
    expect(page.get_by_test_id("boundary-caption")).to_contain_text("(completed)")
    show_output(page)
    app.shot("boundary-classification")

    smooth, smooth_ends, seen = boundary.evaluate(COUNT_COLOURS, dots)
    assert seen > 10_000  # the test looks at enough of the plane
    page.get_by_label("discretize output").check()
    expect(boundary).to_have_attribute("data-discrete", "true")
    hard, hard_ends, _ = boundary.evaluate(COUNT_COLOURS, dots)
    # shaded by confidence: hundreds of colours; hard regions: the two region colours
    assert hard <= 2 < smooth / 20, (smooth, hard)
    assert hard_ends == 1 and smooth_ends < 0.9, (smooth_ends, hard_ends)
    assert "50%" in page.get_by_test_id("legend-bar").get_attribute("style")  # a hard bar
    app.shot("boundary-discretized")
    page.get_by_label("discretize output").uncheck()
    assert boundary.evaluate(COUNT_COLOURS, dots)[0] == smooth


def test_regression_points_take_the_surface_colour_where_it_fits(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    page.set_viewport_size({"width": 1280, "height": 800})
    ui.load_preset(page, "plane_regression")
    play_and_wait(page, "completed")
    legend = page.get_by_test_id("boundary-legend")
    expect(legend).to_have_attribute("data-kind", "value")
    expect(page.get_by_test_id("legend-note")).to_contain_text("surface")
    assert len(tick_values(page, "legend-ticks")) >= 3
    data = points_of(app.url, {"name": "plane", "params": {"noise": 0.1}})
    expect_axes_within(page, data["extent"])
    page.get_by_label("show test points").uncheck()  # train points only, white outlines
    boundary = page.get_by_test_id("boundary")
    expect(boundary).to_have_attribute("data-points", str(data["split"].count("train")))
    show_output(page)
    app.shot("boundary-regression")

    size = 300
    pixels = on_canvas(data, "train")
    # points at least 14 px from every other and from the edge: their surroundings are surface
    lonely = [p for i, p in enumerate(pixels)
              if 12 < p[0] < size - 12 and 12 < p[1] < size - 12
              and all((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2 > 14 ** 2
                      for j, q in enumerate(pixels) if j != i)]
    assert len(lonely) >= 8, len(lonely)

    def rgb(x: float, y: float) -> list[int]:
        return boundary.evaluate(PIXEL, [int(x), int(y)])

    def surface(x: float, y: float) -> list[float]:
        around = [rgb(x + dx, y + dy) for dx, dy in ((8, 0), (-8, 0), (0, 8), (0, -8))]
        return [sum(c[k] for c in around) / 4 for k in range(3)]

    def gap(a: list[int], b: list[float]) -> float:
        return max(abs(u - v) for u, v in zip(a, b, strict=True))

    own = [gap(rgb(*p), surface(*p)) for p in lonely]
    # a point against the surface elsewhere on the plane (the mirror image of its place),
    # which a scale that only looks alike would not tell apart from its own
    far = [gap(rgb(*p), surface(size - p[0], size - p[1])) for p in lonely]
    # the targets carry noise of std 0.1 on a scale about 2.4 wide: a few colour levels
    assert median(own) <= 25, own
    assert median(far) > 3 * median(own) + 20, (own, far)


def test_a_diverged_run_says_its_boundary_is_the_last_before_the_divergence(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    page.set_viewport_size({"width": 1280, "height": 800})
    ui.load_preset(page, "lr_too_high")
    play_and_wait(page, "failed", timeout_ms=120_000)
    diagnosis = page.get_by_test_id("diagnosis")
    expect(diagnosis).to_contain_text("Diverged at step")
    diverged = int(re.search(r"Diverged at step (\d+)", diagnosis.inner_text()).group(1))
    caption = page.get_by_test_id("boundary-caption")
    expect(caption).to_contain_text("diverged after it")
    text = caption.inner_text()
    found = re.search(r"Boundary at step (\d+), the last step before the loss stopped being "
                      r"finite at step (\d+)", text)
    assert found, text
    grid_step, at = int(found.group(1)), int(found.group(2))
    assert at == diverged and grid_step == diverged - 1, text
    expect(page.get_by_test_id("boundary")).to_have_attribute("data-step", str(grid_step))
    expect(caption).to_have_class(re.compile("diverged"))
    show_output(page)
    app.shot("boundary-diverged")


def three_gaussians_link(url: str) -> str:
    """The spiral lesson's network and settings on three gaussian clusters, three outputs."""
    presets = httpx.get(f"{url}/api/v1/catalog/presets").json()
    spec = next(p["spec"] for p in presets if p["name"] == "spiral_deep_tanh")
    spec.pop("schema_version", None)
    spec["network"] = spec.pop("networks")["model"]  # the page's document: one network
    spec["data"] = {"name": "gaussian", "params": {"n_classes": 3}}
    spec["training"]["epochs"] = 20
    out = spec["network"].get("output") or spec["network"]["nodes"][-1]["id"]
    node = next(n for n in spec["network"]["nodes"] if n["id"] == out)
    node["params"]["out_features"] = 3
    return "/#s=" + base64.urlsafe_b64encode(json.dumps(spec).encode()).decode().rstrip("=")


def test_several_classes_get_a_swatch_each_and_hard_regions(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open(three_gaussians_link(app.url))
    page.set_viewport_size({"width": 1280, "height": 800})
    ui.wait_valid(page)
    legend = page.get_by_test_id("boundary-legend")
    play_and_wait(page, "completed")
    expect(legend).to_have_attribute("data-kind", "classes")
    expect(legend.locator(".swatch")).to_have_text(["class 0", "class 1", "class 2"])
    data = points_of(app.url, {"name": "gaussian", "params": {"n_classes": 3}})
    expect_axes_within(page, data["extent"])
    boundary = page.get_by_test_id("boundary")
    dots = on_canvas(data)
    smooth = boundary.evaluate(COUNT_COLOURS, dots)[0]
    page.get_by_label("discretize output").check()
    expect(boundary).to_have_attribute("data-discrete", "true")
    hard = boundary.evaluate(COUNT_COLOURS, dots)[0]
    assert hard <= 3 < smooth / 10, (smooth, hard)  # one colour per class, no shading
    show_output(page)
    app.shot("boundary-classes")
