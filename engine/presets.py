"""Ready-made run specs from the course, for the catalog and the UI's preset menu.

May import: stdlib, engine.specs.
"""

from __future__ import annotations

from typing import Any

from engine.specs import Choice, NetworkSpec, RunSpec, TelemetrySpec, TrainingSpec


def mlp(inputs: str, hidden: list[int], activation: str, out: int) -> NetworkSpec:
    return NetworkSpec.mlp(hidden, activation, out, inputs=inputs)


def preset(name: str, title: str, description: str, network: NetworkSpec, data: Choice,
           training: TrainingSpec) -> dict[str, Any]:
    spec = RunSpec(name=title, network=network, data=data, training=training)
    return {"name": name, "title": title, "description": description, "spec": spec}


def presets() -> list[dict[str, Any]]:
    """Each preset: name, title, description (what to look for) and a complete run spec."""
    return [
        preset("band_221_sigmoid", "Like or dislike: a 2-2-1 sigmoid network",
               "Unit 3's phone predictor: liked phones lie in a band that one sigmoid neuron "
               "cannot separate; two hidden sigmoid units draw its two edges. (Some seeds "
               "find only one edge and stop near 77%: a local minimum.)",
               mlp("x", [2], "sigmoid", 1), Choice(name="band", params={"noise": 0.0}),
               TrainingSpec(loss=Choice(name="binary_cross_entropy"),
                            optimizer=Choice(name="adam", params={"lr": 0.1}),
                            batch_size=10, epochs=200, seed=0)),
        preset("spiral_deep_tanh", "Spiral with a deep tanh network",
               "Six hidden layers of 8 tanh units learn two interleaved spirals; watch the "
               "boundary wrap around as the loss falls.",
               mlp("x", [8] * 6, "tanh", 2), Choice(name="spiral", params={"noise": 0.0}),
               TrainingSpec(loss=Choice(name="cross_entropy"),
                            optimizer=Choice(name="adam", params={"lr": 0.003}),
                            batch_size=10, epochs=300, init=Choice(name="xavier"))),
        preset("plane_regression", "Regression of a plane",
               "A linear unit fits a noisy plane; the test loss settles at the noise level.",
               mlp("x", [], "identity", 1), Choice(name="plane", params={"noise": 0.1}),
               TrainingSpec(task="regression", loss=Choice(name="mse"),
                            optimizer=Choice(name="sgd", params={"lr": 0.01}),
                            batch_size=10, epochs=50)),
        preset("digits_mlp", "Handwritten digits with an MLP",
               "64 pixels, one hidden layer of 64 ReLU units, 10 classes: about 95% test "
               "accuracy within a few epochs.",
               mlp("pixels", [64], "relu", 10), Choice(name="digits"),
               TrainingSpec(loss=Choice(name="cross_entropy"),
                            optimizer=Choice(name="adam", params={"lr": 0.003}),
                            batch_size=32, epochs=20, init=Choice(name="he"))),
        preset("lr_too_high", "Too high a learning rate: a run that diverges",
               "Plain SGD at lr 0.7 on a small tanh network with squared error. The curvature "
               "probe finds 2/λ_max far below the learning rate and warns; each step then "
               "overshoots, the gradient norms explode (the output layer first) and within "
               "about a hundred steps the loss is no longer finite. Read the diagnosis under "
               "the loss chart, then try lr 0.1 or gradient clipping.",
               mlp("x", [8] * 3, "tanh", 2), Choice(name="spiral", params={"noise": 0.0}),
               TrainingSpec(loss=Choice(name="mse"),
                            optimizer=Choice(name="sgd", params={"lr": 0.7}),
                            batch_size=10, epochs=50, init=Choice(name="xavier"),
                            telemetry=TelemetrySpec(probes={"curvature": {"every": 10}}))),
    ]
