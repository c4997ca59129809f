// Unit tests of web/redraw-budget.js: animation frames on a fake clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRedrawBudget, frameCap } from '../../web/redraw-budget.js';

/** Feeds `n` frames `gap` ms apart from `t`; returns [the time after, redraws]. */
function frames(budget, t, n, gap) {
  let redraws = 0;
  for (let i = 0; i < n; i++) { t += gap; if (budget.frame(t)) redraws++; }
  return [t, redraws];
}

test('frames on time redraw every other frame at most (the 28 ms floor)', () => {
  const b = createRedrawBudget();
  const [, redraws] = frames(b, 0, 600, 1000 / 60); // ten seconds at 60 Hz
  assert.equal(b.interval, 28);
  assert.ok(redraws >= 290 && redraws <= 301, `${redraws} redraws`);
});

test('late frames stretch the interval up to its ceiling, and it comes back', () => {
  const b = createRedrawBudget();
  let [t] = frames(b, 0, 301, 34); // every frame late (the first starts the clock)
  assert.equal(b.interval, 100);
  [t] = frames(b, t, 30 * 5, 1000 / 60); // 2.5 s on time: 4 ms shorter per half second
  assert.equal(b.interval, 80);
  frames(b, t, 30 * 30, 1000 / 60);
  assert.equal(b.interval, 28);
});

test('a late frame now and then (within the tolerance) changes nothing', () => {
  const b = createRedrawBudget();
  let t = 0;
  for (let w = 0; w < 20; w++) {
    [t] = frames(b, t, 29, 1000 / 60);
    [t] = frames(b, t, 1, 40); // one late frame in each window of 30: 3 %
  }
  assert.equal(b.interval, 28);
});

test('the gap of a hidden tab is not lateness', () => {
  const b = createRedrawBudget({ window: 2 });
  let [t] = frames(b, 0, 2, 1000 / 60);
  t += 60_000; // hidden: no frames for a minute
  b.frame(t);
  [t] = frames(b, t, 2, 1000 / 60);
  assert.equal(b.interval, 28);
});

test('binary frames are capped near the redraw rate, not above it, and not at 30 Hz', () => {
  assert.equal(frameCap(28), null); // 35.7 redraws a second: as they come
  assert.equal(frameCap(33.3), null);
  assert.equal(frameCap(40), 25); // 25 redraws a second
  assert.equal(frameCap(45), 20); // 22.2: the step below
  assert.equal(frameCap(100), 10);
  assert.equal(frameCap(1000), 5); // the floor
});
