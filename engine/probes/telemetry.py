"""The telemetry hub between the training loop and the probes: which steps record what, when
each probe is due (a period in steps and a ceiling in Hz), and the auto-throttle that keeps
the probes' share of wall time under the budget by widening their periods.

Every probe is a registry entry with a factory (entries.py): the hub makes, schedules, times
and throttles them without naming any. Those that record inside the steps (the gradient norms,
the histograms' gradients) say before each chunk what it must record (the recording hook,
recording.py); the hub merges their needs into one `Recording` and hands each its part of the
outcome. A probe that is a family's view (the prediction grid) runs even with probes off, is
never throttled, and samples on single steps and at the end too. The trainer calls `train` for
each chunk, `after_chunk` after it, `at_end` and `closing_views` before the terminal event,
`diagnose` on divergence, `redraw` after a weight set by hand.
May import: stdlib, numpy, torch, engine modules below the trainer, the probes' own modules.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from engine.core.cadence import Cadence
from engine.core.events import Diagnosis, Event, RunWarning, TelemetryShare
from engine.core.run import PreparedRun
from engine.core.steps import StepOutcome, StepStrategy
from engine.probes.diagnosis import diagnose
from engine.probes.entries import ProbeContext
from engine.probes.norms import snapshot, weight_views
from engine.probes.recording import (
    Needs,
    NextChunk,
    RecordedChunk,
    merge,
    merged,
    outcome_for,
    recording,
)
from engine.probes.recording import sampled_steps as sampled_steps  # as the hub's tests know it
from engine.probes.registry import PROBES, changed_settings, probe_settings
from engine.probes.stats import param_table

EventFields = tuple[type[Event], dict[str, Any]]
WINDOW_SECONDS = 1.0  # the throttle's measuring window, and the share event's period
# ... after windows of a quarter and a half second at the start and after a probe change, so
# that the throttle settles within a second rather than spending three at a costly setting
FIRST_WINDOW_SECONDS = 0.25
WINDOW_STEPS = 100  # ... and at least this many steps, so that tiny runs send no share
# What the clocks here see is most of what the probes cost, not all: of the ~0.9 µs a sampled
# step costs on the spiral net (against a 37 µs step), the recorder times about half (the copy
# and the reduction, not the calls around them); the rest, and the chunks the probes end, are
# paid inside the steps and the trainer. Usually about 3% was lost where 2% was timed; on a
# busy VM one benchmark run lost 7% to a timed 2.4%. The throttle keeps the timed share under
# this part of the budget and leaves the rest for those (benchmarks/telemetry_overhead.py
# measures the whole against telemetry off).
TIMED_PART = 0.4
# Relaxing halves the widened periods, which can double the share: only well under the mark
RELAX_MARGIN = 2.5


class Telemetry:
    def __init__(self, run: PreparedRun, strategy: StepStrategy) -> None:
        tel = run.spec.training.telemetry
        self.run, self.strategy = run, strategy
        self.settings = probe_settings(tel)  # validated even when off: a bad spec says so
        self.enabled = tel.probes_enabled
        self.budget, self.auto = tel.budget, tel.auto_throttle
        self.table = param_table(run.model)
        self.ctx = ProbeContext(run, strategy, self.table, self.weights_now)
        self.probes = {e.name: e.factory(self.ctx, self.settings[e.name], None)
                       for e in PROBES if e.factory is not None and self.applies(e.name)}
        self.views = {e.name for e in PROBES if e.view}
        self.recorders = self.find_recorders()
        self.asked = {name: self.period(name) for name in self.settings}
        self.cadence = {name: Cadence(every if self.enabled or name in self.views else 0,
                                      self.settings[name].max_hz)
                        for name, every in self.asked.items()}
        for name, every in self.every.items():
            self.set_every(name, every)  # a probe that follows its period itself hears it
        self.before: list[Any] = []  # weights before a chunk's last step (see norms.snapshot)
        self.snapped: list[Any] | None = None  # ... copied in this chunk (None: not)
        self.plan: dict[str, Needs] = {}  # what each probe asked of the last chunk
        self.unstable = False
        self.window_s = FIRST_WINDOW_SECONDS
        self.new_window(0, time.perf_counter())

    # --- settings ----------------------------------------------------------------------------

    @property
    def every(self) -> dict[str, int]:
        """Each probe's period now (the throttle may have widened it; 0: off)."""
        return {name: c.every for name, c in self.cadence.items()}

    def shown(self) -> list[str]:
        """The views this run has, in registry order (a set's order would vary between
        processes, and with it the order of their events)."""
        return [name for name in self.probes if name in self.views]

    def find_recorders(self) -> dict[str, Any]:
        """The probes that record inside the steps (they have the recording hook), in
        registry order."""
        return {name: probe for name, probe in self.probes.items()
                if name not in self.views and callable(getattr(probe, "needs", None))}

    @property
    def norms(self) -> Any | None:
        """The probe that keeps the recent per-layer gradient norms for the diagnosis (found
        by its `trajectory`), if one applies."""
        return next((probe for probe in self.probes.values()
                     if callable(getattr(probe, "trajectory", None))), None)

    def applies(self, name: str) -> bool:
        """The probe fits the run's family and kind of data."""
        return PROBES.get(name).applies(self.run.family.name, self.run.data.kind) \
            and self.run.family.applies(name)

    def period(self, name: str) -> int:
        """The period a probe's settings ask for, 0 where it has nothing to show (it does not
        apply, or its probe is inactive, e.g. a model too big to draw: no chunk boundaries
        for nothing)."""
        probe = self.probes.get(name)
        if not self.applies(name) or not getattr(probe, "active", True):
            return 0
        every = self.settings[name].every
        if every is None:  # a probe that samples with each evaluation (e.g. `predictions`)
            every = self.run.spec.training.eval_every or self.run.steps_per_epoch
        return int(every)

    def reconfigure(self, changes: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Apply a mid-run change at a chunk boundary (raises a located SpecError for a bad
        one). A changed period is the throttle's new baseline. Returns every probe's
        settings as plain dicts (those that apply to this run)."""
        self.settings = changed_settings(self.settings, changes)
        self.window_s = FIRST_WINDOW_SECONDS  # new costs: measure them soon
        for name in changes:
            self.rebuild(name)
            self.asked[name] = self.period(name)
            on = self.enabled or name in self.views
            self.set_every(name, self.asked[name] if on else 0)
        return {name: p.model_dump() for name, p in self.settings.items() if self.applies(name)}

    def rebuild(self, name: str) -> None:
        """A probe with its new settings; what it learnt (norms buffered and their history,
        what a factory carries over from the probe it replaces) is kept."""
        p = self.settings[name]
        self.cadence[name].max_hz = p.max_hz
        entry = PROBES.get(name)
        if entry.factory is not None and self.applies(name):
            self.probes[name] = entry.factory(self.ctx, p, self.probes.get(name))
            self.recorders = self.find_recorders()

    # --- scheduling --------------------------------------------------------------------------

    def boundaries(self, now: float) -> list[int]:
        """Step periods at which the next chunk must end, so that due probes see their step.
        A probe held back by its Hz ceiling sets none (at thousands of steps a second, the
        chunks would otherwise end every few steps for probes that then do nothing), nor does
        a period of one step under a ceiling (every chunk ends on it; without a ceiling it
        means every single step). A probe on its own clock says its own."""
        periods = []
        for name, c in self.cadence.items():
            probe: Any = self.probes.get(name)
            if getattr(probe, "own_clock", False):
                periods += probe.boundaries(now)
            elif (c.every > 1 or (c.every == 1 and c.max_hz is None)) and c.allows(now):
                periods.append(c.every)
        return periods

    def due(self, name: str, step: int, now: float) -> bool:
        return self.cadence[name].due(step, now)

    # --- one chunk ---------------------------------------------------------------------------

    def train(self, batches: list[np.ndarray], lrs: list[float], step: int, single: bool
              ) -> StepOutcome:
        """Run a chunk through the strategy, recording what the probes ask of it (see
        recording.py). All time here but the steps' own counts as telemetry (the throttle
        sees it all), shared by the probes that asked."""
        t0 = time.perf_counter()
        if not self.enabled:
            outcome = self.strategy.train(batches, lrs)
            self.train_seconds += time.perf_counter() - t0
            return outcome
        self.plan = self.ask(step, len(batches), t0, single)
        need = merged(self.plan.values(), len(batches))
        self.step_seconds, self.snapped = 0.0, None
        if need.capture or need.before:
            outcome = self.train_split(batches, lrs, need)
        else:
            outcome = self.steps(batches, lrs, recording(need, slice(None)))
        for name, asked in self.plan.items():
            chunk = RecordedChunk(outcome_for(outcome, asked.norms, need.norms or []), step,
                                  self.snapped if asked.before else None)
            self.recorders[name].consume(chunk)
        stepping = self.step_seconds - outcome.record_seconds
        self.train_seconds += stepping
        recording_s = time.perf_counter() - t0 - stepping
        for name in self.plan:  # shared by the probes that asked
            self.cost(name, recording_s / len(self.plan))
        return outcome

    def ask(self, step: int, n: int, now: float, single: bool) -> dict[str, Needs]:
        """What each recording probe needs of the chunk of n steps after `step` (those that
        need nothing left out; one that is off, or throttled off, is not asked)."""
        plan = {}
        for name, probe in self.recorders.items():
            every = self.cadence[name].every
            if every == 0:
                continue
            chunk = NextChunk(step, n, now, single, every, self.due(name, step + n, now))
            need = probe.needs(chunk)
            if need is not None and need.any():
                plan[name] = need
        return plan

    def steps(self, batches: list[np.ndarray], lrs: list[float], record: Any) -> StepOutcome:
        t0 = time.perf_counter()
        outcome = self.strategy.train(batches, lrs, record)
        self.step_seconds += time.perf_counter() - t0
        return outcome

    def train_split(self, batches: list[np.ndarray], lrs: list[float], need: Needs
                    ) -> StepOutcome:
        """All but the last step, a copy of the weights where asked, then the last step
        (capturing its gradients where asked): what ‖Δw‖/‖w‖ and the gradient histograms
        need."""
        head = None
        if len(batches) > 1:
            head = self.steps(batches[:-1], lrs[:-1], recording(need, slice(-1)))
            if head.divergence is not None:
                return head
        if need.before:
            self.before = self.snapped = snapshot(self.weights_now(), self.before)
        tail = self.steps(batches[-1:], lrs[-1:], recording(need, slice(-1, None),
                                                            need.capture))
        return tail if head is None else merge(head, tail)

    def after_chunk(self, step: int, lr: float, emit: Callable[[EventFields], object],
                    single: bool = False) -> None:
        """Emit the events of probes due now: the views, then those that recorded in the
        chunk and asked to be sampled (in registry order: the norms' warnings first), the
        other probes, the share. Each probe's cost includes emitting its events. The last
        step's views wait for `closing_views`."""
        now = time.perf_counter()
        self.ctx.lr, self.ctx.step = lr, step
        last = step == self.run.total_steps
        for name in self.shown():
            c = self.cadence[name]
            if not last and c.every > 0 and (single or c.due(step, now)):
                self.sample(name, emit, now)
        if not self.enabled:
            return
        self.ctx.now = now = time.perf_counter()
        for name in [n for n, asked in self.plan.items() if asked.sample]:
            self.timed(name, partial(self.sample, name, None, now), emit)
        self.plan = {}
        for name in [n for n in self.probes if n not in self.views and n not in self.recorders]:
            # a single step (or a watchable pace) shows every probe that is on, as the views:
            # a paused page's links move with the step it took
            if (single and self.cadence[name].every > 0) or self.due(name, step, now):
                self.timed(name, partial(self.sample, name, None, now), emit)
        if self.unstable_lr(lr):
            emit(self.unstable_warning(lr))
        share = self.window(step)
        if share is not None:
            emit(share)

    def sample(self, name: str, emit: Callable[[EventFields], object] | None, now: float
               ) -> Any:
        """One probe's sample (its event's fields, a list of them, or None); emitted at once
        when `emit` is given (views), else returned. A probe on its own clock keeps its own
        time: its cadence is not marked."""
        probe = self.probes[name]
        if not getattr(probe, "own_clock", False):
            self.cadence[name].mark(now)
        fields = probe.sample(self.ctx)
        if emit is not None and fields is not None:
            emit(fields)
        return fields

    def redraw(self, step: int, lr: float, emit: Callable[[EventFields], object]) -> None:
        """After a weight was set by hand: the views and the probes that draw the weights
        sample now, whatever their cadence (those turned off stay off)."""
        self.ctx.lr, self.ctx.step = lr, step
        self.ctx.now = now = time.perf_counter()
        for entry in PROBES:
            name = entry.name
            if (entry.view or entry.redraws) and name in self.probes \
                    and self.cadence[name].every > 0:
                self.sample(name, emit, now)

    def at_end(self, step: int) -> list[EventFields]:
        """What the recording probes still hold (e.g. the norms buffer), for the end."""
        if not self.enabled:
            return []
        now = time.perf_counter()
        return [fields for probe in self.recorders.values()
                if callable(getattr(probe, "at_end", None)) for fields in probe.at_end(step, now)]

    def closing_views(self, lr: float) -> list[EventFields]:
        """Every view's last sample, for the end of the run."""
        self.ctx.lr = lr
        found = [self.sample(name, None, time.perf_counter())
                 for name in self.shown() if self.cadence[name].every > 0]
        return [f for f in found if f is not None]

    def diagnose(self, step: int, quantity: str, lr: float) -> Diagnosis:
        keeper = self.norms
        layers = self.table.layer_ids
        steps, norms = keeper.trajectory() if keeper is not None \
            else ([], np.zeros((len(layers), 0)))
        return diagnose(step, quantity, lr, layers, steps, norms,
                        self.ctx.readings.get("lambda_max"), self.run.choices.optimizer.name)

    # --- probes ------------------------------------------------------------------------------

    def timed(self, name: str, make: Callable[[], Any],
              emit: Callable[[EventFields], object]) -> None:
        """A probe's sample, emitted, its time counted as its cost. A probe on its own clock
        does not count it as one of its period's samples (see `throttle`)."""
        t0 = time.perf_counter()
        fields = make()
        for f in fields if isinstance(fields, list) else [fields]:
            if f is not None:
                emit(f)
        if not getattr(self.probes[name], "own_clock", False):
            self.cadence[name].mark(t0)
            self.samples[name] = self.samples.get(name, 0) + 1
        self.cost(name, time.perf_counter() - t0)

    def weights_now(self) -> list[Any]:
        """Every parameter in the table's order: the fused step's NumPy views, else views of
        the tensors (see norms.weight_views)."""
        arrays = self.strategy.weight_arrays()
        return arrays if arrays is not None else weight_views(self.table.tensors)

    def unstable_lr(self, lr: float) -> bool:
        """Plain SGD past 2/λ_max: warn once, again only after it came back under."""
        lam = self.ctx.readings.get("lambda_max")
        over = self.run.choices.optimizer.name == "sgd" and lam is not None and lam > 0 \
            and lr > 2 / lam
        fire = over and not self.unstable
        self.unstable = over
        return fire

    def unstable_warning(self, lr: float) -> EventFields:
        lam = self.ctx.readings.get("lambda_max") or 1.0
        return RunWarning, {
            "type": "warning", "kind": "unstable_lr", "layer": None, "value": lr,
            "threshold": 2 / lam, "message": (
                f"the learning rate {lr:g} is above 2/λ_max ≈ {2 / lam:.3g} (λ_max = "
                f"{lam:.3g}): plain gradient descent overshoots along the sharpest direction "
                "and diverges on a quadratic")}

    # --- the throttle --------------------------------------------------------------------------

    def cost(self, name: str, seconds: float) -> None:
        self.costs[name] = self.costs.get(name, 0.0) + seconds

    def new_window(self, step: int, now: float) -> None:
        self.win_step, self.win_t = step, now
        self.train_seconds = 0.0
        self.costs: dict[str, float] = {}
        self.samples: dict[str, int] = {}

    def window(self, step: int) -> EventFields | None:
        """At the end of a measuring window: throttle, and the share event."""
        now = time.perf_counter()
        if now - self.win_t < self.window_s or step - self.win_step < WINDOW_STEPS:
            return None
        spent = sum(self.costs.values())
        total = max(spent + self.train_seconds, 1e-9)
        share = spent / total
        if self.auto:
            self.throttle(share, step - self.win_step)
        event = TelemetryShare, {
            "type": "telemetry_share", "share": share, "budget": self.budget,
            "window": now - self.win_t, "periods": dict(self.every),
            "costs": {k: v / total for k, v in self.costs.items()},
            "throttled": [k for k, e in self.every.items() if e != self.asked[k]]}
        self.new_window(step, now)
        self.window_s = min(2 * self.window_s, WINDOW_SECONDS)
        return event

    def throttle(self, share: float, steps: int) -> None:
        """Past the budget's timed part: double the costliest probe's interval (as observed,
        so that a probe held back by its Hz ceiling really slows down). Well under: relax."""
        if share > self.budget * TIMED_PART and self.costs:
            name = max(self.costs, key=lambda k: self.costs[k])
            if getattr(self.probes.get(name), "own_clock", False):
                seen = self.cadence[name].every  # it samples every period step, no ceiling
            else:
                seen = max(self.cadence[name].every, steps // max(self.samples.get(name, 1), 1))
            self.set_every(name, min(2 * max(seen, 1), 1_000_000))
        elif share < self.budget * TIMED_PART / RELAX_MARGIN:
            for name, every in self.every.items():
                if every > self.asked[name]:
                    self.set_every(name, max(self.asked[name], every // 2))

    def set_every(self, name: str, every: int) -> None:
        """A probe's period; one that follows its period itself (`set_every`) hears it."""
        self.cadence[name].every = every
        hear = getattr(self.probes.get(name), "set_every", None)
        if callable(hear):
            hear(every)

