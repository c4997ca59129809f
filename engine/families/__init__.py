"""Model families: each declares its networks by role, metrics, probes, checks, step and
evaluation (see base.py). Importing this package registers the built-in families.
May import: engine modules below the trainer, its own modules.
"""

from engine.families import (  # noqa: F401  (they register themselves)
    autoencoder,
    autoencoder_views,
    supervised,
    supervised_views,
)
from engine.families.base import FAMILIES, Family, NoParams, finite_metrics

__all__ = ["FAMILIES", "Family", "NoParams", "finite_metrics"]
