"""Websocket streaming from a live `livegrad serve` on loopback: latency, viewer cost, memory.

Starts the server as a user does (a subprocess on a free port, a temporary data folder), and
trains the course's xor MLP (fused NumPy path, default telemetry rates: steps_completed every
25 steps, eval_completed every epoch, the boundary grid at most 20 Hz). Prints, no asserts:

1. step-to-client latency p50/p95. The event's `t` is seconds since the trainer's start,
   on the worker's clock. The run's `started_at` (server wall clock, stamped just before
   the run is handed to the worker) is earlier than the trainer's start, so
   `received - (started_at + t)` over-estimates every latency by the worker's set-up time:
   an honest upper bound. Also printed: the spread above the fastest event
   (`received - t - min(received - t)`, exact up to that constant), and the constant itself.
   Only live events count (seq above the hello's last_seq), not the catch-up.
2. training steps/s (the engine's own `step / t` of run_completed) with 0, 1 and 20 viewers.
3. the server's RSS while one client connects and never reads a byte.
4. (section `threads`) the worker's torch thread count: steps/s through two servers, one
   with LIVEGRAD_WORKER_THREADS=1 and one with 2, runs alternating between them, for the
   784-256-256-10 MLP on synthetic_images (batch 64, autograd and the fused path) and the
   digits_mlp preset; alone, with 1 and 20 viewers, and two runs at once (the default
   max_concurrent_runs is 2). Steady steps/s = first to last steps_completed by the
   engine's own clock; also the engine's step/t (set-up included). Both servers run with
   LIVEGRAD_WARM_WORKERS=0 after two runs warmed two workers each: with warm_workers=1 the
   pool spawns a replacement (seconds of CPU for `import torch`) inside a timed run whenever
   two run at once. "others": CPUs busy outside this benchmark during the cell (a shared
   machine's noise; processes that exit inside the window count as others).

    python benchmarks/ws_stream.py [--section all|stream|threads] [--quick]

May import: stdlib, httpx, websockets (the server runs in its own process); server.settings
only to print the default thread count.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
TERMINAL = {"run_completed", "run_stopped", "run_failed"}


# --- the server ----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(folder: Path, threads: int | None = None, env: dict[str, str] | None = None,
                 min_workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    """`livegrad serve` on a free loopback port in its own session (so that `stop_server`
    can end its workers too); returns once /health answers with at least `min_workers`
    worker processes (spawned: /health does not say whether they have finished importing)."""
    port = free_port()
    script = Path(sys.executable).with_name("livegrad")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "server.cli"]
    env = {**os.environ, **(env or {})}
    if threads is not None:
        env["LIVEGRAD_WORKER_THREADS"] = str(threads)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "server.log").open("ab") as log:
        proc = subprocess.Popen([*cmd, "serve", "--port", str(port), "--data-dir",
                                 str(folder / "data")], cwd=ROOT, stdout=log, stderr=log,
                                env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            health = httpx.get(f"{url}/api/v1/health", timeout=2, trust_env=False).json()
            if health["workers"] >= min_workers:
                return proc, url
        except (httpx.TransportError, KeyError, ValueError):
            pass
        time.sleep(0.05)
    stop_server(proc)
    raise RuntimeError(f"the server did not come up; see {folder / 'server.log'}")


def stop_server(proc: subprocess.Popen[bytes], grace_s: float = 30) -> None:
    """Ctrl-C (graceful shutdown), then SIGKILL to whatever is left of its session."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # its session's group: the server and its workers
    proc.wait(timeout=10)


def tree_cpu_s(sessions: set[int]) -> float:
    """CPU seconds (user + system) used so far by live processes of these sessions."""
    total = 0
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) in sessions:  # field 6 of stat: the session id
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def wait_quiet(sessions: set[int], cores: float = 0.05, window_s: float = 0.5,
               timeout_s: float = 60) -> float:
    """Wait until these sessions use under `cores` CPUs over `window_s` (e.g. a worker
    importing torch has finished); returns the seconds waited."""
    t0 = time.monotonic()
    before = tree_cpu_s(sessions)
    while time.monotonic() - t0 < timeout_s:
        time.sleep(window_s)
        now = tree_cpu_s(sessions)
        if now - before < cores * window_s:
            break
        before = now
    return time.monotonic() - t0


class CpuMeter:
    """Over a window: CPUs busy on the whole machine, and those of it not ours (the
    benchmark, its servers and their workers): the noise of a shared machine."""

    def __init__(self, sessions: set[int]) -> None:
        self.sessions = sessions | {os.getsid(0)}

    @staticmethod
    def _busy_s() -> float:
        f = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = f[3] + f[4]  # idle + iowait
        return (sum(f[:8]) - idle) / os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> CpuMeter:
        self.t0, self.busy0, self.ours0 = time.monotonic(), self._busy_s(), \
            tree_cpu_s(self.sessions)
        return self

    def __exit__(self, *exc: object) -> None:
        wall = max(time.monotonic() - self.t0, 1e-9)
        self.busy = (self._busy_s() - self.busy0) / wall
        self.ours = (tree_cpu_s(self.sessions) - self.ours0) / wall
        self.others = max(0.0, self.busy - self.ours)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def spec(epochs: int) -> dict[str, Any]:
    s: dict[str, Any] = json.loads((ROOT / "examples" / "xor.json").read_text())
    s["training"]["epochs"] = epochs
    return s


async def post_run(api: httpx.AsyncClient, epochs: int) -> str:
    r = await api.post("/runs", json=spec(epochs))
    r.raise_for_status()
    run_id: str = r.json()["id"]
    return run_id


# --- viewers -------------------------------------------------------------------------------

async def view(ws_url: str, record: list[tuple[float, dict[str, Any]]] | None,
               counts: list[int]) -> None:
    """Read a run's events to its end; with `record`, keep (received, event) of text frames."""
    async with connect(ws_url, compression=None, proxy=None, max_size=2**24) as ws:
        live_after = -2  # until the hello
        async for message in ws:
            now = time.time()
            counts[0] += 1
            if isinstance(message, bytes):
                continue
            if record is None and '"type":"run_' not in message and live_after >= -1:
                continue  # most frames: counted, not parsed (a browser would parse them)
            parsed = json.loads(message)
            for event in parsed if isinstance(parsed, list) else [parsed]:
                if event["type"] == "hello":
                    live_after = event["last_seq"]
                elif record is not None and event["seq"] > live_after:
                    record.append((now, event))
                if event.get("type") in TERMINAL:
                    return


async def end_event(base_ws: str, run_id: str) -> dict[str, Any]:
    async with connect(f"{base_ws}/runs/{run_id}/events", compression=None, proxy=None,
                       max_size=2**24) as ws:
        async for message in ws:
            if isinstance(message, str) and json.loads(message).get("type") in TERMINAL:
                return dict(json.loads(message))
    raise RuntimeError("the stream ended without a terminal event")


async def steps_per_s(url: str, viewers: int, epochs: int,
                      batch: bool = False) -> tuple[float, float]:
    """(steps/s by the engine's clock, frames/s one viewer received) with `viewers` watching."""
    base_ws = url.replace("http", "ws", 1) + "/api/v1"
    async with httpx.AsyncClient(base_url=url + "/api/v1", trust_env=False) as api:
        run_id = await post_run(api, epochs)
        counts = [[0] for _ in range(viewers)]
        t0 = time.monotonic()
        query = "?batch=true" if batch else ""
        await asyncio.gather(*(view(f"{base_ws}/runs/{run_id}/events{query}", None, c)
                               for c in counts))
        while (await api.get(f"/runs/{run_id}")).json()["status"] in ("queued", "running"):
            await asyncio.sleep(0.05)
        wall = time.monotonic() - t0
    end = await end_event(base_ws, run_id)
    return end["step"] / end["t"], (counts[0][0] / wall if viewers else 0.0)


# --- the measurements ----------------------------------------------------------------------

def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


async def latency(url: str, epochs: int) -> None:
    base_ws = url.replace("http", "ws", 1) + "/api/v1"
    record: list[tuple[float, dict[str, Any]]] = []
    async with httpx.AsyncClient(base_url=url + "/api/v1", trust_env=False) as api:
        run_id = await post_run(api, epochs)
        t0 = time.monotonic()
        await view(f"{base_ws}/runs/{run_id}/events", record, [0])
        wall = time.monotonic() - t0
        run = (await api.get(f"/runs/{run_id}")).json()
    start = datetime.fromisoformat(run["started_at"]).timestamp()
    upper = [(got - start - ev["t"]) * 1000 for got, ev in record]
    floor = min(upper)
    spread = [u - floor for u in upper]
    kinds: dict[str, int] = {}
    for _, ev in record:
        kinds[ev["type"]] = kinds.get(ev["type"], 0) + 1
    print(f"latency, one viewer, {len(record)} live text events in {wall:.2f} s "
          f"({len(record) / wall:,.0f} events/s: {kinds})")
    print(f"  upper bound received - (started_at + t): p50 {pct(upper, 50):.1f} ms, "
          f"p95 {pct(upper, 95):.1f} ms, max {max(upper):.1f} ms")
    print(f"  above the fastest event:                 p50 {pct(spread, 50):.1f} ms, "
          f"p95 {pct(spread, 95):.1f} ms (constant: {floor:.1f} ms = worker set-up + "
          "fastest delivery)")


async def viewers_cost(url: str, epochs: int, repeats: int) -> None:
    settings = [(0, False), (1, False), (20, False), (1, True), (20, True)]
    results: dict[tuple[int, bool], list[float]] = {k: [] for k in settings}
    frames: dict[tuple[int, bool], list[float]] = {k: [] for k in settings}
    for _ in range(repeats):
        for n, batch in settings:  # alternate, so that drift hits every setting alike
            sps, fps = await steps_per_s(url, n, epochs, batch)
            results[n, batch].append(sps)
            frames[n, batch].append(fps)
    base = statistics.median(results[0, False])
    for (n, batch), values in results.items():
        med = statistics.median(values)
        extra = f", {statistics.median(frames[n, batch]):,.0f} frames/s to each" if n else ""
        how = "batched" if batch else "one event per frame" if n else ""
        print(f"  {n:2d} viewers {how:>19}: {med:,.0f} steps/s (median of {len(values)}; "
              f"{(med / base - 1) * 100:+.1f}% vs none{extra})")


def stalled_client(host: str, port: int, run_id: str) -> socket.socket:
    """A websocket client that completes the handshake and then never reads."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((host, port))
    s.sendall((f"GET /api/v1/runs/{run_id}/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
               "\r\n").encode())
    return s


async def memory(url: str, pid: int, seconds: float) -> None:
    async with httpx.AsyncClient(base_url=url + "/api/v1", trust_env=False) as api:
        before = rss_mb(pid)
        run_id = await post_run(api, 1_000_000)
        host, port = url.removeprefix("http://").split(":")
        sock = stalled_client(host, int(port), run_id)
        samples, t0 = [], time.monotonic()
        while time.monotonic() - t0 < seconds:
            await asyncio.sleep(0.5)
            samples.append(rss_mb(pid))
        await api.post(f"/runs/{run_id}/stop")
        step = (await api.get(f"/runs/{run_id}")).json()["step"]
        held, eof = await asyncio.to_thread(_read_to_end, sock)
        sock.close()
    third = max(1, len(samples) // 3)
    print(f"server RSS with one client that never reads, {seconds:.0f} s, {step:,} steps: "
          f"{before:.0f} MB before; {statistics.mean(samples[:third]):.0f} MB in the first "
          f"third, {statistics.mean(samples[-third:]):.0f} MB in the last, peak "
          f"{max(samples):.0f} MB; {held:,} bytes were in flight to it, then "
          + ("the server had closed the connection" if eof else "the connection was open"))


def _read_to_end(sock: socket.socket) -> tuple[int, bool]:
    """(bytes read, whether the server closed) after the stall: read until EOF or quiet."""
    sock.settimeout(3)
    total = 0
    try:
        while chunk := sock.recv(1 << 20):
            total += len(chunk)
    except TimeoutError:
        return total, False
    return total, True


# --- the worker's torch thread count ------------------------------------------------------

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


async def main_async(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="livegrad-bench-"))
    try:
        if args.section in ("all", "stream"):
            proc, url = start_server(folder, args.threads)
            try:
                print(f"server {url}, pid {proc.pid}; worker torch threads: {args.threads} "
                      f"(LIVEGRAD_WORKER_THREADS); {os.cpu_count()} CPUs; xor MLP, fused path")
                await steps_per_s(url, 1, 50)  # warm the worker and the routes
                await latency(url, args.epochs)
                print(f"training throughput, {args.epochs} epochs per run:")
                await viewers_cost(url, args.epochs, args.repeats)
                await memory(url, proc.pid, args.stall_s)
            finally:
                stop_server(proc)
        if args.section in ("all", "threads"):
            await thread_counts(folder, args.thread_repeats, args.steps, args.digits_epochs)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--section", choices=("all", "stream", "threads"), default="all",
                   help="stream: latency, viewers, memory; threads: the worker thread count")
    p.add_argument("--quick", action="store_true", help="fewer and shorter runs")
    p.add_argument("--epochs", type=int, default=3000, help="epochs per timed xor run")
    p.add_argument("--repeats", type=int, default=2, help="runs per viewer count")
    p.add_argument("--threads", type=int, default=1, help="torch threads per worker (stream)")
    p.add_argument("--stall-s", type=float, default=15.0, help="how long the stalled client")
    p.add_argument("--thread-repeats", type=int, default=3, help="runs per cell (threads)")
    p.add_argument("--steps", type=int, default=1500, help="steps per 784-256-256-10 run")
    p.add_argument("--digits-epochs", type=int, default=20, help="epochs per digits run")
    args = p.parse_args()
    if args.quick:
        args.epochs, args.repeats, args.stall_s = 300, 1, 4.0
        args.thread_repeats, args.steps, args.digits_epochs = 1, 300, 5
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
