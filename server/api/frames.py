"""The binary websocket frame: safetensors' layout, every buffer 8-byte aligned.

Layout (little-endian), documented in docs/protocol.md:
    u64 N | N bytes of JSON header, padded with spaces to a multiple of 8 |
    buffer 0 | zero bytes to a multiple of 8 | buffer 1 | ...
The header maps each buffer's name to {"dtype": "F32"|"F16"|"U8"|"I32", "shape": [...],
"data_offsets": [begin, end]} (counted from the end of the header, begin a multiple of 8),
and "__metadata__" to {"event": the event's JSON without those arrays}. A buffer's name is
the dotted path of its array in the event (`values`, `layers.0.bias`). Which fields are
arrays, with which dtype, the event's model says (engine.core.arrays): no event type is named
here, so that a new event with array fields travels as a frame with no edit.

The zero bytes between buffers are what a strict safetensors reader refuses as holes
(safetensors packs tensors back to back, aligned to their element size only); a frame whose
buffers all end on a multiple of 8 is also a safetensors file.
Used by the worker (to encode) and by tests and clients (to decode).
May import: stdlib, numpy, pydantic, engine's public names.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np
from pydantic import BaseModel

from engine import ARRAY_DTYPES, arrays_of, parse_event, without_arrays

ALIGN = 8
_CODES = {code: np.dtype(name).newbyteorder("<") for name, code in ARRAY_DTYPES.items()}


def _pad(n: int) -> int:
    return (-n) % ALIGN


def to_frame(event: BaseModel) -> str | bytes:
    """What goes on the wire for `event`: a binary frame when it holds arrays, else its JSON."""
    return encode(event) if arrays_of(event) else event.model_dump_json()


def encode(event: BaseModel | dict[str, Any], model: type[BaseModel] | None = None) -> bytes:
    """An event (a model instance, or a dict validated by `model`, else as an engine event)
    as a binary frame: each array it holds becomes one buffer."""
    if not isinstance(event, BaseModel):
        event = model.model_validate(event) if model is not None else parse_event(event)
    arrays = arrays_of(event)
    header: dict[str, Any] = {"__metadata__": {"event": json.dumps(
        without_arrays(event, list(arrays)), separators=(",", ":"))}}
    chunks: list[bytes] = []
    offset = 0
    for name, arr in arrays.items():
        data = arr.tobytes()  # C order, little-endian: the model's validation made it so
        chunks += [b"\0" * _pad(offset), data]
        offset += _pad(offset)
        header[name] = {"dtype": ARRAY_DTYPES[arr.dtype.name], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * _pad(len(head))
    return struct.pack("<Q", len(head)) + head + b"".join(chunks)


def decode(frame: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(the event's JSON without its arrays, {name: read-only array viewing `frame`});
    raises ValueError for a malformed frame, saying where."""
    if len(frame) < 8:
        raise ValueError("frame shorter than its 8-byte header length")
    (n,) = struct.unpack_from("<Q", frame, 0)
    if n % ALIGN or 8 + n > len(frame):
        raise ValueError(f"header length {n} is not a multiple of {ALIGN} within the frame")
    header = json.loads(frame[8:8 + n])
    event = json.loads(header.pop("__metadata__")["event"])
    data = memoryview(frame)[8 + n:]
    arrays = {name: _view(data, name, entry) for name, entry in header.items()}
    spans = sorted(entry["data_offsets"] for entry in header.values())
    if any(a[1] > b[0] for a, b in zip(spans, spans[1:], strict=False)):
        raise ValueError(f"buffers overlap: {spans}")
    return event, arrays


def _view(data: memoryview, name: str, entry: dict[str, Any]) -> np.ndarray:
    dtype = _CODES.get(entry["dtype"])
    if dtype is None:
        raise ValueError(f"buffer {name!r}: dtype {entry['dtype']!r} is not one of "
                         f"{sorted(_CODES)}")
    begin, end = entry["data_offsets"]
    count = int(np.prod(entry["shape"], dtype=np.int64))
    if begin % ALIGN or not 0 <= begin <= end <= len(data) \
            or end - begin != count * dtype.itemsize:
        raise ValueError(f"buffer {name!r} is misplaced: bytes [{begin}, {end}) of "
                         f"{len(data)} for {entry['shape']} {entry['dtype']}")
    return np.frombuffer(data, dtype, count, begin).reshape(entry["shape"])


def to_event(frame: bytes) -> dict[str, Any]:
    """The event a frame carries, as a dict with its arrays in place (validate it with its
    model, e.g. engine.parse_event)."""
    event, arrays = decode(frame)
    for name, arr in arrays.items():
        _place(event, name.split("."), arr)
    return event


def _place(node: Any, parts: list[str], value: np.ndarray) -> None:
    """Put `value` back at its path: in path order, an insert into a list (the header lost
    that item) and a key in an object."""
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node.insert(int(parts[-1]), value)
    else:
        node[parts[-1]] = value
