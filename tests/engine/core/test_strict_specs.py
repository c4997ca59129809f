"""Specs are strict (wrong types refused, not coerced; numbers finite) and check_spec refuses
what would only fail at run time: batch norm over batches of one, a loss for another task."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from engine import Choice, NetworkSpec, RunSpec, TrainingSpec, check_spec, presets
from tests.engine.helpers import mlp, opt, run_spec

ROOT = Path(__file__).resolve().parents[3]


def errors_of(spec: RunSpec) -> dict[tuple[str | None, str | None], str]:
    return {(e.node, e.field): e.message for e in check_spec(spec)[0]}


def with_batch_norm(batch_size: int) -> RunSpec:
    network = NetworkSpec.stack(("x", "input", {}), ("dense1", "linear", {"out_features": 4}),
                                ("bn", "batch_norm1d", {}), ("out", "linear", {"out_features": 1}))
    return run_spec(network, loss=opt("mse"), batch_size=batch_size)


def test_batch_norm_with_batches_of_one_is_refused_on_the_batch_size() -> None:
    assert errors_of(with_batch_norm(2)) == {}
    found = errors_of(with_batch_norm(1))
    assert list(found) == [("bn", "training.batch_size")]
    assert "at least 2 samples" in found[("bn", "training.batch_size")]


@pytest.mark.parametrize(("where", "value"), [
    ("batch_size", "10"), ("batch_size", True), ("batch_size", 10.0), ("epochs", "5"),
    ("fast_path", "yes"), ("seed", "0")])
def test_training_fields_refuse_wrong_types(where: str, value: object) -> None:
    with pytest.raises(ValidationError) as info:
        TrainingSpec.model_validate({where: value})
    assert info.value.errors()[0]["loc"] == (where,)


def test_unknown_fields_are_refused_everywhere() -> None:
    for model, body in ((TrainingSpec, {"lr": 0.1}), (NetworkSpec, {"nodes": [], "x": 1}),
                        (Choice, {"name": "sgd", "param": {}})):
        with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
            model.model_validate(body)


def test_a_nan_learning_rate_must_be_finite() -> None:
    found = errors_of(run_spec(mlp([4]), loss=opt("mse"), optimizer=opt("sgd", lr=float("nan"))))
    assert found[(None, "training.optimizers.model.params.lr")] == \
        "must be a finite number (got nan)"


def test_json_ints_fill_float_fields() -> None:
    spec = RunSpec.model_validate_json(json.dumps({
        "networks": {"model": mlp([4]).model_dump()}, "data": {"name": "xor"},
        "training": {"loss": {"name": "mse"}, "telemetry": {"budget": 1, "scalars_max_hz": 5},
                     "optimizers": {"model": {"name": "sgd", "params": {"lr": 1}}}}}))
    assert errors_of(spec) == {}


def test_cross_entropy_on_a_regression_set_says_it_needs_classification() -> None:
    spec = run_spec(mlp([4]), "plane", loss=opt("cross_entropy"), task="classification")
    found = errors_of(spec)
    assert found[(None, "training.loss.name")] == (
        "cross_entropy needs a classification task, and data set 'plane' is regression "
        "(real-valued targets)")
    assert "None" not in " ".join(found.values())


def test_presets_examples_and_version_1_fixtures_still_load_and_check() -> None:
    texts = [p["spec"].model_dump_json() for p in presets()]
    texts += [f.read_text(encoding="utf-8") for f in sorted(
        (ROOT / "tests" / "fixtures" / "v1").glob("*.json"))]
    texts.append((ROOT / "examples" / "xor.json").read_text(encoding="utf-8"))
    for text in texts:
        for spec in (RunSpec.model_validate_json(text), RunSpec.model_validate(json.loads(text))):
            assert check_spec(spec)[0] == []
