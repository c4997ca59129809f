"""Data sets: a registry of generated 2-D sets and small real ones, loaded from a spec's choice.

Importing this package registers every set in `DATASETS`; `load_dataset` validates a
`Choice`'s parameters against the set's model and generates it.
May import: stdlib, numpy, pydantic, scikit-learn, engine.core.registry, engine.core.specs and its
own modules.
"""

from __future__ import annotations

# Imported for their side effect: each module registers its sets in DATASETS.
from engine.data import digits, regression2d, synthetic, toy2d  # noqa: F401
from engine.data.base import DATASETS, Dataset, DatasetEntry, load_dataset
from engine.data.features import FEATURES

__all__ = ["DATASETS", "FEATURES", "Dataset", "DatasetEntry", "load_dataset"]
