// Unit tests of web/commands.js: execute/undo/redo (re-execute) of the edit commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as c from '../../web/commands.js';

const doc = () => ({
  training: { lr: 0.1 },
  network: { nodes: [{ id: 'in', kind: 'input', params: {} }], edges: [], output: 'in' },
});

test('SetValue sets, undoes (restoring absent keys) and redoes', () => {
  const d = doc();
  const set = new c.SetValue(['training', 'lr'], 0.5);
  set.execute(d);
  assert.equal(d.training.lr, 0.5);
  set.undo(d);
  assert.equal(d.training.lr, 0.1);
  const add = new c.SetValue(['training', 'seed'], 3);
  add.execute(d);
  assert.equal(d.training.seed, 3);
  add.undo(d);
  assert.ok(!('seed' in d.training));
  const del = new c.SetValue(['training', 'lr'], undefined);
  del.execute(d);
  assert.ok(!('lr' in d.training));
  del.undo(d);
  assert.equal(d.training.lr, 0.1);
});

test('SetValue copies its value: later mutation does not leak in', () => {
  const d = doc();
  const v = { a: 1 };
  const set = new c.SetValue(['x'], v);
  v.a = 2;
  set.execute(d);
  assert.deepEqual(d.x, { a: 1 });
});

test('addLayer appends with a fresh id; undo and redo give the same network', () => {
  const d = doc();
  const add = c.addLayer('linear', { out: 4 });
  add.execute(d);
  assert.equal(add.nodeId(), 'linear1');
  assert.deepEqual(d.network.edges, [{ source: 'in', target: 'linear1' }]);
  const after = structuredClone(d.network);
  add.undo(d);
  assert.deepEqual(d.network, doc().network);
  add.execute(d); // redo
  assert.deepEqual(d.network, after);
});

test('an edit that fails throws and leaves the document alone', () => {
  const d = doc();
  const before = structuredClone(d);
  assert.throws(() => c.connectLayers('in', 'in').execute(d), /cannot connect/);
  assert.deepEqual(d, before);
});

test('setLayerParam, removeLayer', () => {
  const d = doc();
  c.addLayer('linear', { out: 4 }).execute(d);
  const set = c.setLayerParam('linear1', 'out', 8);
  set.execute(d);
  assert.equal(d.network.nodes[1].params.out, 8);
  set.undo(d);
  assert.equal(d.network.nodes[1].params.out, 4);
  const rm = c.removeLayer('linear1');
  rm.execute(d);
  assert.deepEqual(d.network.nodes.map((n) => n.id), ['in']);
  rm.undo(d);
  assert.deepEqual(d.network.nodes.map((n) => n.id), ['in', 'linear1']);
});

test('LoadDoc replaces the whole document and undo restores it', () => {
  const d = doc();
  const load = new c.LoadDoc({ other: 1 });
  load.execute(d);
  assert.deepEqual(d, { other: 1 });
  load.undo(d);
  assert.deepEqual(d, doc());
});

test('Batch undoes its commands in reverse order', () => {
  const d = doc();
  const batch = new c.Batch('two', [
    new c.SetValue(['training', 'lr'], 1),
    new c.SetValue(['training', 'lr'], 2),
  ]);
  batch.execute(d);
  assert.equal(d.training.lr, 2);
  batch.undo(d);
  assert.equal(d.training.lr, 0.1);
});
