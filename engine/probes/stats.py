"""Statistics the probes share: the parameter table, histograms on a fixed sample,
plain-data clean-up and number formatting for the plain-language readings.

Everything that reaches an event passes through here: tensors in, lists of finite floats out.
May import: stdlib, numpy, torch, engine.events.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from engine.events import Histogram

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
    clean = np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=FLOAT32_MAX,
                          neginf=-FLOAT32_MAX)
    return clean.tolist()  # type: ignore[no-any-return]


class Sampler:
    """A fixed random index set per tensor size, so that histograms of big tensors compare
    over time (the same elements every time) and cost the same whatever the tensor."""

    def __init__(self, size: int, seed: int = 0) -> None:
        self.size = size
        self.seed = seed
        self._cache: dict[tuple[int, str], torch.Tensor] = {}

    def flat(self, t: torch.Tensor) -> tuple[torch.Tensor, bool]:
        """The tensor flattened, or its fixed sample; and whether it was sampled."""
        flat = t.detach().reshape(-1)
        n = flat.numel()
        if n <= self.size:
            return flat, False
        key = (n, str(flat.device))
        idx = self._cache.get(key)
        if idx is None:
            gen = torch.Generator().manual_seed(self.seed + n)
            idx = torch.randperm(n, generator=gen)[:self.size].sort().values.to(flat.device)
            self._cache[key] = idx
        return flat[idx], True


def histograms(names: list[str], tensors: list[torch.Tensor], bins: int, sampler: Sampler
               ) -> list[Histogram]:
    """One histogram per tensor over its own [min, max], with two device-to-host transfers
    for all of them (the ranges, then the counts)."""
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
        return lo - 0.5, lo + 0.5
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
