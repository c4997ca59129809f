"""Training throughput of the engine against TensorFlow Playground's own figures.

Two tasks: (a) the Playground's default (circle, 250 training points, x1 x2, 2-4-2-1 tanh,
MSE, SGD lr 0.03, batch 10) and (b) spiral with six hidden layers of 8 tanh units. For each,
over about `--seconds` each: (1) the trainer with every event collected and the boundary grid
at its default period, (2) the trainer raw (fused path, no grid, no subscribers), (3) the
trainer on the autograd path, (4) a bare eager PyTorch loop. Prints figures, no assertions.

    python benchmarks/engine_throughput.py [--seconds 3]

May import: stdlib, numpy, torch, engine's public names.
"""

from __future__ import annotations

import argparse
import threading
import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from engine import (
    Choice,
    Control,
    NetworkSpec,
    RunSpec,
    TelemetrySpec,
    Trainer,
    TrainingSpec,
    load_dataset,
)

BATCH = 10
# TensorFlow Playground, measured as in the issue (its JS engine headless, and its page
# drawing the decision boundary every frame).
TFP_HEADLESS_EXAMPLES = {"a": 230_000.0, "b": 25_000.0}  # examples/s
TFP_HEADLESS_EPOCHS = {"a": 915.0, "b": 100.0}  # the same, as the issue states them
TFP_PAGE_EPOCHS = {"a": 62.0, "b": 7.6}  # epochs/s with the boundary drawn
GOAL_PAGE_RATIO = {"a": 5.0, "b": 10.0}  # (1) against the page
GOAL_GRID_HZ = 10.0
TASKS = {"a": ("circle", [4, 2]), "b": ("spiral", [8] * 6)}
TITLES = {"a": "(a) TFP default: circle, 2-4-2-1 tanh",
          "b": "(b) spiral, 6 hidden layers of 8 tanh"}


def data_choice(task: str) -> Choice:
    return Choice(name=TASKS[task][0], params={"n_points": 500, "train_fraction": 0.5,
                                               "features": ["x1", "x2"]})


def spec(task: str, *, fast_path: bool = True, grid: bool = False) -> RunSpec:
    telemetry = TelemetrySpec() if grid else TelemetrySpec(grid_every=0)
    training = TrainingSpec(loss=Choice(name="mse"),
                            optimizer=Choice(name="sgd", params={"lr": 0.03}),
                            batch_size=BATCH, epochs=1_000_000, device="cpu",
                            fast_path=fast_path, telemetry=telemetry)
    return RunSpec(network=NetworkSpec.mlp(TASKS[task][1], "tanh", 1), data=data_choice(task),
                   training=training)


def run_trainer(s: RunSpec, seconds: float, collect: bool) -> dict[str, Any]:
    """Train until a timer stops the run; rates over the trainer's own run() call."""
    control = Control()
    trainer = Trainer(s, control=control)
    events: list[Any] = []
    if collect:
        trainer.subscribe(events.append)
    timer = threading.Timer(seconds, control.stop)
    t0 = time.perf_counter()
    timer.start()
    end = trainer.run()
    elapsed = time.perf_counter() - t0
    assert end.type == "run_stopped", end
    grids = sum(1 for e in events if e.type == "grid_computed")
    per_epoch = trainer.prepared.steps_per_epoch
    n_train = len(trainer.prepared.data.x_train)
    return {"examples": trainer.step / per_epoch * n_train / elapsed,
            "epochs": trainer.step / per_epoch / elapsed, "grid_hz": grids / elapsed,
            "events": len(events), "strategy": trainer.strategy.name}


def bare_eager(task: str, seconds: float) -> dict[str, Any]:
    """The plain PyTorch loop a person would write: nn.Sequential, SGD, MSE, batch 10,
    slicing tensors shuffled once per epoch."""
    data = load_dataset(data_choice(task))
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    width = 2
    for hidden in TASKS[task][1]:
        layers += [nn.Linear(width, hidden), nn.Tanh()]
        width = hidden
    model = nn.Sequential(*layers, nn.Linear(width, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.03)
    x = torch.from_numpy(data.x_train)
    y = torch.from_numpy(data.y_train.astype("float32") * 2 - 1).unsqueeze(1)  # (N, 1) ±1
    n, steps = len(x), 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        perm = torch.randperm(n)
        xs, ys = x[perm], y[perm]
        for i in range(0, n, BATCH):
            opt.zero_grad()
            loss = F.mse_loss(model(xs[i:i + BATCH]), ys[i:i + BATCH])
            loss.backward()
            opt.step()
            steps += 1
    elapsed = time.perf_counter() - t0
    return {"examples": steps * BATCH / elapsed, "epochs": steps * BATCH / n / elapsed}


def measure(task: str, seconds: float) -> dict[str, dict[str, Any]]:
    return {
        "events": run_trainer(spec(task, grid=True), seconds, collect=True),
        "raw": run_trainer(spec(task), seconds, collect=False),
        "autograd": run_trainer(spec(task, fast_path=False), seconds, collect=False),
        "bare": bare_eager(task, seconds),
    }


def report(task: str, r: dict[str, dict[str, Any]]) -> None:
    bare = r["bare"]["examples"]
    print(f"\n{TITLES[task]}")
    labels = {"events": "(1) trainer, events + boundary grid",
              "raw": "(2) trainer raw (fast path, no grid)",
              "autograd": "(3) trainer, fast_path=False",
              "bare": "(4) bare eager PyTorch loop"}
    for key, label in labels.items():
        m = r[key]
        extra = f"  [{m['strategy']}]" if "strategy" in m else ""
        print(f"  {label:40s} {m['examples']:>10,.0f} examples/s {m['epochs']:>8,.1f} epochs/s"
              f"  {m['examples'] / bare:5.1f}x bare{extra}")
    ev, raw = r["events"], r["raw"]
    page, head = TFP_PAGE_EPOCHS[task], TFP_HEADLESS_EXAMPLES[task]
    print(f"  boundary grid refresh (1): {ev['grid_hz']:.1f} Hz (goal >= {GOAL_GRID_HZ:g} Hz); "
          f"{ev['events']} events collected")
    print(f"  (1) vs TFP page with boundary ({page:g} epochs/s): {ev['epochs'] / page:.1f}x "
          f"(goal >= {GOAL_PAGE_RATIO[task]:g}x)")
    print(f"  (2) vs TFP headless engine ({head:,.0f} examples/s = "
          f"{TFP_HEADLESS_EPOCHS[task]:g} epochs/s): {raw['examples'] / head:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, torch.set_num_threads(1); {args.seconds:g} s per "
          "measurement; batch 10, 250 training points, SGD lr 0.03, MSE")
    for task in TASKS:
        report(task, measure(task, args.seconds))


if __name__ == "__main__":
    main()
