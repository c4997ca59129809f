"""A spec's data choice, described (no samples) or loaded (generated once, then cached).

A spec check needs only what the samples look like, which every built-in entry knows from its
parameters: `describe_dataset` never generates. `load_dataset` generates a choice once and keeps
the result in a small LRU cache keyed by the choice's canonical JSON (the entry's name and its
validated parameters, defaults filled in, so `{}` and `{"seed": 0}` share one entry); the cached
arrays are read-only, so that no caller can change what the next one gets.
May import: stdlib, numpy, engine.core.registry, engine.core.specs, engine.core.errors,
engine.data.base.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import fields, replace
from typing import Any

import numpy as np

from engine.core.registry import parse_params
from engine.core.specs import Choice
from engine.data.base import DATASETS, Dataset, DatasetEntry, DataShape

CACHE_ENTRIES = 8
# A bound on the arrays kept, so that a few big sets (70,000 synthetic images are 220 MB)
# cannot hold the server's memory; the newest set is kept whatever its size.
CACHE_BYTES = 512 * 2**20

_cache: OrderedDict[str, Dataset] = OrderedDict()
_lock = threading.Lock()  # the server loads in its threadpool


def parse_choice(choice: Choice) -> tuple[DatasetEntry, Any]:
    """The choice's entry and validated parameters; a SpecError names the wrong field."""
    entry = DATASETS.get(choice.name, node=None, field="data.name")
    return entry, parse_params(entry, choice.params, node=None, where="data.params")


def describe_dataset(choice: Choice) -> DataShape:
    """What the chosen set's samples look like, without generating them (for an entry that
    cannot say, by loading it through the cache)."""
    entry, params = parse_choice(choice)
    if entry.known_without_samples():
        return entry.describe(params)
    return cached(entry, params).describe()


def load_dataset(choice: Choice) -> Dataset:
    """Validate a spec's data choice against its entry and generate the set (once per choice
    while it stays in the cache). Its arrays are read-only: copy them to change them."""
    entry, params = parse_choice(choice)
    return cached(entry, params)


def choice_key(entry: DatasetEntry, params: Any) -> str:
    """The canonical JSON of a choice: everything that determines its samples."""
    return json.dumps({"name": entry.name, "params": params.model_dump(mode="json")},
                      sort_keys=True, separators=(",", ":"))


def cached(entry: DatasetEntry, params: Any) -> Dataset:
    key = choice_key(entry, params)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    # Generated outside the lock: two threads asking for one new set at once may both
    # generate it (same seed, same arrays), which is cheaper than making every load wait.
    data = generate(entry, params)
    with _lock:
        _cache[key] = data
        _cache.move_to_end(key)
        evict()
    return data


def generate(entry: DatasetEntry, params: Any) -> Dataset:
    data = entry.make(params)
    if entry.known_without_samples() and entry.describe(params) != data.describe():
        # the spec check trusted the description: a set that contradicts it is a bug
        raise RuntimeError(f"data set {entry.name!r} describes {entry.describe(params)} but "
                           f"generates {data.describe()}")
    for array in arrays_of(data):
        array.flags.writeable = False
    return data


def arrays_of(data: Dataset) -> list[np.ndarray]:
    return [v for f in fields(data) if isinstance(v := getattr(data, f.name), np.ndarray)]


def evict() -> None:
    """Drop the least recently used sets beyond the bounds (the caller holds the lock)."""
    def size() -> int:
        return sum(a.nbytes for d in _cache.values() for a in arrays_of(d))

    while len(_cache) > 1 and (len(_cache) > CACHE_ENTRIES or size() > CACHE_BYTES):
        _cache.popitem(last=False)


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def writable_copy(data: Dataset) -> Dataset:
    """The set with arrays of its own, for a run whose steps may share memory with them."""
    copies: dict[str, Any] = {f.name: np.array(v) for f in fields(data)
                              if isinstance(v := getattr(data, f.name), np.ndarray)}
    return replace(data, **copies)
