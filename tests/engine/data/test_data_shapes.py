"""Data sets know their shape without samples; a spec check never generates, a load does once.

Every entry's description must match what its generator gives (the spec check trusts it);
checking a spec reports the same located errors as before with the generator forbidden; two
prepares of one choice generate once, a new seed generates anew, and the cached arrays are
read-only while the run's own are not.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from engine import DATASETS, Choice, NetworkSpec, RunSpec, TrainingSpec, check_spec
from engine.core.prepare import prepare_run
from engine.data import DatasetEntry, describe_dataset, load_dataset, loading
from tests.engine.helpers import mlp

VARIANTS: list[tuple[str, dict[str, Any]]] = [
    *[(e.name, {}) for e in DATASETS],
    ("circle", {"features": ["x1", "x2", "x1_sq", "x2_sq", "sin_x1"]}),
    ("plane", {"features": ["x1_x2"]}),
    ("gaussian", {"n_classes": 5}),
    ("digits", {"shape": "image"}),
    ("digits", {"shape": "flat", "n_points": 100}),
    ("synthetic_images", {"n_points": 40}),
]


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    loading.clear_cache()
    yield
    loading.clear_cache()


def swap_entry(monkeypatch: pytest.MonkeyPatch, name: str, **changes: Any) -> DatasetEntry:
    """Register a changed copy of an entry for this test only."""
    swapped = replace(DATASETS.get(name), **changes)
    monkeypatch.setitem(DATASETS._entries, name, swapped)
    return swapped


def forbid_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: Any) -> None:
        raise AssertionError("a spec check generated data")

    monkeypatch.setattr(loading, "generate", refuse)
    for entry in list(DATASETS):
        swap_entry(monkeypatch, entry.name, make=refuse)


def counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[Any]:
    """The parameters of every generation of the named set, as they happen."""
    calls: list[Any] = []
    make = DATASETS.get(name).make

    def counted(params: Any) -> Any:
        calls.append(params)
        return make(params)

    swap_entry(monkeypatch, name, make=counted)
    return calls


@pytest.mark.parametrize(("name", "params"), VARIANTS)
def test_the_description_is_what_the_generator_gives(name: str, params: dict[str, Any]) -> None:
    choice = Choice(name=name, params=params)
    described = describe_dataset(choice)
    assert described == load_dataset(choice).describe()


def test_every_built_in_set_knows_its_shape_without_samples() -> None:
    assert all(entry.known_without_samples() for entry in DATASETS)
    assert describe_dataset(Choice(name="digits", params={"shape": "image"})).kind == "image"
    assert describe_dataset(Choice(name="xor")).kind == "plane"


def wrong_width_spec() -> RunSpec:
    network = NetworkSpec.stack(("x", "input", {}), ("h", "linear", {"in_features": 3,
                                                                     "out_features": 4}),
                                ("t", "tanh", {}), ("out", "linear", {"out_features": 3}))
    return RunSpec(network=network, data=Choice(name="xor", params={"noise": 7}),
                   training=TrainingSpec(loss=Choice(name="cross_entropy")))


def located(spec: RunSpec) -> list[tuple[str | None, str | None, str]]:
    return sorted((e.node, e.field, e.message) for e in check_spec(spec)[0])


def test_checking_a_spec_never_generates_data(monkeypatch: pytest.MonkeyPatch) -> None:
    bad_width = wrong_width_spec()
    bad_width.data = Choice(name="xor")
    bad_output = RunSpec(network=mlp([4], out=3), data=Choice(name="gaussian",
                                                              params={"n_classes": 4}),
                         training=TrainingSpec(loss=Choice(name="cross_entropy")))
    bad_image = RunSpec(network=mlp([4], out=10), data=Choice(name="digits",
                                                              params={"shape": "image"}))
    specs = [wrong_width_spec(), bad_width, bad_output, bad_image]
    before = [located(spec) for spec in specs]  # as found with the generator at hand
    forbid_generation(monkeypatch)
    assert [located(spec) for spec in specs] == before
    width = {(node, field): message for node, field, message in before[1]}
    assert width == {("h", "in_features"): "in_features is 3 but the incoming tensor is (N, 2)"}
    assert ("out", "out_features") in {(n, f) for n, f, _ in before[2]}
    assert before[3] and all(node is not None for node, _, _ in before[3])


def test_a_set_without_a_description_is_learnt_by_loading_it_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls = counting(monkeypatch, "two_moons")
    swap_entry(monkeypatch, "two_moons", sample_shape=None)
    choice = Choice(name="two_moons", params={"features": ["x1", "x2", "x1_x2"]})
    assert describe_dataset(choice).input_shape == (3,)
    assert describe_dataset(choice).input_shape == (3,)
    assert len(calls) == 1


def test_two_prepares_of_one_choice_generate_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = counting(monkeypatch, "spiral")
    spec = RunSpec(network=mlp([4], out=2), data=Choice(name="spiral", params={"seed": 3}))
    first, second = prepare_run(spec), prepare_run(spec)
    assert len(calls) == 1
    np.testing.assert_array_equal(first.data.x_train, second.data.x_train)
    same_defaults = RunSpec(network=mlp([4], out=2),
                            data=Choice(name="spiral", params={"seed": 3, "noise": 0.0}))
    prepare_run(same_defaults)  # the canonical choice fills the defaults in
    assert len(calls) == 1
    prepare_run(RunSpec(network=mlp([4], out=2), data=Choice(name="spiral",
                                                             params={"seed": 4})))
    assert [p.seed for p in calls] == [3, 4]


def test_cached_arrays_are_read_only_and_runs_get_their_own() -> None:
    data = load_dataset(Choice(name="circle"))
    for array in (data.x_train, data.y_train, data.x_test, data.y_test, data.points_train):
        assert array is not None and not array.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        data.x_train[0, 0] = 99.0
    run = prepare_run(RunSpec(network=mlp([4], out=2), data=Choice(name="circle")))
    assert run.data.x_train.flags.writeable
    run.data.x_train[0, 0] = 99.0
    assert load_dataset(Choice(name="circle")).x_train[0, 0] != 99.0


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = counting(monkeypatch, "xor")
    for seed in range(loading.CACHE_ENTRIES + 2):
        load_dataset(Choice(name="xor", params={"seed": seed}))
    assert len(loading._cache) == loading.CACHE_ENTRIES
    load_dataset(Choice(name="xor", params={"seed": 0}))  # the oldest went first
    assert len(calls) == loading.CACHE_ENTRIES + 3
    monkeypatch.setattr(loading, "CACHE_BYTES", 1)
    load_dataset(Choice(name="xor", params={"seed": 99}))
    assert len(loading._cache) == 1  # the newest stays, whatever its size
