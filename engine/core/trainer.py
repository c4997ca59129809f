"""The training loop: one readable function that runs steps and emits typed events.

Subscribers receive immutable events (`subscribe(handler, types=..., every=N)` returns a
removable handle). A `Control` object paused, stepped, resumed or stopped from another
thread takes effect at the next chunk boundary; chunks end at every reporting period, so
periods keep their meaning whatever the step strategy.
May import: stdlib, numpy, torch, engine modules.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch

from engine.core.cadence import Cadence
from engine.core.checkpoint import restore_trainer, trainer_checkpoint
from engine.core.control import EDITS, Control
from engine.core.errors import SpecError
from engine.core.events import (
    EvalCompleted,
    Event,
    LrChanged,
    PaceChanged,
    ProbesChanged,
    RunCompleted,
    RunFailed,
    RunPaused,
    RunResumed,
    RunStarted,
    RunStopped,
    StepsCompleted,
    WeightSet,
)
from engine.core.prepare import prepare_run
from engine.core.run import PreparedRun
from engine.core.runtime import ensure_threads
from engine.core.specs import RunSpec
from engine.core.steps import Divergence, StepStrategy
from engine.core.subscriptions import Subscribers
from engine.core.weight_edit import WeightEdit, apply_weight_edit, check_model_edit
from engine.probes.telemetry import Telemetry

WATCHABLE_PACE = 20.0  # steps/s at most at which every probe samples every paced step
CHUNK_SECONDS = 0.02  # the longest chunk: bounds pause/stop latency and event lag
# Under an evaluation ceiling, evaluations also take at most this share of wall time: a full
# pass over a few thousand examples costs as much as dozens of steps, and when an eval period
# of steps lasts about 1/eval_max_hz, tiny changes in step time flip it between every period
# and every other one.
EVAL_SHARE = 0.05


class Trainer:
    """Trains one run spec. Use `subscribe`, then `run()` (blocking) in any thread."""

    def __init__(self, spec: RunSpec, *, run_id: str = "local",
                 control: Control | None = None, resume: bytes | None = None,
                 checked: bool = False) -> None:
        """`checked`: check_spec has passed on this spec (see prepare_run)."""
        ensure_threads()  # torch's and BLAS's threads, unless the caller set them
        self.spec = spec
        self.run_id = run_id
        self.control = control or Control()
        self.subscribers = Subscribers()
        self.prepared = prepare_run(spec, checked)
        self.family = self.prepared.family
        self.strategy: StepStrategy = self.family.make_step(self.prepared)
        self.telemetry = Telemetry(self.prepared, self.strategy)
        self.step = 0
        self.base_lr = self.prepared.base_lr
        self._seq = 0
        self._t0 = time.perf_counter()
        tel, t = spec.training.telemetry, spec.training
        self.scalars = Cadence(tel.scalars_every, tel.scalars_max_hz)
        self.evals = Cadence(t.eval_every or self.prepared.steps_per_epoch, tel.eval_max_hz,
                             EVAL_SHARE)
        self._step_s = 0.0  # seconds per step in the last chunk (0: none yet)
        self._rng = np.random.default_rng(spec.training.seed)
        self._perm = np.zeros(0, dtype=np.int64)
        self._pending: list[tuple[dict[str, np.ndarray], int, float]] = []
        self.resumed_at: int | None = None  # the step a resumed run went on from
        self.t_offset = 0.0  # ... and the time it had trained before
        if resume is not None:
            restore_trainer(self, resume)

    @property
    def model(self) -> Any:
        return self.prepared.model

    def subscribe(self, handler: Callable[[Event], None], *, types: Iterable[str] | None = None,
                  every: int = 1) -> Any:
        return self.subscribers.add(handler, types=types, every=every)

    # --- the loop ----------------------------------------------------------------------------

    def run(self) -> Event:
        """Train to the end (or stop, or failure); returns the terminal event."""
        self._t0 = time.perf_counter()
        self.emit(RunStarted, **self.started_fields())
        try:
            end = self.loop()
        except Exception as exc:  # a failing run reports and ends; it never crashes its host
            end = self.failure(exc)
        return end

    def loop(self) -> Event:
        pause_shown = False
        while self.step < self.prepared.total_steps:
            if self.control.paused and not pause_shown:
                self.flush_scalars()
                self.emit(RunPaused)
                pause_shown = True
            allowed = self.control.allowance()
            if allowed == 0:
                return self.finish(RunStopped)
            self.apply_weight_edits()
            if allowed == EDITS:  # a paused run's weight was set: redrawn, it waits again
                continue
            if pause_shown and not self.control.paused:
                self.emit(RunResumed)
                pause_shown = False
            self.apply_lr_change()
            self.apply_probe_change()
            self.apply_pace_change()
            n = self.chunk_length(allowed)
            if allowed is not None:
                self.control.refund(allowed - n)
            single = allowed is not None and self.samples_every_step()
            failed = self.train_chunk(n, single=single)
            if failed is not None:
                return failed
            self.after_chunk(single=single, paced=allowed is not None)
        return self.finish(RunCompleted)

    def chunk_length(self, allowed: int | None) -> int:
        """Steps to the nearest reporting period that can report now (one held back by its
        Hz ceiling ends no chunk), at most CHUNK_SECONDS of steps: each chunk costs a fixed
        ~50 µs, as much as a tiny net's step, and pause and stop wait for its end."""
        now = self.elapsed()
        periods = [c.every for c in (self.scalars, self.evals) if c.allows(now)]
        periods += self.telemetry.boundaries(time.perf_counter())
        longest = max(1, int(CHUNK_SECONDS / self._step_s)) if self._step_s \
            else self.scalars.every
        to_boundary = min([p - self.step % p for p in periods if p > 0], default=longest)
        n = min(to_boundary, longest, self.prepared.total_steps - self.step)
        return n if allowed is None else min(n, allowed)

    def train_chunk(self, n: int, single: bool = False) -> Event | None:
        t0 = time.perf_counter()
        batches = [self.batch(self.step + i) for i in range(n)]
        lrs = [self.lr_at(self.step + i) for i in range(n)]
        outcome = self.telemetry.train(batches, lrs, self.step, single)
        done = len(outcome.losses)
        if done:
            self._step_s = (time.perf_counter() - t0) / done
            self._pending.append((self.family.step_metrics(outcome), done, lrs[done - 1]))
        self.step += done
        if outcome.divergence is not None:
            return self.diverged(outcome.divergence)
        return None

    def samples_every_step(self) -> bool:
        """A single step, or a pace slow enough to watch step by step: every probe sees it
        (no period, no ceiling), as it does a single step."""
        pace = self.control.pace
        return self.control.paused or (pace is not None and pace <= WATCHABLE_PACE)

    def after_chunk(self, single: bool, paced: bool = False) -> None:
        step, now = self.step, self.elapsed()
        last = step == self.prepared.total_steps
        # a paced run's counter shows each step that ran (as the ceiling allows), not only
        # the scalar period's multiples: at 2 steps/s a period of 10 would freeze it 5 s
        shown = self.scalars.allows(now) if paced else self.scalars.due(step, now)
        if single or last or shown:
            self.flush_scalars()
        if not last and self.evals.due(step, now):
            self.flush_scalars()
            self.emit_eval()
        self.telemetry.after_chunk(step, self.lr_at(step), self.emit_fields, single)

    # --- batches, learning rate, periods -----------------------------------------------------

    def batch(self, step: int) -> np.ndarray:
        """Indices of the step's batch; each epoch is a fresh seeded permutation."""
        per_epoch, size = self.prepared.steps_per_epoch, self.spec.training.batch_size
        within = step % per_epoch
        if within == 0 or len(self._perm) == 0:
            self._perm = self._rng.permutation(len(self.prepared.data.x_train))
        return self._perm[within * size:(within + 1) * size]

    def lr_at(self, step: int) -> float:
        c = self.prepared.choices
        return self.base_lr * c.schedule.factor(c.schedule_params, step, self.prepared.total_steps)

    def apply_lr_change(self) -> None:
        lr = self.control.take_lr()
        if lr is not None:
            self.base_lr = lr
            self.emit(LrChanged, lr=lr)

    def apply_pace_change(self) -> None:
        if self.control.take_pace_change():
            self.emit(PaceChanged, pace=self.control.pace)

    def set_weight(self, node: str, row: int, col: int, value: float) -> None:
        """Set one weight at the next chunk boundary (also while paused); a node or index
        the model lacks is refused here, at once (a located SpecError)."""
        check_model_edit(self.model, WeightEdit.checked(node, row, col, value))
        self.control.set_weight(node, row, col, value)

    def apply_weight_edits(self) -> None:
        """Set the weights asked for, then redraw what shows them (weights, neuron maps,
        the views), as a single step would: a paused page sees the edit at once."""
        applied = 0
        for edit in self.control.take_weights():
            try:
                apply_weight_edit(self.model, edit)
            except SpecError:
                continue  # checked before it was sent (set_weight, the server): a stale one
            applied += 1
            self.emit(WeightSet, type="weight_set", node=edit.node, row=edit.row,
                      col=edit.col, value=edit.value)
        if applied:
            self.telemetry.redraw(self.step, self.lr_at(self.step), self.emit_fields)

    def apply_probe_change(self) -> None:
        changes = self.control.take_probes()
        if changes:
            probes = self.telemetry.reconfigure(changes)
            self.emit(ProbesChanged, type="probes_changed", probes=probes)

    # --- events ------------------------------------------------------------------------------

    def elapsed(self) -> float:
        return time.perf_counter() - self._t0 + self.t_offset

    def checkpoint(self) -> bytes:
        """The trainer as it is now (between chunks: stopped, paused or ended), as bytes that
        `Trainer(spec, resume=...)` goes on from exactly."""
        return trainer_checkpoint(self)

    def emit(self, cls: type[Event], **fields: Any) -> Event:
        self._seq += 1
        per_epoch = self.prepared.steps_per_epoch
        event = cls.model_construct(run=self.run_id, seq=self._seq, step=self.step,
                                    epoch=self.step // per_epoch, t=self.elapsed(), **fields)
        self.subscribers.publish(event)
        return event

    def started_fields(self) -> dict[str, Any]:
        p = self.prepared
        return {"type": "run_started", "spec": self.spec, "graph": p.report,
                "data": p.data.summary(), "device": str(p.device),
                "device_reason": p.device_reason, "strategy": self.strategy.name,
                "family": self.family.name, "metrics": self.family.metrics(p.data),
                "steps_per_epoch": p.steps_per_epoch, "total_steps": p.total_steps,
                "resumed_at": self.resumed_at}

    def flush_scalars(self) -> None:
        if not self._pending:
            return
        names = self._pending[0][0]
        metrics = {name: np.concatenate([p[0][name] for p in self._pending]).tolist()
                   for name in names}
        count, lr = sum(p[1] for p in self._pending), self._pending[-1][2]
        self._pending = []
        self.scalars.mark(self.elapsed())
        self.emit(StepsCompleted, type="steps_completed", first_step=self.step - count + 1,
                  metrics=metrics, lr=lr)

    def emit_eval(self) -> dict[str, float]:
        t0 = self.elapsed()
        metrics = self.family.evaluate(self.strategy)
        self.evals.mark(t0, self.elapsed() - t0)
        if metrics:  # empty: a non-finite value, which the next training step reports
            self.emit(EvalCompleted, type="eval_completed", metrics=metrics)
        return metrics

    def emit_fields(self, fields: tuple[type[Event], dict[str, Any]]) -> None:
        self.emit(fields[0], **fields[1])

    # --- endings -----------------------------------------------------------------------------

    def finish(self, cls: type[Event]) -> Event:
        self.flush_scalars()
        for fields in self.telemetry.at_end(self.step):
            self.emit_fields(fields)
        metrics = self.emit_eval()
        for fields in self.telemetry.closing_views(self.lr_at(self.step)):
            self.emit_fields(fields)
        if cls is RunCompleted:
            return self.emit(cls, type="run_completed", metrics=metrics)
        return self.emit(cls, type="run_stopped", metrics=metrics,
                         reason=self.control.stop_reason)

    def diverged(self, div: Divergence) -> Event:
        self.flush_scalars()
        for fields in self.telemetry.at_end(self.step):
            self.emit_fields(fields)
        began, lr = self.step + 1, self.lr_at(self.step)
        for fields in self.last_views(lr):
            self.emit_fields(fields)
        if div.where == "loss":
            where, layer = "loss", locate_nonfinite(self.prepared, self.batch(self.step))
            what = f"the loss became non-finite (first non-finite output: {layer})"
        else:
            where, layer = "gradient", div.where
            what = f"the gradient of {layer} became non-finite"
        reason = f"training diverged at step {began}: {what}; learning rate {lr:g}"
        diagnosis = self.telemetry.diagnose(
            began, "loss" if where == "loss" else f"gradient of {layer}", lr)
        return self.emit(RunFailed, type="run_failed", reason=reason, error="divergence",
                         began_at_step=began, where=where, layer=layer,
                         last_finite=div.last_finite, diagnosis=diagnosis)

    def last_views(self, lr: float) -> list[tuple[type[Event], dict[str, Any]]]:
        """The views of the last finite step: the weights before the failing step are still
        finite, and at full speed the views' Hz ceilings may have left the last sample tens
        of steps behind (the boundary of step 10 for a run that broke at 57). A view that
        cannot summarise them (a grid of non-finite outputs says None) is left out, and one
        that raises costs only the views, never the failure's report."""
        try:
            return self.telemetry.closing_views(lr)
        except Exception:  # noqa: BLE001 - weights too large to summarise: report without
            return []

    def failure(self, exc: Exception) -> Event:
        self._pending = []
        error = "spec" if isinstance(exc, SpecError) else type(exc).__name__
        return self.emit(RunFailed, type="run_failed", reason=str(exc) or repr(exc), error=error)


@torch.no_grad()
def locate_nonfinite(run: PreparedRun, batch: np.ndarray) -> str:
    """The first node whose output is non-finite on the failing batch; else the output node
    (its outputs are finite but the loss of them overflowed)."""
    model = run.model
    was_training = model.training
    model.train()  # the failing step ran in training mode
    x = torch.from_numpy(run.data.x_train[batch]).to(run.device)
    outputs = model.node_outputs(x)
    model.train(was_training)
    for node_id, value in outputs.items():
        if not bool(torch.isfinite(value).all()):
            return node_id
    return model.output or model.order[-1]


def train(spec: RunSpec, **kwargs: Any) -> Event:
    """Build and run a trainer in this thread; returns its terminal event."""
    return Trainer(spec, **kwargs).run()
