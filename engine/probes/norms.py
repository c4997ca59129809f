"""The norms probe: per-step gradient norms from the step strategies, buffered and flushed as
`norms_sampled` events, with weight norms and update-to-weight ratios at each flush, and the
exploding and vanishing warnings read off the same numbers.

The strategies compute the norms inside the step (AutogradStep from the kernel its finiteness
check runs anyway, FusedMLPStep from the flat gradient); this module asks for them through the
recording hook (recording.py: the steps of each period, and at a flush the weights before the
last step), keeps and reads them. It keeps its own clock: it samples every period step inside
the chunks and flushes at its own rate (`flush_every` steps, `max_hz`), so it says itself where
chunks must end. `trajectory` is what the divergence diagnosis reads.
May import: stdlib, numpy, torch, engine.core.cadence, engine.core.events, engine.core.steps and the
probes' own modules.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from engine.core.cadence import Cadence
from engine.core.events import Event, NormsSampled, RunWarning
from engine.core.steps import StepOutcome
from engine.probes.recording import Needs, NextChunk, RecordedChunk, sampled_steps
from engine.probes.registry import NormsParams
from engine.probes.stats import ParamTable, finite, finite_rows, fmt

EventFields = tuple[type[Event], dict[str, Any]]


class NormsProbe:
    own_clock = True  # flushes at its own rate; its period is that of the sampled steps
    active = True

    def __init__(self, params: NormsParams, table: ParamTable) -> None:
        self.p = params
        self.asked = params  # the settings, before the throttle widened the period
        self.table = table
        self.before: list[Any] | None = None  # the weights before a flush's last step
        self.layer_ids = table.layer_ids
        self.index = table.layer_index()
        self.steps: list[np.ndarray] = []  # buffered since the last flush
        self.rows: list[np.ndarray] = []  # (S, P) each
        self.fresh: list[tuple[np.ndarray, np.ndarray]] = []  # not yet read for warnings
        self.onehot = np.zeros((len(self.index), len(self.layer_ids)))  # (P, L)
        self.onehot[np.arange(len(self.index)), self.index] = 1.0
        self.last_flush_step = 0
        self.last_flush_t = -math.inf
        self.keep = max(params.keep, params.window)
        self.hist_steps = np.zeros(0, np.int64)  # (≤ keep,) the latest sampled steps
        self.hist = np.zeros((0, len(self.layer_ids)))  # (≤ keep, L) their layer norms
        self.warned: set[tuple[str, str]] = set()  # warnings given and not yet cleared
        self.warnings: list[EventFields] = []

    # --- the recording hook (see recording.py) -----------------------------------------------

    def needs(self, chunk: NextChunk) -> Needs:
        flush = self.flush_due(chunk.end, chunk.now, chunk.single)
        return Needs(norms=sampled_steps(chunk.start, chunk.n, chunk.every), before=flush,
                     sample=flush)

    def consume(self, chunk: RecordedChunk) -> None:
        self.add(chunk.outcome, chunk.start)
        self.before = chunk.before

    def sample(self, ctx: Any) -> list[EventFields]:
        """At a flush: the warnings, then the buffered norms with the last step's weight norms
        and update ratios."""
        fields = self.flush(ctx.step, ctx.now, self.before, ctx.weights_now())
        self.before = None
        return self.take_warnings() + ([fields] if fields is not None else [])

    def boundaries(self, now: float) -> list[int]:
        """Chunks end where a flush may come (no sooner than its Hz ceiling allows)."""
        if self.p.every > 0 and Cadence(1, self.p.max_hz, last_t=self.last_flush_t).allows(now):
            return [self.p.flush_every]
        return []

    def set_every(self, every: int) -> None:
        """The period the throttle set. A flush (weight norms, update ratios, the event) costs
        the same however few steps were sampled: widening the period slows the flushes alike."""
        hz = self.asked.max_hz
        if hz is not None and self.asked.every > 0 and every > self.asked.every:
            hz = hz * self.asked.every / every
        self.p = self.p.model_copy(update={"every": every, "max_hz": hz})

    def at_end(self, step: int, now: float) -> list[EventFields]:
        """What the buffer still holds, for runs long enough to have had a flush."""
        if step < self.p.flush_every:
            return []
        fields = self.flush(step, now, None)
        return self.take_warnings() + ([fields] if fields is not None else [])

    def changed(self, params: NormsParams) -> NormsProbe:
        """New settings; the buffered norms and their history are kept."""
        self.p = self.asked = params
        self.keep = max(params.keep, params.window)
        return self

    # --- buffering ---------------------------------------------------------------------------

    def add(self, outcome: StepOutcome, first_step: int) -> None:
        """Keep a chunk's sampled norms; `first_step` is the step count before the chunk."""
        if outcome.grad_norms is None or outcome.sampled is None:
            return
        steps = first_step + outcome.sampled + 1  # step numbers count completed steps
        self.steps.append(steps)
        self.rows.append(outcome.grad_norms)
        self.fresh.append((steps, outcome.grad_norms))

    def digest(self) -> None:
        """Per-layer norms of what came in since the last call, into the kept history, and
        the warnings they raise. Done at flushes (≤ max_hz), not per chunk: it costs more
        than recording."""
        if not self.fresh:
            return
        steps = np.concatenate([s for s, _ in self.fresh])
        rows = np.concatenate([r for _, r in self.fresh])  # (S, P)
        self.fresh = []
        per_layer = np.sqrt(np.square(rows) @ self.onehot)  # (S, L)
        self.hist_steps = np.concatenate([self.hist_steps, steps])[-self.keep:]
        self.hist = np.concatenate([self.hist, per_layer])[-self.keep:]
        self.check()

    def flush_due(self, end: int, now: float, single: bool) -> bool:
        if self.p.every == 0:
            return False
        if single:
            return True
        hz_ok = self.p.max_hz is None or now - self.last_flush_t >= 1 / self.p.max_hz
        return end - self.last_flush_step >= self.p.flush_every and hz_ok

    def flush(self, step: int, now: float, before: list[Any] | None,
              weights: list[Any] | None = None) -> EventFields | None:
        """The buffered norms as one event; with `before` (the weights before the last step)
        and `weights` (now), also the weight norms and update ratios of that step."""
        self.last_flush_step, self.last_flush_t = step, now
        self.digest()
        if not self.rows:
            return None
        steps = np.concatenate(self.steps)
        rows = np.concatenate(self.rows)  # (S, P)
        self.steps, self.rows = [], []
        if len(steps) > self.p.max_points:  # a tiny net samples 20,000 steps a second: as
            # JSON, that is megabytes a second that no chart can show
            pick = np.linspace(0, len(steps) - 1, self.p.max_points).round().astype(np.intp)
            steps, rows = steps[pick], rows[pick]
        fields: dict[str, Any] = {"type": "norms_sampled", "params": self.table.names,
                                  "layers": self.table.layers, "steps": steps.tolist(),
                                  "grad_norm": finite_rows(rows.T)}
        if before is not None and weights is not None:
            fields |= weight_fields(weights, before)
        return NormsSampled, fields

    # --- warnings ----------------------------------------------------------------------------

    def check(self) -> None:
        """Warn once per layer and kind while a condition holds; it re-arms when it clears."""
        latest = self.hist[-1]
        found: dict[tuple[str, str], tuple[float, float, str]] = {}
        if len(self.hist) >= self.p.window:
            # the lowest of the window's last tenth over the highest of its first: mini-batch
            # norms jump by orders of magnitude from batch to batch; a sustained rise explodes
            window = self.hist[-self.p.window:]
            k = max(self.p.window // 10, 1)
            then, now = window[:k].max(axis=0), window[-k:].min(axis=0)
            growth = now / np.maximum(then, 1e-30)
            hot = (growth >= self.p.explode_factor) & (now >= self.p.explode_floor)
            for i in np.flatnonzero(hot):
                node = self.layer_ids[i]
                found[("exploding", node)] = (float(growth[i]), self.p.explode_factor, (
                    f"the gradient norm of {node} grew {fmt(float(growth[i]))}× within "
                    f"{self.p.window} samples (now {fmt(latest[i])}): exploding gradients; "
                    "a smaller learning rate or gradient clipping helps"))
        if len(self.layer_ids) >= 2:
            first, last = latest[0], latest[-1]
            ratio = first / last if last > 0 else 1.0
            if ratio < self.p.vanish_ratio:
                node = self.layer_ids[0]
                found[("vanishing", node)] = (ratio, self.p.vanish_ratio, (
                    f"the gradient norm of {node} is {fmt(ratio)} of {self.layer_ids[-1]}'s: "
                    "vanishing gradients; the first layers barely learn (saturating units, "
                    "depth; ReLU with He initialisation helps)"))
        for key, (value, threshold, message) in found.items():
            if key not in self.warned:
                self.warnings.append((RunWarning, {
                    "type": "warning", "kind": key[0], "layer": key[1], "value": finite(
                        np.array(value)), "threshold": threshold, "message": message}))
        self.warned = set(found)

    def take_warnings(self) -> list[EventFields]:
        out, self.warnings = self.warnings, []
        return out

    def trajectory(self) -> tuple[list[int], np.ndarray]:
        """The kept samples: steps and (L, S) per-layer norms."""
        self.digest()
        return self.hist_steps.tolist(), self.hist.T


def snapshot(now: list[Any], kept: list[Any]) -> list[Any]:
    """The weights `now` (see `weight_views`) copied into `kept` (reused from flush to flush
    when shapes match: a fresh copy of a big model's weights ten times a second costs more in
    page faults than in copying)."""
    if [(type(b), b.shape, b.dtype) for b in kept] != [(type(a), a.shape, a.dtype) for a in now]:
        kept = [np.empty_like(a) if isinstance(a, np.ndarray) else torch.empty_like(a)
                for a in now]
    if now and isinstance(now[0], np.ndarray):
        for b, a in zip(kept, now, strict=True):
            np.copyto(b, a)
    else:
        torch._foreach_copy_(kept, now)
    return kept


def weight_views(tensors: list[torch.Tensor]) -> list[Any]:
    """The weights as NumPy views on the CPU, detached tensors elsewhere. Between thousands
    of fused NumPy steps a torch call runs cold (tens of µs), so the fused step hands over
    views it keeps (`weight_arrays`) and this is for the other strategies."""
    if all(t.device.type == "cpu" for t in tensors):
        return [t.detach().numpy() for t in tensors]
    return [t.detach() for t in tensors]


def weight_fields(now: list[Any], before: list[Any]) -> dict[str, Any]:
    """‖w‖ after the step and ‖Δw‖/‖w‖ (one transfer on a GPU). `before` (from `snapshot`)
    is overwritten with before - now."""
    if now and isinstance(now[0], np.ndarray):
        with np.errstate(all="ignore"):
            w = [float(np.vdot(a, a)) for a in now]
            for b, a in zip(before, now, strict=True):
                np.subtract(b, a, out=b)
            d = [float(np.vdot(b, b)) for b in before]
        both = np.sqrt(np.array([w, d], dtype=np.float64))  # (2, P)
    else:
        w_t = torch.stack(torch._foreach_norm(now))
        torch._foreach_sub_(before, now)
        d_t = torch.stack(torch._foreach_norm(before))
        both = torch.stack([w_t, d_t]).double().cpu().numpy()
    with np.errstate(all="ignore"):  # overflowed norms read as the float32 maximum
        ratio = both[1] / np.maximum(both[0], 1e-12)
    return {"weight_norm": finite(both[0]), "update_ratio": finite(ratio)}
