/**
 * The uPlot chart the internals panels share: one line per row of a Table (internals-buffers.js),
 * coloured by depth on a sequential scale, on a linear or log y axis, with optional horizontal
 * guides and shaded bands. Data is thinned to about one point per pixel into arrays reused from
 * draw to draw (with `peaks`, each pixel shows the largest value it covers, from the Table's
 * per-slot maxima, so that spikes survive; otherwise its newest); the chart is rebuilt only
 * when its series change. The host element carries
 * `data-series`, `data-points` and `data-last` (the newest step) after each draw (what the browser tests read).
 * May import: uplot.
 */
import uPlot from 'uplot';

// viridis from its dark end to just before the yellow that vanishes on white
const STOPS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [170, 220, 50]];

/** The colour of layer i of n: dark for the first (shallow), light green for the last. */
export function depthColor(i, n) {
  const t = n > 1 ? i / (n - 1) : 0;
  const f = t * (STOPS.length - 1);
  const k = Math.min(STOPS.length - 2, Math.floor(f));
  const mix = (a, b) => Math.round(a + (b - a) * (f - k));
  const [r, g, b] = STOPS[k].map((v, j) => mix(v, STOPS[k + 1][j]));
  return `rgb(${r}, ${g}, ${b})`;
}

/** A log axis label: 1e-4 rather than uPlot's rounded 0. */
const tick = (v) => (v == null ? '' : v >= 0.01 && v < 1e4 ? String(+v.toPrecision(2)) : v.toExponential(0));

/** Dashed horizontal lines at `guides` [{y, label}]: rules of thumb, not data. */
function guidePlugin(guides) {
  return {
    hooks: {
      draw: (u) => {
        const { ctx, bbox } = u;
        ctx.save();
        ctx.strokeStyle = 'rgba(31, 41, 51, 0.35)';
        ctx.fillStyle = 'rgba(31, 41, 51, 0.55)';
        ctx.setLineDash([4, 4]);
        ctx.font = `${10 * devicePixelRatio}px system-ui, sans-serif`;
        for (const g of guides) {
          const y = u.valToPos(g.y, 'y', true);
          if (!(y >= bbox.top && y <= bbox.top + bbox.height)) continue;
          ctx.beginPath(); ctx.moveTo(bbox.left, y); ctx.lineTo(bbox.left + bbox.width, y); ctx.stroke();
          ctx.textAlign = 'right'; // clear of the axis ticks on the left
          ctx.fillText(g.label, bbox.left + bbox.width - 4, y - 3);
        }
        ctx.restore();
      },
    },
  };
}

/**
 * A chart in `host`: `draw(table, series)` with series [{label, color, width?, dash?}] one per
 * table row (`rows` picks rows, default all); `bands` [[upper, lower, fill]] by series index.
 */
export function createPlot(host, { log = false, yRange = null, guides = [], height = 150,
  bands = [], legend = true, peaks = false } = {}) {
  let chart = null;
  let key = null; // the series the chart was built for
  const data = [[]];

  function build(series) {
    chart?.destroy();
    const opts = {
      width: host.clientWidth || 360, height,
      cursor: { drag: { x: false, y: false }, points: { size: 5 } },
      legend: { show: legend, live: false },
      scales: { x: { time: false }, y: log ? { distr: 3 } : { range: yRange || undefined } },
      axes: [{ grid: { stroke: '#eef1f4' }, size: 28, font: '10px system-ui' },
        { grid: { stroke: '#eef1f4' }, size: 48, font: '10px system-ui',
          values: log ? (u, splits) => splits.map(tick) : undefined }],
      series: [{ label: 'step' }, ...series.map((s) => ({ label: s.label, stroke: s.color,
        width: s.width ?? 1.4, dash: s.dash, fill: s.fill, spanGaps: true,
        // uPlot's default draws dots only where samples are sparse (a lone sample is one)
        points: s.width === 0 ? { show: false } : undefined }))],
      bands: bands.map(([a, b, fill]) => ({ series: [a, b], fill })),
      plugins: guides.length ? [guidePlugin(guides)] : [],
    };
    data.length = series.length + 1;
    for (let k = 0; k < data.length; k++) data[k] = [];
    chart = new uPlot(opts, data, host);
  }

  /** Row r's value for a pixel covering slots i0..i1: their peak, or the newest sample. */
  function pixelValue(table, r, i0, i1) {
    if (!peaks) return table.ys[r][i1];
    let v = -Infinity;
    for (let i = i0; i <= i1; i++) if (table.hi[r][i] > v) v = table.hi[r][i];
    return v === -Infinity ? table.ys[r][i1] : v;
  }

  /** Copies about one point per pixel, the last sample always; gaps where log can't go. */
  function thin(table, rows) {
    const n = table.n;
    const count = Math.max(0, Math.min(n, Math.floor(host.clientWidth || 360)));
    for (let k = 0; k < data.length; k++) data[k].length = count;
    let i0 = 0;
    for (let b = 0; b < count; b++) {
      const i = Math.min(n - 1, Math.floor(((b + 1) * n) / count) - 1);
      data[0][b] = table.x[i];
      rows.forEach((r, k) => {
        const v = pixelValue(table, r, i0, i);
        data[k + 1][b] = Number.isFinite(v) && (!log || v > 0) ? v : null;
      });
      i0 = i + 1;
    }
  }

  return {
    draw(table, series, rows = series.map((_, r) => r)) {
      const next = series.map((s) => `${s.label}/${s.color}`).join();
      if (next !== key) { key = next; build(series); }
      if (!table || !table.n) chart.setData(data.map(() => []));
      else { thin(table, rows); chart.setData(data); }
      host.dataset.series = String(series.length);
      host.dataset.points = String(table ? table.n : 0);
      host.dataset.last = String(table && table.n ? table.last : -1);
    },
    resize(width) { chart?.setSize({ width, height }); },
    get built() { return chart !== null; },
  };
}
