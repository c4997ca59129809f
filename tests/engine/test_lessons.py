"""Unit 3's lessons on optimization, each visible on the event stream: vanishing gradients in
a deep sigmoid net and not with ReLU + He, dead ReLUs from a large negative bias, and the
largest stable learning rate 2/λ_max (beyond it gradient descent diverges, with a diagnosis)."""

from __future__ import annotations

import numpy as np

from engine import Event, TelemetrySpec, Trainer
from tests.engine.helpers import collect, mlp, opt, run_spec

OFTEN = {"norms": {"flush_every": 10, "max_hz": None},
         "activations": {"every": 10, "max_hz": None}}


def deep(activation: str, init, steps: int = 50):
    tel = TelemetrySpec(grid_every=0, probes=OFTEN)
    return run_spec(mlp([8] * 10, activation, out=2), "spiral", loss=opt("cross_entropy"),
                    init=init, steps=steps, telemetry=tel)


def first_over_last(events: list[Event]) -> np.ndarray:
    """Per sampled step: the first weight's gradient norm over the output layer's."""
    norms = [e for e in events if e.type == "norms_sampled"]
    names = norms[0].params
    g = np.concatenate([np.array(e.grad_norm) for e in norms], axis=1)  # (P, S)
    return g[names.index("dense1.weight")] / g[names.index("out.weight")]


def test_ten_sigmoid_layers_vanish() -> None:
    _, events = collect(deep("sigmoid", opt("default")))
    ratio = first_over_last(events)
    assert len(ratio) == 50 and (ratio <= 1e-3).all()
    warning = next(e for e in events if e.type == "warning")
    assert warning.kind == "vanishing" and warning.layer == "dense1" and warning.step <= 10


def test_ten_relu_layers_with_he_init_do_not_vanish() -> None:
    _, events = collect(deep("relu", opt("he")))
    ratio = first_over_last(events)
    assert np.median(ratio) > 1e-3
    assert not [e for e in events if e.type == "warning" and e.kind == "vanishing"]


def test_a_large_negative_bias_kills_most_relus() -> None:
    _, events = collect(deep("relu", opt("he", bias=-3.0), steps=20))
    acts = [e for e in events if e.type == "activations_sampled"]
    relus = [lay for lay in acts[-1].layers if lay.kind == "relu"]
    dead = sum(lay.dead_fraction * lay.units for lay in relus) / sum(lay.units for lay in relus)
    assert dead > 0.5
    healthy = collect(deep("relu", opt("he"), steps=20))[1]
    last = [e for e in healthy if e.type == "activations_sampled"][-1]
    assert max(lay.dead_fraction for lay in last.layers if lay.kind == "relu") < 0.5


def linear_regression(lr: float, steps: int = 600):
    """A linear unit on the plane set, full batch, MSE: the loss is a quadratic."""
    tel = TelemetrySpec(grid_every=0, probes={"curvature": {"every": 10, "max_hz": None},
                                              "norms": {"flush_every": 50, "max_hz": None}})
    return run_spec(mlp([], "identity"), "plane", {"n_points": 200}, task="regression",
                    loss=opt("mse"), optimizer=opt("sgd", lr=lr), batch_size=100, steps=steps,
                    telemetry=tel, device="cpu")


def exact_lambda() -> float:
    trainer = Trainer(linear_regression(0.01))
    x = trainer.prepared.data.x_train.astype(np.float64)
    xa = np.c_[x, np.ones(len(x))]
    return float(np.linalg.eigvalsh(2 / len(x) * xa.T @ xa).max())


def test_learning_rate_above_two_over_lambda_diverges_with_a_diagnosis() -> None:
    lam = exact_lambda()
    _, events = collect(linear_regression(1.2 * 2 / lam))
    end = events[-1]
    assert end.type == "run_failed" and end.error == "divergence"
    d = end.diagnosis
    assert d is not None and d.lambda_max is not None
    assert abs(d.lambda_max - lam) < 1e-2 * lam and d.stable_lr < d.lr
    assert "above 2/λ_max" in d.reading and "grew" in d.reading and "out" in d.reading
    assert d.layers == ["out"] and len(d.steps) > 10 and d.steps[-1] < end.began_at_step
    assert d.grad_norm[0][-1] > 1e3 * min(d.grad_norm[0])
    warned = {e.kind: e.step for e in events if e.type == "warning"}
    assert {"unstable_lr", "exploding"} <= set(warned)
    assert max(warned.values()) < end.began_at_step  # warned before it broke


def test_learning_rate_below_two_over_lambda_converges() -> None:
    lam = exact_lambda()
    trainer, events = collect(linear_regression(0.8 * 2 / lam))
    assert events[-1].type == "run_completed"
    x = trainer.prepared.data.x_train.astype(np.float64)
    y = trainer.prepared.data.y_train.astype(np.float64)
    xa = np.c_[x, np.ones(len(x))]
    best = np.mean((xa @ np.linalg.lstsq(xa, y, rcond=None)[0] - y) ** 2)
    assert events[-1].metrics["train_loss"] <= best * 1.001 + 1e-6
    curv = [e for e in events if e.type == "curvature_estimated"]
    assert curv and all(e.lr < e.stable_lr for e in curv)
    assert not [e for e in events if e.type == "warning"]
