// Unit tests of web/graph.js: the pure graph edits behind the builder's commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../web/graph.js';

const chain = () => ({
  nodes: [{ id: 'in' }, { id: 'a' }, { id: 'b' }],
  edges: [{ source: 'in', target: 'a' }, { source: 'a', target: 'b' }],
  output: 'b',
});

test('neighbours, output node and fresh ids', () => {
  const net = chain();
  assert.deepEqual(g.inputsOf(net, 'a'), ['in']);
  assert.deepEqual(g.outputsOf(net, 'a'), ['b']);
  assert.equal(g.outputNode(net), 'b');
  net.output = 'gone';
  assert.equal(g.outputNode(net), 'b'); // last sink when output is unknown
  assert.equal(g.outputNode({ nodes: [], edges: [] }), null);
  assert.equal(g.freshId({ nodes: [{ id: 'linear1' }, { id: 'linear3' }] }, 'linear'), 'linear2');
});

test('layout puts nodes in rows by longest path', () => {
  const net = chain();
  g.connect(net, 'in', 'b'); // a skip edge: b is still below a
  const { rows, depth } = g.layout(net);
  assert.deepEqual(rows, [['in'], ['a'], ['b']]);
  assert.equal(depth.get('b'), 2);
});

test('insertIntoEdge, append, attachAfter', () => {
  const net = chain();
  g.insertIntoEdge(net, { id: 'x' }, 'a', 'b');
  assert.deepEqual(g.inputsOf(net, 'b'), ['x']);
  assert.deepEqual(g.inputsOf(net, 'x'), ['a']);
  g.append(net, { id: 'y' });
  assert.deepEqual(g.inputsOf(net, 'y'), ['b']);
  g.attachAfter(net, { id: 'z' }, 'a');
  assert.deepEqual(g.outputsOf(net, 'a').sort(), ['x', 'z']);
});

test('removeNode joins its single input to its outputs and clears output', () => {
  const net = chain();
  g.removeNode(net, 'a');
  assert.deepEqual(net.nodes.map((n) => n.id), ['in', 'b']);
  assert.deepEqual(net.edges, [{ source: 'in', target: 'b' }]);
  g.removeNode(net, 'b');
  assert.equal(net.output, null);
});

test('moveNode and shiftNode', () => {
  const net = chain();
  g.append(net, { id: 'c' });
  assert.equal(g.moveNode(net, 'a', 'a', 'b'), false);
  assert.equal(g.shiftNode(net, 'c', -1), true); // c goes above b
  assert.deepEqual(g.inputsOf(net, 'c'), ['a']);
  assert.deepEqual(g.inputsOf(net, 'b'), ['c']);
  assert.equal(g.shiftNode(net, 'in', -1), false); // a source cannot move up
  assert.equal(g.shiftNode(net, 'c', 1), true); // back below b
  assert.deepEqual(g.inputsOf(net, 'c'), ['b']);
});

test('connect refuses self-loops and duplicates; disconnect removes', () => {
  const net = chain();
  assert.equal(g.connect(net, 'a', 'a'), false);
  assert.equal(g.connect(net, 'in', 'a'), false);
  assert.equal(g.connect(net, 'in', 'b'), true);
  g.disconnect(net, 'in', 'b');
  assert.deepEqual(g.inputsOf(net, 'b'), ['a']);
});
