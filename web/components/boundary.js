/**
 * The output over the input plane: the latest grid_computed frame as a heatmap (decision
 * boundary for classes, surface for regression), with the train and test points when the
 * server can give them, axes at the extent, and the latest losses above it.
 * The heatmap and the readout redraw at most every GRID_MS; the points are drawn once into an
 * offscreen canvas per data set and extent, then copied.
 * Listens to: live.onFrame (grid, readout), store 'points'.
 * May import: form.js (el), numbers.js, data-panel.js (drawPoints).
 */
import { el } from '../form.js';
import { readable } from '../numbers.js';
import { drawPoints } from './data-panel.js';

const NEG = [245, 147, 34];
const MID = [232, 234, 235];
const POS = [8, 119, 189];
const CLASS = [[245, 147, 34], [8, 119, 189], [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [127, 127, 127]];

/** Writes the colour of `mix(a, b, t)` at `data[o..o+3]` (no arrays made per pixel). */
function put(data, o, a, b, t) {
  data[o] = a[0] + (b[0] - a[0]) * t;
  data[o + 1] = a[1] + (b[1] - a[1]) * t;
  data[o + 2] = a[2] + (b[2] - a[2]) * t;
  data[o + 3] = 255;
}

/** Colours a grid_computed frame into `data` (RGBA, r x r): its `values` and `confidence`
 * are (R, R) Float32Array views, row-major from the top-left, as the image's pixels. */
function colourGrid(grid, data) {
  const { values, confidence, mode } = grid;
  const n = values.length;
  let lo = Infinity;
  let hi = -Infinity;
  if (mode === 'value') for (let i = 0; i < n; i++) { lo = Math.min(lo, values[i]); hi = Math.max(hi, values[i]); }
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (mode === 'classes') {
      const conf = confidence ? confidence[i] : 1;
      put(data, i * 4, MID, CLASS[v % CLASS.length], Math.max(0, Math.min(1, conf)));
      continue;
    }
    const t = mode === 'binary' ? v : (2 * (v - lo)) / (hi - lo || 1) - 1;
    if (t < 0) put(data, i * 4, MID, NEG, Math.min(1, -t));
    else put(data, i * 4, MID, POS, Math.min(1, t));
  }
}

/** Grid frames arrive at up to ~20 Hz; repainting faster than this shows nothing more. */
const GRID_MS = 125;

export function createBoundary({ store, live }) {
  const SIZE = 300;
  const canvas = el('canvas', { width: SIZE, height: SIZE, class: 'boundary', role: 'img',
    'data-testid': 'boundary', 'aria-label': 'Decision boundary: no run yet' });
  const showTest = el('input', { type: 'checkbox', id: 'show-test', checked: true });
  const readout = el('div', { class: 'readout', 'data-testid': 'readout' });
  const axes = el('div', { class: 'extent' });
  const note = el('p', { class: 'muted small' });
  const root = el('div', { class: 'boundary-box' }, readout,
    el('div', { class: 'plane' }, canvas, axes), note,
    el('label', { class: 'check' }, showTest, ' show test points'));
  const off = document.createElement('canvas'); // the grid at its own resolution
  const dots = document.createElement('canvas'); // the points, drawn once per data/extent
  dots.width = SIZE;
  dots.height = SIZE;
  let image = null;
  let dotsKey = null;
  let dotsCount = 0;
  let points = null;
  let drawnGrid = -1;
  let drawnVersion = -1;
  let paintedAt = -Infinity;
  let readAt = -Infinity;

  function paintDots(extent) {
    const key = points && extent ? [points.points, ...extent, showTest.checked] : null;
    if (dotsKey && key && key.every((v, i) => v === dotsKey[i])) return;
    dotsKey = key;
    const ctx = dots.getContext('2d');
    ctx.clearRect(0, 0, SIZE, SIZE);
    dotsCount = key ? drawPoints(ctx, points.points, extent, SIZE, { test: showTest.checked }) : 0;
  }

  function paint() {
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#f4f6f8';
    ctx.fillRect(0, 0, SIZE, SIZE);
    const g = live.grid;
    if (g) {
      const r = g.resolution;
      const octx = off.getContext('2d');
      if (off.width !== r || off.height !== r || !image) {
        off.width = r;
        off.height = r;
        image = octx.createImageData(r, r);
      }
      colourGrid(g, image.data);
      octx.putImageData(image, 0, 0);
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(off, 0, 0, SIZE, SIZE);
      const [x0, x1, y0, y1] = g.extent;
      axes.textContent = `x1 \u2208 [${x0}, ${x1}] \u00b7 x2 \u2208 [${y0}, ${y1}] \u00b7 step ${g.step}`;
      canvas.setAttribute('aria-label', `Model output over the input plane at step ${g.step} (${g.mode})`);
      canvas.dataset.step = g.step;
    } else {
      axes.textContent = '';
      canvas.setAttribute('aria-label', 'Model output: none yet; press play');
    }
    paintDots(g?.extent || points?.points.extent);
    if (dotsCount) ctx.drawImage(dots, 0, 0);
    canvas.dataset.points = dotsCount;
    const note2d = live.started && live.started.data?.input_shape?.length === 1 &&
      live.started.data.input_shape[0] > 2 && !g ? 'This data set has no 2-D input plane.' : '';
    if (note.textContent !== note2d) note.textContent = note2d;
  }

  function fmt(buf) {
    return buf.n ? readable(buf.y[buf.n - 1]) : '\u2013';
  }

  function writeReadout() {
    // the family's evaluations: its first chart's test and train values, then the other
    // charts' test values once they have one
    const evals = live.metricInfo.filter((m) => m.split !== 'batch');
    const first = evals[0]?.chart;
    const byTest = (a, b) => (a.split === 'test' ? 0 : 1) - (b.split === 'test' ? 0 : 1);
    const shown = [...evals.filter((m) => m.chart === first).sort(byTest),
      ...evals.filter((m) => m.chart !== first && m.split === 'test' && live.metric(m.name).n)];
    const rows = shown.map((m) => [m.title, fmt(live.metric(m.name)), m.split]);
    const key = rows.map((r) => r[0]).join();
    if (readout.dataset.key !== key) { // rebuild only when the set of metrics changes
      readout.dataset.key = key;
      readout.replaceChildren(...rows.map(([k, , c]) => el('div', { class: `metric ${c}` },
        el('span', {}, k), el('output', { 'data-testid': k.toLowerCase().replace(/ /g, '-') }))));
    }
    rows.forEach(([, v], i) => {
      const out = readout.children[i].lastChild;
      if (out.textContent !== v) out.textContent = v;
    });
  }

  live.onFrame((now) => {
    if (drawnGrid !== live.gridVersion && now - paintedAt >= GRID_MS) {
      drawnGrid = live.gridVersion;
      paintedAt = now;
      paint();
    }
    if (drawnVersion !== live.version && now - readAt >= GRID_MS) { // text: ~8 Hz is readable
      drawnVersion = live.version;
      readAt = now;
      writeReadout();
    }
  });
  store.on('points', (p) => { points = p; paint(); });
  showTest.addEventListener('change', paint);
  paint();
  writeReadout();
  return { el: root };
}
