/**
 * Small drawing helpers the views share: sample images from uint8 (C, H, W) pixels, bar strips
 * of feature vectors, label colours, and an element maker. Images are drawn at their own size
 * and scaled up by CSS (`image-rendering: pixelated`, views.css), so a redraw is one putImageData.
 * May import: nothing.
 */

// the category colours of TensorFlow Playground and d3's category10, one per label
export const LABEL_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b',
  '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export function labelColor(label) {
  return label == null || label < 0 ? '#555' : LABEL_COLORS[label % LABEL_COLORS.length];
}

/** An element with attributes and children (strings become text). */
export function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v == null) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  e.append(...children.filter((c) => c != null));
  return e;
}

/**
 * RGBA pixels of one sample: `pixels` holds C*H*W uint8 values (channel-major, as the
 * engine's (C, H, W)); one channel is greyscale, three are RGB, others show their first.
 */
export function rgba(pixels, [c, hgt, w], out = new Uint8ClampedArray(hgt * w * 4)) {
  const plane = hgt * w;
  for (let i = 0; i < plane; i++) {
    const o = i * 4;
    const r = pixels[i];
    out[o] = r;
    out[o + 1] = c === 3 ? pixels[plane + i] : r;
    out[o + 2] = c === 3 ? pixels[2 * plane + i] : r;
    out[o + 3] = 255;
  }
  return out;
}

/** A canvas of the sample's own size (CSS scales it); `draw(pixels)` repaints it. */
export function sampleCanvas(shape, attrs = {}) {
  const [, hgt, w] = shape;
  const canvas = h('canvas', { width: w, height: hgt, class: 'sample', ...attrs });
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(w, hgt);
  return {
    canvas,
    draw(pixels) {
      rgba(pixels, shape, img.data);
      ctx.putImageData(img, 0, 0);
    },
  };
}

/** The i-th sample's pixels of a (K, C, H, W) array, or of any array of samples of `shape`
 * (a (rows, K, C, H, W) array's i-th is row i // K's sample i % K). */
export function sampleAt(images, i, shape = images.shape.slice(1)) {
  const size = shape.reduce((a, b) => a * b, 1);
  return images.subarray(i * size, (i + 1) * size);
}

/** A bar strip of one feature vector (non-image samples): bars up for positive values,
 * down for negative, on the scale `scale` (the largest |value| of what is compared). */
export function drawBars(canvas, values, scale) {
  const ctx = canvas.getContext('2d');
  const { width: w, height: hgt } = canvas;
  ctx.clearRect(0, 0, w, hgt);
  ctx.fillStyle = '#f4f6f8';
  ctx.fillRect(0, 0, w, hgt);
  const bw = w / Math.max(1, values.length);
  const mid = hgt / 2;
  values.forEach((v, i) => {
    const len = (Math.abs(v) / (scale || 1)) * (mid - 1);
    ctx.fillStyle = v < 0 ? '#f59322' : '#0877bd';
    ctx.fillRect(i * bw + 0.5, v < 0 ? mid : mid - len, Math.max(1, bw - 1), len);
  });
}

/** The largest |value| of a typed array (at least a tiny positive number). */
export function maxAbs(values) {
  let m = 1e-12;
  for (const v of values) m = Math.max(m, Math.abs(v));
  return m;
}

/** A number as people read it: 3 significant digits, exponent notation when tiny or huge. */
export function fmt(v, digits = 3) {
  if (v == null || Number.isNaN(v)) return '–';
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : String(Number(v.toPrecision(digits)));
}
