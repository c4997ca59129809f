"""Pooling and resampling layers: max, average and sum pooling (the course's three), adaptive
and global average pooling, and upsampling.

Sum pooling is average pooling times the window's size: torch has no layer of its own for
it. The output size follows the convolution's arithmetic with the window as the kernel, and
each entry explains it with its numbers.
May import: stdlib, torch, pydantic, engine.nn.layers, engine.nn.conv, engine.core.registry.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Literal

import torch
from pydantic import Field
from torch import nn

from engine.core.registry import Params
from engine.nn.conv import AXES, conv_arithmetic, conv_sizes, spatial_input
from engine.nn.layers import LAYERS, LayerEntry, NoParams, Shape, ShapeError


class PoolParams(Params):
    kernel_size: int = Field(2, ge=1, le=64, description="Side of the square window.")
    stride: int | None = Field(None, ge=1, le=64, description="Step between windows "
                               "(none: the window's side, so windows do not overlap).")
    padding: int = Field(0, ge=0, le=32, description="Added on each side (at most half the "
                         "window).")

    def window(self) -> SimpleNamespace:
        """What the convolution's arithmetic reads: pooling windows are contiguous."""
        stride = self.kernel_size if self.stride is None else self.stride
        return SimpleNamespace(kernel_size=self.kernel_size, stride=stride,
                               padding=self.padding, dilation=1)


def pool_shape(kind: str):  # type: ignore[no-untyped-def]
    def shape(p: PoolParams, shapes: list[Shape]) -> Shape:
        channels, sizes = spatial_input(shapes[0], 2, kind)
        if 2 * p.padding > p.kernel_size:
            raise ShapeError("padding", f"padding {p.padding} is more than half the window "
                             f"{p.kernel_size}: a window could hold only padding")
        return (channels, *conv_sizes(p.window(), sizes))
    return shape


def pool_explain(p: PoolParams, shapes: list[Shape]) -> str:
    return conv_arithmetic(p.window(), tuple(shapes[0][1:3]))


class SumPool2d(nn.Module):
    """The sum over each window: average pooling that counts padding as zeros, times k²."""

    def __init__(self, p: PoolParams) -> None:
        super().__init__()
        w = p.window()
        self.pool = nn.AvgPool2d(w.kernel_size, w.stride, w.padding, count_include_pad=True)
        self.area = p.kernel_size ** 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x) * self.area


POOLS = {
    "max_pool2d": ("Max pooling: each window's largest value; small shifts of a feature do "
                   "not change it.",
                   lambda p: nn.MaxPool2d(p.kernel_size, p.window().stride, p.padding)),
    "avg_pool2d": ("Average pooling: each window's mean.",
                   lambda p: nn.AvgPool2d(p.kernel_size, p.window().stride, p.padding)),
    "sum_pool2d": ("Sum pooling: each window's sum (the average times the window's size).",
                   SumPool2d),
}


def pool_build(make: Callable[[PoolParams], nn.Module]
               ) -> Callable[[PoolParams, list[Shape]], nn.Module]:
    return lambda p, shapes: make(p)


for name, (description, make) in POOLS.items():
    LAYERS.register(LayerEntry(
        name, description, PoolParams, shape=pool_shape(name), explain=pool_explain,
        build=pool_build(make), category="pooling", spatial=True,
    ))

# --- adaptive and global -------------------------------------------------------------------


class AdaptiveParams(Params):
    output_size: int = Field(4, ge=1, le=512, description="Side of the output map, whatever "
                             "the input's size.")


def adaptive_shape(p: AdaptiveParams, shapes: list[Shape]) -> Shape:
    channels, sizes = spatial_input(shapes[0], 2, "adaptive_avg_pool2d")
    if any(n < p.output_size for n in sizes):
        raise ShapeError("output_size", f"output_size {p.output_size} is larger than the "
                         f"input {'×'.join(map(str, sizes))}: windows would be empty")
    return (channels, p.output_size, p.output_size)


LAYERS.register(LayerEntry(
    "adaptive_avg_pool2d", "Average pooling to a fixed output size: the windows adapt to the "
    "input.", AdaptiveParams, shape=adaptive_shape, category="pooling", spatial=True,
    build=lambda p, s: nn.AdaptiveAvgPool2d(p.output_size),
))


class GlobalAvgPool2d(nn.Module):
    """Each map's mean: (N, C, H, W) to (N, C), ready for a linear layer without flatten."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3))


def global_shape(_: NoParams, shapes: list[Shape]) -> Shape:
    channels, _sizes = spatial_input(shapes[0], 2, "global_avg_pool2d")
    return (channels,)


LAYERS.register(LayerEntry(
    "global_avg_pool2d", "Global average pooling: one number per map, its mean; (N, C, H, W) "
    "to (N, C).", NoParams, shape=global_shape, category="pooling", spatial=True,
    explain=lambda p, s: f"each of the {s[0][0]} maps ({s[0][1]}×{s[0][2]}) to its mean",
    build=lambda p, s: GlobalAvgPool2d(),
))

# --- upsampling ----------------------------------------------------------------------------


class UpsampleParams(Params):
    scale_factor: int = Field(2, ge=1, le=16, description="How many times larger each side "
                              "gets.")
    mode: Literal["nearest", "bilinear"] = Field("nearest", description="How new pixels are "
                                                 "filled: copied or interpolated.")


def upsample_shape(p: UpsampleParams, shapes: list[Shape]) -> Shape:
    channels, sizes = spatial_input(shapes[0], 2, "upsample")
    return (channels, *(n * p.scale_factor for n in sizes))


LAYERS.register(LayerEntry(
    "upsample", "Upsampling: each side grows by a whole factor, pixels copied or "
    "interpolated (a decoder's alternative to transposed convolution).", UpsampleParams,
    shape=upsample_shape, category="resampling", spatial=True,
    explain=lambda p, s: "; ".join(f"{a}: {n}·{p.scale_factor} = {n * p.scale_factor}"
                                   for a, n in zip(AXES[2], s[0][1:3], strict=True)),
    build=lambda p, s: nn.Upsample(scale_factor=p.scale_factor, mode=p.mode),
))
