"""What the probes cost: steps/s of a bare PyTorch loop, the trainer with telemetry off, and
the trainer with the default telemetry (norms every step, histograms, activation and neuron-map
passes, the auto-throttle at a 5% budget), side by side, with ratios; then each probe alone at
its fastest setting (every step, no Hz ceiling), as measured.

Tasks: (a) spiral, six hidden layers of 8 tanh, batch 10, MSE, SGD 0.03 (TensorFlow
Playground's deepest net); (b) a 784-256-256-10 ReLU MLP on MNIST-sized synthetic images,
batch 64, cross-entropy, SGD 0.03. Both trainer strategies are timed: the fused NumPy step (the
CPU default for plain MLPs) and autograd. The boundary grid is off everywhere (it is the grid
benchmark's business, in engine_throughput.py).

On a shared 2-core VM two runs of one configuration differ by up to ±5%, more than the probes
cost, so the on/off ratio is estimated twice and each estimate is a median with its range:
(1) runs alternate, off and on back to back `--repeats` times: each pair's ratio over the whole
run and over its second half (once the auto-throttle has settled: what a run of minutes
sees); (2) one run whose probes are switched off and on `--cycles` times (see `alternating`),
which two processes' different memory layouts cannot touch. The goal is judged on the settled
ratios of both together.

    python benchmarks/telemetry_overhead.py [--seconds 4] [--repeats 5] [--cycles 6] [--quick]
        [--tasks ab]

May import: stdlib, numpy, torch, engine's public names.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from engine import (
    PROBES,
    Choice,
    Control,
    NetworkSpec,
    RunSpec,
    TelemetrySpec,
    Trainer,
    TrainingSpec,
    load_dataset,
    set_threads,
)

TASKS: dict[str, dict[str, Any]] = {
    "a": {"title": "(a) spiral, 6 hidden layers of 8 tanh, batch 10", "data": "spiral",
          "params": {"n_points": 500}, "hidden": [8] * 6, "act": "tanh", "out": 1,
          "loss": "mse", "batch": 10},
    "b": {"title": "(b) 784-256-256-10 ReLU MLP, synthetic 28x28 images, batch 64",
          "data": "synthetic_images", "params": {"n_points": 2000}, "hidden": [256, 256],
          "act": "relu", "out": 10, "loss": "cross_entropy", "batch": 64},
}
GOAL = 0.95


def spec(task: str, telemetry: TelemetrySpec, fast_path: bool) -> RunSpec:
    t = TASKS[task]
    training = TrainingSpec(loss=Choice(name=t["loss"]),
                            optimizer=Choice(name="sgd", params={"lr": 0.03}),
                            batch_size=t["batch"], steps=100_000_000, device="cpu",
                            fast_path=fast_path, telemetry=telemetry)
    return RunSpec(network=NetworkSpec.mlp(t["hidden"], t["act"], t["out"]),
                   data=Choice(name=t["data"], params=t["params"]),
                   training=training)


def off() -> TelemetrySpec:
    return TelemetrySpec(grid_every=0, probes_enabled=False)


def default() -> TelemetrySpec:
    return TelemetrySpec(grid_every=0)


def alone(name: str) -> TelemetrySpec:
    """One probe at its fastest (every step, no ceiling), the others off, no throttle."""
    probes: dict[str, dict[str, Any]] = {p: {"every": 0} for p in PROBES.names()}
    probes[name] = {"every": 1, "max_hz": None}
    if name == "norms":
        probes[name]["flush_every"] = 1
    return TelemetrySpec(grid_every=0, probes=probes, auto_throttle=False)


def run_trainer(s: RunSpec, seconds: float) -> dict[str, Any]:
    """Steps/s over the whole run, and over its second half (the auto-throttle has settled
    by then: what a run of minutes sees). The consumer does what the server's worker does
    with each event: serialise it to JSON (and send it on, here: drop it). Keeping every
    event in a list instead makes the garbage collector walk millions of floats, a cost of
    this benchmark's, not of the worker."""
    control = Control()
    trainer = Trainer(s, control=control)
    last_share: list[Any] = []
    steps: list[tuple[float, int]] = []

    def consume(event: Any) -> None:
        event.model_dump_json()
        if event.type == "telemetry_share":
            last_share[:] = [event]
        elif event.type == "steps_completed":
            steps.append((event.t, event.step))

    trainer.subscribe(consume)
    timer = threading.Timer(seconds, control.stop)
    t0 = time.perf_counter()
    timer.start()
    end = trainer.run()
    elapsed = time.perf_counter() - t0
    assert end.type == "run_stopped", end
    return {"rate": trainer.step / elapsed, "steady": settled_rate(steps, 0.0, elapsed),
            "strategy": trainer.strategy.name, "share": last_share[0] if last_share else None}


def bare(task: str, seconds: float) -> dict[str, Any]:
    """The loop a person would write: nn.Sequential, SGD, the loss, tensors sliced per batch."""
    t = TASKS[task]
    data = load_dataset(Choice(name=t["data"], params=t["params"]))
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    width = data.x_train.shape[1]
    for hidden in t["hidden"]:
        layers += [nn.Linear(width, hidden), nn.Tanh() if t["act"] == "tanh" else nn.ReLU()]
        width = hidden
    model = nn.Sequential(*layers, nn.Linear(width, t["out"]))
    opt = torch.optim.SGD(model.parameters(), lr=0.03)
    x = torch.from_numpy(data.x_train)
    if t["loss"] == "mse":
        y = torch.from_numpy(data.y_train.astype("float32") * 2 - 1).unsqueeze(1)
        loss_fn = F.mse_loss
    else:
        y, loss_fn = torch.from_numpy(data.y_train), F.cross_entropy
    n, b, steps = len(x), t["batch"], 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        perm = torch.randperm(n)
        xs, ys = x[perm], y[perm]
        for i in range(0, n, b):
            opt.zero_grad()
            loss_fn(model(xs[i:i + b]), ys[i:i + b]).backward()
            opt.step()
            steps += 1
    rate = steps / (time.perf_counter() - t0)
    return {"rate": rate, "steady": rate}


def interleaved_runs(runs: dict[str, Any], seconds: float, repeats: int
                 ) -> dict[str, list[dict[str, Any]]]:
    """Each configuration `repeats` times, interleaved, so that drift hits all alike; every
    repeat's results, in order (a repeat's off and on runs make a pair)."""
    got: dict[str, list[dict[str, Any]]] = {k: [] for k in runs}
    for _ in range(repeats):
        for key, make in runs.items():
            got[key].append(make(seconds))
    return got


def median_of(results: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in results)


def paired(on: list[dict[str, Any]], off_: list[dict[str, Any]], key: str) -> list[float]:
    """Each repeat's on/off ratio."""
    return [a[key] / max(b[key], 1e-9) for a, b in zip(on, off_, strict=True)]


def summary(ratios: list[float]) -> str:
    """The median and the range: two runs of the same configuration differ by up to ±5% on a
    shared VM, so one ratio says little and the spread is printed too."""
    mid, lo, hi = statistics.median(ratios), min(ratios), max(ratios)
    return f"{mid:5.3f}x ({lo:.3f}-{hi:.3f}, n={len(ratios)})"


def overhead(task: str, seconds: float, repeats: int, cycles: int) -> None:
    t = TASKS[task]
    runs: dict[str, Any] = {"bare": lambda s: bare(task, s)}
    for fast in (True, False):
        tag = "fused" if fast else "autograd"
        runs[f"off/{tag}"] = lambda s, f=fast: run_trainer(spec(task, off(), f), s)
        runs[f"on/{tag}"] = lambda s, f=fast: run_trainer(spec(task, default(), f), s)
    r = interleaved_runs(runs, seconds, repeats)
    base = median_of(r["bare"], "rate")
    print(f"\n{t['title']}")
    print(f"  {'bare PyTorch loop':44s} {base:>9,.0f} steps/s")
    for tag in ("fused", "autograd"):
        o, d = r[f"off/{tag}"], r[f"on/{tag}"]
        name = o[-1]["strategy"]
        off_rate, on_rate = median_of(o, "rate"), median_of(d, "rate")
        print(f"  {'trainer [' + name + '], telemetry off':44s} {off_rate:>9,.0f} steps/s  "
              f"{off_rate / base:5.2f}x bare  (second half {median_of(o, 'steady'):,.0f})")
        print(f"  {'trainer [' + name + '], default telemetry':44s} {on_rate:>9,.0f} steps/s  "
              f"{on_rate / base:5.2f}x bare  (second half {median_of(d, 'steady'):,.0f})")
        settled = paired(d, o, "steady")
        switched = alternating(task, tag == "fused", cycles, seconds)
        print(f"      on/off, whole runs:              {summary(paired(d, o, 'rate'))}")
        print(f"      on/off, their second halves:     {summary(settled)}")
        print(f"      switched off and on in one run:  {summary(switched)}")
        pooled = statistics.median(settled + switched)
        print(f"      settled, both together:          {summary(settled + switched)} "
              f"{'meets' if pooled >= GOAL else 'MISSES'} >= {GOAL}")
        share = d[-1]["share"]
        if share is not None:
            print(f"      last telemetry_share: {share.share:.1%} (budget {share.budget:.0%}); "
                  f"periods {share.periods}; throttled {share.throttled or 'none'}")


def alternating(task: str, fast: bool, cycles: int, seconds: float) -> list[float]:
    """A second estimate that two runs' differences cannot touch (each process lays out its
    buffers anew, and that alone moves a run by ±5%): one run whose probes are switched off
    and back to their defaults mid-run (Control.set_probes), `cycles` times. Each on phase's
    settled rate (its second half: the throttle starts afresh at each switch) is divided by
    the mean of the off phases around it; one ratio per cycle."""
    control = Control()
    trainer = Trainer(spec(task, default(), fast), control=control)
    marks: list[tuple[float, int]] = []  # steps_completed (t, step)
    switches: list[float] = []  # when each probes_changed took effect (trainer clock)

    def consume(event: Any) -> None:
        event.model_dump_json()
        if event.type == "steps_completed":
            marks.append((event.t, event.step))
        elif event.type == "probes_changed":
            switches.append(event.t)

    def drive() -> None:
        on = {p.name: {"every": p.params().every} for p in PROBES}  # the defaults
        for _ in range(cycles):
            control.set_probes({name: {"every": 0} for name in on})
            time.sleep(seconds / 2)
            control.set_probes(on)
            time.sleep(seconds)
        control.set_probes({name: {"every": 0} for name in on})
        time.sleep(seconds / 2)
        control.stop()

    trainer.subscribe(consume)
    threading.Thread(target=drive, daemon=True).start()
    trainer.run()
    bounds = switches + [marks[-1][0]]
    rates = [settled_rate(marks, a, b) for a, b in zip(bounds, bounds[1:], strict=False)]
    offs, ons = rates[0::2], rates[1::2]  # phases alternate, off first
    return [on / ((a + b) / 2) for on, a, b in zip(ons, offs, offs[1:], strict=False)]


def settled_rate(marks: list[tuple[float, int]], start: float, end: float) -> float:
    """Steps/s over the second half of [start, end)."""
    inside = [(t, step) for t, step in marks if start + (end - start) / 2 <= t < end]
    if len(inside) < 2:
        return float("nan")
    return (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0])


def fastest(task: str, seconds: float, fast: bool) -> None:
    base = run_trainer(spec(task, off(), fast), seconds)
    print(f"  each probe alone at its fastest [{base['strategy']}] "
          f"(off: {base['rate']:,.0f} steps/s):")
    for name in PROBES.names():
        if name == "neuron_maps" and TASKS[task]["data"] != "spiral":
            continue  # the plane only
        r = run_trainer(spec(task, alone(name), fast), seconds)
        print(f"    {name:12s} every step: {r['rate']:>9,.1f} steps/s  "
              f"{r['rate'] / base['rate']:6.3f}x off")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="time per measurement")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved repeats")
    parser.add_argument("--cycles", type=int, default=6,
                        help="off/on cycles of the alternating estimate")
    parser.add_argument("--quick", action="store_true", help="skip the per-probe table")
    parser.add_argument("--tasks", default="".join(TASKS), help="which tasks, e.g. a")
    args = parser.parse_args()
    set_threads(1)  # torch and NumPy's BLAS alike, as the server's workers
    print(f"torch {torch.__version__}, 1 thread (torch and BLAS), CPU; {args.seconds:g} s per "
          f"measurement, median of {args.repeats}; grid off; each event serialised to JSON as "
          "the worker does")
    tasks = [t for t in TASKS if t in args.tasks]
    for task in tasks:
        overhead(task, args.seconds, args.repeats, args.cycles)
    for task in tasks:
        if not args.quick:
            for fast in (True, False):
                fastest(task, args.seconds, fast)


if __name__ == "__main__":
    main()
