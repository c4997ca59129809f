"""Writes the JSON Schemas of the protocol's messages to docs/schemas/ (events, the
websocket's own frames, the run spec). `python -m server.export_schemas` regenerates them;
a test fails when the files drift from the models.

May import: stdlib, pydantic, server.api.protocol, engine's public names.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from engine import BUILT_IN_TYPES, EVENT_ADAPTER, EVENT_MODELS, RunSpec
from server.api.protocol import Ack, ControlMessage, ErrorFrame, Hello, SubscribeMessage

OUT = Path(__file__).resolve().parent.parent / "docs" / "schemas"


def schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema."""
    return {
        "event.schema.json": EVENT_ADAPTER.json_schema(),
        "hello.schema.json": Hello.model_json_schema(),
        "ack.schema.json": Ack.model_json_schema(),
        "error.schema.json": ErrorFrame.model_json_schema(),
        "control.schema.json": ControlMessage.model_json_schema(),
        "subscribe.schema.json": SubscribeMessage.model_json_schema(),
        "run_spec.schema.json": RunSpec.model_json_schema(),
        "family_event.schema.json": family_events(),
    }


def family_events() -> dict[str, Any]:
    """The events the engine's own families register (an autoencoder's reconstructions...),
    as one schema; plugins' events are theirs to document."""
    models = [m for t, m in EVENT_MODELS.items()
              if t not in BUILT_IN_TYPES and m.__module__.startswith("engine.")]
    return TypeAdapter(list[Any]).json_schema() if not models else {
        "oneOf": [m.model_json_schema() for m in sorted(models, key=lambda m: m.__name__)]}


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main(out: Path = OUT) -> int:
    out.mkdir(parents=True, exist_ok=True)
    for name, schema in schemas().items():
        (out / name).write_text(render(schema), encoding="utf-8")
    print(f"wrote {len(schemas())} schemas to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
