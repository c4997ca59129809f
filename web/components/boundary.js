/**
 * The output over the input plane: the latest grid_computed frame as a heatmap (decision
 * boundary for classes, surface for regression) with the train and test points when the
 * server can give them, axes with ticks (boundary-axes.js), a colour legend with its scale
 * (boundary-legend.js), a "discretize output" toggle as TensorFlow Playground's (hard
 * regions for classes; a regression surface in STEPS bands, its points on the same bands),
 * a caption that says which step the grid is from (and, for a diverged run, that it is the
 * last before the divergence), and the latest losses above it. A regression's points and
 * surface share one scale (colour-scales.js), so that a fitted surface matches its points.
 * The heatmap redraws at most every GRID_MS, the readout every TEXT_MS; the points are drawn once into an
 * offscreen canvas per data set, extent, scale and toggle, then copied.
 * Listens to: live.onFrame (grid, status, readout), store 'points'.
 * May import: form.js (el), numbers.js, colour-scales.js, boundary-axes.js,
 * boundary-legend.js, boundary-points.js.
 */
import { classColour, colourGrid, colourOf, css, rangeOf, scaleFor } from '../colour-scales.js';
import { el } from '../form.js';
import { readable } from '../numbers.js';
import { createAxes } from './boundary-axes.js';
import { createLegend } from './boundary-legend.js';
import { drawPoints } from './boundary-points.js';

/** Grid frames arrive at up to ~20 Hz; repainting faster than this shows nothing more. */
// the output refreshes as often as the maps on the drawing (>= 20 Hz, the Playground's page
// redraws every node each epoch); its text at ~8 Hz is readable
const GRID_MS = 20; // below the page's frame (28 ms): every new grid on the next frame
const TEXT_MS = 125;
const SIZE = 300;

/** The points' own data set when it is the grid's kind (a data set chosen after the run
 * that is shown may be of another task). */
function matchingPoints(points, grid) {
  const p = points?.points;
  if (!p) return null;
  if (!grid) return p;
  return (grid.mode === 'value') === (p.task === 'regression') ? p : null;
}

/** The scale of what is shown: the grid's mode, the data's task and targets. */
function scaleOf(grid, pts, nClasses) {
  if (grid?.mode === 'classes' || (!grid && pts?.task === 'classification' && nClasses > 2)) {
    if (nClasses) return { kind: 'classes', n: nClasses };
  }
  return scaleFor({ mode: grid?.mode ?? null, values: grid?.values ?? null,
    task: pts?.task ?? null, targets: pts?.y ?? (grid?.mode === 'classes' ? grid.values : null) });
}

/** Which step the painted grid is from; for a diverged run, that it precedes the failure. */
export function captionOf(live, grid) {
  if (!grid) return '';
  const d = live.internals?.marks?.diagnosis;
  if (live.status === 'failed' && d) {
    const which = grid.step === d.step - 1 ? 'the last step' : 'the last one drawn';
    return `Boundary at step ${grid.step}, ${which} before the ${d.quantity} stopped being ` +
      `finite at step ${d.step}: the run diverged after it.`;
  }
  if (live.status === 'failed') return `Boundary at step ${grid.step}; the run failed after it.`;
  const final = ['completed', 'stopped'].includes(live.status) ? ` (${live.status})` : '';
  return `Output at step ${grid.step}${final}`;
}

export function createBoundary({ store, live }) {
  const canvas = el('canvas', { width: SIZE, height: SIZE, class: 'boundary', role: 'img',
    'data-testid': 'boundary', 'aria-label': 'Decision boundary: no run yet' });
  const showTest = el('input', { type: 'checkbox', id: 'show-test', checked: true });
  const discretize = el('input', { type: 'checkbox', id: 'discretize', 'data-testid': 'discretize' });
  const readout = el('div', { class: 'readout', 'data-testid': 'readout' });
  const axes = createAxes();
  const legend = createLegend();
  const caption = el('p', { class: 'boundary-caption small', 'data-testid': 'boundary-caption',
    role: 'status' });
  const note = el('p', { class: 'muted small' });
  const root = el('div', { class: 'boundary-box' }, readout,
    el('div', { class: 'plane-frame' }, axes.y, canvas, el('span'), axes.x),
    caption, legend.el, note,
    el('div', { class: 'boundary-options' },
      el('label', { class: 'check' }, showTest, ' show test points'),
      el('label', { class: 'check' }, discretize, ' discretize output')));
  const off = document.createElement('canvas'); // the grid at its own resolution
  const dots = document.createElement('canvas'); // the points, drawn once per key
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

  function paintDots(pts, extent, scale, discrete) {
    const key = pts && extent ? [pts, ...extent, showTest.checked, scale.kind, scale.lo,
      scale.hi, discrete] : null;
    if (dotsKey && key && key.every((v, i) => v === dotsKey[i])) return;
    dotsKey = key;
    const ctx = dots.getContext('2d');
    ctx.clearRect(0, 0, SIZE, SIZE);
    const fill = scale.kind === 'value' ? (v) => css(colourOf(scale, v, discrete))
      : (k) => css(classColour(k));
    dotsCount = key ? drawPoints(ctx, pts, extent, SIZE, fill, { test: showTest.checked }) : 0;
  }

  function paintGrid(ctx, g, scale, discrete) {
    const r = g.resolution;
    const octx = off.getContext('2d');
    if (off.width !== r || off.height !== r || !image) {
      off.width = r;
      off.height = r;
      image = octx.createImageData(r, r);
    }
    colourGrid(g, image.data, scale, discrete);
    octx.putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = !discrete; // discretized: hard cells, as hard as the regions
    ctx.drawImage(off, 0, 0, SIZE, SIZE);
    canvas.setAttribute('aria-label', `Model output over the input plane at step ${g.step} (${g.mode})`);
    canvas.dataset.step = g.step;
  }

  function paint() {
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#f4f6f8';
    ctx.fillRect(0, 0, SIZE, SIZE);
    const g = live.grid;
    const pts = matchingPoints(points, g);
    const scale = scaleOf(g, pts, live.started?.data?.n_classes ?? null);
    const discrete = discretize.checked;
    if (g) paintGrid(ctx, g, scale, discrete);
    else canvas.setAttribute('aria-label', 'Model output: none yet; press play');
    const extent = g?.extent || pts?.extent || null;
    axes.update(extent);
    legend.update(g || pts ? scale : null, discrete, g?.mode === 'value' ? rangeOf(g.values) : null);
    paintDots(pts, extent, scale, discrete);
    if (dotsCount) ctx.drawImage(dots, 0, 0);
    canvas.dataset.points = dotsCount;
    canvas.dataset.discrete = discrete;
    const note2d = live.started && live.started.data?.input_shape?.length === 1 &&
      live.started.data.input_shape[0] > 2 && !g ? 'This data set has no 2-D input plane.' : '';
    if (note.textContent !== note2d) note.textContent = note2d;
    writeCaption();
  }

  function writeCaption() {
    const text = captionOf(live, live.grid);
    if (caption.textContent !== text) caption.textContent = text;
    caption.classList.toggle('diverged', live.status === 'failed' && !!live.grid);
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
    if (drawnVersion !== live.version && now - readAt >= TEXT_MS) {
      drawnVersion = live.version;
      readAt = now;
      writeReadout();
      writeCaption(); // the run's status moves without a new grid (a divergence, the end)
    }
  });
  store.on('points', (p) => { points = p; paint(); });
  showTest.addEventListener('change', paint);
  discretize.addEventListener('change', paint);
  paint();
  writeReadout();
  return { el: root };
}
