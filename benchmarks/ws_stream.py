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

    python benchmarks/ws_stream.py [--epochs 3000] [--repeats 2]

May import: stdlib, httpx, websockets (the server runs in its own process).
"""

from __future__ import annotations

import argparse
import asyncio
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


def start_server(folder: Path, threads: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    script = Path(sys.executable).with_name("livegrad")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "server.cli"]
    env = {**os.environ, "LIVEGRAD_WORKER_THREADS": str(threads)}
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen([*cmd, "serve", "--port", str(port), "--data-dir",
                             str(folder / "data")], cwd=ROOT, stdout=log, stderr=log, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            health = httpx.get(f"{url}/api/v1/health", timeout=2, trust_env=False).json()
            if health["workers"] >= 1:
                return proc, url
        except (httpx.TransportError, KeyError, ValueError):
            pass
        time.sleep(0.2)
    proc.kill()
    sys.exit(f"the server did not come up; see {folder / 'server.log'}")


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


async def main_async(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="livegrad-bench-"))
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
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=3000, help="epochs per timed run")
    p.add_argument("--repeats", type=int, default=2, help="runs per viewer count")
    p.add_argument("--threads", type=int, default=1, help="torch threads per worker")
    p.add_argument("--stall-s", type=float, default=15.0, help="how long the stalled client")
    asyncio.run(main_async(p.parse_args()))


if __name__ == "__main__":
    main()
