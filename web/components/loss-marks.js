/**
 * Warnings and the divergence pinned on the loss chart: a uPlot plugin that draws a vertical
 * line and a short label at each mark's step (live.internals.marks), and widens the x scale
 * so that a failure one step past the last loss still shows. The host element lists the marks
 * drawn in `data-marks` ("10:unstable_lr 71:failed"), for the browser tests.
 * May import: nothing.
 */

const COLORS = { failed: '#c62828', exploding: '#d84315', vanishing: '#6a1b9a', unstable_lr: '#b25e00' };
const LABEL_PX = 11;

/** The plugin; `marks()` returns the current [{step, kind, label}]. */
export function marksPlugin(marks, host) {
  function draw(u) {
    const list = marks();
    const { ctx, bbox } = u;
    const dpr = devicePixelRatio;
    ctx.save();
    ctx.font = `${LABEL_PX * dpr}px system-ui, sans-serif`;
    ctx.textBaseline = 'top';
    ctx.textAlign = 'left'; // uPlot leaves its y axis's 'right' on the context
    const rows = []; // label x extents per row, to stack labels that would overlap
    const drawn = [];
    for (const m of list) {
      const x = Math.round(u.valToPos(m.step, 'x', true));
      if (!(x >= bbox.left - 1 && x <= bbox.left + bbox.width + 1)) continue;
      const color = COLORS[m.kind] || '#555';
      ctx.strokeStyle = color;
      ctx.lineWidth = (m.kind === 'failed' ? 2 : 1) * dpr;
      ctx.setLineDash(m.kind === 'failed' ? [] : [4 * dpr, 3 * dpr]);
      ctx.beginPath(); ctx.moveTo(x, bbox.top); ctx.lineTo(x, bbox.top + bbox.height); ctx.stroke();
      const text = `${m.label} @${m.step}`;
      const w = ctx.measureText(text).width + 6 * dpr;
      // right of the line, or left of it near the right edge
      const left = x + w > bbox.left + bbox.width ? x - w : x + 3 * dpr;
      let row = rows.findIndex((end) => end < left);
      if (row === -1) { rows.push(0); row = rows.length - 1; }
      rows[row] = left + w;
      ctx.fillStyle = color;
      ctx.fillText(text, left, bbox.top + (2 + row * (LABEL_PX + 2)) * dpr);
      drawn.push(`${m.step}:${m.kind}`);
    }
    ctx.restore();
    host.dataset.marks = drawn.join(' ');
  }
  return { hooks: { draw } };
}

/** An x range that holds the data and every mark. */
export function rangeWithMarks(marks) {
  return (u, min, max) => {
    let hi = max;
    let lo = min;
    for (const m of marks()) { hi = Math.max(hi ?? m.step, m.step); lo = Math.min(lo ?? m.step, m.step); }
    if (lo == null || hi == null) return [0, 1];
    return lo === hi ? [lo - 1, hi + 1] : [lo, hi];
  };
}
