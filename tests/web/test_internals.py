"""The Internals panel follows a run's probes live: per-layer gradient norms and update
ratios, distributions, dead/saturated units, curvature and the telemetry share; a diverging
run pins its warnings and failure on the loss chart and shows the diagnosis's reading."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.web import ui

LAMBDA = re.compile(r"^λ_max \d")


def play_long(page, preset: str) -> None:  # type: ignore[no-untyped-def]
    """Loads a preset, lengthens it so that it streams until the test stops it, presses play."""
    ui.load_preset(page, preset)
    ui.set_training(page, "epochs", "100000")
    ui.wait_valid(page)
    page.get_by_role("button", name="Play", exact=True).click()
    expect(page.get_by_test_id("status")).to_have_text("running")


def stop(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_test_id("status")).to_have_text("stopped")


def test_internals_render_and_update_while_the_run_streams(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    sockets: list[str] = []
    refusals: list[str] = []
    def watch(ws) -> None:  # type: ignore[no-untyped-def]
        sockets.append(ws.url)
        ws.on("framereceived", lambda f: refusals.append(f) if isinstance(f, str)
              and f.startswith('{"type":"error"') else None)
    page.on("websocket", watch)
    play_long(page, "spiral_deep_tanh")
    # the accuracy chart appears with the run's first evaluation and pushes the sections down:
    # open them once the column has its run's height (off-screen sections do not redraw)
    expect(page.get_by_test_id("accuracy-chart")).to_be_visible()

    ui.open_section(page, "grad")
    ui.wait_until(lambda: ui.data_int(page, "grad-norm-chart", "series") >= 2
                  and ui.data_int(page, "grad-norm-chart", "points") > 0, timeout=60)
    assert ui.data_int(page, "grad-norm-chart", "series") == 7  # six hidden layers and out
    first = ui.data_int(page, "grad-norm-chart", "last")
    ui.wait_until(lambda: ui.data_int(page, "grad-norm-chart", "last") > first, timeout=60)
    app.shot("internals-1-gradients")

    ui.open_section(page, "update")
    ui.wait_until(lambda: ui.data_int(page, "update-ratio-chart", "points") > 0, timeout=60)

    ui.open_section(page, "dist")
    ui.wait_until(lambda: ui.data_int(page, "dist-chart", "points") > 0, timeout=60)
    page.get_by_test_id("dist-kind").select_option("activations")
    ui.wait_until(lambda: ui.data_int(page, "dist-chart", "points") > 0, timeout=60)
    expect(page.get_by_test_id("dist-tensor")).to_have_value("dense1")

    ui.open_section(page, "activity")
    ui.wait_until(lambda: ui.data_int(page, "dead-saturated-chart", "series") == 6, timeout=60)
    expect(page.get_by_test_id("dead-saturated-latest")).to_contain_text("act1: ")
    expect(page.get_by_test_id("dead-saturated-latest")).to_contain_text("% saturated")
    app.shot("internals-2-distributions")

    ui.open_section(page, "telemetry")
    expect(page.get_by_test_id("telemetry-share")).to_have_text(
        re.compile(r"^telemetry \d+(\.\d)?% of time, budget 5(\.0)?%"), timeout=60_000)
    app.shot("internals-3-telemetry")
    stop(page)
    # the page asked for the events of its open sections, and the server took the list
    assert any("subscribe=" in url and "norms_sampled" in url for url in sockets), sockets
    assert not refusals, refusals


def test_diverging_preset_pins_the_failure_on_the_loss_chart(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    ui.load_preset(page, "lr_too_high")
    # the preset measures curvature: its section opens, so its events are asked for
    expect(page.locator('details[data-section="curvature"]')).to_have_attribute("open", "")
    expect(page.get_by_test_id("curvature-toggle")).to_be_checked()
    page.get_by_role("button", name="Play", exact=True).click()
    expect(page.get_by_test_id("status")).to_contain_text("failed")

    diagnosis = page.get_by_test_id("diagnosis")
    expect(diagnosis).to_be_visible()
    expect(diagnosis).to_contain_text("Diverged at step")
    expect(diagnosis).to_contain_text("2/λ_max")  # the reading compares lr with the curvature
    step = int(re.search(r"Diverged at step (\d+)", diagnosis.inner_text()).group(1))  # type: ignore[union-attr]
    # the counter shows the steps that trained, and the diagnosis says the same number
    expect(diagnosis).to_contain_text(f"after {step - 1} steps that trained")
    expect(page.get_by_test_id("step")).to_have_text(str(step - 1))
    for readout in ("train-loss", "test-loss"):  # huge or not finite: short, never 9 digits
        text = page.get_by_test_id(readout).inner_text()
        assert len(text) <= 8 and not re.search(r"\d{7}", text), (readout, text)
    chart = page.get_by_test_id("loss-chart")
    # the y axis has numbers however far the loss blew up (it reaches about 1e38 here)
    expect(chart).to_have_attribute("data-y-ticks", re.compile(r"\S+ \S+.*e3\d"))
    expect(chart).to_have_attribute("data-marks", re.compile(rf"(^| ){step}:failed$"))
    expect(chart).to_have_attribute("data-marks", re.compile(r"\d+:unstable_lr"))
    chart.scroll_into_view_if_needed()
    app.shot("internals-4-diverged")

    ui.open_section(page, "curvature")
    expect(page.get_by_test_id("lambda-max")).to_have_text(LAMBDA)
    expect(page.get_by_test_id("lambda-max")).to_contain_text("lr > 2/λ_max")

    # a section opened after the run ended still gets the run's history (the page reads the
    # stream again from its start with the wider subscription)
    ui.open_section(page, "grad")
    ui.wait_until(lambda: ui.data_int(page, "grad-norm-chart", "points") > 0, timeout=60)


def test_curvature_toggle_measures_the_next_run(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    ui.load_preset(page, "spiral_deep_tanh")
    section = ui.open_section(page, "curvature")
    toggle = page.get_by_test_id("curvature-toggle")
    expect(toggle).not_to_be_checked()
    toggle.check()  # no run yet: the document asks for it, so the next run measures
    ui.set_training(page, "epochs", "100000")
    ui.wait_valid(page)
    page.get_by_role("button", name="Play", exact=True).click()
    section.scroll_into_view_if_needed()
    expect(page.get_by_test_id("lambda-max")).to_have_text(LAMBDA, timeout=60_000)
    app.shot("internals-5-curvature")
    stop(page)


def test_curvature_toggle_turns_it_on_for_the_running_run(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    play_long(page, "spiral_deep_tanh")
    ui.open_section(page, "curvature")
    expect(page.get_by_test_id("lambda-max")).to_have_text("λ_max: not measured")
    page.get_by_test_id("curvature-toggle").check()
    expect(page.get_by_test_id("lambda-max")).to_have_text(LAMBDA, timeout=60_000)
    stop(page)
