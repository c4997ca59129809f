// The layout of a network that branches (dagre): every edge drawn, none behind a card.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { branches, routePath, routedLayout } from '../../web/graph-layout.js';

const W = 196;
const H = 62;
const residual = {
  nodes: [{ id: 'x' }, { id: 'd1' }, { id: 'a1' }, { id: 'd2' }, { id: 'sum' }].map((n) => ({ ...n, kind: 'k', params: {} })),
  edges: [['x', 'd1'], ['d1', 'a1'], ['a1', 'd2'], ['d2', 'sum'], ['x', 'sum']]
    .map(([source, target]) => ({ source, target })),
  output: null,
};

const inside = (p, c) => p.x > c.x - W / 2 + 1 && p.x < c.x + W / 2 - 1 && p.y > c.y + 1 && p.y < c.y + H - 1;

test('a chain does not branch; a skip connection does', () => {
  const chain = { ...residual, edges: residual.edges.slice(0, 4), nodes: residual.nodes };
  assert.equal(branches(chain), false);
  assert.equal(branches(residual), true);
});

test('the skip edge is an edge of its own that goes around the layers it skips', () => {
  const { pos, edges } = routedLayout(residual, { nodeW: W, nodeH: H });
  assert.equal(edges.length, 5);
  const skip = edges.find((e) => e.source === 'x' && e.target === 'sum');
  for (const id of ['d1', 'a1', 'd2']) {
    for (const p of skip.points) assert.ok(!inside(p, pos.get(id)), `skip passes through ${id}`);
  }
  // rows top to bottom in the order of the chain
  const ys = ['x', 'd1', 'a1', 'd2', 'sum'].map((id) => pos.get(id).y);
  assert.deepEqual([...ys].sort((a, b) => a - b), ys);
});

test('a box wider than the graph centres it', () => {
  const narrow = routedLayout(residual, { nodeW: W, nodeH: H });
  const wide = routedLayout(residual, { nodeW: W, nodeH: H, width: narrow.width + 200 });
  assert.equal(wide.pos.get('x').x - narrow.pos.get('x').x, 100);
});

test('routes are SVG paths through their points', () => {
  assert.equal(routePath([{ x: 0, y: 0 }, { x: 0, y: 10 }]), 'M0,0 L0,10');
  assert.match(routePath([{ x: 0, y: 0 }, { x: 0, y: 10 }, { x: 5, y: 20 }]), /^M0,0 Q0,10 2.5,15 L5,20$/);
});
