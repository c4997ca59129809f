"""Rough edges a person meets on the page (issue 13), each as that person would meet it: the
console shows no 404 while the page loads and while a run fails (favicon, checkpoint); the
network picture's caption is true for a network without hidden layers; switching optimizer
keeps the learning rate; a refused value stays in its field, marked, while the document keeps
the old one; the betas field looks like the others."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import parse_qs

import httpx
from playwright.sync_api import expect

from tests.web import ui
from tests.web.conftest import ROOT


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
    # its drawing shows the last weights it streamed, and says so (not "live")
    caption = page.locator(".netdraw-caption")
    expect(caption).to_contain_text("the last the run streamed")
    expect(caption).not_to_contain_text("(live)")


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
    view = ui.drawing(page)
    expect(view.locator(".link")).to_have_count(2)  # 2 inputs -> 1 output
    page.get_by_role("button", name="Play", exact=True).click()
    expect(view).to_have_attribute("data-source", "stream")
    caption = view.locator(".netdraw-caption")
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


def post_run(url: str, spec: dict) -> str:  # type: ignore[type-arg]
    r = httpx.post(f"{url}/api/v1/runs", json=spec)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def ended(url: str, run_id: str) -> bool:
    return httpx.get(f"{url}/api/v1/runs/{run_id}").json()["status"] in {
        "completed", "stopped", "failed", "interrupted"}


def test_runs_can_be_told_apart_filtered_and_sorted(app) -> None:  # type: ignore[no-untyped-def]
    xor = json.loads((ROOT / "examples" / "xor.json").read_text(encoding="utf-8"))
    xor["training"]["epochs"] = 2
    adam, sgd = json.loads(json.dumps(xor)), json.loads(json.dumps(xor))
    adam["name"], adam["training"]["optimizers"] = "edge-a", {
        "model": {"name": "adam", "params": {"lr": 0.02}}}
    sgd["name"], sgd["training"]["optimizers"] = "edge-b", {
        "model": {"name": "sgd", "params": {"lr": 0.5}}}
    diverging = httpx.get(f"{app.url}/api/v1/catalog/presets").json()
    bad = next(p["spec"] for p in diverging if p["name"] == "lr_too_high")
    bad["name"] = "edge-c"
    ids = [post_run(app.url, s) for s in (adam, sgd, bad)]
    ui.wait_until(lambda: all(ended(app.url, i) for i in ids), timeout=120)

    page = app.open()
    app.page.set_viewport_size({"width": 1280, "height": 800})
    rows = [page.locator(f'.runs li[data-run="{i}"]') for i in ids]
    expect(rows[0]).to_contain_text("edge-a")
    expect(rows[0]).to_contain_text("adam lr 0.02")
    expect(rows[1]).to_contain_text("sgd lr 0.5")
    expect(rows[2].locator(".badge")).to_have_text("failed")
    expect(rows[2].locator(".run-why")).not_to_be_empty()  # why it ended, as the server says
    texts = [r.locator(".open").inner_text() for r in rows]
    assert len(set(texts)) == 3, texts
    # each row says when its run started, as a short local time (not the raw ISO text)
    expect(rows[0].locator(".run-details")).to_contain_text(re.compile(r"\d{1,2}:\d\d"))
    expect(rows[0].locator(".run-details")).not_to_contain_text("T")

    filter_ = page.get_by_role("searchbox", name="Filter runs")
    filter_.fill("sgd lr 0.5")
    expect(rows[1]).to_be_visible()
    expect(page.locator(f'.runs li[data-run="{ids[0]}"]')).to_have_count(0)
    filter_.fill("edge-")
    expect(page.locator(".runs li[data-run]")).to_have_count(3)
    page.locator(".runs-panel").scroll_into_view_if_needed()
    app.shot("rough-runs-panel")
    order = lambda: page.locator(".runs li[data-run]").evaluate_all(  # noqa: E731
        "els => els.map(e => e.dataset.run)")
    assert order() == ids[::-1]  # newest first
    page.get_by_role("combobox", name="Sort runs").select_option("status")
    ui.wait_until(lambda: order() == [ids[1], ids[0], ids[2]])  # completed (newest first), failed
    filter_.fill("no such run")
    expect(page.locator(".runs li.muted")).to_have_text("No run matches.")
