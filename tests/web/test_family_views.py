"""The output panel's views of other data kinds and families (web/views/): an autoencoder's
reconstructions change while it trains and its code scatter draws points; a digits
classifier shows its test images with true and predicted labels (mistakes marked) and a
confusion matrix that counts the whole test split; the data panel's image sets show sample
images. Screenshots of both runs at 1280x800 and 1920x1080 go to tests/web/screenshots/."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import expect

from tests.web import ui

SIZES = {"1280": (1280, 800), "1920": (1920, 1080)}
# pixels of every reconstructed sample, as one string that changes when any of them does
RECONSTRUCTED = "els => els.map(c => c.toDataURL()).join()"
# how many distinct grey levels a canvas shows (a blank one shows one)
LEVELS = """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const s = new Set(); for (let i = 0; i < d.length; i += 4) s.add(d[i]); return s.size; }"""
IMAGE_LEVELS = f"""img => {{ const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  c.getContext('2d').drawImage(img, 0, 0); return ({LEVELS})(c); }}"""


def preset_spec(url: str, name: str) -> dict[str, Any]:
    presets = httpx.get(f"{url}/api/v1/catalog/presets").json()
    return next(p for p in presets if p["name"] == name)["spec"]


def start_run(url: str, spec: dict[str, Any]) -> str:
    res = httpx.post(f"{url}/api/v1/runs", json=spec, timeout=30)
    assert res.status_code in (200, 201), res.text
    return str(res.json()["id"])


def shots(app: Any, name: str) -> None:
    for size, (w, h) in SIZES.items():
        app.page.set_viewport_size({"width": w, "height": h})
        app.page.get_by_test_id("views").scroll_into_view_if_needed()
        app.page.wait_for_timeout(300)
        app.shot(f"{name}-{size}")


def test_autoencoder_reconstructions_change_and_the_code_is_drawn(app) -> None:  # type: ignore[no-untyped-def]
    spec = preset_spec(app.url, "ae_digits_2d")
    spec["training"]["epochs"] = 100_000  # trains until the test stops it
    run = start_run(app.url, spec)
    page = app.open(f"/#run={run}")
    views = page.get_by_test_id("views")
    expect(views.locator("section.view")).to_have_count(2)  # reconstructions and code
    rows = page.get_by_test_id("reconstructions")
    reconstructed = rows.locator("canvas[data-row=reconstructed]")
    # a fresh server's first worker can take a while to start on a loaded machine
    ui.wait_until(lambda: ui.step_count(page) > 0, timeout=120)
    expect(reconstructed.first).to_be_visible(timeout=60_000)
    assert rows.locator("canvas[data-row=clean]").count() == reconstructed.count() > 0
    first = reconstructed.evaluate_all(RECONSTRUCTED)
    first_step = int(rows.get_attribute("data-step") or 0)
    # later samples of the same test digits are reconstructed otherwise as the net learns
    ui.wait_until(lambda: int(rows.get_attribute("data-step") or 0) > first_step
                  and reconstructed.evaluate_all(RECONSTRUCTED) != first, timeout=60)
    assert reconstructed.first.evaluate(LEVELS) > 1
    scatter = page.get_by_test_id("code-scatter")
    ui.wait_until(lambda: int(scatter.get_attribute("data-points") or 0) > 0, timeout=60)
    expect(page.get_by_test_id("code-sparsity")).to_contain_text("Hoyer sparsity")
    expect(views.locator(".axis-x")).to_contain_text("code unit 1")  # a 2-unit code, as is
    shots(app, "autoencoder")
    httpx.post(f"{app.url}/api/v1/runs/{run}/stop", timeout=30)


def test_digits_classifier_shows_images_confusion_and_mistakes(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open("/?perf")
    ui.load_preset(page, "digits_mlp")
    ui.set_training(page, "epochs", "3")  # a few evaluations, and mistakes left to show
    ui.wait_valid(page)
    page.get_by_role("button", name="Play", exact=True).click()
    expect(page.get_by_test_id("status")).to_have_text("completed", timeout=120_000)
    grid = page.get_by_test_id("prediction-grid")
    expect(grid.locator("figure.tile").first).to_be_visible()
    tiles = grid.locator("figure.tile")
    truth = tiles.evaluate_all("els => els.map(e => [+e.dataset.truth, +e.dataset.predicted])")
    wrong = [t for t in truth if t[0] != t[1]]
    assert grid.locator("figure.mistake").count() == len(wrong)
    for fig in grid.locator("figure.mistake").all():
        expect(fig.locator("figcaption")).to_contain_text("true ")
        expect(fig.locator("figcaption")).to_contain_text("→")
    counts = page.get_by_test_id("confusion").locator("tbody td").evaluate_all(
        "els => els.map(e => +e.textContent)")
    n_test = page.evaluate("window.livegradPerf.live.started.data.n_test")
    assert len(counts) == 100 and sum(counts) == n_test  # 10 x 10 classes, every test digit
    mistakes = page.get_by_test_id("confident-mistakes").locator("figure")
    if sum(counts) - sum(counts[i * 11] for i in range(10)):  # some test digit was missed
        expect(mistakes.first).to_have_class("tile mistake")
        expect(mistakes.first.locator("figcaption")).to_contain_text("% sure")
    expect(page.get_by_test_id("view-accuracy")).to_contain_text("Test accuracy")
    assert page.locator('#boundary .plane').is_hidden()  # no empty plane box for images
    shots(app, "image-data")


def test_image_data_sets_show_sample_images_as_thumbnails(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    thumb = page.locator('.thumb[data-name="digits"] img')
    expect(thumb).to_have_attribute("data-samples", "16")
    thumb.evaluate("img => img.decode()")
    assert thumb.evaluate(IMAGE_LEVELS) > 2  # digits' strokes, not a blank card
