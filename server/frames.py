"""The binary websocket frame: a length-prefixed JSON header plus 8-byte-aligned arrays.

Layout (all little-endian), documented in docs/protocol.md:
    uint32 header_length | header JSON (UTF-8) | zero padding to a multiple of 8 |
    buffer 0 | padding to 8 | buffer 1 | ...
The header is the event's JSON without its array fields, plus "buffers": a list of
{"name", "dtype", "shape", "offset", "nbytes"}, offsets counted from the first buffer.
Used by the worker (to encode) and by tests and clients (to decode).
May import: stdlib.
"""

from __future__ import annotations

import json
import struct
import sys
from array import array
from typing import Any

HEAVY_FIELDS: dict[str, tuple[str, ...]] = {"grid_computed": ("values", "confidence")}
_TYPECODES = {"float32": "f", "float64": "d", "int32": "i", "uint8": "B"}


def _pad(n: int) -> int:
    return (-n) % 8


def _shape(event: dict[str, Any], field: str, n: int) -> list[int]:
    r = event.get("resolution")
    return [r, r] if isinstance(r, int) and r * r == n else [n]


def encode(event: dict[str, Any]) -> bytes:
    """A heavy event as a binary frame: its array fields become float32 buffers."""
    header = {k: v for k, v in event.items() if k not in HEAVY_FIELDS.get(event["type"], ())}
    payloads: list[bytes] = []
    buffers: list[dict[str, Any]] = []
    offset = 0
    for field in HEAVY_FIELDS.get(event["type"], ()):
        values = event.get(field)
        if values is None:
            continue
        arr = array("f", values)
        if sys.byteorder != "little":
            arr.byteswap()
        data = arr.tobytes()
        buffers.append({"name": field, "dtype": "float32", "shape": _shape(event, field, len(arr)),
                        "offset": offset, "nbytes": len(data)})
        payloads.append(data + b"\0" * _pad(len(data)))
        offset += len(data) + _pad(len(data))
    header["buffers"] = buffers
    head = json.dumps(header, separators=(",", ":")).encode()
    prefix = struct.pack("<I", len(head)) + head
    return prefix + b"\0" * _pad(len(prefix)) + b"".join(payloads)


def decode(frame: bytes) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """(header, {name: values}) of a binary frame; raises ValueError if malformed."""
    if len(frame) < 4:
        raise ValueError("frame shorter than its 4-byte header length")
    (n,) = struct.unpack_from("<I", frame, 0)
    header = json.loads(frame[4:4 + n])
    start = 4 + n + _pad(4 + n)
    if start % 8:
        raise ValueError("payload is not 8-byte aligned")
    arrays: dict[str, list[Any]] = {}
    for buf in header["buffers"]:
        lo = start + buf["offset"]
        if lo % 8 or lo + buf["nbytes"] > len(frame):
            raise ValueError(f"buffer {buf['name']!r} is misplaced")
        arr = array(_TYPECODES[buf["dtype"]])
        arr.frombytes(frame[lo:lo + buf["nbytes"]])
        if sys.byteorder != "little":
            arr.byteswap()
        arrays[buf["name"]] = arr.tolist()
    return header, arrays


def to_event(frame: bytes) -> dict[str, Any]:
    """The event dict a binary frame carries (header fields plus arrays)."""
    header, arrays = decode(frame)
    header.pop("buffers")
    return {**header, **arrays}
