"""Rough edges a person meets on the page (issue 13), each as that person would meet it: the
console shows no 404 while the page loads and while a run fails (favicon, checkpoint); the
network picture's caption is true for a network without hidden layers; switching optimizer
keeps the learning rate; a refused value stays in its field, marked, while the document keeps
the old one; the betas field looks like the others."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs

import httpx
from playwright.sync_api import expect

from tests.web import ui


def not_found(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The URLs of this page's responses that are 404s, collected from now on."""
    seen: list[str] = []
    page.on("response", lambda r: seen.append(r.url) if r.status == 404 else None)
    return seen


def test_no_404_while_loading_and_while_a_run_fails(app) -> None:  # type: ignore[no-untyped-def]
    missing = not_found(app.page)
    page = app.open()
    # the page links its icon, and tools that ask /favicon.ico anyway get it too
    assert page.locator('link[rel="icon"]').get_attribute("href") == "/favicon.svg"
    assert page.evaluate("fetch('/favicon.ico').then(r => r.status)") == 200
    ui.load_preset(page, "lr_too_high")  # plain SGD at lr 0.7: diverges within ~100 steps
    page.get_by_role("button", name="Play", exact=True).click()
    expect(page.get_by_test_id("status")).to_contain_text("failed", timeout=120_000)
    expect(page.get_by_test_id("diagnosis")).to_contain_text("Diverged at step")
    page.wait_for_timeout(2000)  # the network view looks for weights once the run has ended
    assert missing == [], missing
    expect(page.get_by_test_id("network-view")).not_to_have_attribute("data-source", "checkpoint")


def no_hidden_link(url: str) -> str:
    """xor straight from input to one output unit (no hidden layer), long enough to stream."""
    spec = httpx.get(f"{url}/api/v1/catalog/presets").json()[0]["spec"]
    spec.pop("schema_version", None)
    spec.pop("networks", None)
    spec["data"] = {"name": "xor", "params": {}}
    spec["training"]["epochs"] = 100_000
    spec["network"] = {"nodes": [{"id": "input1", "kind": "input", "params": {}},
                                 {"id": "linear1", "kind": "linear",
                                  "params": {"out_features": 1}}],
                       "edges": [{"source": "input1", "target": "linear1"}], "output": None}
    return "/#s=" + base64.urlsafe_b64encode(json.dumps(spec).encode()).decode().rstrip("=")


def test_caption_of_a_network_without_hidden_layers(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open(no_hidden_link(app.url))
    ui.wait_valid(page)
    view = page.get_by_test_id("network-view")
    expect(view.locator(".link")).to_have_count(2)  # 2 inputs -> 1 output
    page.get_by_role("button", name="Play", exact=True).click()
    expect(view).to_have_attribute("data-source", "stream")
    caption = view.locator("p")
    expect(caption).to_contain_text("No hidden layer")
    expect(caption).not_to_contain_text("hidden unit")
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_test_id("status")).to_have_text("stopped")
    expect(view).to_have_attribute("data-source", "checkpoint")
    expect(caption).not_to_contain_text("hidden unit")


def doc(page) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """The document the page's URL holds (#s=, base64url JSON)."""
    text = parse_qs(page.evaluate("location.hash.slice(1)"))["s"][0]
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def optimizer(page) -> dict:  # type: ignore[no-untyped-def, type-arg]
    return doc(page)["training"]["optimizer"]


LR = '.training-panel .choice-optimizer .field[data-key="lr"]'


def test_switching_optimizer_keeps_the_learning_rate(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    choose = page.locator("#choice-optimizer")
    choose.select_option("adam")
    lr = page.locator(f"{LR} input")
    lr.fill("0.1")
    lr.press("Enter")
    ui.wait_until(lambda: optimizer(page) == {"name": "adam", "params": {"lr": 0.1}})
    choose.select_option("sgd")
    expect(lr).to_have_value("0.1")
    ui.wait_until(lambda: optimizer(page) == {"name": "sgd", "params": {"lr": 0.1}})
    choose.select_option("adam")
    expect(lr).to_have_value("0.1")
    expect(page.locator('.choice-optimizer .field[data-key="betas"] input')).to_have_value(
        "0.9, 0.999")  # SGD has no betas: Adam's own defaults
    ui.wait_until(lambda: optimizer(page) == {"name": "adam", "params": {"lr": 0.1}})


def test_a_refused_value_stays_marked_and_the_old_one_is_used(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    app.page.set_viewport_size({"width": 1280, "height": 800})
    page.locator("#choice-optimizer").select_option("sgd")
    ui.wait_until(lambda: optimizer(page)["name"] == "sgd")
    old = page.locator(f"{LR} input").input_value()
    ui.set_training(page, "lr", "-1")
    field = page.locator(LR)
    expect(field.locator("input")).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_class("field invalid")
    expect(field.locator(".field-error")).to_have_text(f"must be > 0; still using {old}")
    page.locator("#task").focus()  # the person moves on: the entry stays, marked
    expect(field.locator("input")).to_have_value("-1")
    assert optimizer(page)["params"].get("lr", 0.03) == float(old)  # the document keeps it
    ui.set_training(page, "batch_size", "0")
    batch = page.locator('.training-panel .field[data-key="batch_size"]')
    expect(batch.locator("input")).to_have_attribute("aria-invalid", "true")
    expect(batch.locator(".field-error")).to_contain_text("still using")
    page.locator(".training-panel").scroll_into_view_if_needed()
    app.shot("rough-invalid-lr")

    ui.set_training(page, "lr", "0.05")  # a good value: taken, and the mark goes
    expect(field.locator("input")).not_to_have_attribute("aria-invalid", "true")
    expect(field.locator(".field-error")).to_have_text("")
    ui.wait_until(lambda: optimizer(page)["params"].get("lr") == 0.05)


def test_the_betas_field_looks_like_the_others(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    page.locator("#choice-optimizer").select_option("adam")
    look = ("e => { const s = getComputedStyle(e); return [s.borderTopWidth, s.borderTopStyle, "
            "s.borderTopColor, s.borderRadius, s.backgroundColor, s.paddingLeft]; }")
    betas = page.locator('.choice-optimizer .field[data-key="betas"] input').evaluate(look)
    lr = page.locator(f"{LR} input").evaluate(look)
    assert betas == lr
