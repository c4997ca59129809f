/**
 * The output view's colour scales and tick choice, as TensorFlow Playground's: orange for
 * negative (class 0), grey in the middle, blue for positive (class 1); one colour per class
 * for several classes. A scale is {kind, lo, hi}: 'score' (a binary grid's score in [-1, 1]),
 * 'value' (a regression's values over [lo, hi]: the same scale colours the surface and the
 * points, so that a fitted surface matches its points) or 'classes' ({n}). Discretized, a
 * score is one of its two ends (the Playground's "discretize output"), a value one of STEPS
 * bands, a class its colour at full strength.
 * Pure: no DOM, no state. May import: nothing.
 */

export const NEG = [245, 147, 34];
export const MID = [232, 234, 235];
export const POS = [8, 119, 189];
export const CLASS_COLOURS = [[245, 147, 34], [8, 119, 189], [44, 160, 44], [214, 39, 40],
  [148, 103, 189], [140, 86, 75], [227, 119, 194], [127, 127, 127]];
export const STEPS = 8; // bands of a discretized regression surface

/** Round numbers from lo to hi (inclusive), as near `count` of them as a step of 1, 2, 2.5
 * or 5 x 10^k allows (the smaller step on a tie: -4, -2, 0, 2, 4 rather than -5, -2.5, ...). */
export function niceTicks(lo, hi, count = 5) {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi <= lo) return Number.isFinite(lo) ? [lo] : [];
  const mag = 10 ** Math.floor(Math.log10((hi - lo) / Math.max(1, count - 1)));
  let best = [];
  for (const step of [0.5, 1, 2, 2.5, 5, 10, 20].map((m) => m * mag)) {
    const ticks = ticksAt(lo, hi, step);
    if (!best.length || Math.abs(ticks.length - count) < Math.abs(best.length - count)) best = ticks;
  }
  return best;
}

function ticksAt(lo, hi, step) {
  const out = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) {
    out.push(+(k * step).toPrecision(12)); // 0.30000000000000004 -> 0.3
  }
  return out;
}

/** [lo, hi] of the finite values (null when there is none). */
export function rangeOf(values) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  }
  return lo <= hi ? [lo, hi] : null;
}

/**
 * The scale a grid (or, before any grid, a data set's points) is drawn on. A regression's is
 * its targets' range when the points are known (fixed for the set, as the Playground's), else
 * the surface's own, made symmetric about 0 when it holds 0; `targets` are the points' labels
 * or values.
 */
export function scaleFor({ mode = null, values = null, task = null, targets = null } = {}) {
  const regression = mode === 'value' || (mode == null && task === 'regression');
  if (regression) {
    const [lo, hi] = (targets && rangeOf(targets)) || (values && rangeOf(values)) || [-1, 1];
    if (lo < 0 && hi > 0) { // grey at zero, as the Playground's -1..1: orange below, blue above
      const m = Math.max(-lo, hi);
      return { kind: 'value', lo: -m, hi: m };
    }
    return { kind: 'value', lo, hi: hi > lo ? hi : lo + 1 };
  }
  if (mode === 'binary') return { kind: 'score', lo: -1, hi: 1 };
  const n = mode === 'classes' || targets ? classCount(targets) : 2;
  return n > 2 || mode === 'classes' ? { kind: 'classes', n: Math.max(n, 2) }
    : { kind: 'score', lo: -1, hi: 1 };
}

function classCount(targets) {
  let n = 0;
  for (const v of targets || []) n = Math.max(n, v + 1);
  return n;
}

function mix(a, b, t) {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/** Where v falls on the scale, from -1 (lo) to 1 (hi), clamped; discretized: its band's. */
export function position(scale, v, discrete = false) {
  const t = Math.max(0, Math.min(1, (v - scale.lo) / (scale.hi - scale.lo)));
  if (!discrete) return 2 * t - 1;
  if (scale.kind === 'score') return v >= 0 ? 1 : -1; // as the Playground's discretize
  const band = Math.min(STEPS - 1, Math.floor(t * STEPS));
  return 2 * ((band + 0.5) / STEPS) - 1;
}

/** The colour [r, g, b] of v on a score or value scale. */
export function colourOf(scale, v, discrete = false) {
  const s = position(scale, v, discrete);
  return s < 0 ? mix(MID, NEG, -s) : mix(MID, POS, s);
}

/** A class's colour, shaded towards grey by a confidence below 1 (unless discretized). */
export function classColour(k, confidence = 1, discrete = false) {
  const c = CLASS_COLOURS[k % CLASS_COLOURS.length];
  return discrete ? c : mix(MID, c, Math.max(0, Math.min(1, confidence)));
}

export function css(rgb) {
  return `rgb(${rgb.map((c) => Math.round(c)).join(', ')})`;
}

/** A CSS linear-gradient of a score or value scale from lo (left) to hi (right). */
export function gradient(scale, discrete = false) {
  if (discrete && scale.kind === 'score') {
    return `linear-gradient(to right, ${css(NEG)} 50%, ${css(POS)} 50%)`;
  }
  const n = discrete ? STEPS : 16;
  const span = scale.hi - scale.lo;
  const stops = [];
  for (let i = 0; i < n + (discrete ? 0 : 1); i++) {
    const at = (p) => `${(100 * p).toFixed(2)}%`;
    if (discrete) { // hard bands: each band's colour from its start to its end
      const c = css(colourOf(scale, scale.lo + ((i + 0.5) / n) * span, true));
      stops.push(`${c} ${at(i / n)}`, `${c} ${at((i + 1) / n)}`);
    } else {
      stops.push(`${css(colourOf(scale, scale.lo + (i / n) * span))} ${at(i / n)}`);
    }
  }
  return `linear-gradient(to right, ${stops.join(', ')})`;
}

/**
 * Colours a grid_computed frame into `data` (RGBA, R x R): its `values` and `confidence` are
 * (R, R) Float32Array views, row-major from the top-left, as the image's pixels.
 */
export function colourGrid(grid, data, scale, discrete = false) {
  const { values, confidence, mode } = grid;
  for (let i = 0, o = 0; i < values.length; i++, o += 4) {
    const c = mode === 'classes' ? classColour(values[i], confidence ? confidence[i] : 1, discrete)
      : colourOf(scale, values[i], discrete);
    data[o] = c[0];
    data[o + 1] = c[1];
    data[o + 2] = c[2];
    data[o + 3] = 255;
  }
}
