"""Ready-made run specs, for the catalog and the UI's preset menu.

May import: stdlib, engine.core.specs.
"""

from __future__ import annotations

from typing import Any

from engine.core.specs import (
    Choice,
    EdgeSpec,
    NetworkSpec,
    NodeSpec,
    RunSpec,
    TelemetrySpec,
    TrainingSpec,
)


def mlp(inputs: str, hidden: list[int], activation: str, out: int) -> NetworkSpec:
    return NetworkSpec.mlp(hidden, activation, out, inputs=inputs)


def preset(name: str, title: str, description: str, network: NetworkSpec | dict[str, Any],
           data: Choice, training: TrainingSpec, family: Choice | None = None
           ) -> dict[str, Any]:
    networks = network if isinstance(network, dict) else {"model": network}
    spec = RunSpec(name=title, family=family or Choice(name="supervised"), networks=networks,
                   data=data, training=training)
    return {"name": name, "title": title, "description": description, "spec": spec}


def autoencoder(inputs: int, hidden: list[int], code: int, *, image: bool = False,
                code_activation: str | None = None) -> dict[str, NetworkSpec]:
    """Encoder input [-> flatten] -> (linear -> relu)* -> code [-> activation]; decoder the
    mirror image, back to `inputs` values (as logits or values, for the loss to judge)."""
    enc: list[tuple[str, str, dict[str, Any]]] = [("x", "input", {})]
    if image:
        enc.append(("flat", "flatten", {}))
    for i, width in enumerate(hidden, start=1):
        enc += [(f"enc{i}", "linear", {"out_features": width}), (f"enc_act{i}", "relu", {})]
    enc.append(("code", "linear", {"out_features": code}))
    if code_activation:
        enc.append(("code_act", code_activation, {}))
    dec: list[tuple[str, str, dict[str, Any]]] = [("z", "input", {})]
    for i, width in enumerate(reversed(hidden), start=1):
        dec += [(f"dec{i}", "linear", {"out_features": width}), (f"dec_act{i}", "relu", {})]
    dec.append(("recon", "linear", {"out_features": inputs}))
    return {"encoder": NetworkSpec.stack(*enc), "decoder": NetworkSpec.stack(*dec)}


def ae_training(epochs: int, lr: float, loss: str = "mse") -> TrainingSpec:
    return TrainingSpec(task="reconstruction", loss=Choice(name=loss),
                        optimizers={"model": Choice(name="adam", params={"lr": lr})},
                        batch_size=64, epochs=epochs, seed=0)


DIGITS_IMAGES = Choice(name="digits", params={"shape": "image"})


SHAPES = Choice(name="shapes", params={"size": 16})


def shapes_conv() -> NetworkSpec:
    """Three 3×3 convolutions (8, 16, 16 maps; pooling after the first two), global average
    pooling, a linear read-out: 3,619 weights, each filter shared across the image."""
    layers: list[tuple[str, str, dict[str, Any]]] = [("x", "input", {})]
    for i, c in enumerate((8, 16, 16), start=1):
        layers += [(f"conv{i}", "conv2d", {"out_channels": c, "kernel_size": 3, "padding": 1}),
                   (f"act{i}", "relu", {})]
        if i < 3:
            layers.append((f"pool{i}", "max_pool2d", {"kernel_size": 2}))
    layers += [("gap", "global_avg_pool2d", {}), ("out", "linear", {"out_features": 3})]
    return NetworkSpec.stack(*layers)


def shapes_dense() -> NetworkSpec:
    """Flatten, 14 ReLU units, a linear read-out: 3,643 weights, about the conv net's."""
    return NetworkSpec.stack(("x", "input", {}), ("flat", "flatten", {}),
                             ("dense1", "linear", {"out_features": 14}), ("act1", "relu", {}),
                             ("out", "linear", {"out_features": 3}))


def shapes_training(epochs: int = 10) -> TrainingSpec:
    return TrainingSpec(loss=Choice(name="cross_entropy"),
                        optimizers={"model": Choice(name="adam", params={"lr": 0.003})},
                        batch_size=32, epochs=epochs, seed=0, init=Choice(name="he"))


def lenet(channels: tuple[int, int] = (16, 32), dense: int = 32, classes: int = 10
          ) -> NetworkSpec:
    """(conv 3×3 'same' -> relu -> max pool 2×2) twice, flatten, dense -> relu, out."""
    layers: list[tuple[str, str, dict[str, Any]]] = [("x", "input", {})]
    for i, c in enumerate(channels, start=1):
        layers += [(f"conv{i}", "conv2d", {"out_channels": c, "kernel_size": 3, "padding": 1}),
                   (f"act{i}", "relu", {}), (f"pool{i}", "max_pool2d", {"kernel_size": 2})]
    layers += [("flat", "flatten", {}), ("dense1", "linear", {"out_features": dense}),
               ("act3", "relu", {}), ("out", "linear", {"out_features": classes})]
    return NetworkSpec.stack(*layers)


def autoencoder_presets() -> list[dict[str, Any]]:
    """One preset per autoencoder variant: under-complete, sparse, denoising, and on the plane."""
    family = "autoencoder"
    return [
        preset("ae_digits_2d", "Autoencoder: digits through a 2-unit code",
               "64 pixels squeezed through two numbers and back. Watch the code scatter: the "
               "digits sort themselves into clusters nobody labelled (a 5-nearest-neighbour "
               "vote in the code finds the digit about 8 times in 10).",
               autoencoder(64, [128], 2, image=True), DIGITS_IMAGES, ae_training(80, 0.01),
               Choice(name=family)),
        preset("ae_digits_sparse", "Sparse autoencoder: an L1 penalty on a wide code",
               "32 ReLU code units for 64 pixels, with an L1 penalty on the code: most units "
               "stay silent for any one digit. Compare the code sparsity with the penalty off "
               "(sparsity 'none').",
               autoencoder(64, [128], 32, image=True, code_activation="relu"), DIGITS_IMAGES,
               ae_training(40, 0.003),
               Choice(name=family, params={"sparsity": "l1", "sparsity_weight": 0.001})),
        preset("ae_digits_denoising", "Denoising autoencoder: masking noise",
               "Three pixels in ten are blacked out before the encoder sees a digit; the "
               "decoder must give back the clean one. The test error falls below what the "
               "noisy digits themselves score.",
               autoencoder(64, [128], 32, image=True), DIGITS_IMAGES, ae_training(40, 0.003),
               Choice(name=family, params={"noise": "masking", "noise_level": 0.3})),
        preset("ae_circle_1d", "Autoencoder on the plane: a circle through one number",
               "Points of two rings in the plane through a one-unit code: the decoder can only "
               "draw a curve, and the reconstructions show which one it chose.",
               autoencoder(2, [16, 16], 1), Choice(name="circle", params={"noise": 0.0}),
               ae_training(100, 0.01), Choice(name=family)),
    ]


def skip_network() -> NetworkSpec:
    """x -> dense1 -> act1 -> dense2 -> act2 -> skip <- act1; skip -> out: a residual
    connection around the second hidden layer, 8 tanh units each, 2 classes out."""
    nodes = [NodeSpec(id=i, kind=k, params=p) for i, k, p in [
        ("x", "input", {}), ("dense1", "linear", {"out_features": 8}), ("act1", "tanh", {}),
        ("dense2", "linear", {"out_features": 8}), ("act2", "tanh", {}), ("skip", "add", {}),
        ("out", "linear", {"out_features": 2})]]
    pairs = [("x", "dense1"), ("dense1", "act1"), ("act1", "dense2"), ("dense2", "act2"),
             ("act2", "skip"), ("act1", "skip"), ("skip", "out")]
    return NetworkSpec(nodes=nodes, edges=[EdgeSpec(source=a, target=b) for a, b in pairs])


def presets() -> list[dict[str, Any]]:
    """Each preset: name, title, description (what to look for) and a complete run spec."""
    return [
        preset("band_221_sigmoid", "Like or dislike: a 2-2-1 sigmoid network",
               "Points of class 1 lie in a diagonal band that one sigmoid neuron cannot "
               "separate (it draws one straight line); two hidden sigmoid units draw the "
               "band's two edges. (Some seeds "
               "find only one edge and stop near 77%: a local minimum.)",
               mlp("x", [2], "sigmoid", 1), Choice(name="band", params={"noise": 0.0}),
               TrainingSpec(loss=Choice(name="binary_cross_entropy"),
                            optimizers={"model": Choice(name="adam", params={"lr": 0.1})},
                            batch_size=10, epochs=200, seed=0)),
        preset("spiral_deep_tanh", "Spiral with a deep tanh network",
               "Six hidden layers of 8 tanh units learn two interleaved spirals; watch the "
               "boundary wrap around as the loss falls.",
               mlp("x", [8] * 6, "tanh", 2), Choice(name="spiral", params={"noise": 0.0}),
               TrainingSpec(loss=Choice(name="cross_entropy"),
                            optimizers={"model": Choice(name="adam", params={"lr": 0.003})},
                            batch_size=10, epochs=300, init=Choice(name="xavier"))),
        preset("plane_regression", "Regression of a plane",
               "A linear unit fits a noisy plane; the test loss settles at the noise level.",
               mlp("x", [], "identity", 1), Choice(name="plane", params={"noise": 0.1}),
               TrainingSpec(task="regression", loss=Choice(name="mse"),
                            optimizers={"model": Choice(name="sgd", params={"lr": 0.01})},
                            batch_size=10, epochs=50)),
        preset("digits_mlp", "Handwritten digits with an MLP",
               "64 pixels, one hidden layer of 64 ReLU units, 10 classes: about 95% test "
               "accuracy within a few epochs.",
               mlp("pixels", [64], "relu", 10), Choice(name="digits"),
               TrainingSpec(loss=Choice(name="cross_entropy"),
                            optimizers={"model": Choice(name="adam", params={"lr": 0.003})},
                            batch_size=32, epochs=20, init=Choice(name="he"))),
        preset("lenet_digits", "Handwritten digits with a small CNN (LeNet-style)",
               "Two 3×3 convolutions, each followed by ReLU and 2×2 max pooling, then a dense "
               "layer: 8×8 digits as 1×8×8 images, about 98% test accuracy in 20 epochs. Each "
               "conv layer's shape report shows how its output size follows from kernel, "
               "padding and stride; compare its weight count with the MLP's.",
               lenet(), DIGITS_IMAGES,
               TrainingSpec(loss=Choice(name="cross_entropy"),
                            optimizers={"model": Choice(name="adam", params={"lr": 0.003})},
                            batch_size=32, epochs=20, seed=0, init=Choice(name="he"))),
        preset("shapes_conv", "Shapes with convolutions (3,619 weights)",
               "Circles, squares and triangles anywhere on a 16×16 image. Three small "
               "convolutions find edges and corners wherever they are: about 90% test "
               "accuracy in 10 epochs. Compare with the dense net of the same size (the next "
               "lesson), which must learn each shape at every position.",
               shapes_conv(), SHAPES, shapes_training()),
        preset("shapes_dense", "Shapes with a dense net of the same size (3,643 weights)",
               "The same shapes through one dense layer of 14 units: as many weights as the "
               "convolutional lesson's, but none shared across positions. It reaches about "
               "70% and overfits; the convolutions reach about 90%.",
               shapes_dense(), SHAPES, shapes_training()),
        preset("lr_too_high", "Too high a learning rate: a run that diverges",
               "Plain SGD at lr 0.7 on a small tanh network with squared error. The curvature "
               "probe finds 2/λ_max far below the learning rate and warns; each step then "
               "overshoots, the gradient norms explode (the output layer first) and within "
               "about a hundred steps the loss is no longer finite. Read the diagnosis under "
               "the loss chart, then try lr 0.1 or gradient clipping.",
               mlp("x", [8] * 3, "tanh", 2), Choice(name="spiral", params={"noise": 0.0}),
               TrainingSpec(loss=Choice(name="mse"),
                            optimizers={"model": Choice(name="sgd", params={"lr": 0.7})},
                            batch_size=10, epochs=50, init=Choice(name="xavier"),
                            telemetry=TelemetrySpec(probes={"curvature": {"every": 10}}))),
        preset("spiral_skip", "A skip connection: the first layer's output added back",
               "Two hidden layers of 8 tanh units on the spiral, and a skip connection: an add "
               "sums the second layer's output with the first's, and the output layer reads "
               "the sum (about 90% test accuracy in 300 epochs). The drawing shows the skip "
               "as its own grey links around the second layer, and a map on every unit of "
               "the sum. Drop a layer on the skip to put it in the shortcut's way.",
               skip_network(), Choice(name="spiral", params={"noise": 0.0}),
               TrainingSpec(loss=Choice(name="cross_entropy"),
                            optimizers={"model": Choice(name="adam", params={"lr": 0.01})},
                            batch_size=10, epochs=300, init=Choice(name="xavier"))),
        *autoencoder_presets(),
    ]
