// The speeds' paces (web/speeds.js): what each asks of the engine's set_pace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_PACE, SPEEDS, paceFor, paceLabel, speedOf } from '../../web/speeds.js';

test('fixed speeds ask for their pace; full speed and stepping ask for none', () => {
  assert.equal(paceFor(speedOf('10'), 40), 10);
  assert.equal(paceFor(speedOf('max'), 40), null);
  assert.equal(paceFor(speedOf('step'), 40), null);
});

test('one epoch per frame is 60 epochs a second, once steps per epoch are known', () => {
  const epoch = speedOf('epoch');
  assert.equal(paceFor(epoch, null), undefined);
  assert.equal(paceFor(epoch, 40), 2400);
  assert.equal(paceFor(epoch, 1e6), MAX_PACE);
});

test('an unknown id falls back to full speed; ids are unique', () => {
  assert.equal(speedOf('warp').id, 'max');
  assert.equal(new Set(SPEEDS.map((s) => s.id)).size, SPEEDS.length);
});

test('paces read as people say them', () => {
  assert.equal(paceLabel(1), '1 step/s');
  assert.equal(paceLabel(2.5), '2.5 steps/s');
  assert.equal(paceLabel(240), '240 steps/s');
  assert.equal(paceLabel(12500), '12.5k steps/s');
  assert.equal(paceLabel(null), 'as fast as it goes');
});
