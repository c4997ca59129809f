"""The recording hook: what a probe that records inside the steps asks of the next chunk, and
what it gets back.

A probe object may record in-step (the gradient norms, the histograms' captured gradients):
before each chunk the hub calls its `needs(NextChunk) -> Needs | None`, merges every probe's
needs into the one `Recording` the step strategy takes, runs the chunk, and hands each probe
that asked a `RecordedChunk` (`consume`): the outcome cut down to the steps it asked for, and
the weights before the last step where it asked for them. A probe that asked to `sample` is
sampled after the chunk. A probe that keeps its own clock (`own_clock = True`: the norms flush
at their own rate) also says where chunks must end (`boundaries(now)`), is sampled when it
says so without counting as one of its period's samples, and hears the throttle's period
(`set_every`).
May import: stdlib, numpy, engine.core.steps.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from engine.core.steps import Recording, StepOutcome


@dataclass(frozen=True)
class NextChunk:
    """The chunk about to run, as one probe sees it."""

    start: int  # steps done before it
    n: int  # steps in it
    now: float  # perf_counter() as it starts
    single: bool  # a single step asked for by the user
    every: int  # the probe's period now (the throttle may have widened it; 0: off)
    due: bool  # its period and Hz ceiling make it due at the chunk's end

    @property
    def end(self) -> int:
        return self.start + self.n


@dataclass(frozen=True)
class Needs:
    """What one probe needs the next chunk to record."""

    norms: list[bool] | None = None  # per step: record its per-parameter gradient norms
    capture: bool = False  # the last step keeps its gradients (as applied: after clipping)
    before: bool = False  # a copy of the weights before the last step
    sample: bool = False  # sample the probe after the chunk

    def any(self) -> bool:
        return self.capture or self.before or self.sample or any(self.norms or ())


@dataclass(frozen=True)
class RecordedChunk:
    """What a chunk recorded for one probe."""

    outcome: StepOutcome  # grad_norms and sampled hold the steps this probe asked for only
    start: int  # steps done before the chunk
    before: list[Any] | None  # the weights before its last step, where asked (read only)


def merged(needs: Iterable[Needs], n: int) -> Needs:
    """Every probe's needs as one: a step is recorded when any probe asks for it."""
    found = list(needs)
    asks = [need.norms for need in found if need.norms is not None]
    # one list as it is (the usual case: the norms alone), several OR-ed step by step
    norms = asks[0] if len(asks) == 1 else [any(steps) for steps in zip(*asks, strict=True)] \
        if asks else [False] * n
    return Needs(norms, any(nd.capture for nd in found), any(nd.before for nd in found),
                 any(nd.sample for nd in found))


def recording(needs: Needs, part: slice, capture: bool = False) -> Recording:
    return Recording((needs.norms or [])[part], capture)


def outcome_for(outcome: StepOutcome, wanted: list[bool] | None, recorded: list[bool]
                ) -> StepOutcome:
    """The outcome with only the sampled steps one probe asked for (`recorded`: those the
    merged recording asked for)."""
    if wanted is recorded or outcome.sampled is None or outcome.grad_norms is None:
        return outcome
    keep = np.asarray(wanted or [False] * len(recorded), dtype=bool)[outcome.sampled]
    if not keep.any():
        return replace(outcome, grad_norms=None, sampled=None)
    return replace(outcome, grad_norms=outcome.grad_norms[keep], sampled=outcome.sampled[keep])


def sampled_steps(step: int, n: int, every: int) -> list[bool]:
    """Which of the n steps after `step` sample a period (those whose count is a multiple of
    `every`), made in O(n / every) list operations: a chunk of a tiny net is a millisecond."""
    if every == 1:
        return [True] * n
    sample = [False] * n
    if every > 0:
        for i in range(every - 1 - step % every, n, every):
            sample[i] = True
    return sample


def merge(a: StepOutcome, b: StepOutcome) -> StepOutcome:
    """Two consecutive outcomes as one (b's positions and divergence shifted past a's)."""
    n = len(a.losses)
    accs = None if a.accuracies is None or b.accuracies is None \
        else np.concatenate([a.accuracies, b.accuracies])
    div = b.divergence
    if div is not None:
        div.index += n
    norms = [o.grad_norms for o in (a, b) if o.grad_norms is not None]
    pos = [p for p in (a.sampled, None if b.sampled is None else b.sampled + n) if p is not None]
    return StepOutcome(np.concatenate([a.losses, b.losses]), accs, div,
                       np.concatenate(norms) if norms else None,
                       np.concatenate(pos) if pos else None,
                       a.record_seconds + b.record_seconds)
