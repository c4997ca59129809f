/**
 * A run's internals, gathered from its probe events into bounded typed arrays: per-layer
 * gradient norms and update-to-weight ratios, percentile bands of every histogrammed tensor
 * (weights, gradients, activations), dead/saturated fractions, curvature, the telemetry share,
 * and the warnings and divergence diagnosis pinned on the loss chart. live.js feeds it the
 * events (`handlers`) and clears it with the run; panels read it once per frame and redraw
 * only when a section's `version` moved. Nothing here draws.
 * May import: nothing.
 */

// A series past CAP slots merges its slots in pairs and from then on puts twice as many new
// samples in each (TensorBoard's bounded retention, without the randomness): memory stays
// fixed however long the run, and the whole run stays in view at an even resolution. Each slot
// keeps its newest sample (`x`, `ys`) and the minimum and maximum of all it merged (`lo`,
// `hi`), so that a one-step spike, an exploding gradient above all, survives any decimation.
const CAP = 1024;
const HIST_CAP = 512;
const MAX_MARKS = 64;
// TensorBoard's distribution bands: min, ±1.5σ, ±1σ, ±0.5σ and the median of a normal
export const PERCENTILES = [0, 6.68, 15.87, 30.85, 50, 69.15, 84.13, 93.32, 100];

// NaN (a diverged step) never hides the finite extreme beside it
const larger = (a, b) => (b > a || Number.isNaN(a) ? b : a);
const smaller = (a, b) => (b < a || Number.isNaN(a) ? b : a);

/** Steps and `rows` values per step, e.g. one row per layer. */
export class Table {
  constructor(rows, cap = CAP) {
    this.cap = cap;
    this.x = new Float64Array(cap);
    const rowsOf = () => Array.from({ length: rows }, () => new Float32Array(cap));
    this.ys = rowsOf();
    this.lo = rowsOf();
    this.hi = rowsOf();
    this.n = 0;
    this.stride = 1; // samples per slot
    this.fill = 0; // samples in the newest slot while it is still open
  }

  /** Adds a sample; `values(r)` gives row r's value. */
  push(x, values) {
    if (this.fill === 0 && this.n === this.cap) this.#halve();
    const i = this.fill === 0 ? this.n++ : this.n - 1;
    this.x[i] = x;
    this.ys.forEach((y, r) => {
      const v = values(r);
      y[i] = v;
      this.lo[r][i] = this.fill === 0 ? v : smaller(this.lo[r][i], v);
      this.hi[r][i] = this.fill === 0 ? v : larger(this.hi[r][i], v);
    });
    this.fill = (this.fill + 1) % this.stride;
  }

  #halve() {
    for (let i = 0; i < this.n / 2; i++) {
      const [a, b] = [2 * i, 2 * i + 1];
      this.x[i] = this.x[b];
      this.ys.forEach((y, r) => {
        y[i] = y[b];
        this.lo[r][i] = smaller(this.lo[r][a], this.lo[r][b]);
        this.hi[r][i] = larger(this.hi[r][a], this.hi[r][b]);
      });
    }
    this.n = Math.floor(this.n / 2);
    this.stride *= 2;
  }

  get last() { return this.n ? this.x[this.n - 1] : -Infinity; }
}

/** Percentiles of a histogram {lo, hi, counts}, linear within each bin. */
export function percentiles(h, ps = PERCENTILES) {
  const total = h.counts.reduce((a, b) => a + b, 0);
  const width = (h.hi - h.lo) / h.counts.length;
  const out = new Array(ps.length).fill(NaN);
  if (!total) return out;
  let bin = 0;
  let below = 0; // counts in bins before `bin`
  ps.forEach((p, k) => {
    const want = (p / 100) * total;
    // empty bins hold no percentile: skip them (so the minimum is the first filled bin's edge)
    while (bin < h.counts.length - 1 && (below + h.counts[bin] < want || !h.counts[bin])) {
      below += h.counts[bin++];
    }
    const inside = h.counts[bin] ? Math.min(1, Math.max(0, (want - below) / h.counts[bin])) : 0;
    out[k] = h.lo + (bin + inside) * width;
  });
  return out;
}

/** Layer names in first-seen order and, per layer, the indices of its parameters. */
function groupLayers(layers) {
  const names = [];
  const members = new Map();
  layers.forEach((layer, i) => {
    if (!members.has(layer)) { members.set(layer, []); names.push(layer); }
    members.get(layer).push(i);
  });
  return { names, members: names.map((n) => members.get(n)) };
}

export function createInternals() {
  const self = {
    // per layer: gradient L2 norm per sampled step; ‖Δw‖/‖w‖ at each flush
    norms: { version: 0, layers: [], grad: null, update: null, key: '' },
    // per tensor 'weights:dense1.weight' | 'gradients:…' | 'activations:act1': percentile rows
    hists: { version: 0, tables: new Map(), sampled: new Set() },
    // per activation node: dead (ReLU) or saturated (sigmoid/tanh) fraction
    acts: { version: 0, nodes: [], kinds: [], table: null, key: '' },
    curvature: { version: 0, table: new Table(3), last: null },
    telemetry: { version: 0, last: null },
    // warnings and the failure, for the loss chart: [{step, kind, label, message}]
    marks: { version: 0, list: [], diagnosis: null },
  };

  function clear() {
    Object.assign(self.norms, { layers: [], grad: null, update: null, key: '' });
    self.hists.tables.clear(); self.hists.sampled.clear();
    Object.assign(self.acts, { nodes: [], kinds: [], table: null, key: '' });
    Object.assign(self.curvature, { table: new Table(3), last: null });
    self.telemetry.last = null;
    Object.assign(self.marks, { list: [], diagnosis: null });
    for (const part of Object.values(self)) if (part.version !== undefined) part.version++;
  }

  function norms(e) {
    const n = self.norms;
    const key = e.layers.join();
    const { names, members } = groupLayers(e.layers);
    if (key !== n.key) { // a new run or model: new tables
      Object.assign(n, { key, layers: names, grad: new Table(names.length),
        update: new Table(names.length) });
    }
    const g = e.grad_norm;
    e.steps.forEach((s, j) => {
      if (s <= n.grad.last) return; // replayed after a reconnect
      // a layer's norm over all its tensors: sqrt of the sum of squares
      n.grad.push(s, (r) => Math.hypot(...members[r].map((i) => g[i][j])));
    });
    if (e.update_ratio && e.weight_norm && e.step > n.update.last) {
      const w = e.weight_norm;
      const u = e.update_ratio;
      n.update.push(e.step, (r) => {
        const m = members[r];
        return Math.hypot(...m.map((i) => u[i] * w[i])) / Math.hypot(...m.map((i) => w[i]));
      });
    }
    n.version++;
  }

  function addHist(kind, h, step) {
    const key = `${kind}:${h.name}`;
    const tables = self.hists.tables;
    if (!tables.has(key)) tables.set(key, new Table(PERCENTILES.length, HIST_CAP));
    const t = tables.get(key);
    if (step <= t.last) return;
    const ps = percentiles(h);
    t.push(step, (r) => ps[r]);
    if (h.sampled) self.hists.sampled.add(key);
  }

  function histograms(e) {
    e.weights.forEach((h) => addHist('weights', h, e.step));
    e.grads.forEach((h) => addHist('gradients', h, e.step));
    self.hists.version++;
  }

  function activations(e) {
    e.layers.forEach((l) => addHist('activations', { ...l.hist, name: l.node }, e.step));
    self.hists.version++;
    const a = self.acts;
    const watched = e.layers.filter((l) => l.dead_fraction != null || l.saturated_fraction != null);
    const key = watched.map((l) => l.node).join();
    if (key !== a.key) {
      Object.assign(a, { key, nodes: watched.map((l) => l.node), table: new Table(watched.length),
        kinds: watched.map((l) => (l.dead_fraction != null ? 'dead' : 'saturated')) });
    }
    if (e.step <= a.table.last) return;
    a.table.push(e.step, (r) => watched[r].dead_fraction ?? watched[r].saturated_fraction);
    a.version++;
  }

  function curvature(e) {
    const c = self.curvature;
    if (e.step > c.table.last) c.table.push(e.step, (r) => [e.lambda_max, e.stable_lr ?? NaN, e.lr][r]);
    c.last = e;
    c.version++;
  }

  function mark(m) {
    const list = self.marks.list;
    if (list.some((o) => o.step === m.step && o.kind === m.kind)) return; // replayed
    if (list.length >= MAX_MARKS) list.splice(0, 1);
    list.push(m);
    self.marks.version++;
  }

  const LABELS = { exploding: 'exploding', vanishing: 'vanishing', unstable_lr: 'lr > 2/λ' };
  self.handlers = {
    norms_sampled: norms,
    histograms_sampled: histograms,
    activations_sampled: activations,
    curvature_estimated: curvature,
    telemetry_share: (e) => { self.telemetry.last = e; self.telemetry.version++; },
    warning: (e) => mark({ step: e.step, kind: e.kind, label: LABELS[e.kind] || e.kind,
      message: e.message }),
    run_failed: (e) => {
      const d = e.diagnosis;
      self.marks.diagnosis = d || null;
      const step = d?.step ?? e.began_at_step ?? e.step;
      mark({ step, kind: 'failed', label: d ? 'diverged' : 'failed', message: d?.reading || e.reason });
    },
  };
  self.clear = clear;
  return self;
}
