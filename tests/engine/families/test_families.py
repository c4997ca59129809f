"""The family seam: a family registered from outside the engine trains through the same loop,
with its own metrics and probes; the built-in supervised family declares what it reports."""

from __future__ import annotations

import numpy as np
import pytest

from engine import FAMILIES, Choice, RunSpec, SpecError, Trainer, check_spec, load_dataset
from tests.engine.helpers import mlp, opt, run_spec
from tests.plugins import least_squares


def test_a_plugin_family_trains_with_its_own_metrics_and_probe() -> None:
    spec = RunSpec.model_validate(least_squares.spec(epochs=2))
    trainer = Trainer(spec)
    events: list = []
    trainer.subscribe(events.append)
    end = trainer.run()
    assert end.type == "run_completed"
    started = events[0]
    assert started.family == "least_squares" and started.strategy == "least_squares"
    assert [m.name for m in started.metrics] == ["residual", "test_residual"]
    steps = [e for e in events if e.type == "steps_completed"]
    assert set(steps[0].metrics) == {"residual"}
    assert sum(len(e.metrics["residual"]) for e in steps) == end.step
    # the probe's weights are the exact least-squares fit of the training set
    data = load_dataset(spec.data)
    x = np.hstack([data.x_train, np.ones((len(data.x_train), 1))]).astype(np.float64)
    want = np.linalg.lstsq(x, data.y_train.astype(np.float64), rcond=None)[0]
    last = [e for e in events if e.type == "coefficients_sampled"][-1]
    np.testing.assert_allclose(last.weights, want[:-1], rtol=1e-5, atol=1e-6)
    assert last.bias == pytest.approx(want[-1], abs=1e-6)
    assert end.metrics["test_residual"] < 0.05  # noise 0.1 on a plane: about 0.01
    # probes that do not apply to the family stay off: no norms, no grid
    assert not {"norms_sampled", "grid_computed", "histograms_sampled"} & {e.type for e in events}


def test_a_family_checks_its_own_spec_with_located_errors() -> None:
    raw = least_squares.spec()
    raw["network"]["nodes"].insert(1, {"id": "act", "kind": "tanh"})
    raw["network"]["edges"] = [{"source": "x", "target": "act"}, {"source": "act", "target": "fit"}]
    errors, _ = check_spec(RunSpec.model_validate(raw))
    assert [(e.field, "one linear layer" in e.message) for e in errors] == [("network", True)]


def test_an_unknown_family_is_refused_where_it_is_named() -> None:
    spec = run_spec(mlp([4]), "xor", loss=opt("mse"))
    spec = spec.model_copy(update={"family": Choice(name="gann")})
    errors, _ = check_spec(spec)
    assert any(e.field == "family.name" and "unknown family 'gann'" in e.message
               and "supervised" in e.message for e in errors)
    with pytest.raises(SpecError):
        Trainer(spec)


def test_supervised_declares_accuracy_for_classes_only() -> None:
    family = FAMILIES.get("supervised")
    names = [m.name for m in family.metrics(load_dataset(run_spec(mlp([4]), "xor").data))]
    assert names == ["loss", "train_loss", "test_loss", "accuracy", "train_accuracy",
                     "test_accuracy"]
    plane = load_dataset(RunSpec.model_validate(least_squares.spec()).data)
    assert [m.name for m in family.metrics(plane)] == ["loss", "train_loss", "test_loss"]
    charts = {m.chart for m in family.catalog_metrics()}
    assert charts == {"loss", "accuracy"}


def test_auto_device_says_why() -> None:
    trainer = Trainer(run_spec(mlp([4]), "xor", loss=opt("mse")))
    assert trainer.prepared.device_reason.startswith("auto: ")


def test_auto_keeps_a_plain_mlp_on_the_cpu_even_with_a_gpu(monkeypatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # as on a GPU machine
    trainer = Trainer(run_spec(mlp([4]), "xor", loss=opt("mse")))
    assert trainer.prepared.device.type == "cpu" and trainer.strategy.name == "fused_mlp"
    assert "fused NumPy step" in trainer.prepared.device_reason
