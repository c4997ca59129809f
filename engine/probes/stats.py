"""Statistics the probes share: the parameter table, histograms on a fixed sample,
plain-data clean-up and number formatting for the plain-language readings.

Everything that reaches an event passes through here: tensors in, lists of finite floats out.
May import: stdlib, numpy, torch, engine.core.events.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from engine.core.events import Histogram

FLOAT32_MAX = 3.4e38  # what an overflowed norm reads as: events never carry inf or NaN


@dataclass(frozen=True)
class ParamTable:
    """The model's trainable parameters in forward order, as both step strategies list them
    (nodes in `model.order`, each module's parameters in registration order)."""

    names: list[str]  # 'dense1.weight'
    layers: list[str]  # the node id of each
    tensors: list[torch.Tensor]

    @property
    def layer_ids(self) -> list[str]:
        """Nodes that own parameters, in forward order."""
        return list(dict.fromkeys(self.layers))

    def layer_index(self) -> np.ndarray:
        """(P,) the position of each parameter's node in `layer_ids`."""
        ids = {node: i for i, node in enumerate(self.layer_ids)}
        return np.array([ids[n] for n in self.layers], dtype=np.int64)


def param_table(model: torch.nn.Module) -> ParamTable:
    names, layers, tensors = [], [], []
    modules: Any = getattr(model, "layers", {})
    for node in getattr(model, "order", []):
        for pname, p in modules[node].named_parameters():
            if p.requires_grad:
                names.append(f"{node}.{pname}")
                layers.append(node)
                tensors.append(p)
    return ParamTable(names, layers, tensors)


def finite_rows(values: np.ndarray) -> list[list[float]]:
    """A 2-D array as rows of plain floats, cleaned as `finite` does."""
    return [finite(row) for row in np.atleast_2d(values)]


def finite(values: np.ndarray) -> list[float]:
    """Plain floats for an event: NaN reads 0 and overflow reads ±3.4e38."""
    as64 = values.astype(np.float64)
    if np.isfinite(as64).all():  # the usual case, at a tenth of nan_to_num's cost
        return as64.tolist()  # type: ignore[no-any-return]
    clean = np.nan_to_num(as64, nan=0.0, posinf=FLOAT32_MAX, neginf=-FLOAT32_MAX)
    return clean.tolist()  # type: ignore[no-any-return]


class Sampler:
    """A fixed random index set per tensor size, so that histograms of big tensors compare
    over time (the same elements every time) and cost the same whatever the tensor."""

    def __init__(self, size: int, seed: int = 0) -> None:
        self.size = size
        self.seed = seed
        self._cache: dict[tuple[int, str], torch.Tensor] = {}
        self._arrays: dict[int, np.ndarray] = {}

    def flat(self, t: torch.Tensor) -> tuple[torch.Tensor, bool]:
        """The tensor flattened, or its fixed sample; and whether it was sampled."""
        flat = t.detach().reshape(-1)
        n = flat.numel()
        if n <= self.size:
            return flat, False
        return flat[self.indices(n, flat.device)], True

    def flat_array(self, a: np.ndarray) -> tuple[np.ndarray, bool]:
        """`flat` for a NumPy array: the same elements as for a tensor of its size."""
        flat = a.reshape(-1)
        if flat.size <= self.size:
            return flat, False
        idx = self._arrays.get(flat.size)
        if idx is None:  # made once per size: no torch call on the way to a histogram
            idx = self._arrays[flat.size] = self.indices(flat.size, torch.device("cpu")).numpy()
        return flat[idx], True

    def indices(self, n: int, device: torch.device) -> torch.Tensor:
        key = (n, str(device))
        idx = self._cache.get(key)
        if idx is None:
            gen = torch.Generator().manual_seed(self.seed + n)
            idx = torch.randperm(n, generator=gen)[:self.size].sort().values.to(device)
            self._cache[key] = idx
        return idx


def histograms(names: list[str], tensors: Sequence[torch.Tensor | np.ndarray], bins: int,
               sampler: Sampler) -> list[Histogram]:
    """One histogram per tensor over its own [min, max]. Tensors in host memory are counted
    in NumPy: a few torch calls between thousands of fused NumPy steps run with cold caches
    and slow the steps after them more than they cost themselves."""
    if all(isinstance(t, np.ndarray) or t.device.type == "cpu" for t in tensors):
        return [histogram_of_array(name, as_array(t), bins, sampler)
                for name, t in zip(names, tensors, strict=True)]
    return histograms_on_device(names, [torch.as_tensor(t) for t in tensors], bins, sampler)


def as_array(t: torch.Tensor | np.ndarray) -> np.ndarray:
    return t if isinstance(t, np.ndarray) else t.detach().numpy()


def histogram_of_array(name: str, a: np.ndarray, bins: int, sampler: Sampler) -> Histogram:
    flat, sampled = sampler.flat_array(a.astype(np.float32, copy=False))
    lo, hi = (float(flat.min()), float(flat.max())) if flat.size else (0.0, 0.0)
    lo, hi = bin_range(lo, hi)
    return Histogram(name=name, lo=lo, hi=hi, counts=histc(flat, bins, lo, hi).tolist(),
                     sampled=sampled, size=a.size)


def histc(a: np.ndarray, bins: int, lo: float, hi: float) -> np.ndarray:
    """torch.histc's counts for a float32 array, by its CPU kernel's arithmetic (float32,
    the right edge in the last bin, values outside [lo, hi] and NaN left out)."""
    lo32, hi32 = np.float32(lo), np.float32(hi)
    inside = a[(a >= lo32) & (a <= hi32)]
    with np.errstate(all="ignore"):
        pos = (inside - lo32) * np.float32(bins) / (hi32 - lo32)
    if not np.isfinite(pos).all():  # float32 overflowed (values near its max): in float64
        pos = (inside.astype(np.float64) - lo) * bins / (hi - lo)
    return np.bincount(np.minimum(pos.astype(np.int64), bins - 1), minlength=bins)


def histograms_on_device(names: list[str], tensors: list[torch.Tensor], bins: int,
                         sampler: Sampler) -> list[Histogram]:
    """`histograms` with torch.histc where the tensors live, and two device-to-host
    transfers for all of them (the ranges, then the counts)."""
    if not tensors:
        return []
    flats = [sampler.flat(t) for t in tensors]
    ranges = torch.stack([torch.stack(torch.aminmax(f.float())) if f.numel()
                          else torch.zeros(2, device=f.device) for f, _ in flats])
    lo_hi = ranges.cpu().tolist()  # (T, 2)
    counts = []
    for (f, _), (lo, hi) in zip(flats, lo_hi, strict=True):
        lo, hi = bin_range(lo, hi)
        counts.append(torch.histc(f.float(), bins=bins, min=lo, max=hi))
    all_counts = torch.stack(counts).cpu().numpy().astype(np.int64)  # (T, bins)
    result = []
    for name, t, (_, sampled), (lo, hi), row in zip(names, tensors, flats, lo_hi, all_counts,
                                                   strict=True):
        lo, hi = bin_range(lo, hi)
        result.append(Histogram(name=name, lo=lo, hi=hi, counts=row.tolist(), sampled=sampled,
                                size=t.numel()))
    return result


def bin_range(lo: float, hi: float) -> tuple[float, float]:
    """A non-empty, finite range: a constant tensor gets a unit-wide one around its value."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return -FLOAT32_MAX, FLOAT32_MAX
    if hi <= lo:
        half = max(0.5, abs(lo) * 2**-20)  # still a range in float32, whatever the value
        return lo - half, lo + half
    return lo, hi


SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def fmt(x: float) -> str:
    """A number for a sentence: 0.41, 3, 1.2×10⁴."""
    if x == 0 or not math.isfinite(x):
        return "0" if x == 0 else str(x)
    exp = math.floor(math.log10(abs(x)))
    if -3 <= exp < 4:
        return f"{x:.2g}" if abs(x) < 1 else f"{x:.4g}" if abs(x) >= 100 else f"{x:.3g}"
    mant = x / 10**exp
    head = "" if round(mant, 1) == 1 else f"{mant:.2g}×"
    return f"{head}10{str(exp).translate(SUPERSCRIPT)}"
