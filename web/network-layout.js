/**
 * Which networks the drawing shows unit by unit, and as which columns (pure): a DAG of
 * columns, each the input, a linear layer or a merge (`add`, `concat`) with the activation
 * and regularizers that follow it one to one (TensorFlow Playground's picture, with
 * branches); a chain's places (columns spread evenly), +/- widths and where a drop goes.
 * `ids` are a column's nodes in order; `edges` are the graph's edges between columns.
 * Pure: no DOM, no state. May import: graph.js.
 */
import { inputsOf, outputNode, outputsOf } from './graph.js';

export const MAX_UNITS = 16; // wider layers are drawn as cards

/** Node ids, each after its inputs (ties in node order); null when the edges make a cycle. */
export function topoOrder(net) {
  const waiting = new Map(net.nodes.map((n) => [n.id, inputsOf(net, n.id).length]));
  const ready = net.nodes.filter((n) => waiting.get(n.id) === 0).map((n) => n.id);
  const order = [];
  while (ready.length) {
    const id = ready.shift();
    order.push(id);
    for (const t of outputsOf(net, id)) {
      if (!waiting.has(t)) continue; // an edge to a missing layer: the server reports it
      waiting.set(t, waiting.get(t) - 1);
      if (waiting.get(t) === 0) ready.push(t);
    }
  }
  return order.length === net.nodes.length ? order : null;
}

/** Why a column of this output shape is not drawn unit by unit (null: it is). */
function widthWhy(id, shape, maxUnits) {
  if (!shape) return `the width of ${id} is not known yet`;
  if (shape.length !== 1) return `${id} is not flat (${shape.join('\u00d7')})`;
  if (shape[0] > maxUnits) return `${id} has ${shape[0]} units (at most ${maxUnits} are drawn)`;
  return null;
}

/** A merge's width before the server has checked it: its inputs' (summed by a concat). */
function mergeShape(node, sources) {
  const widths = sources.map((c) => c.units);
  return [node.kind === 'concat' ? widths.reduce((a, b) => a + b, 0) : widths[0]];
}

/** {k}: the column an activation or regularizer joins, the one whose last node feeds only
 * it (one to one); {why} when there is none, or an activation would be the column's second. */
function joins(net, node, category, cols, colOf) {
  const ins = inputsOf(net, node.id);
  const no = { why: `${node.id} (${node.kind}) is not drawn unit by unit` };
  if (!['activation', 'regularization'].includes(category) || ins.length !== 1) return no;
  const fed = outputsOf(net, ins[0]);
  if (fed.length !== 1) return { why: `the branch from ${ins[0]} leaves before ${node.id} (${node.kind})` };
  const k = colOf.get(ins[0]);
  if (cols[k].ids.at(-1) !== ins[0] || (category === 'activation' && cols[k].actId)) return no;
  return { k };
}

/**
 * {cols: [{id, ids, units, act, actId, role, merge?}], edges: [{from, to}]} in an order
 * where each column comes after its sources (a chain's: chain order; `edges` in each
 * target's input order), or {why, lasting} when the network cannot be drawn unit by unit
 * (lasting: a layer too wide or not flat, not a width yet unknown or an edit half made).
 * `shapes`: node id -> output shape without the batch dimension (null where unknown).
 * A lone input is a drawing too: the first layer is dropped onto it.
 */
export function drawnColumns(net, shapes, catalog, maxUnits = MAX_UNITS) {
  const cat = Object.fromEntries(catalog.layers.map((l) => [l.name, l.category]));
  const inputs = net.nodes.filter((n) => cat[n.kind] === 'input');
  if (inputs.length !== 1) return { why: inputs.length ? 'it has several inputs' : 'it has no input' };
  const order = topoOrder(net);
  if (!order) return { why: 'its edges make a cycle' };
  const byId = new Map(net.nodes.map((n) => [n.id, n]));
  const cols = [];
  const edges = [];
  const colOf = new Map();
  for (const id of order) {
    const node = byId.get(id);
    const kind = cat[node.kind];
    const sources = inputsOf(net, id).map((s) => colOf.get(s));
    if (kind !== 'input' && !sources.length) return { why: `${id} has no input` };
    const merge = ['add', 'concat'].includes(node.kind) ? node.kind : null;
    if (kind === 'input' || node.kind === 'linear' || merge) {
      const shape = shapes[id] ?? (merge ? mergeShape(node, sources.map((k) => cols[k])) : null);
      const why = widthWhy(id, shape, maxUnits);
      if (why) return { why, lasting: !!shape }; // too wide or not flat: not a passing state
      sources.forEach((from) => edges.push({ from, to: cols.length }));
      colOf.set(id, cols.length);
      cols.push({ id, ids: [id], units: shape[0], act: '', actId: null, role: 'hidden', ...(merge && { merge }) });
      continue;
    }
    const { k, why } = joins(net, node, kind, cols, colOf);
    if (why) return { why };
    if (kind === 'activation') Object.assign(cols[k], { act: node.kind, actId: id });
    cols[k].ids.push(id);
    colOf.set(id, k);
  }
  cols[0].role = 'input';
  const out = colOf.get(outputNode(net)) ?? cols.length - 1;
  if (out > 0) cols[out].role = 'output';
  return { cols, edges };
}

/** The node whose output a column's maps show: its activation's when it has one. */
export const mapNode = (col) => col.actId || col.id;

/** True when the columns are one chain (column k feeds k+1 only): spread evenly, as ever. */
export const isChain = (cols, edges) => edges.length === cols.length - 1
  && edges.every((e, k) => e.from === k && e.to === k + 1);

/**
 * Unit squares of a chain in a W x H box: {x(k), y(k, u), size}. Columns spread evenly with
 * room for the headers (top) and the last drop zone (right); units centred, as big as fits.
 */
export function placeUnits(cols, W, H, { top = 44, side = 36, gap = 8 } = {}) {
  const tallest = Math.max(...cols.map((c) => c.units));
  const span = (W - 2 * side) / Math.max(1, cols.length);
  const size = unitSize(span, (H - top - 16) / tallest - gap);
  const x = (k) => side + span * (k + 0.5);
  const mid = top + (H - top) / 2;
  const y = (k, u) => mid + (u - (cols[k].units - 1) / 2) * (size + gap);
  return { x, y, size, span };
}

/** As big as the room allows, 12..56 px, and under half the distance between columns. */
export const unitSize = (span, room) => Math.max(12, Math.min(56, span * 0.42, room));

/** Where a layer dropped on a zone ({after: k, edge: i or null}) goes: into edge i, or
 * after column k's last node ({after}); the commands' addLayer takes either. */
export function dropInto(cols, edges, zone) {
  const e = zone.edge === null || zone.edge === undefined ? null : edges[zone.edge];
  if (!e) return { after: cols[zone.after].ids.at(-1) };
  return { edge: [cols[e.from].ids.at(-1), cols[e.to].id] };
}

/** One less or one more unit for a hidden linear layer, within 1..maxUnits; null otherwise. */
export function resized(col, delta, maxUnits = MAX_UNITS) {
  if (col.role !== 'hidden' || col.id === null || col.merge) return null;
  const n = col.units + delta;
  return n >= 1 && n <= maxUnits ? n : null;
}
