"""web/internals-buffers.js's Table: bounded memory however long the run, and a one-step spike
(an exploding gradient) survives every halving in the slots' maxima, as the dip does in their
minima; a NaN step never hides the finite extreme beside it. No server runs: Playwright serves
the module from the working tree.

May import: stdlib, pytest, playwright.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.conftest import module_page

ORIGIN = "http://buffers.test"

FILL = """async ([steps, spikeAt, dipAt, nanAt]) => {
  const { Table } = await import('/internals-buffers.js');
  const t = new Table(1);
  for (let s = 0; s < steps; s++) {
    const v = s === spikeAt ? 1e6 : s === dipAt ? 1e-6 : s === nanAt ? NaN : 1 + (s % 7) / 100;
    t.push(s, () => v);
  }
  const slots = Array.from({ length: t.n }, (_, i) => ({ x: t.x[i], lo: t.lo[0][i],
    hi: t.hi[0][i], y: t.ys[0][i] }));
  return { n: t.n, cap: t.cap, stride: t.stride, last: t.last, slots };
}"""


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    yield from module_page(browser, ORIGIN, "internals-buffers.js")


def slot_of(slots: list[dict[str, float]], step: int) -> dict[str, float]:
    """The slot that merged `step`: the first whose newest sample is at or after it."""
    return next(s for s in slots if s["x"] >= step)


def test_a_spike_and_a_dip_survive_decimation(page: Any) -> None:
    got = page.evaluate(FILL, [20_000, 12_345, 777, 5_000])
    assert got["n"] <= got["cap"] and got["stride"] >= 16  # decimated at least 16-fold
    assert got["last"] == 19_999  # each slot keeps its newest sample
    spike, dip = slot_of(got["slots"], 12_345), slot_of(got["slots"], 777)
    assert spike["hi"] == 1e6 and spike["lo"] >= 1  # the spike, in the one slot that holds it
    assert dip["lo"] == pytest.approx(1e-6) and dip["hi"] <= 1.07
    assert sum(s["hi"] == 1e6 for s in got["slots"]) == 1
    nan = slot_of(got["slots"], 5_000)
    assert 1 <= nan["lo"] <= nan["hi"] <= 1.07  # the NaN step hid nothing


def test_undecimated_slots_hold_each_sample(page: Any) -> None:
    got = page.evaluate(FILL, [100, 50, -1, -1])
    assert got["n"] == 100 and got["stride"] == 1
    assert all(s["lo"] == s["hi"] == s["y"] for s in got["slots"])
