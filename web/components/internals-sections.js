/**
 * The simpler internals sections: gradient norm per layer, update-to-weight ratio per layer,
 * dead/saturated fractions and the telemetry share. Each is `{title, help, probes, el,
 * version(), draw(), resize(w)}`: the panel (internals.js) wraps it in a collapsible section,
 * asks the stream for its probes' events while it is open and calls `draw` when `version`
 * moved and it is on screen. `probes` name catalog probes; their events come from the catalog.
 * May import: form.js (el), internals-plot.js.
 */
import { el } from '../form.js';
import { createPlot, depthColor } from './internals-plot.js';

const layerSeries = (names) => names.map((name, i) => ({ label: name, color: depthColor(i, names.length) }));

/** A chart section over one Table of internals, one line per layer. */
function tableSection({ title, help, probes, testid, part, table, plot }) {
  const host = el('div', { class: 'chart internals-chart', 'data-testid': testid });
  let chart = null;
  return {
    title, help, probes, el: host,
    version: () => part().version,
    draw() {
      chart ??= createPlot(host, plot);
      const { t, names } = table();
      chart.draw(t, layerSeries(names));
    },
    resize: (w) => chart?.resize(w),
  };
}

export function createGradSection({ live }) {
  const norms = () => live.internals.norms;
  return tableSection({
    title: 'Gradient norm per layer', probes: ['norms'], testid: 'grad-norm-chart',
    help: 'Each line is one layer\'s gradient norm ‖∂L/∂W‖ at each step on a log scale, '
      + 'darker for layers nearer the input. Lines that jump by orders of magnitude are unit '
      + '3\'s cliffs and exploding gradients; first layers far below the last ones are '
      + 'vanishing gradients, and those layers barely learn.',
    part: norms, table: () => ({ t: norms().grad, names: norms().layers }),
    plot: { log: true, peaks: true },
  });
}

export function createUpdateSection({ live }) {
  const norms = () => live.internals.norms;
  return tableSection({
    title: 'Update-to-weight ratio', probes: ['norms'], testid: 'update-ratio-chart',
    help: 'How far one step moves each layer\'s weights relative to their size, ‖Δw‖/‖w‖, '
      + 'on a log scale. A common rule of thumb puts healthy training near 1e-3 (the dashed '
      + 'line): far below it a layer hardly learns, and near 1e-1 the steps overshoot, as at '
      + 'the edge of a cliff.',
    part: norms, table: () => ({ t: norms().update, names: norms().layers }),
    plot: { log: true, peaks: true, guides: [{ y: 1e-3, label: 'rule of thumb 1e-3' }] },
  });
}

export function createActivitySection({ live }) {
  const acts = () => live.internals.acts;
  const section = tableSection({
    title: 'Dead and saturated units', probes: ['activations'], testid: 'dead-saturated-chart',
    help: 'The share of each activation layer\'s outputs that are dead (ReLU: zero on every '
      + 'probe example) or saturated (sigmoid or tanh near an asymptote), on a fixed batch. '
      + 'Such units pass almost no gradient back, so a rising line is a vanishing gradient in '
      + 'the making: try another initialization or a smaller learning rate.',
    part: acts,
    table: () => ({ t: acts().table, names: acts().nodes.map((n, i) => `${n} ${acts().kinds[i]}`) }),
    plot: { yRange: [0, 1] },
  });
  const latest = el('p', { class: 'small muted', 'data-testid': 'dead-saturated-latest' });
  const box = el('div', {}, section.el, latest);
  const draw = section.draw;
  section.draw = () => {
    draw();
    const a = acts();
    const t = a.table;
    latest.textContent = t?.n ? a.nodes.map((n, r) =>
      `${n}: ${(100 * t.ys[r][t.n - 1]).toFixed(1)}% ${a.kinds[r]}`).join(' · ')
      : 'no activation layer to watch yet (ReLU, sigmoid or tanh)';
  };
  section.el = box;
  return section;
}

export function createTelemetrySection({ live }) {
  const line = el('p', { class: 'telemetry-line', 'data-testid': 'telemetry-share' },
    'no measurement yet: the first comes after a quarter second of training');
  const tel = () => live.internals.telemetry;
  return {
    title: 'Telemetry cost', probes: [], el: line,
    help: 'The share of training time the probes behind these charts took over the last '
      + 'second, against the run\'s budget. Past 40% of it (the rest is headroom for costs '
      + 'no clock sees) the auto-throttle widens the costliest probe\'s period, so the charts '
      + 'get sparser instead of training slowing down.',
    version: () => tel().version,
    draw() {
      const e = tel().last;
      if (!e) { line.textContent = 'no measurement yet: the first comes after a quarter second of training'; return; }
      const pct = (v) => `${(100 * v).toFixed(v < 0.1 ? 1 : 0)}%`;
      const widened = e.throttled.map((name) => `${name} (every ${e.periods[name]} steps)`);
      line.textContent = `telemetry ${pct(e.share)} of time, budget ${pct(e.budget)}`
        + (widened.length ? `; throttle widened ${widened.join(', ')}` : '; nothing throttled');
      line.classList.toggle('over', e.share > e.budget);
    },
    resize() {},
  };
}
