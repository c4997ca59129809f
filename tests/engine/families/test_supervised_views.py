"""The `predictions` view of a supervised image classifier, with torch as the oracle: the
predictions, confidences, confusion matrix and most confident mistakes it sends are those of
the model's own forward; its accuracy is the run's test_accuracy at the same step; it samples
with each evaluation, on a single step and at the end; it stays off where the samples are not
images or the targets not classes."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch

from engine import (
    PROBES,
    Choice,
    Control,
    Dataset,
    NetworkSpec,
    RunSpec,
    TelemetrySpec,
    Trainer,
    TrainingSpec,
    load_dataset,
)
from engine.families.supervised_views import (
    Predictions,
    PredictionsParams,
    classify,
    most_confident_mistakes,
)
from tests.engine.helpers import collect

TIMEOUT = 20.0


def digits_spec(shape: str = "flat", *, epochs: int = 3, fast_path: bool = True,
                probes: dict[str, Any] | None = None, **training: Any) -> RunSpec:
    layers: list[tuple[str, str, dict[str, Any]]] = [("x", "input", {})]
    if shape == "image":
        layers.append(("flat", "flatten", {}))
    layers += [("h", "linear", {"out_features": 32}), ("act", "relu", {}),
               ("out", "linear", {"out_features": 10})]
    tel = TelemetrySpec(grid_every=0, probes=probes or {})
    return RunSpec(network=NetworkSpec.stack(*layers),
                   data=Choice(name="digits", params={"shape": shape}),
                   training=TrainingSpec(loss=Choice(name="cross_entropy"),
                                         optimizers={"model": Choice(name="adam",
                                                                     params={"lr": 0.003})},
                                         batch_size=32, epochs=epochs, fast_path=fast_path,
                                         telemetry=tel, **training))


def of(events: list[Any], kind: str) -> list[Any]:
    return [e for e in events if e.type == kind]


@pytest.mark.parametrize(("shape", "fast_path"), [("flat", True), ("flat", False),
                                                  ("image", False)])
def test_the_last_sample_is_the_models_own_forward(shape: str, fast_path: bool) -> None:
    trainer, events = collect(digits_spec(shape, fast_path=fast_path))
    end, last = events[-1], of(events, "predictions_sampled")[-1]
    assert end.type == "run_completed" and last.step == end.step
    data = trainer.prepared.data
    model = trainer.model.eval()
    with torch.no_grad():
        out = model(torch.from_numpy(np.array(data.x_test)))  # (N, 10) the oracle
    probs = torch.softmax(out.double(), dim=1)
    predicted = out.argmax(1).numpy()
    labels = data.y_test
    k = 32
    assert last.sample_shape == [1, 8, 8] and last.class_names == [str(c) for c in range(10)]
    np.testing.assert_array_equal(last.labels, labels[:k])
    np.testing.assert_array_equal(last.predicted, predicted[:k])
    np.testing.assert_allclose(last.confidence, probs.max(1).values.numpy()[:k], rtol=1e-4)
    expected = (np.array(data.x_test[:k]).reshape(k, 1, 8, 8) * 255).round().astype(np.uint8)
    np.testing.assert_array_equal(last.images, expected)
    assert last.images.dtype == np.uint8 and last.confusion.dtype == np.int32
    for t in range(10):
        for p in range(10):
            assert last.confusion[t, p] == np.sum((labels == t) & (predicted == p))
    assert last.confusion.sum() == len(labels)
    assert last.accuracy == pytest.approx(np.trace(last.confusion) / len(labels), abs=1e-12)
    # the autograd step's evaluation averages in float32; one sample is 1/359 of it
    assert last.accuracy == pytest.approx(end.metrics["test_accuracy"], abs=1e-6)
    assert last.accuracy >= 0.85  # 3 epochs of a 64-32-10 MLP, Adam 0.003: measured 0.916 (seed 0)
    wrong = np.flatnonzero(predicted != labels)
    conf = probs.max(1).values.numpy()
    order = wrong[np.argsort(-conf[wrong], kind="stable")][:8]
    assert len(last.mistake_labels) == min(8, len(wrong)) > 0
    np.testing.assert_array_equal(last.mistake_labels, labels[order])
    np.testing.assert_array_equal(last.mistake_predicted, predicted[order])
    assert np.all(np.diff(last.mistake_confidence) <= 1e-6)  # most confident first
    assert np.all(last.mistake_labels != last.mistake_predicted)
    assert last.mistake_images.shape == (len(order), 1, 8, 8)


def test_it_samples_with_each_evaluation_and_agrees_with_it() -> None:
    spec = digits_spec(epochs=1, eval_every=9, probes={"predictions": {"max_hz": None}})
    spec.training.telemetry.eval_max_hz = None
    _, events = collect(spec)
    evals = {e.step: e.metrics["test_accuracy"] for e in of(events, "eval_completed")}
    samples = of(events, "predictions_sampled")
    steps = [e.step for e in samples]
    assert steps == sorted(evals) == [9, 18, 27, 36, 45]  # 1437 images / 32: 45 steps
    for e in samples:
        assert e.accuracy == pytest.approx(evals[e.step], abs=1e-6)
        assert e.confusion.sum() == 359
    assert all(np.array_equal(e.images, samples[0].images) for e in samples)  # same ones


def test_its_own_period_and_zero_turn_it_off() -> None:
    spec = digits_spec(epochs=1, probes={"predictions": {"every": 10, "max_hz": None,
                                                         "samples": 5, "mistakes": 0}})
    _, events = collect(spec)
    samples = of(events, "predictions_sampled")
    assert [e.step for e in samples] == [10, 20, 30, 40, 45]  # ... and the end
    last = samples[-1]
    assert last.images.shape == (5, 1, 8, 8) and last.labels.shape == (5,)
    assert last.mistake_images.shape == (0, 1, 8, 8) and last.mistake_labels.dtype == np.int32
    off = digits_spec(epochs=1, probes={"predictions": {"every": 0}})
    _, events = collect(off)
    assert not of(events, "predictions_sampled")


def test_a_single_step_samples_it() -> None:
    control = Control(paused=True)
    trainer = Trainer(digits_spec(epochs=50), control=control)
    seen = threading.Event()
    events: list[Any] = []

    def record(e: Any) -> None:
        events.append(e)
        if e.type == "predictions_sampled":
            seen.set()

    trainer.subscribe(record)
    thread = threading.Thread(target=trainer.run, daemon=True)
    thread.start()
    control.step()
    assert seen.wait(TIMEOUT), "no predictions_sampled after a single step"
    control.stop()
    thread.join(TIMEOUT)
    assert of(events, "predictions_sampled")[0].step == 1


def test_it_stays_off_where_the_samples_are_not_images_or_the_targets_not_classes() -> None:
    entry = PROBES.get("predictions")
    assert entry.view and entry.families == {"supervised"}
    assert not entry.applies("supervised", "plane") and not entry.applies("autoencoder", "image")
    circle = RunSpec(network=NetworkSpec.mlp([4], "tanh", 2), data=Choice(name="circle"),
                     training=TrainingSpec(epochs=2, loss=Choice(name="cross_entropy")))
    _, events = collect(circle)
    assert not of(events, "predictions_sampled")
    x = np.zeros((6, 5), np.float32)
    features = Dataset("features", "classification", x, np.zeros(6, np.int64), x,
                       np.zeros(6, np.int64), 2, tuple("abcde"), None, None, None)
    values = Dataset("values", "regression", x, np.zeros(6, np.float32), x,
                     np.zeros(6, np.float32), None, tuple("abcde"), None, None, None,
                     image_shape=(1, 1, 5))
    for data in (features, values):
        probe = Predictions(SimpleNamespace(data=data), None, PredictionsParams())  # type: ignore
        assert not probe.active and probe.sample(None) is None


def test_one_score_confidence_is_the_two_class_softmax_and_mistakes_rank_by_it() -> None:
    out = torch.tensor([[2.0], [-1.0], [0.0]])
    predicted, confidence = classify(out)
    np.testing.assert_array_equal(predicted, [1, 0, 0])
    two = torch.softmax(torch.cat([torch.zeros_like(out), out], 1), 1)
    np.testing.assert_allclose(confidence, two.max(1).values.numpy(), rtol=1e-6)
    labels = np.array([0, 1, 0, 1, 1])
    guess = np.array([1, 1, 1, 0, 0])
    conf = np.array([0.6, 0.99, 0.9, np.nan, 0.7], np.float32)
    np.testing.assert_array_equal(most_confident_mistakes(labels, guess, conf, 3), [2, 4, 0])
    np.testing.assert_array_equal(most_confident_mistakes(labels, guess, conf, 9), [2, 4, 0, 3])


def test_set_images_scale_pixels_in_the_unit_range_or_by_the_sets_range() -> None:
    digits = load_dataset(Choice(name="digits"))
    assert digits.sample_image_shape == (1, 8, 8) and digits.pixel_range == (0.0, 1.0)
    synthetic = load_dataset(Choice(name="synthetic_images", params={"n_points": 40}))
    assert synthetic.sample_image_shape == (1, 28, 28)
    x = np.array([[-2.0, 0.0, 2.0, 6.0]], np.float32)
    wide = Dataset("wide", "classification", x, np.zeros(1, np.int64), x,
                   np.zeros(1, np.int64), 2, tuple("abcd"), None, None, None,
                   image_shape=(1, 2, 2), class_names=("no", "yes"))
    assert wide.pixel_range == (-2.0, 6.0) and wide.named_classes == ["no", "yes"]
    np.testing.assert_array_equal(wide.images(x), [[[[0, 64], [128, 255]]]])
    odd = Dataset("odd", "classification", x, np.zeros(1, np.int64), x, np.zeros(1, np.int64),
                  2, tuple("abcd"), None, None, None, image_shape=(1, 3, 3))
    assert odd.sample_image_shape is None  # 4 features are no 3x3 image
    with pytest.raises(ValueError, match="not images"):
        odd.images(x)
