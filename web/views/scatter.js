/**
 * Canvas drawings of a code: a scatter of (N, D) points (D = 1 or 2) coloured by label, and
 * per-unit bars. Pure geometry (scatterGeometry) is apart from the drawing, for unit tests.
 * May import: views/draw.js.
 */
import { labelColor } from './draw.js';

const PAD = 8;

/** Each point's pixel position on a size x size plot, fitted to the points' extent. A 1-D
 * code spreads its points over the label (or one line) on the vertical axis. */
export function scatterGeometry(points, labels, size) {
  const [n, d] = points.shape;
  const xs = new Float32Array(n);
  const ys = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = points[i * d];
    ys[i] = d > 1 ? points[i * d + 1] : (labels ? labels[i] : 0) + 0.6 * (((i * 0.618) % 1) - 0.5);
  }
  const span = (a) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of a) if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    return lo > hi ? [0, 1] : lo === hi ? [lo - 1, hi + 1] : [lo, hi];
  };
  const [x0, x1] = span(xs);
  const [y0, y1] = span(ys);
  const inner = size - 2 * PAD;
  for (let i = 0; i < n; i++) {
    xs[i] = PAD + ((xs[i] - x0) / (x1 - x0)) * inner;
    ys[i] = PAD + (1 - (ys[i] - y0) / (y1 - y0)) * inner;
  }
  return { xs, ys, n };
}

/** Draws the scatter; returns how many finite points it drew. */
export function drawScatter(canvas, points, labels) {
  const ctx = canvas.getContext('2d');
  const size = canvas.width;
  ctx.fillStyle = '#fafbfc';
  ctx.fillRect(0, 0, size, canvas.height);
  ctx.strokeStyle = '#d0d5da';
  ctx.strokeRect(0.5, 0.5, size - 1, canvas.height - 1);
  const { xs, ys, n } = scatterGeometry(points, labels, size);
  let drawn = 0;
  ctx.globalAlpha = 0.8;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(xs[i]) || !Number.isFinite(ys[i])) continue;
    ctx.fillStyle = labelColor(labels ? labels[i] : null);
    ctx.fillRect(xs[i] - 1.5, ys[i] - 1.5, 3, 3);
    drawn++;
  }
  ctx.globalAlpha = 1;
  return drawn;
}

/** One bar pair per unit: mean |h| (dark, scaled to the largest) and active share (light, 0..1). */
export function drawUnitBars(canvas, meanAbs, active) {
  const ctx = canvas.getContext('2d');
  const { width: w, height: hgt } = canvas;
  ctx.clearRect(0, 0, w, hgt);
  let top = 1e-12;
  for (const v of meanAbs) top = Math.max(top, v);
  const bw = w / Math.max(1, meanAbs.length);
  for (let i = 0; i < meanAbs.length; i++) {
    const a = active[i] * (hgt - 2);
    ctx.fillStyle = '#b9d7ec';
    ctx.fillRect(i * bw, hgt - a, Math.max(1, bw - 1), a);
    const m = (meanAbs[i] / top) * (hgt - 2);
    ctx.fillStyle = '#0877bd';
    ctx.fillRect(i * bw + bw * 0.25, hgt - m, Math.max(1, bw * 0.5 - 1), m);
  }
}
