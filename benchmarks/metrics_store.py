"""Metric storage at scale: a run of 5 million recorded steps in a live server's database.

Starts `livegrad serve` as a user does (benchmarks/live_server.py: a subprocess on a free
loopback port, a temporary data folder, no warm workers so that no torch import competes),
then writes one completed run into its SQLite database through the server's own path: the
manager's SeriesBuffer (as `_collect` fills it) and repository.ChunkWriter (as its periodic
flush writes), in flushes of 5,000 steps (a fast run: ~10^4 steps/s, FLUSH_S = 0.5 s). Per
step: loss and accuracy; per event (every 500 steps, the 20 Hz ceiling at that speed): lr;
per evaluation (every 500 steps): train/test loss and accuracy. One loss spike is planted.

Then it prints:
1. database bytes per recorded step: the SQLite file (WAL checkpointed) before and after,
   divided by the steps (target <= 16 B/step);
2. GET /runs/{id}/metrics?max_points=4000: the median of several answers (target < 0.2 s),
   and whether the planted spike is in the answer;
3. meanwhile a thread polls GET /health every ~10 ms: the worst wait (target < 50 ms), and
   the worst with no /metrics reads, for comparison (a shared machine's noise).

    python benchmarks/metrics_store.py [--steps 5000000] [--repeats 7]

May import: stdlib, httpx, numpy, sqlalchemy, server (repository, series, db), engine's
public names, benchmarks/live_server.py.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from live_server import ROOT, start_server, stop_server  # a script's sibling module
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from engine import RunSpec
from server.runs.series import SeriesBuffer
from server.storage import repository as repo
from server.storage.db import make_engine, now

PER_FLUSH = 5_000  # steps per manager flush of a fast run
EVENT_EVERY = 500  # steps per steps_completed (lr) and per evaluation
EVALS = ("train_loss", "test_loss", "train_accuracy", "test_accuracy")
SPIKE_SHARE, SPIKE = 0.6421975, 1e3  # where the loss spike lies in the run, and its value
TARGET_S, TARGET_HEALTH_S, TARGET_BYTES = 0.2, 0.05, 16.0


def db_bytes(db: Path, eng) -> int:  # type: ignore[no-untyped-def]
    with eng.connect() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))


def spike_at(steps: int) -> int:
    return int(steps * SPIKE_SHARE)


def fill(sessions: sessionmaker, run_id: str, steps: int) -> float:  # type: ignore[type-arg]
    """Write the run's metrics as the manager does; returns the seconds it took."""
    rng = np.random.default_rng(0)
    buffer, writer = SeriesBuffer(), repo.ChunkWriter()
    t0 = time.perf_counter()
    with sessions() as s:
        for first in range(1, steps + 1, PER_FLUSH):
            n = min(PER_FLUSH, steps + 1 - first)
            at = np.arange(first, first + n)
            loss = 2.0 / np.sqrt(at) + 0.05 * rng.random(n)
            loss[at == spike_at(steps)] = SPIKE
            buffer.extend(run_id, "loss", first, loss.tolist())
            buffer.extend(run_id, "accuracy", first, (1 - loss / 3).clip(0, 1).tolist())
            for step in at[at % EVENT_EVERY == 0].tolist():
                buffer.add(run_id, "lr", step, 0.03)
                for name in EVALS:
                    buffer.add(run_id, name, step, float(rng.random()))
            writer.write(s, buffer.take())
        repo.update_run(s, run_id, status="completed", step=steps, finished_at=now())
    return time.perf_counter() - t0


class HealthPoller(threading.Thread):
    """GET /health every ~10 ms; keeps the longest wait."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.worst, self.count = url, 0.0, 0
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10, trust_env=False) as c:
            while not self.stop.is_set():
                t0 = time.perf_counter()
                c.get("/api/v1/health").raise_for_status()
                self.worst = max(self.worst, time.perf_counter() - t0)
                self.count += 1
                time.sleep(0.01)


def poll_health(url: str, seconds: float) -> float:
    poller = HealthPoller(url)
    poller.start()
    time.sleep(seconds)
    poller.stop.set()
    poller.join()
    return poller.worst


def time_metrics(url: str, run_id: str, repeats: int) -> tuple[list[float], dict, float]:  # type: ignore[type-arg]
    poller = HealthPoller(url)
    times, body = [], {}
    with httpx.Client(base_url=url, timeout=60, trust_env=False) as c:
        c.get(f"/api/v1/runs/{run_id}/metrics", params={"max_points": 4000})  # warm the cache
        poller.start()
        for _ in range(repeats):
            t0 = time.perf_counter()
            r = c.get(f"/api/v1/runs/{run_id}/metrics", params={"max_points": 4000})
            times.append(time.perf_counter() - t0)
            r.raise_for_status()
            body = r.json()
            time.sleep(0.05)
    poller.stop.set()
    poller.join()
    return times, body, poller.worst


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=5_000_000)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="livegrad-metrics-"))
    proc, url = start_server(folder, env={"LIVEGRAD_WARM_WORKERS": "0"}, min_workers=0)
    try:
        db = folder / "data" / "livegrad.db"
        eng = make_engine(f"sqlite:///{db}")
        sessions = sessionmaker(eng, expire_on_commit=False)
        spec = RunSpec.model_validate(json.loads((ROOT / "examples" / "xor.json").read_text()))
        with sessions() as s:
            run_id = repo.new_id()
            repo.add_run(s, run_id, spec)
        before = db_bytes(db, eng)
        write_s = fill(sessions, run_id, args.steps)
        per_step = (db_bytes(db, eng) - before) / args.steps
        eng.dispose()
        idle_worst = poll_health(url, 2.0)
        times, body, worst = time_metrics(url, run_id, args.repeats)
        report(args, write_s, per_step, times, body, worst, idle_worst)
    finally:
        stop_server(proc)
        shutil.rmtree(folder, ignore_errors=True)


def report(args: argparse.Namespace, write_s: float, per_step: float, times: list[float],
           body: dict, worst: float, idle_worst: float) -> None:  # type: ignore[type-arg]
    series = body["series"]
    loss = series["loss"]
    at = spike_at(args.steps)
    spike = SPIKE in loss["values"] and loss["steps"][loss["values"].index(SPIKE)] == at
    median = statistics.median(times)
    print(f"run: {args.steps:,} recorded steps, series {sorted(series)}; written through "
          f"SeriesBuffer + ChunkWriter in {write_s:.1f} s ({args.steps / write_s:,.0f} steps/s)")
    print(f"database growth: {per_step:.2f} B/step (target <= {TARGET_BYTES:.0f}: "
          f"{per_step / TARGET_BYTES:.0%} of it) {verdict(per_step <= TARGET_BYTES)}")
    print(f"GET /metrics?max_points=4000: median {median * 1000:.0f} ms of {len(times)} "
          f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}; target < "
          f"{TARGET_S * 1000:.0f} ms: {median / TARGET_S:.0%} of it) {verdict(median < TARGET_S)}")
    print(f"  loss: {len(loss['steps'])} points of {loss['total']:,}; the spike at step "
          f"{at:,} {'survives' if spike else 'IS LOST'}; most points in a series: "
          f"{max(len(v['steps']) for v in series.values())}")
    print(f"/health worst wait meanwhile: {worst * 1000:.1f} ms (target < "
          f"{TARGET_HEALTH_S * 1000:.0f} ms: {worst / TARGET_HEALTH_S:.0%} of it) "
          f"{verdict(worst < TARGET_HEALTH_S)}; with no /metrics reads: {idle_worst * 1000:.1f} ms")


if __name__ == "__main__":
    main()
