/**
 * Where the network drawing puts things (pure): a chain of linear layers read as columns of
 * units (TensorFlow Playground's picture), the places of the units in a box, and the drop
 * targets between columns. A column is one linear layer (or the input) with the activation
 * and regularizers that follow it; `ids` are all its nodes in chain order.
 * Pure: no DOM, no state. May import: graph.js.
 */
import { inputsOf, outputsOf } from './graph.js';

export const MAX_UNITS = 16; // wider layers are drawn as cards

/**
 * Columns [{id, ids, units, act, actId, role}] of a chain input -> (linear [activation]
 * [dropout...])*, or {why} when the network is not one that can be drawn unit by unit.
 * `shapes`: node id -> output shape without the batch dimension (null where unknown).
 * A lone input is a drawing too: the first layer is dropped onto it.
 */
export function chainColumns(net, shapes, catalog, maxUnits = MAX_UNITS) {
  const cat = Object.fromEntries(catalog.layers.map((l) => [l.name, l.category]));
  const inputs = net.nodes.filter((n) => cat[n.kind] === 'input');
  if (inputs.length !== 1) return { why: inputs.length ? 'it has several inputs' : 'it has no input' };
  const cols = [];
  const seen = new Set();
  for (let id = inputs[0].id; id && !seen.has(id); id = outputsOf(net, id)[0]) {
    seen.add(id);
    const node = net.nodes.find((n) => n.id === id);
    if (inputsOf(net, id).length > 1 || outputsOf(net, id).length > 1) return { why: 'it branches' };
    const kind = cat[node.kind];
    if (kind === 'input' || node.kind === 'linear') {
      const shape = shapes[id];
      if (!shape) return { why: `the width of ${id} is not known yet` };
      if (shape.length !== 1) return { why: `${id} is not flat (${shape.join('\u00d7')})` };
      if (shape[0] > maxUnits) return { why: `${id} has ${shape[0]} units (at most ${maxUnits} are drawn)` };
      cols.push({ id, ids: [id], units: shape[0], act: '', actId: null, role: 'hidden' });
    } else if (kind === 'activation' && !cols.at(-1).actId) {
      Object.assign(cols.at(-1), { act: node.kind, actId: id });
      cols.at(-1).ids.push(id);
    } else if (kind === 'regularization') {
      cols.at(-1).ids.push(id);
    } else return { why: `${id} (${node.kind}) is not drawn unit by unit` };
  }
  if (seen.size !== net.nodes.length) return { why: 'some layers are not on the chain' };
  cols[0].role = 'input';
  if (cols.length > 1) cols.at(-1).role = 'output';
  return { cols };
}

/** The node whose output a column's maps show: its activation's when it has one. */
export const mapNode = (col) => col.actId || col.id;

/**
 * Unit squares in a W x H box: {x(k), y(k, u), size}. Columns spread evenly with room for
 * the headers (top) and the last drop zone (right); units centred, as big as fits (<= 56).
 */
export function placeUnits(cols, W, H, { top = 44, side = 36, gap = 8 } = {}) {
  const tallest = Math.max(...cols.map((c) => c.units));
  const span = (W - 2 * side) / Math.max(1, cols.length);
  const size = Math.max(12, Math.min(56, span * 0.42, (H - top - 16) / tallest - gap));
  const x = (k) => side + span * (k + 0.5);
  const mid = top + (H - top) / 2;
  const y = (k, u) => mid + (u - (cols[k].units - 1) / 2) * (size + gap);
  return { x, y, size, span };
}

/** Where a layer dropped after column k goes: into the edge to the next column, or after
 * the last node ({after}); the commands' addLayer takes either. */
export function dropAfter(cols, k) {
  const last = cols[k].ids.at(-1);
  return k + 1 < cols.length ? { edge: [last, cols[k + 1].id] } : { after: last };
}

/** One less or one more unit for a hidden linear layer, within 1..maxUnits; null otherwise. */
export function resized(col, delta, maxUnits = MAX_UNITS) {
  if (col.role !== 'hidden' || col.id === null) return null;
  const n = col.units + delta;
  return n >= 1 && n <= maxUnits ? n : null;
}
