// The network drawing's layout: which networks are drawn unit by unit, and where drops go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drawnColumns, dropInto, mapNode, placeUnits, resized } from '../../web/network-layout.js';

const catalog = { layers: [
  { name: 'input', category: 'input' }, { name: 'linear', category: 'layer' },
  { name: 'tanh', category: 'activation' }, { name: 'dropout', category: 'regularization' },
  { name: 'add', category: 'merge' }] };
const chainOf = (...kinds) => {
  const nodes = kinds.map((kind, i) => ({ id: `${kind}${i}`, kind, params: {} }));
  const edges = nodes.slice(1).map((n, i) => ({ source: nodes[i].id, target: n.id }));
  return { nodes, edges, output: null };
};

test('a chain of linear layers is read as columns with their activation', () => {
  const net = chainOf('input', 'linear', 'tanh', 'dropout', 'linear');
  const shapes = { input0: [2], linear1: [8], tanh2: [8], dropout3: [8], linear4: [1] };
  const { cols, edges } = drawnColumns(net, shapes, catalog);
  assert.deepEqual(cols.map((c) => [c.id, c.units, c.role, c.act]),
    [['input0', 2, 'input', ''], ['linear1', 8, 'hidden', 'tanh'], ['linear4', 1, 'output', '']]);
  assert.deepEqual(cols[1].ids, ['linear1', 'tanh2', 'dropout3']);
  assert.equal(mapNode(cols[1]), 'tanh2');
  assert.deepEqual(edges, [{ from: 0, to: 1 }, { from: 1, to: 2 }]);
  assert.deepEqual(dropInto(cols, edges, { after: 1, edge: 1 }), { edge: ['dropout3', 'linear4'] });
  assert.deepEqual(dropInto(cols, edges, { after: 2, edge: null }), { after: 'linear4' });
});

test('a lone input is a drawing: the first layer is dropped after it', () => {
  const { cols, edges } = drawnColumns(chainOf('input'), { input0: [3] }, catalog);
  assert.equal(cols.length, 1);
  assert.deepEqual(dropInto(cols, edges, { after: 0, edge: null }), { after: 'input0' });
});

test('what is not drawn unit by unit says why', () => {
  const wide = drawnColumns(chainOf('input', 'linear'), { input0: [2], linear1: [64] }, catalog);
  assert.match(wide.why, /64 units/);
  assert.equal(wide.lasting, true); // the page shows such a network's layers instead
  const image = drawnColumns(chainOf('input', 'linear'), { input0: [1, 8, 8], linear1: [4] }, catalog);
  assert.match(image.why, /input0 is not flat \(1×8×8\)/);
  assert.equal(image.lasting, true);
  // a branch whose activation does not follow its layer one to one is not a column
  const net = chainOf('input', 'linear', 'tanh');
  net.edges.push({ source: 'input0', target: 'tanh2' });
  assert.match(drawnColumns(net, { input0: [2], linear1: [2] }, catalog).why, /tanh2 \(tanh\) is not drawn/);
  // a branch from a linear layer before its activation: the activation is not one to one
  const early = chainOf('input', 'linear', 'tanh', 'linear');
  early.edges.push({ source: 'linear1', target: 'linear3' });
  assert.match(drawnColumns(early, { input0: [2], linear1: [2], linear3: [1] }, catalog).why,
    /branch from linear1 leaves before tanh2/);
  const loose = chainOf('input', 'linear');
  loose.nodes.push({ id: 'lost', kind: 'linear', params: {} });
  assert.match(drawnColumns(loose, { input0: [2], linear1: [2], lost: [2] }, catalog).why, /lost has no input/);
  const unknown = drawnColumns(chainOf('input', 'linear'), { input0: [2] }, catalog);
  assert.match(unknown.why, /not known/);
  assert.equal(unknown.lasting, false); // a width the server has yet to check: it passes
});

test('units fit the box, columns in order, and +/- stays within 1..16 on hidden layers', () => {
  const cols = [{ units: 2, role: 'input' }, { units: 8, role: 'hidden', id: 'h' }, { units: 1, role: 'output' }];
  const at = placeUnits(cols, 600, 400);
  assert.ok(at.x(0) < at.x(1) && at.x(1) < at.x(2));
  assert.ok(at.y(1, 7) + at.size / 2 <= 400 && at.y(1, 0) - at.size / 2 >= 44);
  assert.equal(resized(cols[1], 1), 9);
  assert.equal(resized({ ...cols[1], units: 16 }, 1), null);
  assert.equal(resized({ ...cols[1], units: 1 }, -1), null);
  assert.equal(resized(cols[2], 1), null);
});
