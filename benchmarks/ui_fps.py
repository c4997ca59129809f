"""The web UI under streaming load: frames per second of the page while one and then four
runs stream, and the time from a step's event leaving the server to its point on the chart.

Three readings (rows), each printed with its label:
- "1 run, 1 page": one page watches its own run, nothing else streams.
- "4 runs, 1 page": one page watches one of four runs that stream at once (the other three
  started through the REST API, watched by nobody): the issue's "while four runs stream".
- "4 runs, 4 pages": four pages in one browser, each watching its own run, all drawing at
  once; the slowest page is reported. On a small machine this is mostly a measure of the
  CPU left to four software-rendered pages beside four training processes and the server.

How it is measured (Playwright driving Chromium, server and browser on this machine):
- fps: requestAnimationFrame callbacks counted by the page over WINDOW seconds, while its run
  streams (2-4-1 tanh MLP on xor, fused path, 400k epochs: it never ends during the window).
- cost: Chromium's own counters (CDP Performance.getMetrics) over the same window: how much
  of the wall time the first page's main thread spent in tasks, and of that in script,
  style and layout, per frame drawn.
- latency: a Python websocket client subscribes to the same run on loopback and stamps each
  steps_completed event as it arrives (the server's send time, give or take loopback). The
  page (opened with `?perf`) stamps every chart redraw with the newest step it drew. For each
  event, latency = first redraw showing its step - arrival at the Python client. Both stamps
  use this machine's wall clock (performance.timeOrigin + now() in the page). The page's
  stamp is taken when the loss chart's setData returns (uPlot draws synchronously), so it
  counts the websocket batching (<= 25 ms), the page's decoding and its redraw throttle.
- concurrency: the server runs with LIVEGRAD_MAX_CONCURRENT_RUNS=4 (the default, 2, would
  queue two of the four runs); the benchmark checks that every run is `running` and prints
  how many were.
- speed: each row at the page's speed "as fast as it goes" and at "one epoch per frame" (the
  engine paced at 60 epochs a second, TensorFlow Playground's rate); the REST runs beside
  get the same pace.
- machine: the CPUs busy over the window, and how many of them processes other than this
  benchmark's (its server, workers, browser) kept busy: on a shared machine a low reading
  beside a high share of others' is noise, not a regression.
Goals (issues 4 and 13): >= 55 fps, p95 latency <= 100 ms, at both speeds.

Run: `.venv/bin/python benchmarks/ui_fps.py` (all rows; `--rows 4x1` for one, `--speeds max`
for one speed, `--window`, `--warmup` in seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import websockets
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_server import CpuMeter  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
WINDOW = 5.0
WARMUP = 5.0  # a run start spawns a spare warm worker: `import torch` takes ~3 s of CPU
ROWS = {"1x1": (1, 1), "4x1": (4, 1), "4x4": (4, 4)}  # name: (runs streaming, pages watching)
SPEEDS = {"max": "As fast as it goes", "epoch": "1 epoch per frame"}  # the page's speed ids
STEP = re.compile(r'"step":\s*(\d+)')


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tempfile.mkdtemp(prefix="livegrad-bench-")
    exe = Path(sys.executable).with_name("livegrad")
    env = {**os.environ, "LIVEGRAD_MAX_CONCURRENT_RUNS": "4"}  # four runs stream at once
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port), "--data-dir", data],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


def bench_spec(url: str) -> dict:  # type: ignore[type-arg]
    """The first preset's settings, xor, a 2-4-1 tanh MLP, epochs enough to outlast a row."""
    spec = httpx.get(f"{url}/api/v1/catalog/presets").json()[0]["spec"]
    spec.pop("schema_version", None)
    spec["data"] = {"name": "xor", "params": {}}
    spec["training"]["epochs"] = 400_000  # 10M steps, the server's limit: a minute unpaced
    nodes = [("input1", "input", {}), ("linear1", "linear", {"out_features": 4}),
             ("tanh1", "tanh", {}), ("linear2", "linear", {"out_features": 1})]
    spec["network"] = {"nodes": [{"id": i, "kind": k, "params": p} for i, k, p in nodes],
                       "edges": [{"source": a[0], "target": b[0]}
                                 for a, b in zip(nodes, nodes[1:], strict=False)],
                       "output": None}
    return spec


def page_link(url: str, spec: dict) -> str:  # type: ignore[type-arg]
    doc = base64.urlsafe_b64encode(json.dumps(spec).encode()).decode().rstrip("=")
    return f"{url}/?perf#s={doc}"


class Stamps(threading.Thread):
    """A loopback websocket client that stamps each steps_completed event on arrival."""

    def __init__(self, url: str, run: str) -> None:
        super().__init__(daemon=True)
        # steps_completed only (and the always-sent events): the grids and maps the page
        # draws would cost this client, beside the pages it measures, as much as a page
        self.ws = url.replace("http", "ws") + f"/api/v1/runs/{run}/events?subscribe="
        self.arrivals: list[tuple[int, float]] = []
        self.stop = False

    def run(self) -> None:
        async def main() -> None:
            async with websockets.connect(self.ws, compression=None) as ws:
                while not self.stop:
                    msg = await ws.recv()
                    now = time.time() * 1000
                    # ~800 unbatched events/s: a regex, not json.loads, so that the stamping
                    # client takes little of the CPU the page is measured on
                    if isinstance(msg, str) and '"steps_completed"' in msg:
                        self.arrivals.append((int(STEP.search(msg)[1]), now))
        asyncio.run(main())


FPS_JS = """(ms) => new Promise(done => { let n = 0; const t0 = performance.now();
  const f = (t) => { n++; if (t - t0 < ms) requestAnimationFrame(f);
    else done(n * 1000 / (t - t0)); }; requestAnimationFrame(f); })"""


def start_run(page, speed: str) -> str:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Play", exact=True).wait_for()
    page.wait_for_function("() => !document.querySelector('.controls .play').disabled")
    page.get_by_label("Speed", exact=True).select_option(speed)
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function("() => location.hash.includes('run=')")
    return page.evaluate("() => new URLSearchParams(location.hash.slice(1)).get('run')")


def page_pace(page, speed: str) -> float | None:  # type: ignore[no-untyped-def]
    """The pace the page's run got (None at full speed), once it has it."""
    if speed == "max":
        return None
    page.wait_for_function("() => window.livegradPerf.live.pace != null", timeout=60_000)
    return page.evaluate("() => window.livegradPerf.live.pace")


def latency(stamps: Stamps, drawn: list[list[float]], since: float) -> list[float]:
    out = []
    for step, arrived in stamps.arrivals:
        if arrived < since:
            continue
        shown = next((t for s, t in drawn if s >= step and t >= arrived - 1), None)
        if shown is not None:
            out.append(shown - arrived)
    return out


COUNTERS = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")


def counters(cdp) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Chromium's cumulative main-thread times (seconds) of a page."""
    got = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {k: got.get(k, 0.0) for k in COUNTERS}


def open_pages(browser, url: str, runs: int, pages: int, speed: str):  # type: ignore[no-untyped-def]
    """`pages` pages that each start (and watch) a run, plus runs - pages runs by REST."""
    spec = bench_spec(url)
    tabs = []
    for _ in range(pages):
        ctx = browser.new_context(viewport={"width": 1440, "height": 900})
        page = ctx.new_page()
        page.goto(page_link(url, spec))
        page.wait_for_selector("body[data-ready=true]")
        tabs.append((ctx, page, start_run(page, speed)))
    pace = page_pace(tabs[0][1], speed)
    query = f"?pace={pace}" if pace else ""
    extra = [httpx.post(f"{url}/api/v1/runs{query}", json={"schema_version": 1, **spec}
                        ).json()["id"] for _ in range(runs - pages)]
    return tabs, extra, pace


def trained(url: str, ids: list[str], timeout: float = 90.0) -> None:
    """Waits until every run has trained a step: on a fresh server four workers' `import
    torch` can outlast the warmup, and a row would count idle pages."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(httpx.get(f"{url}/api/v1/runs/{run}", timeout=30).json()["step"] > 0 for run in ids):
            return
        time.sleep(0.25)
    raise SystemExit(f"runs did not start training within {timeout:g} s")


def browser_sessions() -> set[int]:
    """The sessions of the Chromium processes (Playwright starts the browser in a session of
    its own), so that the CPU meter counts them as this benchmark's."""
    found = set()
    for d in Path("/proc").iterdir():
        try:
            if d.name.isdigit() and "chromium" in os.readlink(d / "exe"):
                found.add(os.getsid(int(d.name)))
        except OSError:
            continue
    return found


def measure(browser, url: str, runs: int, pages: int, speed: str) -> None:  # type: ignore[no-untyped-def]
    tabs, extra, pace = open_pages(browser, url, runs, pages, speed)
    ids = [run for _, _, run in tabs] + extra
    stamps = Stamps(url, tabs[0][2])
    stamps.start()
    trained(url, ids)
    time.sleep(WARMUP)  # steady state: workers started (and spare ones warmed), charts filled
    running = sum(httpx.get(f"{url}/api/v1/runs/{run}").json()["status"] == "running"
                  for run in ids)
    cdp = tabs[0][0].new_cdp_session(tabs[0][1])
    cdp.send("Performance.enable")
    since = time.time() * 1000
    before, t0 = counters(cdp), time.monotonic()
    # all pages at once: start every counter, then collect
    with CpuMeter(browser_sessions()) as cpu:
        handles = [p.evaluate_handle(f"({FPS_JS})({WINDOW * 1000})") for _, p, _ in tabs]
        fps = [h.json_value() for h in handles]
    after, wall = counters(cdp), time.monotonic() - t0
    drawn = tabs[0][1].evaluate("() => window.livegradPerf.drawn")
    redraw = [p.evaluate("() => window.livegradPerf.live.redrawMs") for _, p, _ in tabs]
    charts_hz = sum(1 for _, t in drawn if t >= since) / wall
    lat = latency(stamps, drawn, since)
    stamps.stop = True
    steps = tabs[0][1].get_by_test_id("step").inner_text()
    for run in ids:
        httpx.post(f"{url}/api/v1/runs/{run}/stop", timeout=60)
    for ctx, _page, _run in tabs:
        ctx.close()
    paced = f"paced at {pace:g} steps/s" if pace else "unpaced"
    report(f"{runs} run{'s' if runs > 1 else ''}, {pages} page{'s' if pages > 1 else ''}, "
           f"{SPEEDS[speed].lower()}", fps, lat, {k: after[k] - before[k] for k in COUNTERS},
           wall, f"page 1 at step {steps} ({paced}) | {running}/{runs} runs running",
           f"views redraw every {', '.join(f'{r:.0f}' for r in redraw)} ms (pages; 28 on "
           f"time), page 1's loss chart {charts_hz:.1f} times a second | CPUs busy "
           f"{cpu.busy:.2f} of {os.cpu_count()}, {cpu.others:.2f} of them by processes not "
           f"this benchmark's")


def report(label: str, fps: list[float], lat: list[float],  # type: ignore[no-untyped-def]
           busy: dict[str, float], wall: float, tail: str, views: str) -> None:
    lat.sort()
    p50 = statistics.median(lat) if lat else float("nan")
    p95 = lat[int(0.95 * (len(lat) - 1))] if lat else float("nan")
    frames = max(1.0, fps[0] * wall)
    print(f"[{label}] fps min {min(fps):.1f} (pages: {', '.join(f'{f:.1f}' for f in fps)}; "
          f"goal >= 55) | event->chart latency p50 {p50:.1f} ms, p95 {p95:.1f} ms over "
          f"{len(lat)} events (goal p95 <= 100 ms) | {tail}")
    print(f"    page 1 main thread: busy {100 * busy['TaskDuration'] / wall:.0f}% of the window, "
          f"per frame {1000 * busy['TaskDuration'] / frames:.2f} ms (script "
          f"{1000 * busy['ScriptDuration'] / frames:.2f}, style "
          f"{1000 * busy['RecalcStyleDuration'] / frames:.2f}, layout "
          f"{1000 * busy['LayoutDuration'] / frames:.2f})", flush=True)
    print(f"    {views}", flush=True)


def main() -> None:
    global WINDOW, WARMUP
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", nargs="+", choices=list(ROWS), default=list(ROWS),
                    help="which readings: runs x pages (default: all three)")
    ap.add_argument("--speeds", nargs="+", choices=list(SPEEDS), default=list(SPEEDS),
                    help="the page's speeds (default: both)")
    ap.add_argument("--window", type=float, default=WINDOW, help="seconds counted per row")
    ap.add_argument("--warmup", type=float, default=WARMUP, help="seconds before counting")
    args = ap.parse_args()
    WINDOW, WARMUP = args.window, args.warmup
    proc, url = start_server()
    try:
        with sync_playwright() as p:
            exe = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
            browser = p.chromium.launch(executable_path=exe, args=ARGS)
            for row in args.rows:
                for speed in args.speeds:
                    measure(browser, url, *ROWS[row], speed)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


if __name__ == "__main__":
    main()
