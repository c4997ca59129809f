"""Learning is asserted: stated accuracy on a stated data set within a stated budget."""

from __future__ import annotations

import numpy as np
import pytest

from engine import OPTIMIZERS, Choice, Trainer
from tests.engine.helpers import mlp, opt, run_spec


def test_xor_2_4_1_tanh_reaches_full_test_accuracy() -> None:
    # 2,000 noise-free points, 6,000 Adam steps of 100: 100% on the 1,000 test points.
    # (Some seeds settle in a local minimum near 88%: four tanh units are barely enough.)
    spec = run_spec(mlp([4]), "xor", {"n_points": 2000, "seed": 0},
                    loss=opt("binary_cross_entropy"), optimizer=opt("adam", lr=0.03),
                    init=opt("normal"), batch_size=100, steps=6000, seed=0)
    end = Trainer(spec).run()
    assert end.metrics["test_accuracy"] == 1.0


def test_spiral_2_8_8_2_tanh_adam_reaches_95_percent() -> None:
    # 500 noise-free points (250 to train), batch 10, 200 epochs = 5,000 Adam steps.
    spec = run_spec(mlp([8, 8], out=2), "spiral", {"n_points": 500, "noise": 0.0},
                    loss=opt("cross_entropy"), optimizer=opt("adam", lr=0.01),
                    batch_size=10, epochs=200, seed=0)
    end = Trainer(spec).run()
    assert end.metrics["test_accuracy"] >= 0.95


# Each optimizer's budget on circle (2-8-2 tanh, cross-entropy, batch 10): 20 epochs.
OPTIMIZER_LR = {"sgd": 0.1, "momentum": 0.03, "nesterov": 0.03, "adagrad": 0.1,
                "rmsprop": 0.01, "adam": 0.01, "adamw": 0.01}


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_every_optimizer_lowers_the_loss_on_circle(name: str) -> None:
    spec = run_spec(mlp([8], out=2), "circle", loss=opt("cross_entropy"),
                    optimizer=opt(name, lr=OPTIMIZER_LR[name]), batch_size=10, epochs=20,
                    seed=1)
    trainer = Trainer(spec)
    evals: list[float] = []
    trainer.subscribe(lambda e: evals.append(e.metrics["test_loss"]), types={"eval_completed"})
    end = trainer.run()
    assert end.type == "run_completed"
    assert evals[-1] < 0.5 * evals[0], f"{name}: {evals[0]:.3f} -> {evals[-1]:.3f}"
    assert end.metrics["test_accuracy"] >= 0.9


def test_linear_regression_on_plane_reaches_the_noise_floor() -> None:
    # Target noise std 0.1 (variance 0.01): a linear unit, SGD 0.01, 20 epochs with cosine decay.
    spec = run_spec(mlp([]), "plane", {"noise": 0.1}, task="regression", loss=opt("mse"),
                    optimizer=opt("sgd", lr=0.01), schedule=opt("cosine"), epochs=20)
    end = Trainer(spec).run()
    assert end.metrics["train_loss"] < 0.1**2
    assert end.metrics["test_loss"] < 1.25 * 0.1**2


def test_zero_initialisation_never_breaks_symmetry() -> None:
    spec = run_spec(mlp([4]), "circle", loss=opt("cross_entropy"), optimizer=opt("sgd", lr=0.1),
                    init=Choice(name="zeros"), epochs=5)
    spec.network.nodes[-1].params["out_features"] = 2
    trainer = Trainer(spec)
    trainer.run()
    hidden = trainer.model.layers["dense1"].weight.detach().cpu().numpy()
    assert np.allclose(hidden, hidden[0])  # every hidden unit is still the same unit
