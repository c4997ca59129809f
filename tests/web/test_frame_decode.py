"""web/frames.js decodes the server's binary frames into typed-array views of the received buffer
(no copies), of every dtype, and puts each back at its path in the event; float16 falls back
to a Float32Array where the browser has no Float16Array. The frames come from server.api.frames,
so that the two ends are checked against each other. No server runs: Playwright serves
frames.js from the working tree.

May import: stdlib, numpy, pytest, playwright, server.api.frames, engine's public names.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Annotated, Any, Literal

import numpy as np
import pytest

from engine import Array, Event, LayerWeights, WeightsSampled
from server.api.frames import encode
from tests.web.conftest import module_page

ORIGIN = "http://frames.test"

DECODE = """async ([b64, hideHalf]) => {
  const { decodeFrame } = await import('/frames.js');
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const buf = bytes.buffer;  // as a WebSocket with binaryType 'arraybuffer' hands it over
  const saved = globalThis.Float16Array;
  if (hideHalf) globalThis.Float16Array = undefined;
  let event;
  try { event = decodeFrame(buf); } finally { globalThis.Float16Array = saved; }
  const arrays = {};
  const walk = (node, path) => {
    if (ArrayBuffer.isView(node)) {
      arrays[path] = { type: node.constructor.name, shape: node.shape,
        view: node.buffer === buf, offset: node.byteOffset, values: Array.from(node) };
    } else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) walk(v, path ? `${path}.${k}` : k);
    }
  };
  walk(event, '');
  return { event: JSON.parse(JSON.stringify(event, (k, v) => ArrayBuffer.isView(v) ? 'array' : v)),
    arrays };
}"""


class Sampled(Event):
    """A test-only event with one array of each dtype the frames carry."""

    type: Literal["sampled"] = "sampled"
    images: Annotated[np.ndarray, Array("uint8", ("N", "H", "W"))]
    scores: Annotated[np.ndarray, Array("float16", ("N",))]
    labels: Annotated[np.ndarray, Array("int32", ("N",))]
    grid: Annotated[np.ndarray, Array("float32", ("R", "R"))]


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    yield from module_page(browser, ORIGIN, "frames.js")


def decoded(page: Any, frame: bytes, hide_half: bool = False) -> dict[str, Any]:
    return page.evaluate(DECODE, [base64.b64encode(frame).decode(), hide_half])  # type: ignore


def sampled() -> Sampled:
    return Sampled(run="r", seq=7, step=70, epoch=1, t=1.5,
                   images=np.arange(2 * 3 * 5, dtype=np.uint8).reshape(2, 3, 5) * 8,
                   scores=np.array([0.5, -65504]), labels=np.array([3, -2**31]),
                   grid=np.array([[0.25, -1], [2, 1e-3]]))


@pytest.mark.parametrize("hide_half", [False, True])
def test_every_dtype_decodes_to_a_view_at_its_path(page: Any, hide_half: bool) -> None:
    event = sampled()
    got = decoded(page, encode(event), hide_half)
    assert got["event"] == {"type": "sampled", "run": "r", "seq": 7, "step": 70, "epoch": 1,
                            "t": 1.5, "images": "array", "scores": "array", "labels": "array",
                            "grid": "array"}
    arrays = got["arrays"]
    want = {"images": "Uint8Array", "labels": "Int32Array", "grid": "Float32Array",
            "scores": "Float32Array" if hide_half else "Float16Array"}
    assert {k: v["type"] for k, v in arrays.items()} == want
    for name, a in arrays.items():
        assert a["shape"] == list(getattr(event, name).shape)
        assert a["offset"] % 8 == 0
        # no copy: every view shares the received buffer (but a converted float16)
        assert a["view"] is not (hide_half and name == "scores"), name
        np.testing.assert_array_equal(np.array(a["values"]),
                                      getattr(event, name).reshape(-1).astype(np.float64))


def test_arrays_in_a_list_of_models_go_back_in_place(page: Any) -> None:
    weights = WeightsSampled(run="r", seq=8, step=80, epoch=1, t=2.0, layers=[
        LayerWeights(node="dense1", shape=(2, 3), values=np.arange(6.0).reshape(2, 3),
                     bias=np.array([1.0, -1])),
        LayerWeights(node="out", shape=(1, 2), values=np.array([[0.5, -0.5]]))])
    got = decoded(page, encode(weights))
    assert got["event"]["layers"] == [
        {"node": "dense1", "shape": [2, 3], "values": "array", "bias": "array"},
        {"node": "out", "shape": [1, 2], "bias": None, "values": "array"}]
    arrays = got["arrays"]
    assert arrays["layers.0.values"]["shape"] == [2, 3]
    assert arrays["layers.0.values"]["values"] == [0, 1, 2, 3, 4, 5]  # row-major (out, in)
    assert arrays["layers.0.bias"]["values"] == [1, -1]
    assert arrays["layers.1.values"]["values"] == [0.5, -0.5]
    assert all(a["view"] for a in arrays.values())
