/**
 * Small heatmaps of hidden units over the input plane (TensorFlow Playground's pictures on
 * each neuron), from a neuron_maps_computed event: one image per unit, as a data URL an SVG
 * <image> can show. Colours as the boundary's: orange negative, blue positive.
 * May import: nothing.
 */

const NEG = [245, 147, 34];
const MID = [232, 234, 235];
const POS = [8, 119, 189];

const mix = (a, b, t) => a.map((v, i) => v + (b[i] - v) * t);

/** {node: [{unit, values}]} of a neuron_maps_computed event (values: Float32Array views). */
export function mapsByNode(event) {
  const out = {};
  event?.nodes.forEach((node, i) => {
    (out[node] ??= []).push({ unit: event.units[i], values: event.values[i] });
  });
  return out;
}

/**
 * Data URLs of one node's unit maps, each R x R. Values are scaled by the node's largest
 * magnitude (at least 1), so that tanh units read on their own [-1, 1] scale and ReLU units
 * keep their relative strength.
 */
export function mapImages(maps, resolution) {
  let scale = 1;
  for (const m of maps) for (const v of m.values) scale = Math.max(scale, Math.abs(v));
  const canvas = document.createElement('canvas');
  canvas.width = resolution;
  canvas.height = resolution;
  const ctx = canvas.getContext('2d');
  return maps.map((m) => {
    const img = ctx.createImageData(resolution, resolution);
    for (let i = 0; i < resolution * resolution; i++) {
      const t = m.values[i] / scale;
      const [r, g, b] = t < 0 ? mix(MID, NEG, Math.min(1, -t)) : mix(MID, POS, Math.min(1, t));
      img.data.set([r, g, b, 255], i * 4);
    }
    ctx.putImageData(img, 0, 0);
    return canvas.toDataURL();
  });
}
