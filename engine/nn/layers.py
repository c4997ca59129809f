"""The layer registry: each kind has a parameter model, a shape function and a build function.

Shape functions run before any weight exists, so that a wrong graph is refused with the
node, the field and the reason. Parameter names follow torch's arguments (`in_features`,
`negative_slope`). Adding a layer kind is one `LAYERS.register(LayerEntry(...))`.
May import: stdlib, torch, pydantic, engine.core.registry, engine.core.errors, and, to
register their kinds, engine.nn.conv and engine.nn.pooling.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import torch
from pydantic import Field
from torch import nn

from engine.core.registry import Params, Registry

Shape = tuple[int, ...]  # one sample's shape; the batch dimension N is implied


class ShapeError(ValueError):
    """A shape function's refusal; the graph adds the node name."""

    def __init__(self, field: str | None, message: str) -> None:
        self.field = field
        super().__init__(message)


def fmt_shape(shape: Shape) -> str:
    return "(" + ", ".join(["N", *map(str, shape)]) + ")"


@dataclass(frozen=True)
class LayerEntry:
    name: str
    description: str
    params: type[Params]
    shape: Callable[[Any, list[Shape]], Shape]
    build: Callable[[Any, list[Shape]], nn.Module]
    category: str = "layer"
    min_inputs: int = 1
    max_inputs: int = 1
    # the output size's arithmetic with this node's numbers (convolutions, pooling), shown
    # beside its shape; called only after `shape` accepted the input
    explain: Callable[[Any, list[Shape]], str] | None = None
    # whether it takes only spatial input, (C, L) or (C, H, W): the palette keeps such kinds
    # in their own group, open while the data are images
    spatial: bool = False

    def catalog_extra(self) -> dict[str, Any]:
        return {"category": self.category, "inputs": [self.min_inputs, self.max_inputs],
                "spatial": self.spatial}


LAYERS: Registry[LayerEntry] = Registry("layer kind")


class NoParams(Params):
    pass


def same_shape(_: Any, shapes: list[Shape]) -> Shape:
    return shapes[0]


def features_of(shape: Shape, what: str) -> int:
    if len(shape) != 1:
        raise ShapeError(None, f"{what} expects input (N, features); it gets {fmt_shape(shape)}"
                         ": add a flatten")
    return shape[0]


# --- input -------------------------------------------------------------------------------


class InputParams(Params):
    pass


LAYERS.register(LayerEntry(
    "input", "The data's features enter the network here.", InputParams,
    shape=lambda p, s: s[0], build=lambda p, s: nn.Identity(),
    category="input", min_inputs=0, max_inputs=0,
))

# --- linear ------------------------------------------------------------------------------


class LinearParams(Params):
    out_features: int = Field(4, ge=1, le=65_536, description="Number of output units.")
    in_features: int | None = Field(
        None, ge=1, le=65_536, description="Input units; inferred from the incoming tensor."
    )
    bias: bool = Field(True, description="Learn an additive bias per unit.")


def linear_shape(p: LinearParams, shapes: list[Shape]) -> Shape:
    n = features_of(shapes[0], "linear")
    if p.in_features is not None and p.in_features != n:
        raise ShapeError(
            "in_features",
            f"in_features is {p.in_features} but the incoming tensor is {fmt_shape(shapes[0])}",
        )
    return (p.out_features,)


LAYERS.register(LayerEntry(
    "linear", "Fully connected layer: y = x Wᵀ + b.", LinearParams, shape=linear_shape,
    build=lambda p, s: nn.Linear(s[0][0], p.out_features, bias=p.bias),
))

# --- activations -------------------------------------------------------------------------


def activation(name: str, description: str, params: type[Params],
               make: Callable[[Any], nn.Module],
               shape: Callable[[Any, list[Shape]], Shape] = same_shape) -> None:
    LAYERS.register(LayerEntry(name, description, params, shape=shape,
                               build=lambda p, s: make(p), category="activation"))


class LeakyReluParams(Params):
    negative_slope: float = Field(0.01, ge=0, le=1, description="Slope for negative inputs.")


class EluParams(Params):
    alpha: float = Field(1.0, gt=0, le=10, description="Value that negative inputs approach.")


class GeluParams(Params):
    approximate: Literal["none", "tanh"] = Field("none", description="Exact or tanh form.")


class DimParams(Params):
    dim: int = Field(-1, ge=-8, le=8, description="Dimension that sums to one.")


activation("identity", "Passes its input unchanged (a linear unit).", NoParams,
           lambda p: nn.Identity())
activation("sigmoid", "Logistic function 1/(1+e^-x); saturates at 0 and 1.", NoParams,
           lambda p: nn.Sigmoid())
activation("tanh", "Hyperbolic tangent; zero-centred, saturates at -1 and 1.", NoParams,
           lambda p: nn.Tanh())
activation("relu", "Rectified linear unit max(0, x); units can die.", NoParams,
           lambda p: nn.ReLU())
activation("leaky_relu", "ReLU with a small slope for negative inputs.", LeakyReluParams,
           lambda p: nn.LeakyReLU(p.negative_slope))
activation("elu", "Exponential linear unit; smooth, negative values down to -alpha.",
           EluParams, lambda p: nn.ELU(p.alpha))
activation("gelu", "Gaussian error linear unit x·Φ(x).", GeluParams,
           lambda p: nn.GELU(approximate=p.approximate))
def dim_shape(p: DimParams, shapes: list[Shape]) -> Shape:
    """dim counts the batch dimension, as torch's does: (N, F) has dims -2..1."""
    rank = len(shapes[0]) + 1
    if not -rank <= p.dim < rank:
        raise ShapeError("dim", f"dim {p.dim} is out of range for input {fmt_shape(shapes[0])}:"
                         f" it takes {-rank} to {rank - 1}")
    return shapes[0]


activation("softmax", "Normalises scores into probabilities along dim.", DimParams,
           lambda p: nn.Softmax(dim=p.dim), dim_shape)
activation("log_softmax", "Logarithm of softmax, numerically stable.", DimParams,
           lambda p: nn.LogSoftmax(dim=p.dim), dim_shape)

# --- regularising and normalising layers ---------------------------------------------------


class DropoutParams(Params):
    p: float = Field(0.5, ge=0, lt=1, description="Probability of zeroing each unit in training.")


LAYERS.register(LayerEntry(
    "dropout", "Zeroes random units while training and rescales the rest.", DropoutParams,
    shape=same_shape, build=lambda p, s: nn.Dropout(p.p), category="regularization",
))


def image_of(shape: Shape, what: str) -> Shape:
    if len(shape) != 3:
        raise ShapeError(None, f"{what} expects input (N, C, H, W); it gets {fmt_shape(shape)}")
    return shape


LAYERS.register(LayerEntry(
    "dropout2d", "Zeroes whole feature maps at random while training (neighbouring pixels are "
    "too alike for single-pixel dropout to regularise).", DropoutParams, category="regularization",
    spatial=True,
    shape=lambda p, s: image_of(s[0], "dropout2d"), build=lambda p, s: nn.Dropout2d(p.p),
))


class BatchNormParams(Params):
    eps: float = Field(1e-5, gt=0, le=1, description="Added to the variance for stability.")
    momentum: float = Field(0.1, gt=0, le=1, description="Running statistics update rate.")
    affine: bool = Field(True, description="Learn a scale and shift per feature.")


def batch_norm_shape(p: BatchNormParams, shapes: list[Shape]) -> Shape:
    features_of(shapes[0], "batch_norm1d")
    return shapes[0]


LAYERS.register(LayerEntry(
    "batch_norm1d", "Normalises each feature over the batch, then scales and shifts.",
    BatchNormParams, shape=batch_norm_shape, category="normalization",
    build=lambda p, s: nn.BatchNorm1d(s[0][0], eps=p.eps, momentum=p.momentum, affine=p.affine),
))


LAYERS.register(LayerEntry(
    "batch_norm2d", "Normalises each channel over the batch and the image, then scales and "
    "shifts.", BatchNormParams, shape=lambda p, s: image_of(s[0], "batch_norm2d"),
    category="normalization", spatial=True,
    build=lambda p, s: nn.BatchNorm2d(s[0][0], eps=p.eps, momentum=p.momentum, affine=p.affine),
))


class LayerNormParams(Params):
    eps: float = Field(1e-5, gt=0, le=1, description="Added to the variance for stability.")
    elementwise_affine: bool = Field(True, description="Learn a scale and shift per feature.")


LAYERS.register(LayerEntry(
    "layer_norm", "Normalises each sample over its features, then scales and shifts.",
    LayerNormParams, shape=same_shape, category="normalization",
    build=lambda p, s: nn.LayerNorm(list(s[0]), eps=p.eps,
                                    elementwise_affine=p.elementwise_affine),
))

# --- reshaping and merging -----------------------------------------------------------------


class FlattenParams(Params):
    start_dim: int = Field(1, ge=1, le=8, description="First dimension to flatten (1: after N).")
    end_dim: int = Field(-1, ge=-8, le=8, description="Last dimension to flatten.")


def flatten_shape(p: FlattenParams, shapes: list[Shape]) -> Shape:
    full = (1, *shapes[0])
    probe = torch.empty(full, device="meta")
    try:
        return tuple(probe.flatten(p.start_dim, p.end_dim).shape[1:])
    except (RuntimeError, IndexError) as exc:
        raise ShapeError("start_dim", f"cannot flatten {fmt_shape(shapes[0])}: {exc}") from None


LAYERS.register(LayerEntry(
    "flatten", "Flattens dimensions into one feature vector.", FlattenParams,
    shape=flatten_shape, build=lambda p, s: nn.Flatten(p.start_dim, p.end_dim),
    category="reshape",
))


class ReshapeParams(Params):
    shape: list[int] = Field([1, 8, 8], min_length=1, max_length=4, description="One sample's "
                             "new shape, e.g. [1, 8, 8]; one entry may be -1 (inferred).")


def reshape_shape(p: ReshapeParams, shapes: list[Shape]) -> Shape:
    if any(d == 0 or d < -1 for d in p.shape) or p.shape.count(-1) > 1:
        raise ShapeError("shape", f"a shape is whole numbers of at least 1, with at most one "
                         f"-1; got {p.shape}")
    total, known = math.prod(shapes[0]), math.prod(d for d in p.shape if d != -1)
    if (-1 in p.shape and total % known) or (-1 not in p.shape and total != known):
        raise ShapeError("shape", f"cannot reshape {fmt_shape(shapes[0])} ({total} numbers) "
                         f"to {p.shape}")
    return tuple(total // known if d == -1 else d for d in p.shape)


class Reshape(nn.Module):
    def __init__(self, shape: Shape) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(len(x), *self.shape)


LAYERS.register(LayerEntry(
    "reshape", "Gives each sample a new shape with the same numbers, e.g. 64 features as a "
    "1×8×8 image.", ReshapeParams, shape=reshape_shape, category="reshape",
    build=lambda p, s: Reshape(reshape_shape(p, s)),
))


class Add(nn.Module):
    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Concat(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=self.dim)


def add_shape(_: NoParams, shapes: list[Shape]) -> Shape:
    if any(s != shapes[0] for s in shapes):
        got = " and ".join(fmt_shape(s) for s in shapes)
        raise ShapeError("edges", f"needs equal shapes, got {got}")
    return shapes[0]


class ConcatParams(Params):
    dim: int = Field(1, ge=1, le=8, description="Dimension to join along (1: features).")


def concat_shape(p: ConcatParams, shapes: list[Shape]) -> Shape:
    axis = p.dim - 1
    ranks = {len(s) for s in shapes}
    if len(ranks) != 1 or axis >= len(shapes[0]):
        got = " and ".join(fmt_shape(s) for s in shapes)
        raise ShapeError("dim", f"cannot concatenate along dim {p.dim}: got {got}")
    rest = {s[:axis] + s[axis + 1:] for s in shapes}
    if len(rest) != 1:
        got = " and ".join(fmt_shape(s) for s in shapes)
        raise ShapeError("edges", f"needs equal shapes except along dim {p.dim}, got {got}")
    total = sum(s[axis] for s in shapes)
    return shapes[0][:axis] + (total,) + shapes[0][axis + 1:]


LAYERS.register(LayerEntry(
    "add", "Adds its inputs element-wise (a skip connection).", NoParams, shape=add_shape,
    build=lambda p, s: Add(), category="merge", min_inputs=2, max_inputs=16,
))
LAYERS.register(LayerEntry(
    "concat", "Joins its inputs along a dimension.", ConcatParams, shape=concat_shape,
    build=lambda p, s: Concat(p.dim), category="merge", min_inputs=2, max_inputs=16,
))

# the image layers register themselves in their own modules (they import this one)
from engine.nn import conv, pooling  # noqa: E402, F401
