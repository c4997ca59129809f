"""Divergence ends the run with a located failure; no NaN ever reaches a metric."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine import Event, Trainer
from tests.engine.helpers import mlp, opt, run_spec


def finite_metrics(events: list[Event]) -> None:
    for e in events:
        for name in ("values", "confidence"):
            v = getattr(e, name, None)
            assert v is None or np.isfinite(v).all(), f"{e.type}.{name} is not finite"
        metrics = e.metrics if e.type in ("steps_completed", "eval_completed") else {}
        for name, values in metrics.items():  # type: ignore[attr-defined]
            for v in values if isinstance(values, list) else [values]:
                assert math.isfinite(v), f"{e.type}.metrics.{name} has {v}"


@pytest.mark.parametrize("fast_path", [True, False])
def test_learning_rate_1e3_on_spiral_fails_with_step_and_place(fast_path: bool) -> None:
    # TensorFlow Playground's set-up (tanh units, squared error) with a learning rate of 1e3.
    spec = run_spec(mlp([8, 8]), "spiral", loss=opt("mse"), optimizer=opt("sgd", lr=1e3),
                    epochs=50, fast_path=fast_path)
    trainer = Trainer(spec)
    events: list[Event] = []
    trainer.subscribe(events.append)
    end = trainer.run()
    assert end.type == "run_failed" and end.error == "divergence"
    assert end.began_at_step is not None and end.began_at_step >= 1
    assert end.where in {"loss", "gradient"}
    assert end.layer in {"x", "dense1", "act1", "dense2", "act2", "out"}
    assert end.layer in end.reason
    assert f"step {end.began_at_step}" in end.reason
    finite_metrics(events)
    if end.began_at_step > 1:
        assert math.isfinite(end.last_finite["loss"])


def test_first_layer_with_non_finite_gradient_is_named() -> None:
    # A finite loss whose gradient overflows: mse on huge weights in float32.
    spec = run_spec(mlp([4]), "circle", loss=opt("mse"), optimizer=opt("sgd", lr=1.0),
                    init=opt("normal", std=10.0), epochs=50, fast_path=False)
    trainer = Trainer(spec)
    end = trainer.run()
    assert end.type == "run_failed"
    assert end.layer in {"dense1", "act1", "out"}
