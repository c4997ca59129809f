"""Small spec builders shared by the engine tests."""

from __future__ import annotations

from typing import Any

from engine import Choice, Event, NetworkSpec, RunSpec, TelemetrySpec, Trainer, TrainingSpec


def mlp(hidden: list[int], activation: str = "tanh", out: int = 1) -> NetworkSpec:
    return NetworkSpec.mlp(hidden, activation, out)


def collect(spec: RunSpec, **subscribe: Any) -> tuple[Trainer, list[Event]]:
    """Train the spec to its end; the trainer and every event it emitted (as filtered)."""
    trainer = Trainer(spec)
    events: list[Event] = []
    trainer.subscribe(events.append, **subscribe)
    trainer.run()
    return trainer, events


def run_spec(network: NetworkSpec, data: str = "xor", data_params: dict[str, Any] | None = None,
             **training: Any) -> RunSpec:
    training.setdefault("telemetry", TelemetrySpec(grid_every=0))
    return RunSpec(network=network, data=Choice(name=data, params=data_params or {}),
                   training=TrainingSpec(**training))


def opt(name: str, **params: Any) -> Choice:
    return Choice(name=name, params=params)
