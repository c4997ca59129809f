/**
 * The output over the input plane: the latest grid_computed frame as a heatmap (decision
 * boundary for classes, surface for regression), with the train and test points when the
 * server can give them, axes at the extent, and the latest losses above it.
 * Listens to: live.onFrame (grid), store 'points', 'run'.
 * May import: form.js (el), data-panel.js (drawPoints).
 */
import { el } from '../form.js';
import { drawPoints } from './data-panel.js';

const NEG = [245, 147, 34];
const MID = [232, 234, 235];
const POS = [8, 119, 189];
const CLASS = [[245, 147, 34], [8, 119, 189], [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [127, 127, 127]];

const mix = (a, b, t) => a.map((v, i) => v + (b[i] - v) * t);

function colour(grid, i, lo, hi) {
  const v = grid.values[i];
  if (grid.mode === 'classes') {
    const c = CLASS[v % CLASS.length];
    const conf = grid.confidence ? grid.confidence[i] : 1;
    return mix(MID, c, Math.max(0, Math.min(1, conf)));
  }
  const t = grid.mode === 'binary' ? v : (2 * (v - lo)) / (hi - lo || 1) - 1;
  return t < 0 ? mix(MID, NEG, Math.min(1, -t)) : mix(MID, POS, Math.min(1, t));
}

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
  const off = document.createElement('canvas');
  let points = null;
  let drawnGrid = -1;
  let drawnVersion = -1;

  function paint() {
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#f4f6f8';
    ctx.fillRect(0, 0, SIZE, SIZE);
    const g = live.grid;
    if (g) {
      const r = g.resolution;
      off.width = r;
      off.height = r;
      const octx = off.getContext('2d');
      const img = octx.createImageData(r, r);
      let lo = Infinity;
      let hi = -Infinity;
      if (g.mode === 'value') for (const v of g.values) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      for (let i = 0; i < r * r; i++) {
        const [R, G, B] = colour(g, i, lo, hi);
        img.data.set([R, G, B, 255], i * 4);
      }
      octx.putImageData(img, 0, 0);
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
    const extent = g?.extent || points?.points.extent;
    canvas.dataset.points = points && extent
      ? drawPoints(ctx, points.points, extent, SIZE, { test: showTest.checked }) : 0;
    note.textContent = live.started && live.started.data?.input_shape?.length === 1 &&
      live.started.data.input_shape[0] > 2 && !g ? 'This data set has no 2-D input plane.' : '';
  }

  function fmt(buf) {
    return buf.n ? buf.y[buf.n - 1].toFixed(3) : '\u2013';
  }

  function writeReadout() {
    const e = live.evals;
    const rows = [['Test loss', fmt(e.test_loss), 'test'], ['Training loss', fmt(e.train_loss), 'train']];
    if (e.test_accuracy.n && Number.isFinite(e.test_accuracy.y[e.test_accuracy.n - 1])) {
      rows.push(['Test accuracy', fmt(e.test_accuracy), 'test']);
    }
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

  live.onFrame(() => {
    if (drawnGrid !== live.gridVersion) { drawnGrid = live.gridVersion; paint(); }
    if (drawnVersion !== live.version) { drawnVersion = live.version; writeReadout(); }
  });
  store.on('points', (p) => { points = p; paint(); });
  showTest.addEventListener('change', paint);
  paint();
  writeReadout();
  return { el: root };
}
