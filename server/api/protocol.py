"""The websocket's own frames (besides events): hello, ack and error out; control and
subscribe in. Also which events every client gets whatever it subscribed to.

May import: stdlib, pydantic, server.api.schemas, engine's public names.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from engine import EVENT_TYPES
from server.api.schemas import RunStatus

PROTOCOL_VERSION = 1
# What a page needs whatever it shows: the run's life cycle, its scalars, changes of its
# settings and warnings. A subscription adds to these; it never takes them away.
ALWAYS_SENT: frozenset[str] = frozenset({
    "run_started", "steps_completed", "eval_completed", "run_paused", "run_resumed",
    "lr_changed", "pace_changed", "probes_changed", "warning", "run_completed", "run_stopped",
    "run_failed"})


class SpecSummary(BaseModel):
    name: str | None
    data: str
    task: str
    optimizer: str
    nodes: int


class Hello(BaseModel):
    """First frame on every connection: the run's state and what the catch-up covers."""

    type: Literal["hello"] = "hello"
    protocol: int = PROTOCOL_VERSION
    run: str
    status: RunStatus
    spec: SpecSummary
    since: int = Field(description="The client's last seq; events after it follow.")
    first_seq: int = Field(description="Oldest light event seq held (-1: none); older are lost.")
    last_seq: int


class ControlMessage(BaseModel):
    """From the client: {"type": "control", "action": "pause"|..., "lr"?: x, "n"?: k,
    "probes"?: {name: {field: value}}, "pace"?: steps per second}; set_weight takes "node",
    "row", "col" and "value" (one weight of a linear node)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["control"]
    action: Literal["pause", "resume", "step", "stop", "set_lr", "set_probes", "set_pace",
                    "set_weight"]
    lr: float | None = Field(default=None, gt=0, le=100, description="For set_lr.")
    pace: float | None = Field(default=None, gt=0, le=100_000, description="For set_pace: "
                               "steps per second at most; null or absent: as fast as it goes.")
    n: int = Field(default=1, ge=1, le=100_000, description="For step.")
    probes: dict[str, dict[str, Any]] | None = Field(
        default=None, description="For set_probes: per probe, the fields to change (the "
        "others keep their current values), e.g. {\"histograms\": {\"every\": 10}}.")
    node: str | None = Field(default=None, min_length=1, max_length=200,
                             description="For set_weight: a linear node's id.")
    row: int | None = Field(default=None, ge=0, description="For set_weight: the output "
                            "unit (the weight matrix's row).")
    col: int | None = Field(default=None, ge=0, description="For set_weight: the input unit "
                            "(the weight matrix's column).")
    value: float | None = Field(default=None, ge=-1e6, le=1e6, allow_inf_nan=False,
                                description="For set_weight: the weight's new value.")


class SubscribeMessage(BaseModel):
    """From the client: which event types to receive from now on (plus ALWAYS_SENT)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["subscribe"]
    events: list[str] | None = Field(
        default=None, description="Event types to receive besides those every client gets "
        "(ALWAYS_SENT); null: all.")
    frames_hz: float | None = Field(
        default=None, gt=0, le=1000, description="Binary (array) frames at most this many "
        "times a second per kind, the newest each time (a page that draws at 10 Hz need not "
        "decode 30 grids a second); null: as they come; absent: unchanged.")


ClientMessage = Annotated[ControlMessage | SubscribeMessage, Field(discriminator="type")]
CLIENT_MESSAGE: TypeAdapter[ControlMessage | SubscribeMessage] = TypeAdapter(ClientMessage)


def subscription(events: list[str] | None) -> frozenset[str] | None:
    """The event types a client subscribed to `events` receives (None: all); raises
    ValueError naming the unknown types and the known ones."""
    if events is None:
        return None
    unknown = [name for name in events if name not in EVENT_TYPES]
    if unknown:
        raise ValueError(f"unknown event types {', '.join(map(repr, unknown))}; known: "
                         f"{', '.join(EVENT_TYPES)}")
    return frozenset(events) | ALWAYS_SENT


class Ack(BaseModel):
    type: Literal["ack"] = "ack"
    action: str
    status: RunStatus


class ErrorFrame(BaseModel):
    """A refused or malformed client message; the connection stays open."""

    type: Literal["error"] = "error"
    message: str
