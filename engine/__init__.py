"""livegrad's engine: network specs to PyTorch models to training with a typed event stream.

This module is the engine's public API: the server and scripts import these names only.
Usage::

    from engine import RunSpec, Trainer
    trainer = Trainer(RunSpec.model_validate_json(text))
    trainer.subscribe(print, types={"eval_completed"})
    trainer.run()

May import: the engine's own modules.
"""

from engine.core.arrays import DTYPES as ARRAY_DTYPES
from engine.core.arrays import Array, ArrayField, array_fields, arrays_of, without_arrays
from engine.core.cadence import Cadence
from engine.core.control import Control
from engine.core.errors import DeviceError, LocatedError, SpecError
from engine.core.events import (
    BUILT_IN_TYPES,
    EVENT_ADAPTER,
    EVENT_MODELS,
    EVENT_TYPES,
    TERMINAL_TYPES,
    ActivationsSampled,
    AnyEvent,
    CurvatureEstimated,
    Diagnosis,
    EvalCompleted,
    Event,
    GridComputed,
    Histogram,
    HistogramsSampled,
    LayerActivations,
    LayerWeights,
    LrChanged,
    NeuronMapsComputed,
    NormsSampled,
    PaceChanged,
    ProbesChanged,
    RunCompleted,
    RunFailed,
    RunPaused,
    RunResumed,
    RunStarted,
    RunStopped,
    RunWarning,
    StepsCompleted,
    TelemetryShare,
    WeightSet,
    WeightsSampled,
    parse_event,
    register_event,
)
from engine.core.metrics import MetricInfo
from engine.core.prepare import check_spec, resolve_device
from engine.core.registry import Params, Registry
from engine.core.specs import (
    SCHEMA_VERSION,
    Choice,
    EdgeSpec,
    NetworkSpec,
    NodeSpec,
    RunSpec,
    TelemetrySpec,
    TrainingSpec,
)
from engine.core.trainer import Trainer, train
from engine.core.weight_edit import MAX_WEIGHT, WeightEdit, check_weight_edit
from engine.data import DATASETS, FEATURES, Dataset, load_dataset
from engine.families import FAMILIES, Family
from engine.families.tasks import TASKS
from engine.nn.graph import GraphModel, GraphReport, NodeReport, build_model, inspect_graph
from engine.nn.initializers import INITIALIZERS
from engine.nn.layers import LAYERS, LayerEntry, ShapeError
from engine.nn.losses import LOSSES
from engine.nn.optimizers import OPTIMIZERS
from engine.nn.regularizers import CLIPPERS, REGULARIZERS
from engine.nn.schedules import SCHEDULES
from engine.probes import PROBES, ProbeEntry, ProbeParams, check_probe_changes

__all__ = [
    "CLIPPERS", "DATASETS", "EVENT_ADAPTER", "EVENT_TYPES", "FEATURES", "INITIALIZERS", "LAYERS",
    "LOSSES", "OPTIMIZERS", "REGULARIZERS", "SCHEDULES", "SCHEMA_VERSION", "TASKS",
    "TERMINAL_TYPES", "AnyEvent", "Choice", "Control", "Dataset", "DeviceError", "EdgeSpec",
    "EvalCompleted", "Event", "GraphModel", "GraphReport", "GridComputed", "LayerEntry",
    "LocatedError", "LrChanged", "NetworkSpec", "NodeReport", "NodeSpec", "PaceChanged", "Params",
    "Registry",
    "RunCompleted", "RunFailed", "RunPaused", "RunResumed", "RunSpec", "RunStarted",
    "RunStopped", "ShapeError", "SpecError", "StepsCompleted", "TelemetrySpec", "Trainer",
    "TrainingSpec", "build_model", "check_spec", "inspect_graph", "load_dataset", "parse_event",
    "resolve_device", "train",
    # live internals: the probe registry and the events the probes emit
    "PROBES", "ActivationsSampled", "CurvatureEstimated", "Diagnosis", "Histogram",
    "HistogramsSampled", "LayerActivations", "LayerWeights", "NeuronMapsComputed", "NormsSampled",
    "ProbeEntry", "ProbeParams", "RunWarning", "TelemetryShare", "WeightsSampled",
    # ... and changing their settings mid-run (Control.set_probes)
    "ProbesChanged", "check_probe_changes",
    # array fields of events (dtype, shape), for transports that move them as raw buffers
    "ARRAY_DTYPES", "Array", "ArrayField", "array_fields", "arrays_of", "without_arrays",
    # model families: what is learnt, by which step, with which named metrics
    "BUILT_IN_TYPES", "EVENT_MODELS", "FAMILIES", "Cadence", "Family", "MetricInfo",
    "register_event",
]

from engine.cli import example_spec, train_command  # noqa: E402
from engine.core.checkpoint import load_weights, save_checkpoint  # noqa: E402
from engine.core.plugins import PluginError, load_plugins  # noqa: E402
from engine.core.run import PreparedRun  # noqa: E402
from engine.core.runtime import set_threads  # noqa: E402
from engine.core.steps import Recording, StepOutcome, StepStrategy  # noqa: E402
from engine.presets import presets  # noqa: E402
from engine.probes.entries import ProbeContext  # noqa: E402
from engine.warmup import warm_up  # noqa: E402

# for plugins: what a family's step and a probe's factory are made of
__all__ += ["PluginError", "PreparedRun", "ProbeContext", "Recording", "StepOutcome",
            "StepStrategy", "load_plugins"]

__all__ += ["example_spec", "load_weights", "presets", "save_checkpoint", "set_threads",
            "train_command", "warm_up"]

from engine.data import DataShape, describe_dataset  # noqa: E402
from engine.probes.recording import Needs, NextChunk, RecordedChunk  # noqa: E402

# what a data choice's samples look like, known without generating them (spec checks)
__all__ += ["DataShape", "describe_dataset"]
# the recording hook: what a probe asks the next chunk to record inside its steps, and gets
__all__ += ["Needs", "NextChunk", "RecordedChunk"]

from engine.nn.graph import check_network  # noqa: E402

# a graph checked without its data (a saved network): structure, kinds and parameters
__all__ += ["check_network"]

# one weight set by hand (Control.set_weight), checked against a spec before it is sent
__all__ += ["MAX_WEIGHT", "WeightEdit", "WeightSet", "check_weight_edit"]
