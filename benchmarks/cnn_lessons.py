"""The convolution lessons, measured: the LeNet-style digits net against the digits MLP, and
on the generated shapes a conv net against a dense net of the same number of weights, each
over several seeds, with weights, test accuracy and seconds per run on this machine.

The claim of unit III (weights shared across positions beat as many unshared ones) is the
"margin" column: conv accuracy minus dense accuracy, seed by seed. tests/engine/test_presets.py
asserts the small version (>= 97% for LeNet; conv >= 85% and >= 12 points over dense).

    .venv/bin/python benchmarks/cnn_lessons.py [--seeds 0 1 2]

May import: stdlib, engine's public names.
"""

from __future__ import annotations

import argparse
import statistics
import time

from engine import RunSpec, Trainer, check_spec, presets

PAIRS = [("lenet_digits", "digits_mlp"), ("shapes_conv", "shapes_dense")]


def run(spec: RunSpec, seed: int) -> tuple[float, float]:
    seeded = spec.model_copy(update={"training": spec.training.model_copy(update={"seed": seed})})
    start = time.perf_counter()
    end = Trainer(seeded).run()
    return end.metrics["test_accuracy"], time.perf_counter() - start  # type: ignore[attr-defined]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = ap.parse_args()
    specs = {p["name"]: p["spec"] for p in presets()}
    for conv, other in PAIRS:
        rows = {}
        for name in (conv, other):
            report = check_spec(specs[name])[1]
            results = [run(specs[name], s) for s in args.seeds]
            rows[name] = [a for a, _ in results]
            weights = report.total_params  # type: ignore[union-attr]
            seconds = statistics.mean(t for _, t in results)
            print(f"{name:14s} {weights:6,d} weights | test accuracy "
                  f"{', '.join(f'{a:.3f}' for a, _ in results)} (mean "
                  f"{statistics.mean(rows[name]):.3f}) | {seconds:.1f} s a run", flush=True)
        margin = [a - b for a, b in zip(rows[conv], rows[other], strict=True)]
        print(f"  margin {conv} - {other}: {', '.join(f'{m:+.3f}' for m in margin)} "
              f"(seeds {', '.join(map(str, args.seeds))})", flush=True)


if __name__ == "__main__":
    main()
