// Readable numbers (web/numbers.js): a diverged loss fits its box and still parses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readable, tick } from '../../web/numbers.js';

test('huge and tiny readouts go scientific; ordinary ones keep three decimals', () => {
  assert.equal(readable(910803968), '9.11e8');
  assert.equal(readable(0.000012), '1.20e-5');
  assert.equal(readable(0.1234), '0.123');
  assert.equal(readable(1234.56), '1234.6');
  assert.equal(readable(0), '0.000');
  assert.equal(Number(readable(910803968)), 911000000);
});

test('non-finite values and absent ones read as words', () => {
  assert.equal(readable(NaN), 'NaN');
  assert.equal(readable(Infinity), '\u221e');
  assert.equal(readable(-Infinity), '\u2212\u221e');
  assert.equal(readable(null), '\u2013');
});

test('axis ticks stay short at any scale', () => {
  for (const v of [910803968, 2e4, 1.5, 0.003, 1e-5, -3e9, 123.456]) {
    assert.ok(tick(v).length <= 6, `${v} -> ${tick(v)}`);
    assert.ok(Math.abs(Number(tick(v)) - v) <= Math.abs(v) * 0.05, `${v} -> ${tick(v)}`);
  }
  assert.equal(tick(2e4), '2e4');
  assert.equal(tick(NaN), '');
});
