"""The websocket's own frames (besides events): hello, ack and error out; control in.

May import: stdlib, pydantic, server.schemas.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from server.schemas import RunStatus

PROTOCOL_VERSION = 1


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
    """From the client: {"type": "control", "action": "pause"|..., "lr"?: x, "n"?: k}."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["control"]
    action: Literal["pause", "resume", "step", "stop", "set_lr"]
    lr: float | None = Field(default=None, gt=0, le=100)
    n: int = Field(default=1, ge=1, le=100_000)


class Ack(BaseModel):
    type: Literal["ack"] = "ack"
    action: str
    status: RunStatus


class ErrorFrame(BaseModel):
    """A refused or malformed client message; the connection stays open."""

    type: Literal["error"] = "error"
    message: str
