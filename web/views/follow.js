/**
 * How a view follows its run: it redraws from the run's latest event of a type, once per
 * animation frame at most, and only when that type's version moved.
 * May import: nothing.
 */

/** Redraws `draw(event)` when the run's latest event of `type` moved; returns the stopper. */
export function follow(run, type, draw) {
  let drawn = -1;
  const tick = () => {
    const v = run.versionOf(type);
    if (v === drawn) return;
    drawn = v;
    draw(run.latest(type));
  };
  tick();
  return run.onFrame(tick);
}
