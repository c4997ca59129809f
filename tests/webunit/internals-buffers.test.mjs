// Unit tests of web/internals-buffers.js: percentiles of histograms and the bounded Table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { percentiles, PERCENTILES, Table } from '../../web/internals-buffers.js';

test('percentiles are linear within bins and skip empty bins', () => {
  const [p0, p50, p100] = percentiles({ lo: 0, hi: 4, counts: [1, 1, 1, 1] }, [0, 50, 100]);
  assert.equal(p0, 0);
  assert.equal(p50, 2);
  assert.equal(p100, 4);
  // the minimum is the first filled bin's lower edge
  assert.deepEqual(percentiles({ lo: 0, hi: 4, counts: [0, 0, 2, 0] }, [0, 50, 100]), [2, 2.5, 3]);
  assert.equal(percentiles({ lo: 0, hi: 1, counts: [1] }).length, PERCENTILES.length);
  assert.ok(percentiles({ lo: 0, hi: 1, counts: [0, 0] }, [50]).every(Number.isNaN));
});

test('Table keeps samples until its cap, then halves and keeps min and max', () => {
  const t = new Table(1, 4);
  assert.equal(t.last, -Infinity);
  [1, 5, 2, 3].forEach((v, i) => t.push(i, () => v));
  assert.equal(t.n, 4);
  assert.equal(t.last, 3);
  t.push(4, () => 0); // full: slots merge in pairs, stride 2
  assert.equal(t.stride, 2);
  assert.equal(t.n, 3);
  assert.deepEqual([...t.x.slice(0, 3)], [1, 3, 4]);
  assert.deepEqual([...t.lo[0].slice(0, 2)], [1, 2]);
  assert.deepEqual([...t.hi[0].slice(0, 2)], [5, 3]);
  t.push(5, () => 9); // same open slot as step 4
  assert.equal(t.n, 3);
  assert.equal(t.last, 5);
  assert.equal(t.lo[0][2], 0);
  assert.equal(t.hi[0][2], 9);
});

test('a NaN does not hide the finite extreme beside it', () => {
  const t = new Table(1, 2);
  t.push(0, () => NaN);
  t.push(1, () => 7);
  t.push(2, () => 1); // halves: slot 0 merges NaN and 7
  assert.equal(t.hi[0][0], 7);
  assert.equal(t.lo[0][0], 7);
});
