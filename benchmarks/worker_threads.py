"""The worker's torch thread count, chosen deliberately: steps/s through two live servers,
one with LIVEGRAD_WORKER_THREADS=1 and one with 2, runs alternating between them, for the
784-256-256-10 MLP on synthetic_images (batch 64, autograd and the fused path) and the
digits_mlp preset; alone, with 1 and 20 viewers, and two runs at once. Run it through
`python benchmarks/ws_stream.py --section threads` (see that module's docstring).

May import: stdlib, httpx, websockets, the other benchmark modules; server.settings only to
print the default thread count.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
from live_server import (
    TERMINAL,
    CpuMeter,
    start_server,
    stop_server,
    view,
    wait_quiet,
)
from websockets.asyncio.client import connect


def mlp_spec(name: str, data: dict[str, Any], hidden: list[int], out: int, batch: int,
             steps: int, fast_path: bool) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [{"id": "x", "kind": "input"}]
    for i, width in enumerate(hidden, start=1):
        nodes += [{"id": f"dense{i}", "kind": "linear", "params": {"out_features": width}},
                  {"id": f"relu{i}", "kind": "relu"}]
    nodes.append({"id": "out", "kind": "linear", "params": {"out_features": out}})
    edges = [{"source": a["id"], "target": b["id"]} for a, b in zip(nodes, nodes[1:], strict=False)]
    return {"name": name, "network": {"nodes": nodes, "edges": edges}, "data": data,
            "training": {"loss": {"name": "cross_entropy"},
                         "optimizer": {"name": "adam", "params": {"lr": 0.001}},
                         "batch_size": batch, "steps": steps, "seed": 0, "device": "cpu",
                         "fast_path": fast_path}}


async def history(base_ws: str, run_id: str) -> list[dict[str, Any]]:
    """A finished run's light events, from the websocket's catch-up."""
    events: list[dict[str, Any]] = []
    async with connect(f"{base_ws}/runs/{run_id}/events", compression=None, proxy=None,
                       max_size=2**24) as ws:
        async for message in ws:
            if isinstance(message, bytes):
                continue
            parsed = json.loads(message)
            for ev in parsed if isinstance(parsed, list) else [parsed]:
                events.append(ev)
                if ev.get("type") in TERMINAL:
                    return events
    raise RuntimeError("the stream ended without a terminal event")


def run_rates(events: list[dict[str, Any]]) -> tuple[float, float, str]:
    """(steady steps/s: first to last steps_completed by the engine's `t`; the engine's
    step/t of the terminal event, set-up included; the step strategy)."""
    marks = [(e["step"], e["t"]) for e in events if e["type"] == "steps_completed"]
    end = events[-1]
    if end["type"] != "run_completed":
        raise RuntimeError(f"run ended {end['type']}: {end}")
    strategy = next((e["strategy"] for e in events if e["type"] == "run_started"), "?")
    steady = (marks[-1][0] - marks[0][0]) / (marks[-1][1] - marks[0][1])
    return steady, end["step"] / end["t"], strategy


async def throughput(url: str, spec_: dict[str, Any], runs: int,
                     viewers: int) -> tuple[list[float], list[float], str, float]:
    """Post `runs` runs at once with `viewers` viewers on the first; per run: steady and
    engine steps/s; the strategy; frames/s that one viewer received."""
    base_ws = url.replace("http", "ws", 1) + "/api/v1"
    async with httpx.AsyncClient(base_url=url + "/api/v1", trust_env=False) as api:
        ids = []
        for _ in range(runs):
            r = await api.post("/runs", json=spec_)
            r.raise_for_status()
            ids.append(r.json()["id"])
        counts = [[0] for _ in range(viewers)]
        t0 = time.monotonic()
        await asyncio.gather(*(view(f"{base_ws}/runs/{ids[0]}/events", None, c)
                               for c in counts))
        for run_id in ids:
            while (await api.get(f"/runs/{run_id}")).json()["status"] in ("queued", "running"):
                await asyncio.sleep(0.05)
        wall = time.monotonic() - t0
    steady, engine, strategy = [], [], "?"
    for run_id in ids:
        s, e, strategy = run_rates(await history(base_ws, run_id))
        steady.append(s)
        engine.append(e)
    return steady, engine, strategy, (counts[0][0] / wall if viewers else 0.0)


def worker_threads(session: int) -> list[int]:
    """OS threads of each worker process of a server (its session's spawned children)."""
    counts = []
    for d in Path("/proc").iterdir():
        try:
            if (not d.name.isdigit() or os.getsid(int(d.name)) != session
                    or b"multiprocessing" not in (d / "cmdline").read_bytes()
                    or b"resource_tracker" in (d / "cmdline").read_bytes()):
                continue
            counts.append(len(list((d / "task").iterdir())))
        except OSError:
            continue
    return sorted(counts)


async def thread_counts(folder: Path, repeats: int, steps: int, digits_epochs: int) -> None:
    """Steps/s through the server with LIVEGRAD_WORKER_THREADS=1 and 2, one server each."""
    from server.settings import Settings  # only to print the default

    default = Settings.model_fields["worker_threads"].default
    counts = (1, 2)
    servers: dict[int, tuple[subprocess.Popen[bytes], str]] = {}
    try:
        for n in counts:  # warm_workers=0: see the docstring at the top
            servers[n] = start_server(folder / f"threads{n}", n,
                                      env={"LIVEGRAD_WARM_WORKERS": "0"}, min_workers=0)
        sessions = {proc.pid for proc, _ in servers.values()}
        async with httpx.AsyncClient(base_url=servers[1][1] + "/api/v1",
                                     trust_env=False) as api:
            digits = next(p["spec"] for p in (await api.get("/catalog/presets")).json()
                          if p["name"] == "digits_mlp")
        digits["training"]["epochs"] = digits_epochs
        images = {"name": "synthetic_images", "params": {"n_points": 2000}}
        loads = [
            ("784-256-256-10 autograd", mlp_spec("mlp784", images, [256, 256], 10, 64,
                                                 steps, fast_path=False)),
            ("784-256-256-10 fused", mlp_spec("mlp784", images, [256, 256], 10, 64, steps,
                                              fast_path=True)),
            ("digits_mlp preset", digits),
        ]
        for _, url in servers.values():  # two workers each, imported and warmed, kept idle
            await throughput(url, loads[0][1] | {"training": loads[0][1]["training"]
                                                 | {"steps": 100}}, 2, 0)
        waited = wait_quiet(sessions)
        print(f"\nworker torch threads (LIVEGRAD_WORKER_THREADS; the default is {default}): "
              f"steps/s through `livegrad serve`, {os.cpu_count()} CPUs; median of {repeats}")
        print("  worker OS threads (torch pool, OpenBLAS, Python's own): "
              + ", ".join(f"{n} torch thread(s): {worker_threads(servers[n][0].pid)}"
                          for n in counts) + f"; servers quiet after {waited:.1f} s")
        conditions = [("alone", 1, 0), ("1 viewer", 1, 1), ("20 viewers", 1, 20),
                      ("2 runs at once", 2, 0)]
        res: dict[tuple[str, str, int], list[tuple[float, float, float, float]]] = {}
        strategies: dict[str, str] = {}
        for rep in range(repeats):
            order = counts if rep % 2 == 0 else counts[::-1]  # alternate against drift
            for name, spec_ in loads:
                for cond, runs, viewers in conditions:
                    for n in order:
                        with CpuMeter(sessions) as meter:
                            steady, engine, strategy, fps = await throughput(
                                servers[n][1], spec_, runs, viewers)
                        strategies[name] = strategy
                        res.setdefault((name, cond, n), []).append(
                            (statistics.mean(steady), statistics.mean(engine), fps,
                             meter.others))
        print("  steady = first to last steps_completed by the engine's clock (per run; "
              "mean of the two when 2 at once);")
        print("  engine = step/t of run_completed (set-up and first evaluation included); "
              "others = CPUs busy outside this benchmark")
        print(f"  {'workload':<24} {'condition':<15} {'1 thread':>17} {'2 threads':>17} "
              f"{'2 vs 1':>7}  {'viewer frames/s':>15}  others 1t/2t")
        for name, _ in loads:
            for cond, _, viewers in conditions:
                med = {n: [statistics.median(v[i] for v in res[name, cond, n])
                           for i in range(4)] for n in counts}
                cells = [f"{med[n][0]:7,.0f} ({med[n][1]:6,.0f})" for n in counts]
                fps = f"{med[1][2]:,.0f}" if viewers else "-"
                print(f"  {name:<24} {cond:<15} {cells[0]:>17} {cells[1]:>17} "
                      f"{(med[2][0] / med[1][0] - 1) * 100:+6.0f}%  {fps:>15}  "
                      f"{med[1][3]:.2f}/{med[2][3]:.2f}")
        print("  (cells: steady (engine) steps/s; strategies: "
              + ", ".join(f"{k}: {v}" for k, v in strategies.items()) + ")")
    finally:
        for proc, _ in servers.values():
            stop_server(proc)

