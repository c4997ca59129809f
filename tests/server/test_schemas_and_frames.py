"""The exported JSON Schemas match the models; the binary frame layout round-trips.

May import: stdlib, server, engine's public names.
"""

from __future__ import annotations

import struct

from engine import GridComputed, parse_event
from server.export_schemas import OUT, render, schemas
from server.frames import decode, encode, to_event


def test_exported_schemas_match_the_models() -> None:
    stale = [name for name, schema in schemas().items()
             if not (OUT / name).exists() or (OUT / name).read_text(encoding="utf-8")
             != render(schema)]
    assert not stale, f"docs/schemas drifted ({stale}): run `python -m server.export_schemas`"


def test_binary_frame_layout() -> None:
    grid = GridComputed(run="r", seq=3, step=10, epoch=1, t=0.5, resolution=3,
                        extent=(-1, 1, -1, 1), mode="classes",
                        values=[float(i) for i in range(9)], confidence=[0.5] * 9)
    frame = encode(grid.model_dump(mode="json"))
    (n,) = struct.unpack_from("<I", frame)
    start = 4 + n + (-(4 + n)) % 8
    assert start % 8 == 0 and frame[4 + n:start] == b"\0" * (start - 4 - n)
    header, arrays = decode(frame)
    assert [b["name"] for b in header["buffers"]] == ["values", "confidence"]
    assert all(b["offset"] % 8 == 0 and b["shape"] == [3, 3] for b in header["buffers"])
    assert parse_event(to_event(frame)) == grid
    assert arrays["values"][-1] == 8.0
