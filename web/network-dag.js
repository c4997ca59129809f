/**
 * Where the unit-by-unit drawing puts things (pure), for chains and for graphs that branch:
 * the links each edge between two columns carries (dense into a linear layer, unit i ->
 * unit i into an `add`, a consecutive segment of a `concat`'s units), the columns' places
 * and the drop zones. A chain keeps its even spacing (network-layout.js's placeUnits); a
 * graph that branches is laid out by dagre, left to right, each column's box sized to its
 * units, and an edge that skips columns runs as a ribbon through dagre's route around them
 * (over or under the columns it skips), so that a skip connection is seen as its own curves.
 * Pure: no DOM, no state. May import: @dagrejs/dagre, network-layout.js.
 */
import dagre from '@dagrejs/dagre';
import { isChain, placeUnits, unitSize } from './network-layout.js';

const RIBBON = 2.5; // px between the links of one edge where it runs around a column
const HEAD = 48; // px above a column of a branching graph: its header's three rows

const range = (n) => Array.from({ length: n }, (_, i) => i);

/**
 * Per edge between columns, {from, to, kind, pairs: [[i, o]]}: which unit i of the source
 * feeds which unit o of the target. Dense pairs are row-major like a weight [out, in].
 */
export function bundlesOf(cols, edges) {
  const taken = new Map(); // concat column -> its units that earlier sources fill
  return edges.map((e) => {
    const a = cols[e.from];
    const b = cols[e.to];
    if (b.merge === 'add') {
      return { ...e, kind: 'identity', pairs: range(Math.min(a.units, b.units)).map((i) => [i, i]) };
    }
    if (b.merge === 'concat') {
      const at = taken.get(e.to) ?? 0;
      taken.set(e.to, at + a.units);
      return { ...e, kind: 'segment', pairs: range(a.units).filter((i) => at + i < b.units).map((i) => [i, at + i]) };
    }
    return { ...e, kind: 'dense', pairs: range(a.units * b.units).map((j) => [j % a.units, Math.floor(j / a.units)]) };
  });
}

/**
 * The drawing's places in a W x H box: {x(k), y(k, u), size, span, via, heads, zones}.
 * via[e]: the points where edge e runs over (or under) a column it skips; heads[k]: a
 * header's {left, top} (top null: the top row); zones: [{left, top, width, height, after,
 * edge}] between columns (edge: its index) and after the output (edge null).
 */
export function placeDrawing(cols, edges, W, H) {
  return isChain(cols, edges) ? chainPlaces(cols, W, H) : graphPlaces(cols, edges, W, H);
}

function chainPlaces(cols, W, H) {
  const at = placeUnits(cols, W, H);
  const zones = cols.map((c, k) => {
    const last = k === cols.length - 1;
    const left = at.x(k) + at.size / 2 + 4;
    const right = last ? left + Math.max(28, at.span / 2) : at.x(k + 1) - at.size / 2 - 4;
    return { left, width: Math.max(16, right - left), top: 40, height: H - 48, after: k, edge: last ? null : k };
  });
  const heads = cols.map((c, k) => ({ left: at.x(k), top: null }));
  return { ...at, via: cols.slice(1).map(() => []), heads, zones };
}

/** Ranks (columns on the longest path from the input): how many places across. */
function rankCount(cols, edges) {
  const rank = cols.map(() => 0);
  for (const e of [...edges].sort((a, b) => a.to - b.to)) rank[e.to] = Math.max(rank[e.to], rank[e.from] + 1);
  return Math.max(...rank) + 1;
}

function runDagre(cols, edges, size, span, gap) {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  const sep = Math.max(24, size * 0.6); // room for a ribbon of 16 links beside a column
  g.setGraph({ rankdir: 'LR', ranksep: Math.max(24, span - size), nodesep: sep, edgesep: sep,
    marginx: 0, marginy: 0 });
  g.setDefaultEdgeLabel(() => ({}));
  cols.forEach((c, k) => g.setNode(`c${k}`, { width: size, height: HEAD + c.units * (size + gap) - gap }));
  edges.forEach((e, i) => g.setEdge(`c${e.from}`, `c${e.to}`, {}, `e${i}`));
  dagre.layout(g);
  return g;
}

/** dagre's places, with units as big as fit in H (smaller and laid out again if not). */
function graphPlaces(cols, edges, W, H, { side = 36, gap = 8, pad = 8 } = {}) {
  const span = (W - 2 * side) / rankCount(cols, edges);
  const room = H - 2 * pad;
  let size = unitSize(span, (room - HEAD) / Math.max(...cols.map((c) => c.units)) - gap);
  let g = runDagre(cols, edges, size, span, gap);
  for (let tries = 0; tries < 5 && g.graph().height > room && size > 12; tries++) {
    size = Math.max(12, Math.floor((size * room) / g.graph().height) - 1);
    g = runDagre(cols, edges, size, span, gap);
  }
  const dx = side + span / 2 - g.node('c0').x;
  const dy = pad + Math.max(0, (room - g.graph().height) / 2);
  const node = (k) => g.node(`c${k}`);
  const flip = upsideDown(edges, cols, (k) => node(k).y);
  const yOf = (y) => (flip ? g.graph().height - y : y) + dy;
  const top = (k) => yOf(node(k).y) - node(k).height / 2;
  const at = { size, span, x: (k) => node(k).x + dx, y: (k, u) => top(k) + HEAD + u * (size + gap) + size / 2 };
  const ranksX = new Set(cols.map((c, k) => Math.round(node(k).x)));
  at.via = edges.map((e, i) => g.edge(`c${e.from}`, `c${e.to}`, `e${i}`).points.slice(1, -1)
    .filter((p) => ranksX.has(Math.round(p.x))).map((p) => ({ x: p.x + dx, y: yOf(p.y) })));
  at.heads = cols.map((c, k) => ({ left: at.x(k), top: top(k) }));
  at.zones = [...edges.map((e, i) => edgeZone(at, cols, edges, i)), endZone(at, cols)];
  return at;
}

/** True when dagre put a concat's sources mostly bottom to top: its segments would cross
 * (dagre's order knows columns, not units), and the layout upside down does not. */
function upsideDown(edges, cols, y) {
  let votes = 0;
  edges.forEach((e, i) => edges.slice(i + 1).forEach((f) => {
    if (e.to === f.to && cols[e.to].merge === 'concat') votes += Math.sign(y(e.from) - y(f.from));
  }));
  return votes > 0;
}

const extent = (at, cols, k) => [at.y(k, 0) - at.size / 2, at.y(k, cols[k].units - 1) + at.size / 2];

/** A drop zone on edge i: in the gap between its columns, or on its run around a column. */
function edgeZone(at, cols, edges, i) {
  const e = edges[i];
  const p = at.via[i][0];
  if (p) {
    const half = ((cols[e.from].units - 1) * RIBBON) / 2 + 10;
    return { left: p.x - at.size / 2 - 6, width: at.size + 12, top: p.y - half, height: 2 * half, after: e.from, edge: i };
  }
  // beside a fan-out or fan-in, the zone keeps to this edge's own column
  const fanOut = edges.filter((f) => f.from === e.from).length > 1;
  const fanIn = edges.filter((f) => f.to === e.to).length > 1;
  const [a0, a1] = extent(at, cols, e.from);
  const [b0, b1] = extent(at, cols, e.to);
  const [y0, y1] = fanOut ? [b0, b1] : fanIn ? [a0, a1] : [Math.min(a0, b0), Math.max(a1, b1)];
  const left = at.x(e.from) + at.size / 2 + 4;
  const right = at.x(e.to) - at.size / 2 - 4;
  return { left, width: Math.max(16, right - left), top: y0 - 8, height: y1 - y0 + 16, after: e.from, edge: i };
}

function endZone(at, cols) {
  let out = cols.findIndex((c) => c.role === 'output');
  if (out < 0) out = cols.length - 1;
  const [y0, y1] = extent(at, cols, out);
  return { left: at.x(out) + at.size / 2 + 4, width: Math.max(28, at.span / 2), top: y0 - 8,
    height: Math.max(40, y1 - y0 + 16), after: out, edge: null };
}

const fmt = (v) => v.toFixed(1);

/** An S-curve from a to b that leaves and arrives level (stays within their box). */
const sCurve = (a, b) => {
  const m = fmt((a.x + b.x) / 2);
  return ` C${m},${fmt(a.y)} ${m},${fmt(b.y)} ${fmt(b.x)},${fmt(b.y)}`;
};

/**
 * The SVG path of the link from unit i of column `from` to unit o of column `to` along edge
 * e: level S-curves between columns, straight runs past each column it skips (offset by
 * its unit, so that an edge's links run side by side as a ribbon).
 */
export function linkPath(at, cols, e, { from, to }, i, o) {
  const start = { x: at.x(from) + at.size / 2, y: at.y(from, i) };
  const end = { x: at.x(to) - at.size / 2, y: at.y(to, o) };
  const off = (i - (cols[from].units - 1) / 2) * RIBBON;
  const hw = at.size / 2 + 6;
  const runs = at.via[e].flatMap((p) => [{ x: p.x - hw, y: p.y + off }, { x: p.x + hw, y: p.y + off }]);
  const points = [start, ...runs, end];
  let d = `M${fmt(start.x)},${fmt(start.y)}`;
  for (let j = 1; j < points.length; j++) {
    d += j % 2 ? sCurve(points[j - 1], points[j]) : ` L${fmt(points[j].x)},${fmt(points[j].y)}`;
  }
  return d;
}
