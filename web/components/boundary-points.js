/**
 * The data points on the output plane, each filled with its colour on the plane's scale (a
 * class's colour; a regression target's colour on the surface's own scale, so that where the
 * surface fits, point and surface look alike) and outlined as TensorFlow Playground's: white
 * for train, dark for test, so that a point stays visible on a region of its own colour.
 * May import: nothing (colours come as a function).
 */

/** The radius, in pixels, of a point on a plane of `size` pixels. */
export function pointRadius(size) {
  return Math.max(1.5, size / 90);
}

/**
 * Draws `points` (a DatasetPoints: x [[x1, x2]], y, split) on a canvas of `size` px showing
 * `extent`; `fill(y)` is a point's CSS colour. Returns how many it drew.
 */
export function drawPoints(ctx, points, extent, size, fill, { test = true } = {}) {
  const [x0, x1, y0, y1] = extent;
  const r = pointRadius(size);
  let drawn = 0;
  ctx.lineWidth = 1;
  points.x.forEach(([a, b], i) => {
    const isTest = points.split?.[i] === 'test';
    if (!test && isTest) return;
    drawn++;
    const px = ((a - x0) / (x1 - x0)) * size;
    const py = (1 - (b - y0) / (y1 - y0)) * size;
    ctx.fillStyle = fill(points.y[i]);
    ctx.beginPath();
    ctx.arc(px, py, r, 0, 2 * Math.PI);
    ctx.fill();
    ctx.strokeStyle = isTest ? '#222' : '#fff';
    ctx.stroke();
  });
  return drawn;
}
