"""Headless training from a spec file: `livegrad train spec.json`, with a progress bar.

May import: stdlib, tqdm, engine's public modules.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import ValidationError
from tqdm import tqdm

from engine.core.errors import DeviceError, SpecError
from engine.core.events import EvalCompleted, Event, RunStarted, StepsCompleted
from engine.core.specs import RunSpec
from engine.core.trainer import Trainer


def load_spec(path: Path) -> RunSpec:
    return RunSpec.model_validate_json(path.read_text(encoding="utf-8"))


class ProgressPrinter:
    """Drives a tqdm bar from the event stream and remembers the last evaluation."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar: tqdm | None = None
        self.last_eval: EvalCompleted | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted) and not self.quiet:
            self.bar = tqdm(total=event.total_steps, unit="step", file=sys.stderr)
        elif isinstance(event, StepsCompleted) and self.bar is not None:
            self.bar.update(event.step - event.first_step + 1)
            last = {k: f"{v[-1]:.4f}" for k, v in event.metrics.items() if v}
            self.bar.set_postfix(last, epoch=event.epoch)
        elif isinstance(event, EvalCompleted):
            self.last_eval = event

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def train_command(spec_path: str, *, quiet: bool = False, as_json: bool = False) -> int:
    """Train the spec in `spec_path`; print final metrics. Returns a process exit code."""
    try:
        trainer = Trainer(load_spec(Path(spec_path)))
    except (OSError, ValidationError, SpecError, DeviceError) as exc:
        print(f"error: {spec_path}: {exc}", file=sys.stderr)
        return 2
    printer = ProgressPrinter(quiet)
    trainer.subscribe(printer)
    end = trainer.run()
    printer.close()
    if as_json:
        print(end.model_dump_json(indent=2))
    else:
        print(f"{end.type} after {end.step} steps ({end.epoch} epochs, {end.t:.2f} s, "
              f"{trainer.strategy.name})")
        for name, value in getattr(end, "metrics", {}).items():
            print(f"  {name:<15} {value:.4f}")
        if end.type == "run_failed":
            print(f"  reason: {getattr(end, 'reason', '')}")
    return 0 if end.type == "run_completed" else 1


def example_spec() -> str:
    """A 2-4-1 tanh network on xor, as JSON: what `livegrad demo` trains."""
    spec = {
        "name": "xor with one hidden layer of 4 tanh units",
        "network": {"nodes": [
            {"id": "x", "kind": "input"},
            {"id": "dense1", "kind": "linear", "params": {"out_features": 4}},
            {"id": "tanh1", "kind": "tanh"},
            {"id": "out", "kind": "linear", "params": {"out_features": 1}},
        ], "edges": [{"source": "x", "target": "dense1"}, {"source": "dense1", "target": "tanh1"},
                     {"source": "tanh1", "target": "out"}]},
        "data": {"name": "xor", "params": {"n_points": 500, "noise": 0.0}},
        "training": {"loss": {"name": "mse"}, "optimizer": {"name": "sgd", "params": {"lr": 0.03}},
                     "batch_size": 10, "epochs": 200, "seed": 0},
    }
    return json.dumps(spec, indent=2)
