// Unit tests of the views' pure parts: pixels, the code scatter's geometry, the confusion rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fmt, maxAbs, rgba, sampleAt } from '../../web/views/draw.js';
import { scatterGeometry } from '../../web/views/scatter.js';
import { confusionRows } from '../../web/views/image-classes.js';

const shaped = (a, shape) => Object.assign(a, { shape });

test('rgba draws one channel as grey and three as RGB, channel-major', () => {
  assert.deepEqual([...rgba(Uint8Array.from([0, 200]), [1, 1, 2])], [0, 0, 0, 255, 200, 200, 200, 255]);
  assert.deepEqual([...rgba(Uint8Array.from([1, 2, 3]), [3, 1, 1])], [1, 2, 3, 255]);
});

test('sampleAt takes the i-th sample of a (K, C, H, W) array', () => {
  const images = shaped(Uint8Array.from([1, 2, 3, 4, 5, 6]), [3, 1, 1, 2]);
  assert.deepEqual([...sampleAt(images, 2)], [5, 6]);
  // a (rows, K, C, H, W) array by its sample shape: row 1's sample 0 is the third of K = 2
  const rows = shaped(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), [2, 2, 1, 1, 2]);
  assert.deepEqual([...sampleAt(rows, 2, [1, 1, 2])], [5, 6]);
});

test('scatterGeometry fits the points to the plot, y up', () => {
  const pts = shaped(Float32Array.from([0, 0, 10, 5]), [2, 2]);
  const { xs, ys, n } = scatterGeometry(pts, null, 116); // 100 px inside 8 px pads
  assert.equal(n, 2);
  assert.deepEqual([...xs], [8, 108]);
  assert.deepEqual([...ys], [108, 8]);
  // a 1-D code spreads over its labels; equal values get a span around them, not NaN
  const one = scatterGeometry(shaped(Float32Array.from([1, 1]), [2, 1]), Int32Array.from([0, 3]), 116);
  assert.ok([...one.xs, ...one.ys].every(Number.isFinite));
  assert.ok(one.ys[1] < one.ys[0]);
});

test('confusionRows gives counts, totals and shares per true class', () => {
  const rows = confusionRows(shaped(Int32Array.from([3, 1, 0, 0]), [2, 2]));
  assert.deepEqual(rows[0], { counts: [3, 1], total: 4, shares: [0.75, 0.25] });
  assert.deepEqual(rows[1].shares, [0, 0]);
});

test('fmt and maxAbs', () => {
  assert.equal(fmt(0.123456), '0.123');
  assert.equal(fmt(123456789), '1.23e+8');
  assert.equal(fmt(null), '–');
  assert.equal(maxAbs(Float32Array.from([-3, 2])), 3);
});
