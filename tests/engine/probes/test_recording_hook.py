"""The recording hook: a probe registered from outside asks what the next chunk must record
and receives exactly that, merged with what the built-in probes ask; the hub names no probe.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from pydantic import Field

import engine.probes.telemetry as hub
from engine import PROBES, Needs, NextChunk, ProbeEntry, ProbeParams, RecordedChunk, TelemetrySpec
from tests.engine.helpers import collect, mlp, opt, run_spec

TOY = "toy_recorder"
STEPS = 120


class ToyParams(ProbeParams):
    every: int = Field(7, ge=0)
    max_hz: float | None = Field(None)


class ToyRecorder:
    """Asks for the norms of every step whose count is a multiple of `every`, and on its due
    steps for the captured gradients and the weights before the last step."""

    active = True
    made: list[ToyRecorder] = []

    def __init__(self) -> None:
        self.norm_steps: list[int] = []
        self.norms: dict[int, np.ndarray] = {}
        self.due_ends: list[int] = []
        self.befores: list[int] = []
        self.grads: list[int] = []
        ToyRecorder.made.append(self)

    def needs(self, chunk: NextChunk) -> Needs:
        wanted = [(chunk.start + i + 1) % chunk.every == 0 for i in range(chunk.n)]
        if chunk.due:
            self.due_ends.append(chunk.end)
        return Needs(norms=wanted, capture=chunk.due, before=chunk.due, sample=chunk.due)

    def consume(self, chunk: RecordedChunk) -> None:
        out = chunk.outcome
        if out.sampled is not None and out.grad_norms is not None:
            for pos, row in zip(out.sampled, out.grad_norms, strict=True):
                step = chunk.start + int(pos) + 1
                self.norm_steps.append(step)
                self.norms[step] = row
        if chunk.before is not None:
            self.befores.append(chunk.start + len(out.losses))

    def sample(self, ctx: Any) -> None:
        grads = ctx.strategy.captured_grads()
        if grads:
            self.grads.append(ctx.step)
        return None


@pytest.fixture
def toy() -> Iterator[type[ToyRecorder]]:
    ToyRecorder.made = []
    PROBES.register(ProbeEntry(TOY, "A test's recording probe.", ToyParams, (),
                               factory=lambda ctx, p, old: ToyRecorder()))
    yield ToyRecorder
    PROBES.unregister(TOY)


@pytest.mark.parametrize("fast_path", [True, False])
def test_a_registered_probe_receives_the_steps_it_asked_for(toy: type[ToyRecorder],
                                                            fast_path: bool) -> None:
    tel = TelemetrySpec(grid_every=0, auto_throttle=False, probes={
        "norms": {"every": 2, "max_hz": None, "flush_every": 10, "max_points": 1000}})
    spec = run_spec(mlp([6, 4]), "spiral", loss=opt("mse"), steps=STEPS, telemetry=tel,
                    fast_path=fast_path, device="cpu")
    _, events = collect(spec)
    (probe,) = toy.made
    assert probe.norm_steps == list(range(7, STEPS + 1, 7))  # its own, not the norms' 2s
    # ... with the same values as the norms probe's for the steps both asked for
    sampled = {s: [row[i] for row in e.grad_norm] for e in events
               if e.type == "norms_sampled" for i, s in enumerate(e.steps)}
    both = [s for s in probe.norm_steps if s in sampled]
    assert both and all(np.allclose(probe.norms[s], sampled[s]) for s in both)
    assert probe.due_ends and probe.befores == probe.due_ends
    assert probe.grads == probe.due_ends  # sampled right after, with the captured gradients
    assert all(end % 7 == 0 for end in probe.due_ends)


def test_a_probe_off_is_asked_for_nothing_and_changes_nothing(toy: type[ToyRecorder]) -> None:
    def norms_events(toy_every: int) -> list[Any]:
        tel = TelemetrySpec(grid_every=0, auto_throttle=False, probes={
            TOY: {"every": toy_every}, "norms": {"every": 3, "max_hz": None}})
        spec = run_spec(mlp([5]), "xor", loss=opt("mse"), steps=60, telemetry=tel,
                        device="cpu")
        return [(e.steps, e.grad_norm) for e in collect(spec)[1] if e.type == "norms_sampled"]

    alone = norms_events(0)
    assert toy.made[-1].norm_steps == [] and toy.made[-1].due_ends == []
    assert norms_events(4) == alone  # another probe's asks do not leak into the norms'


def test_the_hub_names_no_probe() -> None:
    tree = ast.parse(inspect.getsource(hub))
    names = {e.name for e in PROBES}
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
               and isinstance(n.value, str)}
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                for a in n.names}
    assert not names & strings
    assert not {"NormsProbe", "HistogramsProbe", "Sampler"} & imported
