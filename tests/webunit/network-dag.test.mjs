// The unit-by-unit drawing of networks that branch: columns of a DAG, one link bundle per
// edge (dense, an add's identity pairs, a concat's segments), dagre's places with a skip
// connection routed around the column it skips, and chains drawn exactly as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drawnColumns, dropInto, placeUnits } from '../../web/network-layout.js';
import { bundlesOf, linkPath, placeDrawing } from '../../web/network-dag.js';

const catalog = { layers: [
  { name: 'input', category: 'input' }, { name: 'linear', category: 'layer' },
  { name: 'tanh', category: 'activation' }, { name: 'dropout', category: 'regularization' },
  { name: 'add', category: 'merge' }, { name: 'concat', category: 'merge' }] };

const netOf = (nodes, edges) => ({ nodes: nodes.map(([id, kind]) => ({ id, kind, params: {} })),
  edges: edges.map(([source, target]) => ({ source, target })), output: null });

// input -> d1 (8, tanh) -> d2 (8, tanh) -> skip = add(a2, a1) -> out (2)
const SKIP = netOf([['x', 'input'], ['d1', 'linear'], ['a1', 'tanh'], ['d2', 'linear'], ['a2', 'tanh'],
  ['skip', 'add'], ['out', 'linear']],
[['x', 'd1'], ['d1', 'a1'], ['a1', 'd2'], ['d2', 'a2'], ['a2', 'skip'], ['a1', 'skip'], ['skip', 'out']]);
const SKIP_SHAPES = { x: [2], d1: [8], d2: [8], out: [2] }; // the add's width: its inputs'

test('a skip connection is a DAG of columns: the add is fed by two, one bundle each', () => {
  const { cols, edges } = drawnColumns(SKIP, SKIP_SHAPES, catalog);
  assert.deepEqual(cols.map((c) => [c.id, c.units, c.role, c.actId, c.merge ?? null]), [
    ['x', 2, 'input', null, null], ['d1', 8, 'hidden', 'a1', null], ['d2', 8, 'hidden', 'a2', null],
    ['skip', 8, 'hidden', null, 'add'], ['out', 2, 'output', null, null]]);
  assert.deepEqual(edges, [{ from: 0, to: 1 }, { from: 1, to: 2 }, { from: 2, to: 3 },
    { from: 1, to: 3 }, { from: 3, to: 4 }]);
  const bundles = bundlesOf(cols, edges);
  const intoAdd = bundles.filter((b) => b.to === 3);
  assert.equal(intoAdd.length, 2);
  const identity = Array.from({ length: 8 }, (_, i) => [i, i]);
  for (const b of intoAdd) assert.deepEqual([b.kind, b.pairs], ['identity', identity]);
  assert.deepEqual([bundles[0].kind, bundles[0].pairs.length], ['dense', 16]);
  assert.deepEqual(bundles[0].pairs.slice(0, 3), [[0, 0], [1, 0], [0, 1]]); // row-major [out, in]
  // a drop on the skip edge goes between the first tanh and the add
  assert.deepEqual(dropInto(cols, edges, { after: 1, edge: 3 }), { edge: ['a1', 'skip'] });
});

test('a concat takes each source on its own consecutive segment of its units', () => {
  const net = netOf([['x', 'input'], ['l', 'linear'], ['r', 'linear'], ['cat', 'concat'], ['out', 'linear']],
    [['x', 'l'], ['x', 'r'], ['l', 'cat'], ['r', 'cat'], ['cat', 'out']]);
  const { cols, edges } = drawnColumns(net, { x: [2], l: [3], r: [2], out: [1] }, catalog);
  assert.equal(cols.find((c) => c.id === 'cat').units, 5);
  const segs = bundlesOf(cols, edges).filter((b) => b.kind === 'segment');
  assert.deepEqual(segs.map((b) => [cols[b.from].id, b.pairs]),
    [['l', [[0, 0], [1, 1], [2, 2]]], ['r', [[0, 3], [1, 4]]]]);
  const at = placeDrawing(cols, edges, 800, 500);
  const [l, r] = [cols.findIndex((c) => c.id === 'l'), cols.findIndex((c) => c.id === 'r')];
  assert.equal(at.x(l), at.x(r)); // in one rank, one above the other
  assert.ok(at.y(l, 0) + at.size < at.y(r, 0), 'the first source on top: its segment comes first');
});

const boxes = (cols, at) => cols.flatMap((c, k) => Array.from({ length: c.units }, (_, u) =>
  ({ k, x0: at.x(k) - at.size / 2, x1: at.x(k) + at.size / 2, y0: at.y(k, u) - at.size / 2, y1: at.y(k, u) + at.size / 2 })));

test('dagre places a branching graph left to right; the skip runs around the column it skips', () => {
  const { cols, edges } = drawnColumns(SKIP, SKIP_SHAPES, catalog);
  const at = placeDrawing(cols, edges, 900, 520);
  for (let k = 1; k < cols.length; k++) assert.ok(at.x(k) > at.x(k - 1), `column ${k} right of ${k - 1}`);
  const squares = boxes(cols, at);
  for (const a of squares) {
    assert.ok(a.x0 >= 0 && a.x1 <= 900 && a.y0 >= 0 && a.y1 <= 520, 'inside the box');
    for (const b of squares) {
      if (a === b) continue;
      assert.ok(a.x1 <= b.x0 || b.x1 <= a.x0 || a.y1 <= b.y0 || b.y1 <= a.y0, 'units do not overlap');
    }
  }
  assert.deepEqual(at.via.map((v) => v.length), [0, 0, 0, 1, 0]); // only the skip goes around
  const [p] = at.via[3];
  assert.equal(p.x, at.x(2)); // over (or under) d2's column, clear of its squares and header
  const top = at.y(2, 0) - at.size / 2 - 48; // its header too
  const bottom = at.y(2, 7) + at.size / 2;
  const ribbon = (7 * 2.5) / 2;
  assert.ok(p.y + ribbon < top || p.y - ribbon > bottom, `${p.y} clear of ${top}..${bottom}`);
  // each link of the skip: an S-curve to the run, straight past d2, an S-curve into the add
  const d = linkPath(at, cols, 3, edges[3], 0, 0);
  assert.match(d, /^M[\d.]+,[\d.]+ C.+ L.+ C.+$/);
  // drop zones: one per edge and one after the output; the skip's sits on its run
  assert.equal(at.zones.length, edges.length + 1);
  const z = at.zones[3];
  assert.ok(z.left < p.x && p.x < z.left + z.width && z.top < p.y && p.y < z.top + z.height);
  assert.deepEqual([at.zones.at(-1).after, at.zones.at(-1).edge], [4, null]);
});

test('a chain is drawn as it always was: even columns, classic curves, full-height zones', () => {
  const chain = netOf([['x', 'input'], ['d1', 'linear'], ['a1', 'tanh'], ['out', 'linear']],
    [['x', 'd1'], ['d1', 'a1'], ['a1', 'out']]);
  const { cols, edges } = drawnColumns(chain, { x: [2], d1: [4], out: [1] }, catalog);
  const at = placeDrawing(cols, edges, 600, 400);
  const even = placeUnits(cols, 600, 400);
  for (let k = 0; k < 3; k++) {
    assert.equal(at.x(k), even.x(k));
    assert.equal(at.y(k, 0), even.y(k, 0));
    assert.equal(at.heads[k].top, null); // headers in the top row, as before
  }
  assert.equal(at.size, even.size);
  const [x1, y1, x2, y2] = [even.x(0) + even.size / 2, even.y(0, 1), even.x(1) - even.size / 2, even.y(1, 3)];
  const m = ((x1 + x2) / 2).toFixed(1);
  assert.equal(linkPath(at, cols, 0, edges[0], 1, 3), `M${x1.toFixed(1)},${y1.toFixed(1)} `
    + `C${m},${y1.toFixed(1)} ${m},${y2.toFixed(1)} ${x2.toFixed(1)},${y2.toFixed(1)}`);
  assert.deepEqual(at.zones.map((z) => [z.after, z.edge, z.top, z.height]),
    [[0, 0, 40, 352], [1, 1, 40, 352], [2, null, 40, 352]]);
  assert.ok(bundlesOf(cols, edges).every((b) => b.kind === 'dense'));
});
