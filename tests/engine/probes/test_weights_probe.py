"""The weights probe against torch: each sampled layer's matrix and bias equal the model's
parameters at that step, on both step strategies; its period, size cap and silence in short
runs (the default period is longer than a short run)."""

from __future__ import annotations

import numpy as np
import pytest

from engine import Event, TelemetrySpec, Trainer
from tests.engine.helpers import mlp, opt, run_spec


def spec(fast_path: bool, weights: dict | None = None, steps: int = 9, hidden=(5, 3)):
    probes = {"weights": weights if weights is not None else {"every": 3, "max_hz": None}}
    tel = TelemetrySpec(scalars_every=1, grid_every=0, probes=probes)
    return run_spec(mlp(list(hidden)), "circle", {"n_points": 60}, steps=steps, batch_size=8,
                    fast_path=fast_path, device="cpu", telemetry=tel, loss=opt("mse"),
                    optimizer=opt("adam", lr=0.05))


@pytest.mark.parametrize("fast_path", [True, False])
def test_sampled_weights_equal_the_models_parameters_at_that_step(fast_path: bool) -> None:
    trainer = Trainer(spec(fast_path))
    assert trainer.strategy.name == ("fused_mlp" if fast_path else "autograd")
    seen: list[int] = []
    before: list[list[float]] = []

    def check(event: Event) -> None:
        layers = trainer.model.layers
        assert [w.node for w in event.layers] == ["dense1", "dense2", "out"]
        for w in event.layers:
            module = layers[w.node]  # torch's own parameters, this very step
            assert w.shape == tuple(module.weight.shape)
            np.testing.assert_array_equal(
                np.array(w.values, np.float32).reshape(w.shape), module.weight.detach().numpy())
            np.testing.assert_array_equal(np.array(w.bias, np.float32),
                                          module.bias.detach().numpy())
        before.append(event.layers[0].values)
        seen.append(event.step)

    trainer.subscribe(check, types={"weights_sampled"})
    assert trainer.run().type == "run_completed"
    assert seen == [3, 6, 9]
    assert not np.array_equal(before[0], before[-1])  # training moved them


def weight_steps(**kw) -> list[int]:  # type: ignore[no-untyped-def]
    trainer = Trainer(spec(True, **kw))
    events: list[Event] = []
    trainer.subscribe(events.append, types={"weights_sampled"})
    trainer.run()
    return [e.step for e in events]


def test_default_period_is_longer_than_short_runs() -> None:
    assert weight_steps(weights={}, steps=20) == []
    assert weight_steps(weights={"max_hz": None}, steps=60) == [25, 50]


def test_models_past_the_size_cap_are_not_sampled() -> None:
    # 2*5+5 + 5*3+3 + 3+1 = 37 parameters
    assert weight_steps(weights={"every": 3, "max_hz": None, "max_params": 37}) == [3, 6, 9]
    assert weight_steps(weights={"every": 3, "max_hz": None, "max_params": 36}) == []


def test_the_hz_ceiling_holds_back_fast_runs() -> None:
    assert weight_steps(weights={"every": 1, "max_hz": 0.001}, steps=50) == [1]
