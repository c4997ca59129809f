"""Training throughput of the engine, side by side with TensorFlow Playground's own engine and
with bare eager PyTorch, in interleaved rounds (load from other processes hits both sides of
each ratio alike).

Sections (`--sections`, default all):
- `tfp`: TensorFlow Playground's JS engine in Node (`--tfp`, the bundle that
  ../shared/tfp-bench/build.sh builds; default ${TMPDIR:-/tmp}/tfp-build/bench.js when it
  exists, else the section says how to build it), `--mode raw`, against livegrad's trainer
  raw (fast path, no grid, no subscribers) on the same task: the Playground's default (circle,
  x1 x2, 2-4-2-1 tanh, squared error on ±1 labels, SGD 0.03, batch 10, 500 points of which
  250 train: one epoch is 25 updates) and spiral with six hidden layers of 8. Goal >= 1.0x.
- `skip`: the autograd path on a graph the fused path declines (the spiral net with a skip
  connection: an `add` node joins act2 and act4) against a bare eager PyTorch loop doing the
  same work (the same net as an nn.Module, SGD, a permutation per epoch, batches gathered by
  index as the trainer does), the trainer with its probes on (as a run has them) and off,
  by the wall clock and by CPU time. Goal >= 0.9x.
- `table`: per task, (1) the trainer with every event collected and the boundary grid at its
  default period, (2) raw, (3) on the autograd path, (4) a bare eager PyTorch loop.

    python benchmarks/engine_throughput.py [--seconds 3] [--rounds 5] [--quick]
        [--sections tfp,skip,table] [--tfp PATH]

May import: stdlib, numpy, torch, engine's public names.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from engine import (
    Choice,
    Control,
    EdgeSpec,
    NetworkSpec,
    NodeSpec,
    RunSpec,
    TelemetrySpec,
    Trainer,
    TrainingSpec,
    load_dataset,
    set_threads,
)

BATCH, THREADS = 10, 1
TASKS = {"circle": [4, 2], "spiral": [8] * 6}
GOAL_TFP, GOAL_SKIP, GOAL_GRID_HZ = 1.0, 0.9, 10.0
SKIP = ("act2", "act4")  # the add node's inputs in the skip net
BUILD_HINT = "build it with ../shared/tfp-bench/build.sh (it prints the bundle's path)"


def data_choice(task: str) -> Choice:
    return Choice(name=task, params={"n_points": 500, "train_fraction": 0.5,
                                     "features": ["x1", "x2"]})


def skip_network() -> NetworkSpec:
    """The spiral net, 6 x 8 tanh, with act2 + act4 feeding dense5."""
    nodes = [NodeSpec(id="x", kind="input")]
    for i in range(1, 7):
        nodes += [NodeSpec(id=f"dense{i}", kind="linear", params={"out_features": 8}),
                  NodeSpec(id=f"act{i}", kind="tanh")]
    nodes += [NodeSpec(id="skip", kind="add"),
              NodeSpec(id="out", kind="linear", params={"out_features": 1})]
    chain = ["x"] + [n for i in range(1, 7) for n in (f"dense{i}", f"act{i}")]
    pairs = [(a, b) for a, b in zip(chain, chain[1:], strict=False) if b != "dense5"]
    pairs += [(SKIP[0], "skip"), (SKIP[1], "skip"), ("skip", "dense5"), ("act6", "out")]
    return NetworkSpec(nodes=nodes, edges=[EdgeSpec(source=a, target=b) for a, b in pairs])


def spec(task: str, *, fast_path: bool = True, grid: bool = False,
         network: NetworkSpec | None = None, probes: bool = True) -> RunSpec:
    telemetry = TelemetrySpec(probes_enabled=probes) if grid \
        else TelemetrySpec(grid_every=0, probes_enabled=probes)
    training = TrainingSpec(loss=Choice(name="mse"),
                            optimizer=Choice(name="sgd", params={"lr": 0.03}),
                            batch_size=BATCH, epochs=1_000_000, device="cpu",
                            fast_path=fast_path, telemetry=telemetry)
    return RunSpec(network=network or NetworkSpec.mlp(TASKS[task], "tanh", 1),
                   data=data_choice(task), training=training)


def run_trainer(s: RunSpec, seconds: float, collect: bool = False) -> dict[str, Any]:
    """Train until a timer stops the run; rates over the trainer's own run() call."""
    control = Control()
    trainer = Trainer(s, control=control)
    events: list[Any] = []
    if collect:
        trainer.subscribe(events.append)
    timer = threading.Timer(seconds, control.stop)
    t0, c0 = time.perf_counter(), time.process_time()
    timer.start()
    end = trainer.run()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert end.type == "run_stopped", end
    grids = sum(1 for e in events if e.type == "grid_computed")
    per_epoch = trainer.prepared.steps_per_epoch
    n_train = len(trainer.prepared.data.x_train)
    kernel = getattr(trainer.strategy, "kernel", None)
    return {"examples": trainer.step / per_epoch * n_train / elapsed,
            "cpu_examples": trainer.step / per_epoch * n_train / cpu,
            "epochs": trainer.step / per_epoch / elapsed, "grid_hz": grids / elapsed,
            "events": len(events),
            "strategy": trainer.strategy.name + (f", {kernel}" if kernel else "")}


class SkipNet(nn.Module):
    """skip_network() as a person would write it."""

    def __init__(self, hidden: list[int], skip: bool) -> None:
        super().__init__()
        widths = [2, *hidden]
        self.dense = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:],
                                                                   strict=False))
        self.out = nn.Linear(widths[-1], 1)
        self.skip = skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, saved = x, x
        for i, layer in enumerate(self.dense, start=1):
            h = torch.tanh(layer(h))
            if self.skip and i == 2:
                saved = h
            elif self.skip and i == 4:
                h = h + saved
        return self.out(h)


def bare_eager(task: str, seconds: float, skip: bool = False) -> dict[str, Any]:
    """The plain PyTorch loop: SGD, MSE on ±1 labels, batch 10, a permutation per epoch and
    each batch gathered by index (as the trainer gathers it)."""
    data = load_dataset(data_choice(task))
    torch.manual_seed(0)
    model = SkipNet(TASKS[task], skip)
    opt = torch.optim.SGD(model.parameters(), lr=0.03)
    x = torch.tensor(data.x_train)  # a copy: the loaded arrays are the cache's, read-only
    y = torch.from_numpy(data.y_train.astype("float32") * 2 - 1).unsqueeze(1)  # (N, 1) ±1
    n, steps = len(x), 0
    t0, c0 = time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds:
        perm = torch.randperm(n)
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            loss = F.mse_loss(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            steps += 1
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"examples": steps * BATCH / elapsed, "cpu_examples": steps * BATCH / cpu,
            "epochs": steps * BATCH / n / elapsed}


def tfp(bundle: Path, task: str, seconds: float) -> dict[str, Any]:
    """One run of TensorFlow Playground's engine in Node: its JSON line."""
    cmd = ["node", str(bundle), "--task", task, "--mode", "raw", "--seconds", f"{seconds:g}"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=60 + seconds)
    return json.loads(done.stdout.strip().splitlines()[-1])


def summary(ratios: list[float]) -> str:
    return (f"median {statistics.median(ratios):.2f}x "
            f"({min(ratios):.2f}-{max(ratios):.2f}, n={len(ratios)})")


def tfp_section(bundle: Path | None, seconds: float, rounds: int) -> None:
    print("\nTensorFlow Playground's engine (Node, --mode raw) vs livegrad's trainer raw, "
          f"epochs/s (goal >= {GOAL_TFP:g}x)")
    if bundle is None or not bundle.exists() or shutil.which("node") is None:
        where = bundle or default_bundle()
        print(f"  skipped: no TFP bundle at {where} or no node; {BUILD_HINT}")
        return
    ratios: dict[str, list[float]] = {task: [] for task in TASKS}
    for r in range(1, rounds + 1):
        for task in TASKS:
            theirs = tfp(bundle, task, seconds)["epochs_per_s"]
            ours = run_trainer(spec(task), seconds)
            ratios[task].append(ours["epochs"] / theirs)
            print(f"  round {r} {task:6s}: TFP {theirs:>8,.0f}  livegrad {ours['epochs']:>8,.0f}"
                  f"  [{ours['strategy']}]  {ratios[task][-1]:5.2f}x", flush=True)
    for task in TASKS:
        print(f"  {task:6s}: {summary(ratios[task])}")


def skip_section(seconds: float, rounds: int) -> None:
    print(f"\nautograd path vs bare eager PyTorch, spiral 6x8 tanh with a skip "
          f"({SKIP[0]} + {SKIP[1]}), steps/s (goal >= {GOAL_SKIP:g}x): the trainer as a run "
          "has it (probes on, within their 5% budget; evaluations) and with probes off; "
          "both sides single-threaded, so steps per CPU second too (on a shared machine "
          "the wall clock also counts the time other processes held the core)")
    ratios: dict[str, list[float]] = {"on": [], "off": [], "on CPU": [], "off CPU": []}
    for r in range(1, rounds + 1):
        on = run_trainer(spec("spiral", network=skip_network()), seconds)
        bare = bare_eager("spiral", seconds, skip=True)
        off = run_trainer(spec("spiral", network=skip_network(), probes=False), seconds)
        for name, m in (("on", on), ("off", off)):
            ratios[name].append(m["examples"] / bare["examples"])
            ratios[f"{name} CPU"].append(m["cpu_examples"] / bare["cpu_examples"])
        print(f"  round {r}: trainer [{on['strategy']}] probes on {on['examples'] / BATCH:>7,.0f}"
              f", off {off['examples'] / BATCH:>7,.0f}  bare {bare['examples'] / BATCH:>7,.0f}"
              f"  on {ratios['on'][-1]:4.2f}x (CPU {ratios['on CPU'][-1]:4.2f}x)  off "
              f"{ratios['off'][-1]:4.2f}x (CPU {ratios['off CPU'][-1]:4.2f}x)", flush=True)
    for name, label in (("on", "probes on, wall"), ("on CPU", "probes on, CPU"),
                        ("off", "probes off, wall"), ("off CPU", "probes off, CPU")):
        print(f"  {label:17s} {summary(ratios[name])}")


def table_section(seconds: float) -> None:
    labels = {"events": "(1) trainer, events + boundary grid",
              "raw": "(2) trainer raw (fast path, no grid)",
              "autograd": "(3) trainer, fast_path=False",
              "bare": "(4) bare eager PyTorch loop"}
    for task in TASKS:
        r = {"events": run_trainer(spec(task, grid=True), seconds, collect=True),
             "raw": run_trainer(spec(task), seconds),
             "autograd": run_trainer(spec(task, fast_path=False), seconds),
             "bare": bare_eager(task, seconds)}
        print(f"\n{task}, {'-'.join(map(str, [2, *TASKS[task], 1]))} tanh")
        for key, label in labels.items():
            m, bare = r[key], r["bare"]["examples"]
            extra = f"  [{m['strategy']}]" if "strategy" in m else ""
            print(f"  {label:40s} {m['examples']:>10,.0f} examples/s {m['epochs']:>8,.1f} "
                  f"epochs/s  {m['examples'] / bare:5.1f}x bare{extra}")
        print(f"  boundary grid refresh (1): {r['events']['grid_hz']:.1f} Hz (goal >= "
              f"{GOAL_GRID_HZ:g} Hz); {r['events']['events']} events collected")


def default_bundle() -> Path:
    return Path(os.environ.get("TMPDIR") or "/tmp") / "tfp-build" / "bench.js"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--quick", action="store_true", help="1 s per measurement, 3 rounds")
    parser.add_argument("--sections", default="tfp,skip,table", help="which, comma-separated")
    parser.add_argument("--tfp", type=Path, default=None,
                        help="TensorFlow Playground's bench.js (default: "
                             "${TMPDIR:-/tmp}/tfp-build/bench.js if it exists)")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds = 1.0, 3
    set_threads(THREADS)  # torch and NumPy's BLAS alike, as the server's workers
    print(f"torch {torch.__version__}, engine.set_threads({THREADS}); {args.seconds:g} s per "
          f"measurement; batch {BATCH}, 250 training points, SGD lr 0.03, MSE on ±1 labels")
    sections = args.sections.split(",")
    bundle = args.tfp or (default_bundle() if default_bundle().exists() else None)
    if "tfp" in sections:
        tfp_section(bundle, args.seconds, args.rounds)
    if "skip" in sections:
        skip_section(args.seconds, args.rounds)
    if "table" in sections:
        table_section(args.seconds)


if __name__ == "__main__":
    main()
