/**
 * Distributions over time, as TensorBoard draws them: for the chosen tensor (weights or
 * gradients of a parameter, or a layer's activations) the median and bands holding the middle
 * 38%, 68%, 87% and all of its values at each sampled step, read from fixed-bin histograms.
 * A section for internals.js ({title, help, probes, el, version, draw, resize}); it asks only
 * for the probe that feeds the chosen kind.
 * May import: form.js (el), internals-plot.js.
 */
import { el } from '../form.js';
import { createPlot } from './internals-plot.js';

const KINDS = { weights: 'histograms', gradients: 'histograms', activations: 'activations' };
const FILL = 'rgba(8, 119, 189, 0.16)';
// series 1..9 are the percentile rows (min .. max); bands pair them from the outside in
const SERIES = ['min', '7%', '16%', '31%', 'median', '69%', '84%', '93%', 'max'].map((label, i) => ({
  label, color: i === 4 ? '#0877bd' : 'transparent', width: i === 4 ? 1.6 : 0 }));
const BANDS = [[9, 1, FILL], [8, 2, FILL], [7, 3, FILL], [6, 4, FILL]];

export function createDistSection({ live }) {
  const kind = el('select', { 'aria-label': 'Tensor kind', 'data-testid': 'dist-kind' },
    ...Object.keys(KINDS).map((k) => el('option', { value: k }, k)));
  const tensor = el('select', { 'aria-label': 'Tensor', 'data-testid': 'dist-tensor' });
  const host = el('div', { class: 'chart internals-chart', 'data-testid': 'dist-chart' });
  const note = el('p', { class: 'small muted' });
  const box = el('div', {}, el('div', { class: 'row' }, kind, tensor), host, note);
  const hists = () => live.internals.hists;
  let chart = null;
  let listed = ''; // the tensor names in the select
  let picked = 0; // bumps when the person picks, so that the next frame redraws

  const section = {
    title: 'Distributions over time', el: box,
    get probes() { return [KINDS[kind.value]]; },
    help: 'The chosen tensor\'s values over time: the line is the median, the bands hold the '
      + 'middle 38%, 68%, 87% and all of them. Weights that spread without bound hint at '
      + 'exploding updates, and activations piling up at ±1 (tanh) or 0 and 1 (sigmoid) are '
      + 'saturated units, through which the gradient vanishes.',
    version: () => hists().version + picked,
    draw() {
      chart ??= createPlot(host, { bands: BANDS, legend: false });
      listTensors();
      const key = `${kind.value}:${tensor.value}`;
      const t = hists().tables.get(key) || null;
      chart.draw(t, SERIES);
      note.textContent = !t ? `no ${kind.value} histograms yet`
        : hists().sampled.has(key) ? 'a large tensor: histograms of a fixed sample of its values' : '';
    },
    resize: (w) => chart?.resize(w),
    onWant: () => {}, // set by the panel: the probes to ask for changed
  };

  /** Refreshes the tensor list for the kind (the names seen so far, in arrival order). */
  function listTensors() {
    const prefix = `${kind.value}:`;
    const names = [...hists().tables.keys()].filter((k) => k.startsWith(prefix))
      .map((k) => k.slice(prefix.length));
    if (names.join() === listed) return;
    listed = names.join();
    const keep = tensor.value;
    tensor.replaceChildren(...names.map((n) => el('option', { value: n }, n)));
    if (names.includes(keep)) tensor.value = keep;
  }

  kind.addEventListener('change', () => { listed = null; picked++; section.onWant(); });
  tensor.addEventListener('change', () => { picked++; });
  return section;
}
