/**
 * Curvature beside the learning rate: the latest λ_max (the Hessian's largest eigenvalue),
 * 2/λ_max and the lr, flagged when lr > 2/λ_max, and both over time. The curvature probe is
 * off by default; "measure curvature" turns it on for the running run (PATCH probes) and,
 * through the document, for the next runs. A section for internals.js.
 * Listens to: store 'doc'.
 * May import: commands.js, form.js (el), internals-plot.js.
 */
import { SetValue } from '../commands.js';
import { el } from '../form.js';
import { createPlot } from './internals-plot.js';

const EVERY = 50; // steps between estimates once turned on: ~50 Hessian-vector products each
const PATH = ['training', 'telemetry', 'probes', 'curvature'];
const SERIES = [{ label: '2/λ_max', color: '#c62828', width: 1.6 },
  { label: 'lr', color: '#0877bd', width: 1.6, dash: [5, 4] }];
const fmt = (v) => (v == null || !Number.isFinite(v) ? '–' : Number(v.toPrecision(3)).toString());

export function createCurvatureSection({ store, live }) {
  const toggle = el('input', { type: 'checkbox', 'data-testid': 'curvature-toggle' });
  const status = el('span', { class: 'small muted' });
  const readout = el('p', { class: 'curvature-readout', 'data-testid': 'lambda-max' },
    'λ_max: not measured');
  const host = el('div', { class: 'chart internals-chart', 'data-testid': 'curvature-chart' });
  const box = el('div', {}, el('label', { class: 'check' }, toggle, ' measure curvature'),
    status, readout, host);
  const curv = () => live.internals.curvature;
  let chart = null;

  const docEvery = () => store.doc.training?.telemetry?.probes?.curvature?.every ?? 0;
  const sync = () => { toggle.checked = docEvery() > 0; };
  store.on('doc', sync);
  sync();

  toggle.addEventListener('change', async () => {
    const every = toggle.checked ? EVERY : 0;
    store.exec(new SetValue(PATH, every ? { every } : undefined,
      every ? 'measure curvature' : 'stop measuring curvature'));
    status.textContent = '';
    if (!live.active) return;
    const ok = await live.setProbes({ curvature: { every } });
    status.textContent = ok ? '' : 'this run could not change its probes: the next run will';
  });

  return {
    title: 'Curvature and the learning rate', probes: ['curvature'], el: box,
    help: 'λ_max is the largest eigenvalue of the loss\'s Hessian, the curvature along its '
      + 'sharpest direction, and plain gradient descent is stable only for lr < 2/λ_max. '
      + 'Above that line ill-conditioning wins: each step overshoots along '
      + 'the sharpest direction and the loss climbs instead of falling.',
    autoOpen: () => docEvery() > 0,
    version: () => curv().version,
    draw() {
      const e = curv().last;
      const unstable = !!e && e.stable_lr != null && e.lr > e.stable_lr;
      readout.textContent = e
        ? `λ_max ${fmt(e.lambda_max)} · 2/λ_max ${fmt(e.stable_lr)} · lr ${fmt(e.lr)}`
          + ` (step ${e.step})${unstable ? ': lr > 2/λ_max, unstable' : ''}`
        : 'λ_max: not measured';
      readout.classList.toggle('unstable', unstable);
      host.hidden = !curv().table.n; // an empty frame until the first estimate says nothing
      if (host.hidden) return;
      chart ??= createPlot(host, { log: true, height: 120 });
      chart.draw(curv().table, SERIES, [1, 2]);
    },
    resize: (w) => chart?.resize(w),
  };
}
