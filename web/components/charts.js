/**
 * Live loss and accuracy curves (uPlot): the per-step training value, smoothed by a debiased
 * exponential moving average (slider), and the train and test evaluations; log scale toggle.
 * Data is bucketed to about one point per pixel into arrays reused from draw to draw. Each
 * uPlot redraw rasterises its whole canvas (axes, grid, every path), the page's dearest work
 * while a run streams, so the loss chart redraws at most every LOSS_MS (the latency budget is
 * 100 ms from the server) and the accuracy chart every ACC_MS. Warnings and a divergence are
 * pinned on the loss chart at their step (loss-marks.js); a diagnosis's reading shows below it.
 * Emits on the bus: 'drawn' ({step}) after a loss redraw (the latency benchmark listens).
 * Listens to: live.onFrame.
 * May import: uplot, form.js (el), loss-marks.js.
 */
import uPlot from 'uplot';
import { el } from '../form.js';
import { marksPlugin, rangeWithMarks } from './loss-marks.js';

const COLORS = { batch: '#9aa5b1', train: '#0877bd', test: '#f59322' };
const LOSS_MS = 25; // live.js calls frame functions at most every 28 ms: every call
const ACC_MS = 100;

function smoothInto(out, y, n, from, alpha, state) {
  for (let i = from; i < n; i++) {
    const v = y[i];
    if (Number.isFinite(v)) {
      state.ema = alpha * state.ema + (1 - alpha) * v;
      state.k++;
    }
    out[i] = state.k ? state.ema / (1 - alpha ** state.k) : NaN;
  }
}

function makeChart(host, title, log, yRange, marks = null) {
  const opts = {
    plugins: marks ? [marksPlugin(marks, host)] : [],
    title, width: host.clientWidth || 380, height: 170,
    cursor: { drag: { x: true, y: false } },
    legend: { live: false },
    scales: { x: { time: false, range: marks ? rangeWithMarks(marks) : undefined },
      y: log ? { distr: 3 } : { range: yRange } },
    axes: [{ grid: { stroke: '#eef1f4' }, size: 32 },
      { grid: { stroke: '#eef1f4' }, size: 46 }],
    series: [{ label: 'step' },
      { label: 'batch (smoothed)', stroke: COLORS.batch, width: 1.2, spanGaps: true },
      { label: 'train', stroke: COLORS.train, width: 2, spanGaps: true },
      { label: 'test', stroke: COLORS.test, width: 2, spanGaps: true }],
  };
  return new uPlot(opts, [[], [], [], []], host);
}

export function createCharts({ store, live }) {
  const smoothing = el('input', { type: 'range', min: 0, max: 0.99, step: 0.01, value: 0.9,
    id: 'smoothing', 'aria-label': 'Smoothing' });
  const log = el('input', { type: 'checkbox', id: 'logscale' });
  const lossHost = el('div', { class: 'chart', 'data-testid': 'loss-chart' });
  const accHost = el('div', { class: 'chart', 'data-testid': 'accuracy-chart' });
  const diagnosis = el('p', { class: 'diagnosis', 'data-testid': 'diagnosis', role: 'status',
    hidden: true });
  const root = el('div', { class: 'charts' },
    el('div', { class: 'chart-tools' },
      el('label', { for: 'smoothing' }, 'Smoothing'), smoothing,
      el('label', { class: 'check' }, log, ' log scale')),
    lossHost, diagnosis, accHost);
  const marks = () => live.internals.marks.list;
  let loss = null;
  let acc = null;
  const sm = { loss: null, acc: null };

  function build() {
    loss?.destroy(); acc?.destroy();
    loss = makeChart(lossHost, 'Loss', log.checked, null, marks);
    acc = makeChart(accHost, 'Accuracy', false, [0, 1]);
    at.loss = at.acc = -1;
  }

  function smoothed(name, buf) {
    const alpha = Number(smoothing.value);
    let s = sm[name];
    if (!s || s.alpha !== alpha || s.n > buf.n || s.buf !== buf.x) {
      s = sm[name] = { alpha, n: 0, out: new Float32Array(buf.x.length), state: { ema: 0, k: 0 }, buf: buf.x };
    }
    if (s.out.length < buf.x.length) { const o = new Float32Array(buf.x.length); o.set(s.out); s.out = o; }
    smoothInto(s.out, buf.y, buf.n, s.n, alpha, s.state);
    s.n = buf.n;
    return s.out;
  }

  /** Buckets: x = last step of each bucket; evals land in the bucket that holds their step.
   * Writes into `out` (four arrays, resized only when the bucket count changes). */
  function series(out, buf, smooth, evTrain, evTest, width) {
    const n = buf.n;
    const xs = n ? buf.x : evTest.x;
    const count = n || evTest.n;
    const buckets = Math.max(1, Math.min(count, Math.floor(width)));
    if (out[0].length !== buckets) for (let k = 0; k < 4; k++) out[k] = new Array(buckets);
    const [x, yb] = out;
    for (let b = 0; b < buckets; b++) {
      const i = Math.min(count - 1, Math.floor(((b + 1) * count) / buckets) - 1);
      x[b] = xs[i];
      yb[b] = n && Number.isFinite(smooth[i]) ? smooth[i] : null;
    }
    const place = (ev, y) => {
      y.fill(null);
      let b = 0;
      for (let j = 0; j < ev.n; j++) {
        while (b < buckets - 1 && x[b] < ev.x[j]) b++;
        if (Number.isFinite(ev.y[j])) y[b] = ev.y[j];
      }
    };
    place(evTrain, out[2]);
    place(evTest, out[3]);
    return out;
  }

  const lossData = [[], [], [], []];
  const accData = [[], [], [], []];
  const empty = () => !live.loss.n && !live.evals.test_loss.n;

  function drawLoss() {
    const ev = live.evals;
    showDiagnosis(live.internals.marks.diagnosis);
    if (empty()) { loss.setData([[], [], [], []]); return; }
    const width = lossHost.clientWidth || 380;
    loss.setData(series(lossData, live.loss, smoothed('loss', live.loss), ev.train_loss,
      ev.test_loss, width));
    store.emit('drawn', { step: live.loss.n ? live.loss.x[live.loss.n - 1] : 0 });
  }

  /** The diagnosis's plain-language reading, under the loss chart, when the run diverged. */
  function showDiagnosis(d) {
    const text = d ? `Diverged at step ${d.step} (first non-finite: ${d.quantity}). ${d.reading}` : '';
    if (diagnosis.textContent !== text) diagnosis.textContent = text;
    diagnosis.hidden = !d;
  }

  function drawAcc() {
    const ev = live.evals;
    const hasAcc = !empty() && ev.test_accuracy.n
      && Number.isFinite(ev.test_accuracy.y[ev.test_accuracy.n - 1]);
    if (accHost.hidden !== !hasAcc) accHost.hidden = !hasAcc;
    if (!hasAcc) { acc.setData([[], [], [], []]); return; }
    acc.setData(series(accData, live.accuracy, smoothed('acc', live.accuracy), ev.train_accuracy,
      ev.test_accuracy, lossHost.clientWidth || 380));
  }

  // Versions drawn, and when: -1 forces a redraw on the next frame (new chart, smoothing).
  const at = { loss: -1, acc: -1, lossT: -Infinity, accT: -Infinity };
  smoothing.addEventListener('input', () => { at.loss = at.acc = -1; });
  log.addEventListener('change', build);
  live.onFrame((now) => {
    if (!loss) return;
    const forced = at.loss === -1 || at.acc === -1; // a new chart or smoothing: now
    const lossKey = live.version + live.internals.marks.version * 1e9; // data or marks moved
    if (at.loss !== lossKey && (forced || now - at.lossT >= LOSS_MS)) {
      at.loss = lossKey; at.lossT = now;
      drawLoss();
    }
    if (at.acc !== live.version && (forced || now - at.accT >= ACC_MS)) {
      at.acc = live.version; at.accT = now;
      drawAcc();
    }
  });
  let lastW = 0;
  new ResizeObserver(() => {
    const w = lossHost.clientWidth;
    if (!loss || Math.abs(w - lastW) < 4) return;
    lastW = w;
    loss.setSize({ width: w, height: 170 });
    acc.setSize({ width: w, height: 170 });
  }).observe(root);
  queueMicrotask(build);
  return { el: root };
}
