/**
 * Heatmaps of units over the input plane (TensorFlow Playground's pictures on each neuron),
 * from a neuron_maps_computed event, painted straight into small canvases (no PNG encoding:
 * at 20+ maps a second on 50 units that would cost more than the drawing). Colours as the
 * boundary's: orange negative, blue positive.
 * May import: nothing.
 */

const NEG = [245, 147, 34];
const MID = [232, 234, 235];
const POS = [8, 119, 189];

/** {node: [{unit, values}]} of a neuron_maps_computed event (values: Float32Array views). */
export function mapsByNode(event) {
  const out = {};
  event?.nodes.forEach((node, i) => {
    (out[node] ??= []).push({ unit: event.units[i], values: event.values[i] });
  });
  return out;
}

/** The scale a node's maps are drawn on: its largest magnitude, at least 1, so that tanh
 * units read on their own [-1, 1] scale and ReLU units keep their relative strength. */
export function nodeScale(maps) {
  let scale = 1;
  for (const m of maps) for (const v of m.values) if (Math.abs(v) > scale) scale = Math.abs(v);
  return scale;
}

/** The smallest and largest value of one map. */
export function valueRange(values) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
  return [lo, hi];
}

/** Paints one R x R map (row-major from the top-left) into `canvas`, divided by `scale`. */
export function paintMap(canvas, values, resolution, scale) {
  if (canvas.width !== resolution) { canvas.width = resolution; canvas.height = resolution; }
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(resolution, resolution);
  const d = img.data;
  for (let i = 0, o = 0; i < resolution * resolution; i++, o += 4) {
    const t = values[i] / scale;
    const end = t < 0 ? NEG : POS;
    const f = Math.min(1, Math.abs(t));
    d[o] = MID[0] + (end[0] - MID[0]) * f;
    d[o + 1] = MID[1] + (end[1] - MID[1]) * f;
    d[o + 2] = MID[2] + (end[2] - MID[2]) * f;
    d[o + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}
