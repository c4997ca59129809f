/**
 * The layers' layout once a network branches: dagre (a well-kept layered-graph layout, the
 * one behind many graph editors) places the cards in rows and routes every edge around the
 * cards between its ends, so that a skip connection into an `add` is a second edge of its
 * own, not a line hidden behind the layers it skips. Chains keep graph.js's simple layout.
 * Pure (no DOM). May import: graph.js, @dagrejs/dagre.
 */
import dagre from '@dagrejs/dagre';
import { inputsOf, outputsOf } from './graph.js';

/** True when some layer feeds several or is fed by several: a graph, not a chain. */
export function branches(net) {
  return net.nodes.some((n) => inputsOf(net, n.id).length > 1 || outputsOf(net, n.id).length > 1);
}

/**
 * Card positions (x: centre, y: top) and edge routes [{source, target, points}] for cards of
 * `nodeW` x `nodeH`, top to bottom, within a box `width` wide (centred when it is wider).
 */
export function routedLayout(net, { nodeW, nodeH, rowGap = 34, colGap = 24, pad = 28, width = 0 }) {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: colGap, ranksep: rowGap, marginx: pad, marginy: pad });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of net.nodes) g.setNode(n.id, { width: nodeW, height: nodeH });
  net.edges.forEach((e, i) => {
    if (g.hasNode(e.source) && g.hasNode(e.target)) g.setEdge(e.source, e.target, {}, `e${i}`);
  });
  dagre.layout(g);
  const graph = g.graph();
  const shift = Math.max(0, (width - graph.width) / 2);
  const pos = new Map(net.nodes.map((n) => {
    const p = g.node(n.id);
    return [n.id, { x: p.x + shift, y: p.y - nodeH / 2 }];
  }));
  const edges = g.edges().map((e) => ({ source: e.v, target: e.w,
    points: g.edge(e).points.map((p) => ({ x: p.x + shift, y: p.y })) }));
  return { pos, edges, width: Math.max(width, graph.width), height: graph.height };
}

/** An SVG path through `points`: straight runs with rounded turns (quadratic at each). */
export function routePath(points) {
  if (points.length < 3) return `M${points.map((p) => `${p.x},${p.y}`).join(' L')}`;
  let d = `M${points[0].x},${points[0].y}`;
  for (let i = 1; i < points.length - 1; i++) {
    const p = points[i];
    const q = points[i + 1];
    d += ` Q${p.x},${p.y} ${(p.x + q.x) / 2},${(p.y + q.y) / 2}`;
  }
  const last = points[points.length - 1];
  return `${d} L${last.x},${last.y}`;
}
