"""Data sets: a registry of generated 2-D sets and small real ones, loaded from a spec's choice.

Importing this package registers every set in `DATASETS`; `describe_dataset` validates a
`Choice`'s parameters against the set's model and says what its samples look like without
generating them, `load_dataset` generates it (once per choice: the loads are cached).
May import: stdlib, numpy, torch, pydantic, engine.core.registry, engine.core.specs and its
own modules.
"""

from __future__ import annotations

# Imported for their side effect: each module registers its sets in DATASETS.
from engine.data import digits, regression2d, shapes, synthetic, toy2d  # noqa: F401
from engine.data.base import DATASETS, Dataset, DatasetEntry, DataShape
from engine.data.features import FEATURES
from engine.data.loading import describe_dataset, load_dataset, writable_copy

__all__ = ["DATASETS", "FEATURES", "DataShape", "Dataset", "DatasetEntry", "describe_dataset",
           "load_dataset", "writable_copy"]
