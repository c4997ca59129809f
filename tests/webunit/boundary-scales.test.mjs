// The output view's scales (web/colour-scales.js): ticks at round numbers within the extent,
// one scale for a regression's surface and points, the Playground's discretize.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CLASS_COLOURS, MID, NEG, POS, STEPS, classColour, colourGrid, colourOf, gradient, niceTicks,
  position, rangeOf, scaleFor,
} from '../../web/colour-scales.js';

test('ticks are round numbers inside the range, about as many as asked', () => {
  assert.deepEqual(niceTicks(-5.5, 5.5, 5), [-4, -2, 0, 2, 4]);
  assert.deepEqual(niceTicks(-6, 6, 5), [-5, -2.5, 0, 2.5, 5]);
  assert.deepEqual(niceTicks(-6, 6, 7), [-6, -4, -2, 0, 2, 4, 6]);
  assert.deepEqual(niceTicks(-1, 1, 5), [-1, -0.5, 0, 0.5, 1]);
  assert.deepEqual(niceTicks(0.1, 0.4, 4), [0.1, 0.2, 0.3, 0.4]);
  assert.deepEqual(niceTicks(9.5, 12.5, 4), [10, 11, 12]);
  for (const [lo, hi] of [[-0.97, 1.13], [-3.2e4, 1e5], [1e-4, 3e-4]]) {
    const t = niceTicks(lo, hi, 5);
    assert.ok(t.length >= 3 && t.length <= 8, `${lo}..${hi}: ${t}`);
    assert.ok(t.every((v) => v >= lo && v <= hi), `${lo}..${hi}: ${t}`);
  }
  assert.deepEqual(niceTicks(2, 2), [2]);
  assert.deepEqual(niceTicks(NaN, 1), []);
});

test('a range skips what is not finite', () => {
  assert.deepEqual(rangeOf([3, NaN, -1, Infinity, 2]), [-1, 3]);
  assert.equal(rangeOf([NaN]), null);
});

test('a grid mode, or a data set before any grid, gives its scale', () => {
  assert.deepEqual(scaleFor({ mode: 'binary' }), { kind: 'score', lo: -1, hi: 1 });
  assert.deepEqual(scaleFor({ mode: 'classes', targets: [0, 1, 2] }), { kind: 'classes', n: 3 });
  assert.deepEqual(scaleFor({ task: 'classification', targets: [0, 1, 1] }).kind, 'score');
  assert.deepEqual(scaleFor({ task: 'classification', targets: [0, 4] }), { kind: 'classes', n: 5 });
  // regression: the targets' range, whatever the surface does (one scale for both)
  assert.deepEqual(scaleFor({ mode: 'value', values: [-9, 9], targets: [-0.8, 1.2] }),
    { kind: 'value', lo: -1.2, hi: 1.2 }); // symmetric about 0: grey means zero
  assert.deepEqual(scaleFor({ mode: 'value', targets: [0.2, 0.8] }), { kind: 'value', lo: 0.2, hi: 0.8 });
  assert.deepEqual(scaleFor({ mode: 'value', values: [0, 4] }), { kind: 'value', lo: 0, hi: 4 });
  assert.deepEqual(scaleFor({ task: 'regression', targets: [0.5, 0.5] }),
    { kind: 'value', lo: 0.5, hi: 1.5 });
});

test('ends, middle and clamping of a scale; a point and the surface at one value agree', () => {
  const s = { kind: 'value', lo: 0, hi: 4 };
  assert.deepEqual(colourOf(s, 0), NEG);
  assert.deepEqual(colourOf(s, 2), MID);
  assert.deepEqual(colourOf(s, 4), POS);
  assert.deepEqual(colourOf(s, 99), POS);
  assert.deepEqual(colourOf(s, -99), NEG);
  const grid = { mode: 'value', values: new Float32Array([1, 3]) };
  const data = new Uint8ClampedArray(8);
  colourGrid(grid, data, s);
  colourOf(s, 1).forEach((c, i) => assert.ok(Math.abs(data[i] - c) <= 0.5, `${data[i]} ${c}`));
  assert.equal(data[7], 255);
});

test('discretized: a score is one of its ends, a value one of STEPS bands, a class full', () => {
  const score = { kind: 'score', lo: -1, hi: 1 };
  assert.deepEqual(colourOf(score, 0.01, true), POS);
  assert.deepEqual(colourOf(score, -0.3, true), NEG);
  const value = { kind: 'value', lo: 0, hi: 1 };
  const bands = new Set();
  for (let v = 0; v <= 1; v += 0.001) bands.add(position(value, v, true));
  assert.equal(bands.size, STEPS);
  assert.deepEqual(classColour(2, 0.4, true), CLASS_COLOURS[2]);
  assert.notDeepEqual(classColour(2, 0.4), CLASS_COLOURS[2]);
  const grid = { mode: 'classes', values: new Float32Array([1]), confidence: new Float32Array([0.5]) };
  const data = new Uint8ClampedArray(4);
  colourGrid(grid, data, { kind: 'classes', n: 3 }, true);
  assert.deepEqual([...data.slice(0, 3)], CLASS_COLOURS[1]);
});

test('the legend gradient: smooth, or hard bands when discretized', () => {
  const value = { kind: 'value', lo: -1, hi: 1 };
  assert.match(gradient(value), /^linear-gradient\(to right, rgb\(245, 147, 34\) 0\.00%/);
  assert.match(gradient(value), /rgb\(8, 119, 189\) 100\.00%\)$/);
  assert.equal(gradient(value, true).split('rgb').length - 1, 2 * STEPS);
  assert.equal(gradient({ kind: 'score', lo: -1, hi: 1 }, true),
    'linear-gradient(to right, rgb(245, 147, 34) 50%, rgb(8, 119, 189) 50%)');
});
