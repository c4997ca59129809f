/**
 * The output plane's axes: x1 along the bottom, x2 up the left side, with ticks at round
 * numbers inside the plane's extent (TensorFlow Playground's output has the same). The plane
 * is always the raw (x1, x2) coordinates, whatever features the network takes.
 * `createAxes()` -> {x, y, update(extent)}: two elements the boundary lays out around its
 * canvas, rebuilt only when the extent changes.
 * May import: form.js (el), numbers.js (tick), colour-scales.js (niceTicks).
 */
import { niceTicks } from '../colour-scales.js';
import { el } from '../form.js';
import { tick } from '../numbers.js';

const TICKS = 5;

/** Tick labels along one axis; `along(v)` is v's place from 0 to 1 (left or top first). */
function ticksOf(lo, hi, side, along) {
  return niceTicks(lo, hi, TICKS).map((v) => el('span', { class: 'tick',
    style: `${side}: ${(100 * along(v)).toFixed(2)}%`, 'data-value': v }, tick(v)));
}

export function createAxes() {
  const x = el('div', { class: 'axis axis-x', 'data-testid': 'axis-x', 'aria-hidden': 'true' });
  const y = el('div', { class: 'axis axis-y', 'data-testid': 'axis-y', 'aria-hidden': 'true' });
  let key = null;

  function update(extent) {
    const k = extent ? extent.join() : '';
    if (k === key) return;
    key = k;
    if (!extent) { x.replaceChildren(); y.replaceChildren(); return; }
    const [x0, x1, y0, y1] = extent;
    x.replaceChildren(...ticksOf(x0, x1, 'left', (v) => (v - x0) / (x1 - x0)),
      el('span', { class: 'axis-title' }, 'x1'));
    y.replaceChildren(...ticksOf(y0, y1, 'top', (v) => 1 - (v - y0) / (y1 - y0)),
      el('span', { class: 'axis-title' }, 'x2'));
  }

  return { x, y, update };
}
