"""The engine on every device this machine has: the presets learn, divergence is caught,
and a seeded run repeats exactly; with steps per second for each.

On a machine with CUDA, `device: auto` picks the GPU and the autograd path; the CPU rows use
the fused path where it applies. Prints a table; exits non-zero if a check fails.

    python benchmarks/devices.py

May import: stdlib, torch, engine's public names.
"""

from __future__ import annotations

import sys
import time

import torch

from engine import (
    Choice,
    Event,
    NetworkSpec,
    RunSpec,
    Trainer,
    TrainingSpec,
    presets,
    set_threads,
)

# What each preset must reach (test accuracy, or test loss for the regression).
GOALS = {"band_221_sigmoid": ("test_accuracy", 0.95), "spiral_deep_tanh": ("test_accuracy", 0.9),
         "plane_regression": ("test_loss", 0.02), "digits_mlp": ("test_accuracy", 0.93)}


def on(spec: RunSpec, device: str) -> RunSpec:
    data = spec.model_dump()
    data["training"]["device"] = device
    return RunSpec.model_validate(data)


def timed(spec: RunSpec) -> tuple[Trainer, Event, float]:
    trainer = Trainer(spec)
    start = time.perf_counter()
    end = trainer.run()
    return trainer, end, time.perf_counter() - start


def check_presets(device: str) -> bool:
    ok = True
    for preset in presets():
        trainer, end, seconds = timed(on(preset["spec"], device))
        if preset["name"] == "lr_too_high":  # the lesson preset: it must diverge, explained
            passed = end.type == "run_failed" and getattr(end, "diagnosis", None) is not None
            ok &= passed
            print(f"  {preset['name']:<18} {trainer.strategy.name:<10} {end.type:<14} at step "
                  f"{end.step} with a diagnosis  {'ok' if passed else 'FAILED'}")
            continue
        metric, goal = GOALS[preset["name"]]
        value = getattr(end, "metrics", {}).get(metric, float("nan"))
        passed = value >= goal if metric.endswith("accuracy") else value <= goal
        ok &= passed and end.type == "run_completed"
        rate = end.step / seconds
        print(f"  {preset['name']:<18} {trainer.strategy.name:<10} {end.type:<14} "
              f"{metric} {value:.3f} (goal {goal})  {rate:8.0f} steps/s  "
              f"{'ok' if passed else 'FAILED'}")
    return ok


def divergence_spec(device: str) -> RunSpec:
    nodes: list = [("x", "input", {}), ("d1", "linear", {"out_features": 8}), ("a1", "tanh", {}),
                   ("d2", "linear", {"out_features": 8}), ("a2", "tanh", {}),
                   ("out", "linear", {"out_features": 1})]
    return RunSpec(network=NetworkSpec.stack(*nodes), data=Choice(name="spiral"),
                   training=TrainingSpec(loss=Choice(name="mse"), epochs=50, device=device,
                                         optimizer=Choice(name="sgd", params={"lr": 1e3})))


def check_divergence_and_repeat(device: str) -> bool:
    _, end, _ = timed(divergence_spec(device))
    diverged = end.type == "run_failed" and getattr(end, "began_at_step", None) is not None
    print(f"  divergence at lr 1e3: {end.type}, step {getattr(end, 'began_at_step', None)}, "
          f"layer {getattr(end, 'layer', None)}  {'ok' if diverged else 'FAILED'}")
    spec = on(presets()[1]["spec"], device)
    spec.training.epochs = 5
    first, second = timed(spec)[1], timed(spec)[1]
    same = first.model_dump(exclude={"t"}) == second.model_dump(exclude={"t"})
    print(f"  same seed twice gives the same final event: {'ok' if same else 'differs'}")
    return diverged


def main() -> int:
    set_threads(1)  # torch and NumPy's BLAS alike, as the server's workers
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}; devices: {devices}; torch and BLAS threads 1")
    if torch.cuda.is_available():
        print(f"cuda device: {torch.cuda.get_device_name(0)}")
    ok = True
    for device in devices:
        print(f"\n[{device}]")
        ok &= check_presets(device)
        ok &= check_divergence_and_repeat(device)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
