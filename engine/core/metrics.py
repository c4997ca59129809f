"""Named metrics: what a model family reports, declared once so that the loop, the server and
the page never name a metric themselves.

A family lists its metrics as `MetricInfo`s: the key under which `steps_completed` (one value
per step) or `eval_completed` (one value per evaluation) carries it, a display title, the split
it is measured on, whether lower is better, and the chart it belongs on (metrics sharing a
`chart` share an axis). `run_started` carries the run's list; the catalog carries each family's.
May import: stdlib, pydantic.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Split = Literal["batch", "train", "test"]


class MetricInfo(BaseModel):
    """One named scalar a family reports."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="Key in steps_completed.metrics (split 'batch': one value per "
                      "step) or eval_completed.metrics (splits 'train' and 'test').")
    title: str = Field(description="Display name, e.g. 'Test accuracy'.")
    split: Split = Field(description="'batch': the step's own batch; 'train'/'test': a whole "
                         "split in evaluation mode.")
    lower_is_better: bool = True
    chart: str = Field(description="Chart id: metrics with the same chart share one plot.")
    chart_title: str = Field(description="The chart's title, e.g. 'Loss'.")
    range: tuple[float, float] | None = Field(
        default=None, description="Fixed y range of the chart (e.g. [0, 1] for accuracy).")

    @property
    def per_step(self) -> bool:
        return self.split == "batch"


def metric_group(chart: str, chart_title: str, base: str, title: str, *, batch: bool = True,
                 lower_is_better: bool = True,
                 range: tuple[float, float] | None = None) -> list[MetricInfo]:
    """The usual trio of one quantity: per step on the batch (as `base`), and on the whole
    train and test splits (as `train_<base>`, `test_<base>`)."""
    def info(name: str, title: str, split: Split) -> MetricInfo:
        return MetricInfo(name=name, title=title, split=split, lower_is_better=lower_is_better,
                          chart=chart, chart_title=chart_title, range=range)

    found = [info(base, f"{title} (batch)", "batch")] if batch else []
    found.append(info(f"train_{base}", f"Train {title.lower()}", "train"))
    found.append(info(f"test_{base}", f"Test {title.lower()}", "test"))
    return found
