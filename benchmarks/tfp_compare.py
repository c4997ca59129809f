"""What a student sees, against TensorFlow Playground measured in the same run (issue 13): on
the Playground's deepest net (spiral, six hidden layers of 8 tanh), its page's training rate
beside livegrad's, with how often every node's heatmap and the output boundary refresh.

TFP side (optional, `--tfp-bundle PATH`, made by ../shared/tfp-bench/build.sh): its engine in
Node, `bench.js --task spiral --mode page`: `oneStep` as the page runs it, every node's
100x100 heatmap computed each epoch (painting left out). In a browser the page does at most
one epoch per animation frame; headless it does about 20 a second on this net. Without the
bundle the TFP side is skipped (said so) and only livegrad's figures are printed.

livegrad side: `livegrad serve` as a user starts it (benchmarks/live_server.py), the preset
`spiral_deep_tanh` with enough epochs not to end, watched over the websocket as the page asks
(batched, 256 points, the page's event types): over a window after a warm-up, epochs per
second trained (the engine's clock, from steps_completed), `neuron_maps_computed` per second
received and whether each covers every unit the drawing shows (each input feature, every
hidden unit, the output's), and `grid_computed` per second received.

Rounds alternate the two sides (`--rounds`, default 3): one JSON line per round, then the
medians and the goals: livegrad / TFP epochs per second >= 10, maps >= 20 Hz, grid >= 20 Hz.
Also printed: the CPU share other processes took meanwhile (this machine is shared).

    python benchmarks/tfp_compare.py [--tfp-bundle /tmp/tfp-build/bench.js] [--rounds 3]
        [--seconds 5] [--warmup 1.5] [--browser]

`--browser`: after each round's socket window, Chromium opens the same run (page_rates.py)
and counts what it paints: new neuron maps and grids per second, the units that show a map.

Measured on the shared 2-core VM (2026-12-02, 3 rounds, others' load about half a core):
TFP 10.4 epochs/s (its page in Node; 20 on a quiet machine), livegrad 1,020 epochs/s (ratio
110x, rounds 95-126x), neuron maps 24.0 Hz, each covering all 100 units (2 input, 96
hidden: 48 linear and 48 tanh, 2 output), grid 24.0 Hz. In-process, the maps cost about
1-2% of training's wall time (sample and frame encoding), the grid at 24 Hz about 5%.

May import: stdlib, httpx, websockets, the benchmarks' own helpers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_server import CpuMeter, start_server, stop_server  # noqa: E402
from page_rates import page_round  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

PRESET = "spiral_deep_tanh"
EPOCHS = 200_000  # 5 M steps: far more than a round trains
WATCHED = "grid_computed,neuron_maps_computed,weights_sampled"  # besides the always-sent
GOALS = {"ratio": 10.0, "maps_hz": 20.0, "grid_hz": 20.0, "page_maps_hz": 20.0,
         "page_grid_hz": 20.0}
MAX_UNITS = 64  # the neuron maps probe's default max_units: wider nodes have no map


# --- TensorFlow Playground ---------------------------------------------------------------------

def tfp_round(bundle: Path, seconds: float, warmup: float) -> dict[str, Any]:
    out = subprocess.run(["node", str(bundle), "--task", "spiral", "--mode", "page",
                          "--seconds", str(seconds), "--warmup", str(warmup)],
                         capture_output=True, text=True, timeout=seconds + warmup + 120,
                         check=True)
    line = [t for t in out.stdout.splitlines() if t.startswith("{")][-1]
    return dict(json.loads(line))


# --- livegrad ---------------------------------------------------------------------------------

def frame_event(frame: bytes) -> dict[str, Any]:
    """A binary frame's event without its arrays (docs/protocol.md: u64 N | JSON header)."""
    (n,) = struct.unpack_from("<Q", frame, 0)
    header = json.loads(frame[8:8 + n])
    return dict(json.loads(header["__metadata__"]["event"]))


def drawn_units(graph: dict[str, Any]) -> dict[str, int]:
    """The nodes the drawing shows a map on (outputs of shape (units,)) and their widths."""
    return {n["id"]: n["output_shape"][0] for n in graph["nodes"]
            if n.get("output_shape") and len(n["output_shape"]) == 1
            and n["output_shape"][0] <= MAX_UNITS}


class Watch:
    """What one page-like client receives over a window of its clock."""

    def __init__(self, t0: float, t1: float) -> None:
        self.t0, self.t1 = t0, t1
        self.maps = self.grids = 0
        self.full_maps = 0  # maps events that cover every drawn unit
        self.steps: list[tuple[float, int]] = []  # (engine t, step) of steps_completed
        self.units: dict[str, int] = {}
        self.per_epoch = 1
        self.covers: dict[str, int] = {}

    def inside(self, now: float) -> bool:
        return self.t0 <= now <= self.t1

    def light(self, event: dict[str, Any], now: float) -> None:
        if event["type"] == "run_started":
            self.units = drawn_units(event["graph"])
            self.per_epoch = int(event["steps_per_epoch"])
        elif event["type"] == "steps_completed" and self.inside(now):
            self.steps.append((event["t"], event["step"]))

    def heavy(self, event: dict[str, Any], now: float) -> None:
        if not self.inside(now):
            return
        if event["type"] == "grid_computed":
            self.grids += 1
        elif event["type"] == "neuron_maps_computed":
            self.maps += 1
            got: dict[str, int] = {}
            for node in event["nodes"]:
                got[node] = got.get(node, 0) + 1
            self.full_maps += got == self.units
            self.covers = got

    def figures(self) -> dict[str, Any]:
        span = self.t1 - self.t0
        (ta, sa), (tb, sb) = self.steps[0], self.steps[-1]
        order = list(self.units)
        return {"epochs_per_s": (sb - sa) / self.per_epoch / max(tb - ta, 1e-9),
                "maps_hz": self.maps / span, "grid_hz": self.grids / span,
                "maps_covering_every_unit": f"{self.full_maps}/{self.maps}",
                "units": {"input": self.covers.get(order[0], 0),
                          "hidden": sum(self.covers.get(n, 0) for n in order[1:-1]),
                          "output": self.covers.get(order[-1], 0)} if order else {}}


async def watch(ws_url: str, seconds: float, warmup: float) -> Watch:
    now = time.monotonic()
    seen = Watch(now + warmup, now + warmup + seconds)
    url = f"{ws_url}?batch=true&points=256&subscribe={WATCHED}"
    async with connect(url, compression=None, proxy=None, max_size=2**24) as ws:
        while time.monotonic() < seen.t1:
            try:
                message = await asyncio.wait_for(ws.recv(), timeout=seen.t1 - time.monotonic())
            except TimeoutError:
                break
            at = time.monotonic()
            if isinstance(message, bytes):
                seen.heavy(frame_event(message), at)
                continue
            parsed = json.loads(message)
            for event in parsed if isinstance(parsed, list) else [parsed]:
                seen.light(event, at)
    return seen


async def livegrad_round(url: str, spec: dict[str, Any], seconds: float, warmup: float,
                         browser: bool = False) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=f"{url}/api/v1", trust_env=False,
                                 timeout=60) as api:
        r = await api.post("/runs", json=spec)
        r.raise_for_status()
        run_id = r.json()["id"]
        ws_url = f"{url.replace('http', 'ws', 1)}/api/v1/runs/{run_id}/events"
        try:
            seen = await watch(ws_url, seconds, warmup)
            page = (await asyncio.to_thread(page_round, url, run_id, seconds, warmup)
                    if browser else {})
        finally:
            await api.post(f"/runs/{run_id}/stop")
    return seen.figures() | page


async def warm_worker(url: str, spec: dict[str, Any], steps: int = 2000,
                      timeout_s: float = 180) -> float:
    """A first run trained to `steps` and stopped, so that the rounds do not measure the
    worker finishing its imports (on a busy machine, tens of seconds); the seconds it took."""
    t0 = time.monotonic()
    async with httpx.AsyncClient(base_url=f"{url}/api/v1", trust_env=False,
                                 timeout=60) as api:
        run_id = (await api.post("/runs", json=spec)).json()["id"]
        while time.monotonic() - t0 < timeout_s:
            if (await api.get(f"/runs/{run_id}")).json()["step"] >= steps:
                break
            await asyncio.sleep(0.2)
        await api.post(f"/runs/{run_id}/stop")
    return time.monotonic() - t0


def preset_spec(url: str) -> dict[str, Any]:
    items = httpx.get(f"{url}/api/v1/catalog/presets", trust_env=False, timeout=30).json()
    spec = next(p["spec"] for p in items if p["name"] == PRESET)
    spec["training"]["epochs"] = EPOCHS
    return dict(spec)


# --- the comparison ---------------------------------------------------------------------------

def summary(rounds: list[dict[str, Any]], with_tfp: bool) -> dict[str, Any]:
    keys = ["epochs_per_s", "maps_hz", "grid_hz"]
    keys += [k for k in ("page_maps_hz", "page_grid_hz", "page_epochs_per_s")
             if k in rounds[0]["livegrad"]]
    med = {k: statistics.median(r["livegrad"][k] for r in rounds) for k in keys}
    out: dict[str, Any] = {"summary": True, "livegrad_epochs_per_s": med.pop("epochs_per_s"),
                           **med}
    if with_tfp:
        out["tfp_epochs_per_s"] = statistics.median(r["tfp"]["epochs_per_s"] for r in rounds)
        out["ratio"] = statistics.median(r["ratio"] for r in rounds)
    out["goals"] = {k: (f"{out[k]:.1f} >= {g:g}: " + ("met" if out[k] >= g else "MISSED"))
                    for k, g in GOALS.items() if k in out}
    out["others_cpu"] = statistics.median(r["others_cpu"] for r in rounds)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tfp-bundle", type=Path, default=None,
                    help="bench.js from ../shared/tfp-bench/build.sh (absent: TFP skipped)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5.0, help="measuring window per side")
    ap.add_argument("--warmup", type=float, default=1.5)
    ap.add_argument("--browser", action="store_true", help="also count what the page paints "
                    "(page_rates.py: Chromium watching the same run after the socket's window)")
    args = ap.parse_args()
    bundle = args.tfp_bundle
    if bundle is None or not bundle.exists():
        print(f"TFP side skipped: no --tfp-bundle{f' at {bundle}' if bundle else ''} "
              "(../shared/tfp-bench/build.sh makes one); livegrad's figures only", flush=True)
        bundle = None
    with tempfile.TemporaryDirectory(prefix="tfp-compare-") as folder:
        proc, url = start_server(Path(folder))
        try:
            spec = preset_spec(url)
            warm = asyncio.run(warm_worker(url, spec))
            print(f"worker warm after {warm:.1f} s", flush=True)
            rounds = []
            for i in range(args.rounds):
                row: dict[str, Any] = {"round": i + 1}
                with CpuMeter({proc.pid}) as cpu:
                    if bundle is not None:
                        row["tfp"] = tfp_round(bundle, args.seconds, args.warmup)
                    row["livegrad"] = asyncio.run(
                        livegrad_round(url, spec, args.seconds, args.warmup, args.browser))
                row["others_cpu"] = round(cpu.others, 2)
                if bundle is not None:
                    row["ratio"] = row["livegrad"]["epochs_per_s"] / row["tfp"]["epochs_per_s"]
                print(json.dumps(row), flush=True)
                rounds.append(row)
            print(json.dumps(summary(rounds, bundle is not None)), flush=True)
        finally:
            stop_server(proc)


if __name__ == "__main__":
    main()
