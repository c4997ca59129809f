/**
 * How often the page's views redraw: every `minMs` at most (30 Hz) while animation frames
 * come on time, less often while they come late, down to every `maxMs`. A late frame means
 * the machine has no time to spare (other pages, training beside the browser, a slow
 * renderer): drawing less keeps the page's own frames (scrolling, hovering, dragging,
 * typing) smooth, and the views catch up with the newest state at each redraw, as nothing
 * is drawn per event. Judged every `window` frames (half a second at 60 Hz): more than
 * `tolerance` of them late stretches the interval by a quarter; none late shortens it by
 * `stepMs`, so that a passing load (a panel opening, a GC) costs a few seconds at most.
 * frameCap: the binary frames a second a page redrawing so often asks its stream for.
 * Pure: no DOM. May import: nothing.
 */
// a gap this long is a pause (a hidden tab gets no frames), not lateness
const PAUSE_MS = 1000;

// binary frames a second to ask for below 30 redraws a second: a few steps, so that a
// budget moving by 4 ms does not resubscribe every half second
const CAPS = [25, 20, 15, 12, 10, 8, 5];

/** The cap on binary frames (per second) for views redrawn every `intervalMs`; null (none)
 * at 30 redraws a second or more, as the engine sends them at most about that often. */
export function frameCap(intervalMs) {
  const rate = 1000 / intervalMs;
  return rate >= 30 ? null : CAPS.find((hz) => hz <= rate) ?? CAPS.at(-1);
}

export function createRedrawBudget({ minMs = 28, maxMs = 100, lateMs = 25, window = 30,
  tolerance = 0.05, stepMs = 4 } = {}) {
  let interval = minMs;
  let last = null; // the previous frame's time
  let frames = 0; let late = 0; // in the window so far
  let ranAt = -Infinity;
  function judge() {
    const share = late / frames;
    if (share > tolerance) interval = Math.min(maxMs, interval * 1.25);
    else if (late === 0) interval = Math.max(minMs, interval - stepMs);
    frames = 0; late = 0;
  }
  return {
    /** The milliseconds between redraws now. */
    get interval() { return interval; },
    /** Called on each animation frame with its time (ms): true when the views redraw now. */
    frame(now) {
      if (last !== null && now - last < PAUSE_MS) {
        frames++;
        if (now - last > lateMs) late++;
        if (frames >= window) judge();
      }
      last = now;
      if (now - ranAt < interval) return false;
      ranAt = now;
      return true;
    },
  };
}
