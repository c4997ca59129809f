"""Small spec builders shared by the engine tests."""

from __future__ import annotations

from typing import Any

from engine import Choice, NetworkSpec, RunSpec, TelemetrySpec, TrainingSpec


def mlp(hidden: list[int], activation: str = "tanh", out: int = 1) -> NetworkSpec:
    nodes: list[tuple[str, str, dict[str, Any]]] = [("x", "input", {})]
    for i, width in enumerate(hidden, start=1):
        nodes += [(f"dense{i}", "linear", {"out_features": width}), (f"act{i}", activation, {})]
    nodes.append(("out", "linear", {"out_features": out}))
    return NetworkSpec.stack(*nodes)


def run_spec(network: NetworkSpec, data: str = "xor", data_params: dict[str, Any] | None = None,
             **training: Any) -> RunSpec:
    training.setdefault("telemetry", TelemetrySpec(grid_every=0))
    return RunSpec(network=network, data=Choice(name=data, params=data_params or {}),
                   training=TrainingSpec(**training))


def opt(name: str, **params: Any) -> Choice:
    return Choice(name=name, params=params)
