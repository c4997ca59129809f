/**
 * Live metric charts (uPlot), one per chart the run's family declares (live.metricInfo: each
 * metric names its chart, title, split and range; no metric name is written here). A chart
 * shows its per-step ('batch') metrics smoothed by a debiased exponential moving average
 * (slider) and its train and test evaluations; log scale toggle. Per-step data is decimated
 * by min and max per bucket (two points per pixel column, in the order they happened), so a
 * spike survives any zoom, into arrays reused from draw to draw. Each uPlot redraw rasterises
 * its whole canvas, the page's dearest work while a run streams, so the first chart redraws at
 * most every FIRST_MS and the others every OTHER_MS. Warnings and a divergence are pinned on
 * the first chart at their step (loss-marks.js); a diagnosis's reading shows below it.
 * Emits on the bus: 'drawn' ({step}) after a first-chart redraw (the latency benchmark).
 * Listens to: live.onFrame.
 * May import: uplot, form.js (el), numbers.js, loss-marks.js.
 */
import uPlot from 'uplot';
import { el } from '../form.js';
import { tick } from '../numbers.js';
import { marksPlugin, rangeWithMarks } from './loss-marks.js';

const COLORS = { batch: '#9aa5b1', train: '#0877bd', test: '#f59322' };
const FIRST_MS = 25; // live.js calls frame functions at most every 28 ms: every call
const OTHER_MS = 100;
const HEIGHT = 170;
// y-axis tick steps: 1, 2, 2.5 and 5 times every power of ten from 1e-16 to 1e300
const Y_STEPS = Array.from({ length: 317 }, (_, k) => 10 ** (k - 16))
  .flatMap((p) => [p, 2 * p, 2.5 * p, 5 * p]);
// Line widths in CSS px. A line of at most one device pixel is a hairline to Chromium's
// software canvas, drawn at about 60% of the cost of a 1.2 px stroke (the spiky per-step
// line has two points per pixel column): measured on a bare page of one uPlot chart redrawn
// at 30 Hz, 175 -> 132 ms of renderer CPU a second (1.5 px evaluations: 120).
const WIDTH = { batch: 1, eval: 1.5 };

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

/** The declared charts in order: [{id, title, range, metrics: [MetricInfo]}]. */
export function chartGroups(info) {
  const groups = new Map();
  for (const m of info) {
    if (!groups.has(m.chart)) groups.set(m.chart, { id: m.chart, title: m.chart_title, range: m.range, metrics: [] });
    groups.get(m.chart).metrics.push(m);
  }
  return [...groups.values()];
}

/** Decimates y[0..n) by min and max per bucket: two (x, y) slots per bucket, in step order. */
export function minMaxBuckets(xs, ys, n, buckets, outX, outY) {
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor((b * n) / buckets);
    const hi = Math.max(lo + 1, Math.floor(((b + 1) * n) / buckets));
    let iMin = -1; let iMax = -1;
    for (let i = lo; i < hi; i++) {
      const v = ys[i];
      if (!Number.isFinite(v)) continue;
      if (iMin < 0 || v < ys[iMin]) iMin = i;
      if (iMax < 0 || v > ys[iMax]) iMax = i;
    }
    const a = iMin < 0 ? hi - 1 : Math.min(iMin, iMax);
    const c = iMin < 0 ? hi - 1 : Math.max(iMin, iMax);
    outX[2 * b] = xs[a]; outY[2 * b] = iMin < 0 ? null : ys[a];
    outX[2 * b + 1] = xs[c]; outY[2 * b + 1] = iMin < 0 ? null : ys[c];
  }
}

/** Whether series `si` has too few values to read as a line. */
function fewPoints(u, si) {
  let n = 0;
  for (const v of u.data[si]) if (v != null && ++n > 2) return false;
  return true;
}

/** The y axis's width in CSS px: room for its longest label (uPlot's font is 12 px). */
function axisWidth(u, values) {
  const longest = Math.max(3, ...(values ?? []).map((v) => String(v).length));
  return Math.ceil(16 + 7 * longest);
}

function makePlot(host, group, log, marks) {
  const series = [{ label: 'step' }, ...group.metrics.map((m) => ({
    label: m.split === 'batch' ? `${m.title} (smoothed)` : m.title,
    stroke: COLORS[m.split], width: WIDTH[m.split === 'batch' ? 'batch' : 'eval'], spanGaps: true,
    // an evaluation or two draw no line: dots then (a run that diverged before its second)
    ...(m.split === 'batch' ? {} : { points: { show: fewPoints, size: 6, fill: COLORS[m.split] } }),
  }))];
  const opts = {
    plugins: marks ? [marksPlugin(marks, host)] : [],
    title: group.title, width: host.clientWidth || 380, height: HEIGHT,
    cursor: { drag: { x: true, y: false } },
    legend: { live: false },
    scales: { x: { time: false, range: marks ? rangeWithMarks(marks) : undefined },
      y: log && !group.range ? { distr: 3 } : { range: group.range || null } },
    // short ticks: a diverged loss's 9e8 fits the axis (uPlot's own would be 900,000,000);
    // the y axis's (kept on the host, for the tests) reach 1e300: uPlot's own steps stop at
    // 1e16, and a loss that blew up to 1e38 got no numbers at all
    axes: [{ grid: { stroke: '#eef1f4' }, size: 32, values: (u, splits) => splits.map(tick) },
      { grid: { stroke: '#eef1f4' }, size: axisWidth, incrs: Y_STEPS, values: (u, splits) => {
        const labels = splits.map(tick);
        const text = labels.join(' ');
        if (host.dataset.yTicks !== text) host.dataset.yTicks = text; // no mutation per redraw
        return labels;
      } }],
    series,
  };
  return new uPlot(opts, series.map(() => []), host);
}

export function createCharts({ store, live }) {
  const smoothing = el('input', { type: 'range', min: 0, max: 0.99, step: 0.01, value: 0.9,
    id: 'smoothing', 'aria-label': 'Smoothing' });
  const log = el('input', { type: 'checkbox', id: 'logscale' });
  const diagnosis = el('p', { class: 'diagnosis', 'data-testid': 'diagnosis', role: 'status',
    hidden: true });
  const hosts = el('div', { class: 'chart-list' });
  const root = el('div', { class: 'charts' },
    el('div', { class: 'chart-tools' },
      el('label', { for: 'smoothing' }, 'Smoothing'), smoothing,
      el('label', { class: 'check' }, log, ' log scale')),
    hosts);
  const marks = () => live.internals.marks.list;
  let charts = []; // [{group, host, plot, data, at, atT, smooth}]
  let builtFor = null; // the metricInfo the charts were built for

  function build() {
    charts.forEach((c) => c.plot.destroy());
    hosts.replaceChildren();
    builtFor = live.metricInfo;
    charts = chartGroups(live.metricInfo).map((group, i) => {
      const host = el('div', { class: 'chart', 'data-testid': `${group.id}-chart` });
      hosts.append(host);
      if (i === 0) hosts.append(diagnosis);
      const plot = makePlot(host, group, log.checked, i === 0 ? marks : null);
      return { group, host, plot, data: null, at: -1, atT: -Infinity, smooth: new Map(),
        width: host.clientWidth || 380 };
    });
  }

  function smoothed(chart, name, buf) {
    const alpha = Number(smoothing.value);
    let s = chart.smooth.get(name);
    if (!s || s.alpha !== alpha || s.n > buf.n || s.buf !== buf.x) {
      s = { alpha, n: 0, out: new Float32Array(buf.x.length), state: { ema: 0, k: 0 }, buf: buf.x };
      chart.smooth.set(name, s);
    }
    if (s.out.length < buf.x.length) { const o = new Float32Array(buf.x.length); o.set(s.out); s.out = o; }
    smoothInto(s.out, buf.y, buf.n, s.n, alpha, s.state);
    s.n = buf.n;
    return s.out;
  }

  /** The chart's columns: x from its first non-empty batch metric (else its evaluations),
   * min/max per bucket; evaluations land in the first slot at or past their step. */
  function columns(chart, width) {
    const ms = chart.group.metrics;
    const bufs = ms.map((m) => live.metric(m.name));
    const lead = bufs.findIndex((b, i) => ms[i].split === 'batch' && b.n);
    const base = lead >= 0 ? bufs[lead] : bufs.find((b) => b.n);
    if (!base) return null;
    const buckets = Math.max(1, Math.min(base.n, Math.floor(width)));
    const slots = 2 * buckets;
    if (!chart.data || chart.data[0].length !== slots) {
      chart.data = [new Array(slots), ...ms.map(() => new Array(slots))];
    }
    const [x] = chart.data;
    const ys = lead >= 0 ? smoothed(chart, ms[lead].name, base) : base.y;
    minMaxBuckets(base.x, ys, base.n, buckets, x, chart.data[1 + bufs.indexOf(base)]);
    ms.forEach((m, k) => {
      const buf = bufs[k]; const y = chart.data[1 + k];
      if (buf === base) return;
      y.fill(null);
      if (m.split === 'batch') { // another per-step metric: its value at each slot's step
        const sm = smoothed(chart, m.name, buf);
        let j = 0;
        for (let s = 0; s < slots; s++) {
          while (j < buf.n - 1 && buf.x[j] < x[s]) j++;
          if (buf.n && Number.isFinite(sm[j])) y[s] = sm[j];
        }
        return;
      }
      let s = 0;
      for (let j = 0; j < buf.n; j++) {
        while (s < slots - 1 && x[s] < buf.x[j]) s++;
        if (Number.isFinite(buf.y[j])) y[s] = buf.y[j];
      }
    });
    return chart.data;
  }

  /** The diagnosis's plain-language reading, under the first chart, when the run diverged. */
  function showDiagnosis(d) {
    // the counter shows the steps that trained: the one that diverged is the next
    const text = d ? `Diverged at step ${d.step}, after ${d.step - 1} steps that trained ` +
      `(first non-finite: ${d.quantity}). ${d.reading}` : '';
    if (diagnosis.textContent !== text) diagnosis.textContent = text;
    diagnosis.hidden = !d;
  }

  function draw(chart, i) {
    // the width the resize observer last saw: reading clientWidth here would force a layout
    // on every redraw, after the other views' text changed in the same frame
    const data = columns(chart, chart.width);
    const shown = i === 0 || (data && data.slice(1).some((y) => y.some((v) => v !== null)));
    if (chart.host.hidden !== !shown) chart.host.hidden = !shown;
    chart.plot.setData(data || chart.group.metrics.reduce((d) => [...d, []], [[]]));
    if (i === 0) {
      showDiagnosis(live.internals.marks.diagnosis);
      const lead = chart.group.metrics.map((m) => live.metric(m.name)).find((b) => b.n);
      store.emit('drawn', { step: lead ? lead.x[lead.n - 1] : 0 });
    }
  }

  smoothing.addEventListener('input', () => charts.forEach((c) => { c.at = -1; }));
  log.addEventListener('change', build);
  live.onFrame((now) => {
    if (builtFor !== live.metricInfo) build();
    charts.forEach((chart, i) => {
      // a chart redraws when its own series moved (an evaluations-only chart a few times a
      // second, not with every batch of steps); the first also when the marks moved
      const bufs = chart.group.metrics.map((m) => live.metric(m.name));
      const key = bufs.map((b) => `${b.n}:${b.last}`).join() + (i === 0 ? `|${live.internals.marks.version}` : '');
      const wait = i === 0 ? FIRST_MS : OTHER_MS;
      if (chart.at !== key && (chart.at === -1 || now - chart.atT >= wait)) {
        chart.at = key; chart.atT = now;
        draw(chart, i);
      }
    });
  });
  let lastW = 0;
  new ResizeObserver(() => {
    const w = hosts.clientWidth;
    if (!charts.length || Math.abs(w - lastW) < 4) return;
    lastW = w;
    charts.forEach((c) => { c.width = w; c.plot.setSize({ width: w, height: HEIGHT }); });
  }).observe(root);
  return { el: root };
}
