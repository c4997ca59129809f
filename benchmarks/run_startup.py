"""Run start-up on a live `livegrad serve` (loopback): time from `POST /api/v1/runs` to the
first event received on the run's websocket. Goal: <= 0.5 s with a warm worker.

How it is measured (the client's view, one clock: this process's perf_counter):
  t0 just before the POST is sent; then the websocket is opened (the moment the POST's
  answer arrives) and read; "first event" is the first frame after the hello: the run's
  `run_started`, live or in the catch-up if the run started before the socket opened.
  "first steps" is the first `steps_completed` (25 steps trained). Each run is then read to
  its end before the next one is posted, so that runs never overlap.

Cases:
  warm         default settings (warm_workers=1); one run first, then the pool's replacement
               worker is left to finish importing torch (/health: every worker idle and
               ready, `workers_ready == workers`; then the server's CPU quiet) before
               timing; runs alternate between the course's xor MLP and the digits_mlp preset.
  just started default settings, posted the moment /health answers with a worker process
               (spawned, still importing torch): what a script that starts the server sees.
  first ready  default settings, posted the moment /health says `workers_ready >= 1`: what
               a script that waits for readiness sees.
  no pool      LIVEGRAD_WARM_WORKERS=0, server started and quiet: the run pays a fresh
               worker process (spawn, import torch, engine warm-up). After its first run the
               server keeps that worker idle (it keeps max_concurrent_runs idle ones), so each
               repeat starts a new server.
Each cold repeat is a new server on a new data folder. Percentiles are nearest-rank over
the samples (with 10 samples, p95 is the max). Prints, no asserts.

    python benchmarks/run_startup.py [--warm-runs 10] [--cold-runs 3] [--quick]

May import: stdlib, httpx, websockets, benchmarks/ws_stream.py (the server helpers).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from live_server import ROOT, TERMINAL, CpuMeter, start_server, stop_server, wait_quiet
from websockets.asyncio.client import connect


def xor_spec(epochs: int) -> dict[str, Any]:
    s: dict[str, Any] = json.loads((ROOT / "examples" / "xor.json").read_text())
    s["training"]["epochs"] = epochs
    return s


async def digits_spec(api: httpx.AsyncClient, epochs: int) -> dict[str, Any]:
    presets = (await api.get("/catalog/presets")).json()
    s: dict[str, Any] = next(p["spec"] for p in presets if p["name"] == "digits_mlp")
    s["training"]["epochs"] = epochs
    return s


async def one_run(url: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Post a run, read its websocket to the end; times in seconds since just before the POST."""
    base_ws = url.replace("http", "ws", 1) + "/api/v1"
    async with httpx.AsyncClient(base_url=url + "/api/v1", trust_env=False) as api:
        t0 = time.perf_counter()
        r = await api.post("/runs", json=spec)
        t_post = time.perf_counter() - t0
        r.raise_for_status()
        run_id = r.json()["id"]
        out: dict[str, Any] = {"post": t_post}
        async with connect(f"{base_ws}/runs/{run_id}/events", compression=None, proxy=None,
                           max_size=2**24) as ws:
            out["open"] = time.perf_counter() - t0
            seen_hello = False
            async for message in ws:
                now = time.perf_counter() - t0
                if isinstance(message, bytes):
                    events: list[dict[str, Any]] = [{"type": "(binary frame)"}]
                else:
                    parsed = json.loads(message)
                    events = parsed if isinstance(parsed, list) else [parsed]
                for ev in events:
                    if ev["type"] == "hello":
                        seen_hello = True
                        continue
                    if seen_hello and "first" not in out:
                        out["first"], out["first_type"] = now, ev["type"]
                    if ev["type"] == "steps_completed" and "steps" not in out:
                        out["steps"] = now
                    if ev["type"] in TERMINAL:
                        out["end"] = ev["type"]
                        return out
    raise RuntimeError(f"run {run_id}: the stream ended without a terminal event")


def wait_health(url: str, ok: Any, timeout_s: float = 120) -> float:
    """Poll /health until `ok(health)`; returns the seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        health = httpx.get(f"{url}/api/v1/health", timeout=5, trust_env=False).json()
        if ok(health):
            return time.monotonic() - t0
        time.sleep(0.05)
    raise RuntimeError(f"/health never reached the awaited state: {health}")


def pool_settled(health: dict[str, Any]) -> bool:
    """No run active, and every worker idle with the engine imported."""
    return bool(health["runs_active"] == 0 and health["workers_ready"] == health["workers"])


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def line(label: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (f"  {label:<34} p50 {pct(ms, 50):7.0f} ms  p95 {pct(ms, 95):7.0f} ms  "
            f"max {max(ms):7.0f} ms  (n={len(ms)})")


def report(title: str, rows: list[dict[str, Any]], extra: str = "") -> None:
    kinds = sorted({r["first_type"] for r in rows})
    print(f"{title}{extra}")
    print(line("POST answered", [r["post"] for r in rows]))
    print(line("websocket open", [r["open"] for r in rows]))
    print(line(f"first event ({', '.join(kinds)})", [r["first"] for r in rows]))
    steps = [r["steps"] for r in rows if "steps" in r]
    if steps:
        print(line("first steps_completed", steps))
    ends = sorted({r["end"] for r in rows})
    if ends != ["run_completed"]:
        print(f"  runs ended: {ends}")


async def warm_case(folder: Path, runs: int) -> None:
    proc, url = start_server(folder / "warm")
    try:
        async with httpx.AsyncClient(base_url=url + "/api/v1", trust_env=False) as api:
            digits = await digits_spec(api, 2)
        specs = [("xor", xor_spec(5)), ("digits_mlp", digits)]
        await one_run(url, specs[0][1])  # a worker that is up; the routes warm
        waited = wait_health(url, pool_settled)
        waited += wait_quiet({proc.pid})
        by: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in specs}
        with CpuMeter({proc.pid}) as meter:
            for i in range(runs):
                name, spec = specs[i % len(specs)]
                by[name].append(await one_run(url, spec))
                await asyncio.sleep(0.2)
        report("warm worker (default settings: warm_workers=1)",
               by["xor"] + by["digits_mlp"],
               f"; {runs} runs after one untimed run and {waited:.1f} s for the pool to "
               f"settle; CPUs busy outside this benchmark meanwhile: {meter.others:.2f}")
        for name, rows in by.items():
            print(line(f"  first event, {name} only", [r["first"] for r in rows]))
    finally:
        stop_server(proc)


async def default_server_run(folder: Path, wait_ready: bool) -> tuple[dict[str, Any], float]:
    """Default settings, posted as soon as /health shows a (spawned) worker or, with
    `wait_ready`, a ready one; returns the run's times and the CPUs busy outside."""
    proc, url = start_server(folder, min_workers=1)
    try:
        if wait_ready:
            wait_health(url, lambda h: h["workers_ready"] >= 1)
        with CpuMeter({proc.pid}) as meter:
            row = await one_run(url, xor_spec(5))
        return row, meter.others
    finally:
        stop_server(proc)


async def cold_cases(folder: Path, repeats: int) -> None:
    just: list[dict[str, Any]] = []
    ready: list[dict[str, Any]] = []
    nopool: list[dict[str, Any]] = []
    others: list[float] = []
    for i in range(repeats):
        for rows, name, wait in ((just, "just", False), (ready, "ready", True)):
            row, busy = await default_server_run(folder / f"{name}{i}", wait)
            rows.append(row)
            others.append(busy)
        # no warm workers, server quiet: the run spawns its worker
        proc, url = start_server(folder / f"nopool{i}", env={"LIVEGRAD_WARM_WORKERS": "0"},
                                 min_workers=0)
        try:
            wait_quiet({proc.pid})
            with CpuMeter({proc.pid}) as meter:
                nopool.append(await one_run(url, xor_spec(5)))
            others.append(meter.others)
        finally:
            stop_server(proc)
    extra = (f"; xor, {repeats} fresh server(s) each; CPUs busy outside this benchmark: "
             f"median {statistics.median(others):.2f}")
    report("just started (default settings, POST as soon as /health shows a worker)", just,
           extra)
    report("first ready (default settings, POST once /health says workers_ready >= 1)",
           ready, extra)
    report("no pool (LIVEGRAD_WARM_WORKERS=0): each run spawns its worker", nopool, extra)


async def main_async(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="livegrad-startup-"))
    try:
        print(f"run start-up: POST /api/v1/runs -> first websocket event; loopback, "
              f"{os.cpu_count()} CPUs; a new `livegrad serve` per case")
        await warm_case(folder, args.warm_runs)
        await cold_cases(folder, args.cold_runs)
    except (RuntimeError, httpx.HTTPError, subprocess.SubprocessError) as exc:
        logs = sorted(folder.glob("*/server.log"))
        tail = logs[-1].read_text(errors="replace")[-2000:] if logs else ""
        raise SystemExit(f"benchmark failed: {exc}\n{tail}") from exc
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--warm-runs", type=int, default=10, help="timed runs with a warm worker")
    p.add_argument("--cold-runs", type=int, default=3, help="fresh servers per cold case")
    p.add_argument("--quick", action="store_true", help="4 warm runs, 1 cold repeat")
    args = p.parse_args()
    if args.quick:
        args.warm_runs, args.cold_runs = 4, 1
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
