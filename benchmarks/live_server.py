"""A live `livegrad serve` for the benchmarks: start it as a user does (a subprocess on a
free loopback port, a temporary data folder), stop it and every process it started, and
measure the CPU other processes use meanwhile (this machine is shared).

May import: stdlib, httpx, websockets.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
TERMINAL = {"run_completed", "run_stopped", "run_failed"}


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


def proc_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) one process has used so far (its threads, not children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
