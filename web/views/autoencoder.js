/**
 * What an autoencoder shows while it learns, as two views of the registry:
 * - reconstructions (reconstructions_sampled): one row per `rows` entry (clean, noisy when
 *   denoising, reconstructed), a column per test sample with its error; images as pixelated
 *   canvases, other samples as bar strips on one shared scale;
 * - code (code_sampled): the test set's code as a 2-D scatter coloured by label, with the
 *   PCA shares on the axes, each unit's mean |h| and active share, and the Hoyer sparsity.
 * Each redraws at most once per frame (run.onFrame), only when its event's version moved.
 * May import: views/registry.js, views/follow.js, views/draw.js, views/scatter.js.
 */
import { registerView } from './registry.js';
import { follow } from './follow.js';
import { drawBars, fmt, h, labelColor, maxAbs, sampleAt, sampleCanvas } from './draw.js';
import { drawScatter, drawUnitBars } from './scatter.js';

const PER_LINE = 8; // samples side by side
const WAITING = 'Appears with the first samples of the run (press Play).';

function mountReconstructions(box, run) {
  const note = h('p', { class: 'small muted', text: WAITING });
  const grid = h('div', { class: 'recon-grid', 'data-testid': 'reconstructions' });
  box.append(note, grid);
  let layout = null; // what the canvases were made for: rows, K, shape

  function build(e) {
    const [, k] = (e.images || e.values).shape;
    const made = `${e.rows}|${k}|${e.sample_shape}|${Boolean(e.images)}`;
    if (layout?.made === made) return layout;
    grid.replaceChildren();
    const per = Math.min(k, PER_LINE);
    grid.style.gridTemplateColumns = `auto repeat(${per}, minmax(0, 1fr))`;
    const cells = e.rows.map(() => []);
    const errors = [];
    // blocks of PER_LINE samples, each with its rows and errors, so that samples stay legible
    for (let first = 0; first < k; first += per) {
      const cols = Array.from({ length: Math.min(per, k - first) }, (_, j) => first + j);
      const pad = () => Array.from({ length: per - cols.length }, () => grid.appendChild(h('span')));
      e.rows.forEach((row, r) => {
        grid.append(h('span', { class: 'row-name', text: row }));
        for (const i of cols) {
          const attrs = { 'data-row': row, 'data-index': i, 'aria-label': `${row} sample ${i + 1}` };
          const cell = e.images ? sampleCanvas(e.sample_shape, attrs)
            : { canvas: h('canvas', { width: 48, height: 24, class: 'bars', ...attrs }) };
          grid.append(cell.canvas);
          cells[r][i] = cell;
        }
        pad();
      });
      grid.append(h('span', { class: 'row-name', text: 'error' }));
      for (const i of cols) errors[i] = grid.appendChild(h('span', { class: 'err small' }));
      pad();
    }
    layout = { made, cells, errors };
    return layout;
  }

  return follow(run, 'reconstructions_sampled', (e) => {
    note.hidden = Boolean(e);
    grid.hidden = !e;
    if (!e) { layout = null; return; }
    const { cells, errors } = build(e);
    const scale = e.values ? maxAbs(e.values) : 1;
    const k = errors.length;
    cells.forEach((row, r) => row.forEach((cell, i) => {
      const at = r * k + i;
      if (e.images) cell.draw(sampleAt(e.images, at, e.sample_shape));
      else drawBars(cell.canvas, sampleAt(e.values, at, e.values.shape.slice(2)), scale);
    }));
    errors.forEach((span, i) => { span.textContent = fmt(e.error[i], 2); });
    grid.dataset.step = e.step;
  });
}

function axisName(e, i) {
  if (e.projection === 'pca') return `PC${i + 1} (${Math.round(100 * (e.explained[i] ?? 0))}% of variance)`;
  return `code unit ${i + 1}`;
}

function mountCode(box, run) {
  const note = h('p', { class: 'small muted', text: WAITING });
  const scatter = h('canvas', { width: 240, height: 240, class: 'scatter', 'data-testid': 'code-scatter',
    role: 'img', 'aria-label': 'The code of the test set, coloured by label' });
  const xName = h('span', { class: 'axis-x small' });
  const yName = h('span', { class: 'axis-y small' });
  const legend = h('div', { class: 'code-legend small' });
  const plot = h('div', { class: 'scatter-box' }, yName, scatter, xName);
  const sparsity = h('p', { class: 'sparsity', 'data-testid': 'code-sparsity' });
  const units = h('canvas', { width: 240, height: 60, class: 'unit-bars', role: 'img',
    'aria-label': 'Each code unit: mean |h| (dark) and active share (light)' });
  const unitsNote = h('p', { class: 'small muted',
    text: 'Per code unit: mean |h| (dark bar) and share of samples where it is active (light).' });
  const body = h('div', { class: 'code-body' }, plot, legend, sparsity, units, unitsNote);
  box.append(note, body);

  return follow(run, 'code_sampled', (e) => {
    note.hidden = Boolean(e);
    body.hidden = !e;
    if (!e) return;
    scatter.dataset.points = drawScatter(scatter, e.points, e.labels);
    xName.textContent = axisName(e, 0);
    yName.textContent = e.points.shape[1] > 1 ? axisName(e, 1) : (e.labels ? 'label' : '');
    const labels = e.labels ? [...new Set(e.labels)].sort((a, b) => a - b) : [];
    if (legend.dataset.labels !== String(labels)) {
      legend.dataset.labels = String(labels);
      legend.replaceChildren(...labels.map((l) => h('span', { class: 'swatch', style: `--swatch: ${labelColor(l)}`, text: String(l) })));
    }
    sparsity.textContent = `Hoyer sparsity ${fmt(e.sparsity, 2)} (0 dense, 1 one unit) · ${e.units} ${e.units === 1 ? 'unit' : 'units'}`;
    drawUnitBars(units, e.mean_abs, e.active);
  });
}

registerView({
  id: 'reconstructions', title: 'Reconstructions', events: ['reconstructions_sampled'],
  mount: (box, run) => ({ el: box, destroy: mountReconstructions(box, run) }),
});
registerView({
  id: 'code', title: 'Code', events: ['code_sampled'],
  mount: (box, run) => ({ el: box, destroy: mountCode(box, run) }),
});
