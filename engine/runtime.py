"""Process-level set-up for hosts of the engine: torch's thread count and a warm-up.

A worker process sets its thread count before it trains (two torch threads beside a busy
server process cost 2.6-3x here), and pays torch's first-use costs (the first optimizer
alone takes over a second) once, before any run is waiting for it.
May import: stdlib, torch, engine modules.
"""

from __future__ import annotations

import torch

from engine.specs import Choice, NetworkSpec, RunSpec, TelemetrySpec, TrainingSpec


def set_threads(n: int) -> None:
    """Use n threads for torch's CPU kernels in this process (n >= 1)."""
    if n < 1:
        raise ValueError(f"thread count must be at least 1, got {n}")
    torch.set_num_threads(n)


def warm_up() -> None:
    """Train a tiny run on both step strategies so that later runs start at full speed."""
    from engine.trainer import Trainer

    network = NetworkSpec.stack(("x", "input", {}), ("d", "linear", {"out_features": 2}),
                                ("t", "tanh", {}), ("out", "linear", {"out_features": 2}))
    for fast_path in (True, False):
        spec = RunSpec(network=network, data=Choice(name="xor", params={"n_points": 40}),
                       training=TrainingSpec(steps=3, fast_path=fast_path, device="cpu",
                                             optimizer=Choice(name="adam"),
                                             telemetry=TelemetrySpec(grid_every=0)))
        Trainer(spec).run()
