"""Watchable speed, as a person uses it: a lesson trained at 10 steps a second counts its
steps one by one and says how fast it really goes; switched to "as fast as it goes" while
running, the same run speeds up; "one step at a time" holds a new run before its first step
and Step takes exactly one; "one epoch per frame" trains about 60 epochs a second. And a
refusal shown in the header goes once the network is edited (rough edge 3).

Rates are asserted with wide margins (a loaded machine runs slower, never faster than a pace).
"""

from __future__ import annotations

import json
import re
import time

import httpx
from playwright.sync_api import expect

from tests.web import ui

LESSON = "spiral_deep_tanh"
STEPS_PER_EPOCH = 25  # its 250 training points in batches of 10


def load_lesson(page) -> None:  # type: ignore[no-untyped-def]
    """The lesson, made long enough to be training still when a test stops it."""
    ui.load_preset(page, LESSON)
    ui.set_training(page, "epochs", "100000")


def choose_speed(page, label: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Speed", exact=True).select_option(label=label)


def play_lesson_at(page, label: str) -> None:  # type: ignore[no-untyped-def]
    load_lesson(page)
    choose_speed(page, label)
    page.get_by_role("button", name="Play", exact=True).click()


def steps_in(page, seconds: float) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    """Steps the counter moved over about `seconds`, and the seconds it really took."""
    first, t0 = ui.step_count(page), time.monotonic()
    page.wait_for_timeout(seconds * 1000)
    return ui.step_count(page) - first, time.monotonic() - t0


def test_a_paced_lesson_counts_each_step_and_speeds_up_on_request(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    play_lesson_at(page, "10 steps/s")
    ui.wait_until(lambda: ui.step_count(page) >= 3, timeout=30)
    moved, took = steps_in(page, 2.0)
    assert 5 <= moved <= 10 * took + 3, (moved, took)  # about 10 a second, never more
    expect(page.get_by_test_id("rate")).to_have_text(re.compile(r"^\d+(\.\d)? steps/s$"))
    run = re.search(r"run=(\w+)", page.url).group(1)  # type: ignore[union-attr]
    row = page.locator(f'li[data-run="{run}"]')  # the runs panel follows the run it shows
    expect(row.locator(".badge")).to_have_text("running")
    expect(row.locator(".run-details")).to_contain_text(re.compile(r"step [1-9]"))

    choose_speed(page, "As fast as it goes")
    ui.wait_until(lambda: ui.step_count(page) > 2000, timeout=60)
    assert re.search(r"run=(\w+)", page.url).group(1) == run  # type: ignore[union-attr]
    page.get_by_role("button", name="Stop").click()  # frees its worker for the next test


def test_one_step_at_a_time_holds_the_run_and_steps_exactly(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    play_lesson_at(page, "One step at a time")
    expect(page.get_by_test_id("status")).to_have_text("paused")
    assert ui.settled_step(page) == 0
    step = page.get_by_role("button", name="Step once")
    step.click()
    expect(page.get_by_test_id("step")).to_have_text("1")
    step.click()
    expect(page.get_by_test_id("step")).to_have_text("2")
    page.get_by_role("button", name="Resume", exact=True).click()  # goes on, at full speed
    ui.wait_until(lambda: ui.step_count(page) > 500, timeout=60)
    expect(page.get_by_label("Speed", exact=True)).to_have_value("max")
    page.get_by_role("button", name="Stop").click()  # frees its worker for the next test


def test_one_epoch_per_frame_trains_about_sixty_epochs_a_second(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    play_lesson_at(page, "1 epoch per frame")
    expect(page.get_by_test_id("rate")).to_have_attribute("title", re.compile(r"at most .+/s"),
                                                     timeout=60_000)
    # past the start (the page builds its drawing while the first epochs come), the engine's
    # own count (the run's REST resource) over about 3 s: the page's counter can lag on a busy
    # machine (a late first reading inflated it by half a second's epochs), the engine's not
    ui.wait_until(lambda: int(page.get_by_test_id("epoch").inner_text()) >= 20, timeout=30)
    run = page.evaluate("() => new URLSearchParams(location.hash.slice(1)).get('run')")

    def engine() -> tuple[float, float]:
        t = time.monotonic()
        body = httpx.get(f"{app.url}/api/v1/runs/{run}", timeout=10).json()
        return body["step"] / STEPS_PER_EPOCH, (t + time.monotonic()) / 2

    counter = int(page.get_by_test_id("epoch").inner_text())
    first, t0 = engine()
    page.wait_for_timeout(3000)
    last, t1 = engine()
    epochs = last - first
    # at most 60 a second, give or take the pace's burst (0.1 s: 6 epochs) and the step
    # count's grain (the resource follows steps_completed, at 20 Hz: 3 epochs at each end);
    # unpaced, this lesson trains ~1,000 epochs a second
    assert 20 <= epochs <= 60 * (t1 - t0) + 12, epochs
    # and the page's counter went with it
    ui.wait_until(lambda: int(page.get_by_test_id("epoch").inner_text()) >= counter + 20,
                  timeout=10)
    page.get_by_role("button", name="Stop").click()  # frees its worker for the next test


def test_a_refusal_goes_once_the_network_is_edited(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    ui.load_preset(page, LESSON)
    refusal = {"detail": "the run spec is not valid", "errors": [
        {"node": "linear1", "field": "out_features", "message": "too many units"}]}
    page.route("**/api/v1/runs", lambda route: route.fulfill(
        status=422, content_type="application/json", body=json.dumps(refusal))
        if route.request.method == "POST" else route.fallback())
    page.get_by_role("button", name="Play", exact=True).click()
    error = page.get_by_test_id("run-error")
    expect(error).to_contain_text("The run was refused")
    ui.set_param(page, ui.node_ids(page)[1], "out_features", "6")
    expect(error).to_have_text("")
