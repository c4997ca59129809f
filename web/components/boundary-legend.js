/**
 * The output's colour legend, under the plane (TensorFlow Playground shows its scale there
 * too): for a binary grid, the score's bar from -1 (class 0) to 1 (class 1); for a
 * regression, the one scale the surface and the points share, with its values and the range
 * the surface has now (clamped to the bar's ends beyond it); for several classes, a swatch
 * per class. Discretized, the bar shows the hard regions or bands that the plane shows.
 * `createLegend()` -> {el, update(scale, discrete, surface)}; rebuilt only on a change.
 * May import: form.js (el), numbers.js, colour-scales.js.
 */
import { classColour, css, gradient, niceTicks } from '../colour-scales.js';
import { el } from '../form.js';
import { readable, tick } from '../numbers.js';

const TITLES = {
  score: 'Output score: \u22121 is class 0, 1 is class 1',
  value: 'Value: the surface and the points\u2019 targets, one scale',
};

function bar(scale, discrete) {
  const span = scale.hi - scale.lo;
  const ticks = niceTicks(scale.lo, scale.hi, 5).map((v) => el('span', { class: 'tick',
    style: `left: ${(100 * (v - scale.lo) / span).toFixed(2)}%`, 'data-value': v }, tick(v)));
  return [el('div', { class: 'legend-bar', 'data-testid': 'legend-bar',
    style: `background: ${gradient(scale, discrete)}` }),
  el('div', { class: 'legend-ticks', 'data-testid': 'legend-ticks' }, ...ticks)];
}

function swatches(n) {
  return el('div', { class: 'legend-classes' }, ...Array.from({ length: n }, (_, k) =>
    el('span', { class: 'swatch', 'data-class': k },
      el('i', { style: `background: ${css(classColour(k))}` }), `class ${k}`)));
}

/** What the surface spans now, when it leaves the scale (early in training, or diverging). */
function surfaceNote(scale, surface) {
  if (scale.kind !== 'value' || !surface) return '';
  const [lo, hi] = surface;
  const out = lo < scale.lo - 1e-6 || hi > scale.hi + 1e-6;
  return `surface ${readable(lo)} \u2026 ${readable(hi)}${out ? ', clamped at the bar\u2019s ends' : ''}`;
}

export function createLegend() {
  const root = el('div', { class: 'legend', 'data-testid': 'boundary-legend' });
  const note = el('p', { class: 'legend-note small muted', 'data-testid': 'legend-note' });
  let key = null;

  function update(scale, discrete, surface = null) {
    const k = scale ? JSON.stringify([scale, discrete]) : '';
    if (k !== key) {
      key = k;
      root.dataset.kind = scale?.kind || '';
      if (!scale) root.replaceChildren();
      else if (scale.kind === 'classes') root.replaceChildren(swatches(scale.n));
      else {
        root.replaceChildren(el('p', { class: 'legend-title small muted' }, TITLES[scale.kind]),
          ...bar(scale, discrete), note);
      }
    }
    const text = scale ? surfaceNote(scale, surface) : '';
    if (note.textContent !== text) note.textContent = text;
  }

  return { el: root, update };
}
