"""The web UI under streaming load: frames per second of the page while one and then four
runs stream, and the time from a step's event leaving the server to its point on the chart.

How it is measured (Playwright driving Chromium, server and browser on this machine):
- fps: requestAnimationFrame callbacks counted by the page over WINDOW seconds, while its run
  streams (2-4-1 tanh MLP on xor, fused path, ~100k epochs: it never ends during the window).
  "four runs": four pages in one browser, each showing its own run, all drawing at once;
  the slowest page is reported.
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
Goals (issue 4): >= 55 fps, p95 latency <= 100 ms.
"""

from __future__ import annotations

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

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
WINDOW = 5.0
WARMUP = 5.0  # a run start spawns a spare warm worker: `import torch` takes ~3 s of CPU
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


def page_link(url: str) -> str:
    spec = httpx.get(f"{url}/api/v1/catalog/presets").json()[0]["spec"]
    spec.pop("schema_version", None)
    spec["data"] = {"name": "xor", "params": {}}
    spec["training"]["epochs"] = 100_000
    nodes = [("input1", "input", {}), ("linear1", "linear", {"out_features": 4}),
             ("tanh1", "tanh", {}), ("linear2", "linear", {"out_features": 1})]
    spec["network"] = {"nodes": [{"id": i, "kind": k, "params": p} for i, k, p in nodes],
                       "edges": [{"source": a[0], "target": b[0]}
                                 for a, b in zip(nodes, nodes[1:], strict=False)],
                       "output": None}
    doc = base64.urlsafe_b64encode(json.dumps(spec).encode()).decode().rstrip("=")
    return f"{url}/?perf#s={doc}"


class Stamps(threading.Thread):
    """A loopback websocket client that stamps each steps_completed event on arrival."""

    def __init__(self, url: str, run: str) -> None:
        super().__init__(daemon=True)
        self.ws = url.replace("http", "ws") + f"/api/v1/runs/{run}/events"
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


def start_run(page) -> str:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Play", exact=True).wait_for()
    page.wait_for_function("() => !document.querySelector('.controls .play').disabled")
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function("() => location.hash.includes('run=')")
    return page.evaluate("() => new URLSearchParams(location.hash.slice(1)).get('run')")


def latency(stamps: Stamps, drawn: list[list[float]], since: float) -> list[float]:
    out = []
    for step, arrived in stamps.arrivals:
        if arrived < since:
            continue
        shown = next((t for s, t in drawn if s >= step and t >= arrived - 1), None)
        if shown is not None:
            out.append(shown - arrived)
    return out


def measure(browser, url: str, pages: int) -> None:  # type: ignore[no-untyped-def]
    link = page_link(url)
    tabs = []
    for _ in range(pages):
        ctx = browser.new_context(viewport={"width": 1440, "height": 900})
        page = ctx.new_page()
        page.goto(link)
        page.wait_for_selector("body[data-ready=true]")
        tabs.append((ctx, page, start_run(page)))
    stamps = Stamps(url, tabs[0][2])
    stamps.start()
    time.sleep(WARMUP)  # steady state: workers started (and spare ones warmed), charts filled
    running = sum(httpx.get(f"{url}/api/v1/runs/{run}").json()["status"] == "running"
                  for _, _, run in tabs)
    since = time.time() * 1000
    fps = [p.evaluate(FPS_JS, WINDOW * 1000) for _, p, _ in tabs] if pages == 1 else None
    if fps is None:  # all pages at once: start every counter, then collect
        handles = [p.evaluate_handle(f"({FPS_JS})({WINDOW * 1000})") for _, p, _ in tabs]
        fps = [h.json_value() for h in handles]
    drawn = tabs[0][1].evaluate("() => window.livegradPerf.drawn")
    lat = latency(stamps, drawn, since)
    stamps.stop = True
    steps = tabs[0][1].get_by_test_id("step").inner_text()
    for ctx, _page, run in tabs:
        httpx.post(f"{url}/api/v1/runs/{run}/stop")
        ctx.close()
    lat.sort()
    p50 = statistics.median(lat) if lat else float("nan")
    p95 = lat[int(0.95 * (len(lat) - 1))] if lat else float("nan")
    print(f"{pages} run(s) streaming: fps min {min(fps):.1f} (pages: "
          f"{', '.join(f'{f:.1f}' for f in fps)}; goal >= 55) | event->chart latency "
          f"p50 {p50:.1f} ms, p95 {p95:.1f} ms over {len(lat)} events (goal p95 <= 100 ms) "
          f"| page 1 at step {steps} | {running}/{pages} runs running")


def main() -> None:
    proc, url = start_server()
    try:
        with sync_playwright() as p:
            exe = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
            browser = p.chromium.launch(executable_path=exe, args=ARGS)
            measure(browser, url, 1)
            measure(browser, url, 4)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


if __name__ == "__main__":
    main()
