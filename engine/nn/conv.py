"""Convolution layers: conv1d, conv2d, depthwise-separable conv2d and transposed conv2d.

Input channels are inferred from the incoming tensor, so a spec names only what a student
chooses. Each shape function refuses with the reason a student can act on (a kernel larger
than the padded input, channels that groups do not divide) and each entry explains its
output size with the course's arithmetic, filled in: ⌊(H + 2p − d(k−1) − 1)/s⌋ + 1.
May import: stdlib, torch, pydantic, engine.nn.layers, engine.core.registry.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, WrapValidator
from torch import nn

from engine.core.registry import Params
from engine.nn.layers import LAYERS, LayerEntry, Shape, ShapeError, fmt_shape

AXES = {1: ("L",), 2: ("H", "W")}


PADDING = "padding is a whole number from 0 to 64, or 'same'"


def padding_value(v: Any, handler: Any) -> int | str:
    """One message for every wrong padding ('valid', -1, 2.5), not pydantic's per branch."""
    try:
        return handler(v)  # type: ignore[no-any-return]
    except ValueError:
        raise ValueError(PADDING) from None


Padding = Annotated[Annotated[int, Field(ge=0, le=64)] | Literal["same"],
                    WrapValidator(padding_value)]


class ConvParams(Params):
    out_channels: int = Field(8, ge=1, le=4096, description="Number of filters (output maps).")
    kernel_size: int = Field(3, ge=1, le=64, description="Side of each square filter.")
    stride: int = Field(1, ge=1, le=64, description="Step between filter positions.")
    padding: Padding = Field(
        0, description="Zeros added on each side; 'same' keeps the size (stride 1 only).")
    dilation: int = Field(1, ge=1, le=32, description="Gap between filter taps (1: none).")
    groups: int = Field(1, ge=1, le=4096, description="Channel groups convolved apart; in "
                        "and out channels must both be multiples of it.")
    bias: bool = Field(True, description="Learn an additive bias per filter.")
    in_channels: int | None = Field(
        None, ge=1, le=4096, description="Input channels; inferred from the incoming tensor.")


def spatial_input(shape: Shape, dims: int, kind: str) -> tuple[int, tuple[int, ...]]:
    """(channels, spatial sizes) of a (C, L) or (C, H, W) sample, or a refusal that says
    what the layer needs."""
    if len(shape) != dims + 1:
        want = "(N, C, L)" if dims == 1 else "(N, C, H, W)"
        hint = ": use image-shaped data or a reshape" if len(shape) == 1 else ""
        raise ShapeError(None, f"{kind} expects input {want}; it gets {fmt_shape(shape)}{hint}")
    return shape[0], tuple(shape[1:])


def check_channels(p: ConvParams, channels: int) -> None:
    if p.in_channels is not None and p.in_channels != channels:
        raise ShapeError("in_channels", f"in_channels is {p.in_channels} but the incoming "
                         f"tensor has {channels} channels")
    if channels % p.groups or p.out_channels % p.groups:
        raise ShapeError("groups", f"groups {p.groups} must divide both the {channels} input "
                         f"channels and the {p.out_channels} output channels")


def check_padding(p: Any) -> None:
    if p.padding == "same" and p.stride != 1:
        raise ShapeError("padding", f"padding 'same' needs stride 1; this layer has stride "
                         f"{p.stride} (give padding as a number)")


def conv_sizes(p: Any, sizes: tuple[int, ...]) -> tuple[int, ...]:
    """Each spatial size after the filter slides: ⌊(n + 2p − d(k−1) − 1)/s⌋ + 1, or a
    refusal when the (dilated) kernel is larger than the padded input. 'same' keeps each
    size (torch pads d(k−1) in all, the odd one on the far side)."""
    if p.padding == "same":
        return sizes
    k, pad, d = p.kernel_size, p.padding, p.dilation
    reach = d * (k - 1) + 1
    if any(n + 2 * pad < reach for n in sizes):
        padded = "×".join(str(n + 2 * pad) for n in sizes)
        what = f"kernel {k}" if d == 1 else f"kernel {k} at dilation {d} (reach {reach})"
        raise ShapeError("kernel_size", f"{what} is larger than the padded input {padded}")
    return tuple((n + 2 * pad - d * (k - 1) - 1) // p.stride + 1 for n in sizes)


def conv_arithmetic(p: Any, sizes: tuple[int, ...]) -> str:
    """The output-size formula with this layer's numbers, one line per spatial axis."""
    k, pad, d, s = p.kernel_size, p.padding, p.dilation, p.stride
    out = conv_sizes(p, sizes)
    if pad == "same":
        return "; ".join(f"{a}: 'same' pads {d}·({k}−1) = {d * (k - 1)} in all, so {n} stays {n}"
                         for a, n in zip(AXES[len(sizes)], sizes, strict=True))
    return "; ".join(f"{a}: ⌊({n} + 2·{pad} − {d}·({k}−1) − 1)/{s}⌋ + 1 = {o}"
                     for a, n, o in zip(AXES[len(sizes)], sizes, out, strict=True))


def conv_shape(dims: int, kind: str):  # type: ignore[no-untyped-def]
    def shape(p: ConvParams, shapes: list[Shape]) -> Shape:
        channels, sizes = spatial_input(shapes[0], dims, kind)
        check_channels(p, channels)
        check_padding(p)
        return (p.out_channels, *conv_sizes(p, sizes))
    return shape


def conv_explain(dims: int):  # type: ignore[no-untyped-def]
    def explain(p: ConvParams, shapes: list[Shape]) -> str:
        return conv_arithmetic(p, tuple(shapes[0][1:1 + dims]))
    return explain


def build_conv(dims: int):  # type: ignore[no-untyped-def]
    module = {1: nn.Conv1d, 2: nn.Conv2d}[dims]

    def build(p: ConvParams, shapes: list[Shape]) -> nn.Module:
        return module(shapes[0][0], p.out_channels, p.kernel_size, stride=p.stride,
                      padding=p.padding, dilation=p.dilation, groups=p.groups, bias=p.bias)
    return build


LAYERS.register(LayerEntry(
    "conv1d", "1-D convolution: filters slide along a sequence (C, L).", ConvParams,
    shape=conv_shape(1, "conv1d"), build=build_conv(1), explain=conv_explain(1),
    category="convolution", spatial=True,
))
LAYERS.register(LayerEntry(
    "conv2d", "2-D convolution: each filter slides over the image and gives one feature map.",
    ConvParams, shape=conv_shape(2, "conv2d"), build=build_conv(2), explain=conv_explain(2),
    category="convolution", spatial=True,
))

# --- depthwise-separable -----------------------------------------------------------------


class SeparableParams(Params):
    out_channels: int = Field(8, ge=1, le=4096, description="Number of output maps.")
    kernel_size: int = Field(3, ge=1, le=64, description="Side of each depthwise filter.")
    stride: int = Field(1, ge=1, le=64, description="Step of the depthwise filter.")
    padding: Padding = Field(0, description="Zeros added on each side; 'same' keeps the "
                             "size (stride 1 only).")
    dilation: int = Field(1, ge=1, le=32, description="Gap between filter taps (1: none).")
    depth_multiplier: int = Field(1, ge=1, le=64, description="Depthwise maps per input "
                                  "channel.")
    bias: bool = Field(True, description="Learn an additive bias per output map.")


class SeparableConv2d(nn.Module):
    """A depthwise conv (one filter per input channel, groups = C) then a pointwise 1×1 conv
    that mixes the channels: k²·C·m + C·m·out weights, against k²·C·out for a plain conv."""

    def __init__(self, channels: int, p: SeparableParams) -> None:
        super().__init__()
        mid = channels * p.depth_multiplier
        self.depthwise = nn.Conv2d(channels, mid, p.kernel_size, stride=p.stride,
                                   padding=p.padding, dilation=p.dilation, groups=channels,
                                   bias=False)
        self.pointwise = nn.Conv2d(mid, p.out_channels, 1, bias=p.bias)

    def forward(self, x):  # type: ignore[no-untyped-def]
        return self.pointwise(self.depthwise(x))


def separable_shape(p: SeparableParams, shapes: list[Shape]) -> Shape:
    _, sizes = spatial_input(shapes[0], 2, "separable_conv2d")
    check_padding(p)
    return (p.out_channels, *conv_sizes(p, sizes))


def separable_explain(p: SeparableParams, shapes: list[Shape]) -> str:
    c, k = shapes[0][0], p.kernel_size
    mid = c * p.depth_multiplier
    ours = k * k * mid + mid * p.out_channels
    plain = k * k * c * p.out_channels
    return (f"{conv_arithmetic(p, tuple(shapes[0][1:3]))}; weights {k}²·{mid} + {mid}·"
            f"{p.out_channels} = {ours:,} against a plain conv's {k}²·{c}·{p.out_channels} = "
            f"{plain:,} ({plain / ours:.1f}× as many)")


LAYERS.register(LayerEntry(
    "separable_conv2d", "Depthwise-separable convolution: one filter per channel, then a 1×1 "
    "conv that mixes channels; far fewer weights than a plain conv.", SeparableParams,
    shape=separable_shape, explain=separable_explain, category="convolution", spatial=True,
    build=lambda p, s: SeparableConv2d(s[0][0], p),
))

# --- transposed ----------------------------------------------------------------------------


class TransposedParams(Params):
    out_channels: int = Field(8, ge=1, le=4096, description="Number of output maps.")
    kernel_size: int = Field(4, ge=1, le=64, description="Side of each filter.")
    stride: int = Field(2, ge=1, le=64, description="Upsampling factor of the input grid.")
    padding: int = Field(1, ge=0, le=64, description="Rows and columns cropped on each side.")
    output_padding: int = Field(0, ge=0, le=63, description="Extra rows and columns added on "
                                "one side (less than stride or dilation).")
    dilation: int = Field(1, ge=1, le=32, description="Gap between filter taps (1: none).")
    bias: bool = Field(True, description="Learn an additive bias per output map.")


def transposed_sizes(p: TransposedParams, sizes: tuple[int, ...]) -> tuple[int, ...]:
    if p.output_padding >= max(p.stride, p.dilation):
        raise ShapeError("output_padding", f"output_padding {p.output_padding} must be less "
                         f"than the stride ({p.stride}) or the dilation ({p.dilation})")
    out = tuple((n - 1) * p.stride - 2 * p.padding + p.dilation * (p.kernel_size - 1)
                + p.output_padding + 1 for n in sizes)
    if min(out) < 1:
        raise ShapeError("padding", f"padding {p.padding} crops the whole output "
                         f"({'×'.join(map(str, out))})")
    return out


def transposed_shape(p: TransposedParams, shapes: list[Shape]) -> Shape:
    _, sizes = spatial_input(shapes[0], 2, "conv_transpose2d")
    return (p.out_channels, *transposed_sizes(p, sizes))


def transposed_explain(p: TransposedParams, shapes: list[Shape]) -> str:
    sizes = tuple(shapes[0][1:3])
    out = transposed_sizes(p, sizes)
    return "; ".join(
        f"{a}: ({n}−1)·{p.stride} − 2·{p.padding} + {p.dilation}·({p.kernel_size}−1) + "
        f"{p.output_padding} + 1 = {o}" for a, n, o in zip(AXES[2], sizes, out, strict=True))


LAYERS.register(LayerEntry(
    "conv_transpose2d", "Transposed convolution: spreads each input pixel over a filter-sized "
    "patch, so the map grows (decoders and generators).", TransposedParams,
    shape=transposed_shape, explain=transposed_explain, category="convolution", spatial=True,
    build=lambda p, s: nn.ConvTranspose2d(s[0][0], p.out_channels, p.kernel_size,
                                          stride=p.stride, padding=p.padding,
                                          output_padding=p.output_padding,
                                          dilation=p.dilation, bias=p.bias),
))
