"""Presets are complete, valid run specs, and the course's examples learn as described."""

from __future__ import annotations

import numpy as np
import pytest

from engine import Choice, RunSpec, Trainer, check_spec, load_dataset, presets

GOALS = {"band_221_sigmoid": 0.95, "spiral_deep_tanh": 0.95, "digits_mlp": 0.95,
         "spiral_skip": 0.88, "lenet_digits": 0.97}


@pytest.mark.parametrize("preset", presets(), ids=lambda p: p["name"])
def test_preset_is_valid_and_round_trips(preset) -> None:
    spec = preset["spec"]
    errors, report = check_spec(spec)
    assert not errors and report is not None and report.ok
    assert RunSpec.model_validate_json(spec.model_dump_json()) == spec
    assert preset["title"] and preset["description"]


@pytest.mark.parametrize("name", ["band_221_sigmoid", "digits_mlp", "spiral_skip", "lenet_digits"])
def test_preset_learns(name: str) -> None:
    spec = next(p["spec"] for p in presets() if p["name"] == name)
    end = Trainer(spec).run()
    assert end.metrics["test_accuracy"] >= GOALS[name]


def test_convolutions_beat_a_dense_net_of_equal_size_on_shapes() -> None:
    """Unit III's claim, measured: 16x16 shapes, 10 epochs each, seeds 0 and 1."""
    specs = {p["name"]: p["spec"] for p in presets()}
    conv, dense = specs["shapes_conv"], specs["shapes_dense"]
    sizes = [check_spec(s)[1].total_params for s in (conv, dense)]  # type: ignore[union-attr]
    assert sizes == [3619, 3643]
    for seed in (0, 1):
        accuracy = [Trainer(s.model_copy(update={"training": s.training.model_copy(
            update={"seed": seed})})).run().metrics["test_accuracy"] for s in (conv, dense)]
        assert accuracy[0] >= 0.85 and accuracy[0] - accuracy[1] >= 0.12, (seed, accuracy)


def test_skip_preset_adds_the_first_layer_back() -> None:
    """The skip lesson's add is fed by both hidden layers (a residual connection)."""
    net = next(p["spec"] for p in presets() if p["name"] == "spiral_skip").networks["model"]
    assert sorted(e.source for e in net.edges if e.target == "skip") == ["act1", "act2"]
    assert [n.kind for n in net.nodes].count("linear") == 3


def test_band_labels_follow_the_band() -> None:
    data = load_dataset(Choice(name="band", params={"width": 2.0}))
    offset = np.abs(data.points_train[:, 1] - data.points_train[:, 0])
    assert (offset[data.y_train == 1] < 2.0).all() and (offset[data.y_train == 0] > 2.0).all()
    assert np.abs(data.points_train).max() <= 5.0


def test_lr_too_high_fails_with_a_diagnosis() -> None:
    """The diverging preset warns that lr > 2/λ_max, then fails within a few hundred steps
    with a diagnosis the UI pins on the loss chart."""
    spec = next(p["spec"] for p in presets() if p["name"] == "lr_too_high")
    trainer = Trainer(spec)
    seen: list = []
    trainer.subscribe(seen.append, types=["warning", "curvature_estimated"])
    end = trainer.run()
    assert end.type == "run_failed" and end.error == "divergence"
    assert end.diagnosis is not None and end.diagnosis.step < 300 and end.diagnosis.reading
    assert end.diagnosis.lambda_max is not None and end.diagnosis.stable_lr < 0.7
    assert any(e.type == "curvature_estimated" for e in seen)
    assert any(e.type == "warning" and e.kind == "unstable_lr" for e in seen)
