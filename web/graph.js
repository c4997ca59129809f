/**
 * Pure helpers over a NetworkSpec ({nodes, edges, output}): neighbours, sinks, a layered
 * top-to-bottom layout, and the graph edits behind the builder's commands (insert a node into
 * an edge, append after the output, branch, detach, move). They mutate the network passed in.
 * May import: nothing.
 */

export const inputsOf = (net, id) => net.edges.filter((e) => e.target === id).map((e) => e.source);
export const outputsOf = (net, id) => net.edges.filter((e) => e.source === id).map((e) => e.target);

/** The model's output node: `output`, else the last sink in node order. */
export function outputNode(net) {
  if (net.output && net.nodes.some((n) => n.id === net.output)) return net.output;
  const sinks = net.nodes.filter((n) => outputsOf(net, n.id).length === 0);
  return sinks.length ? sinks[sinks.length - 1].id : null;
}

/** A fresh id from the kind: linear1, linear2, ... */
export function freshId(net, kind) {
  const taken = new Set(net.nodes.map((n) => n.id));
  for (let i = 1; ; i++) if (!taken.has(`${kind}${i}`)) return `${kind}${i}`;
}

/** Rows by longest path from a source; within a row, by the mean column of the inputs. */
export function layout(net) {
  const depth = new Map();
  const visiting = new Set();
  const depthOf = (id) => {
    if (depth.has(id)) return depth.get(id);
    if (visiting.has(id)) return 0; // a cycle: the server reports it; just draw something
    visiting.add(id);
    const ins = inputsOf(net, id);
    const d = ins.length ? 1 + Math.max(...ins.map(depthOf)) : 0;
    depth.set(id, d);
    return d;
  };
  net.nodes.forEach((n) => depthOf(n.id));
  const rows = [];
  for (const n of net.nodes) (rows[depth.get(n.id)] ||= []).push(n.id);
  const col = new Map();
  rows.forEach((row, r) => {
    if (r > 0) {
      const key = (id) => {
        const ins = inputsOf(net, id).filter((s) => col.has(s));
        return ins.length ? ins.reduce((a, s) => a + col.get(s), 0) / ins.length : 0;
      };
      row.sort((a, b) => key(a) - key(b));
    }
    row.forEach((id, i) => col.set(id, i - (row.length - 1) / 2));
  });
  return { rows: rows.map((r) => r || []), col, depth };
}

/** Inserts `node` into the edge source→target, keeping the target's input order. */
export function insertIntoEdge(net, node, source, target) {
  net.nodes.push(node);
  const i = net.edges.findIndex((e) => e.source === source && e.target === target);
  net.edges.splice(i, 1, { source, target: node.id }, { source: node.id, target });
}

/** Adds `node` with `after` as its input (a new branch when `after` already feeds others).
 * A branch never takes the output: the output stays where it was (pinned in `output`), and
 * the branch waits to be merged; after the output, the new node becomes the output. */
export function attachAfter(net, node, after) {
  const out = net.nodes.length ? outputNode(net) : null;
  net.nodes.push(node);
  if (!after) return;
  net.edges.push({ source: after, target: node.id });
  if (out && after !== out) net.output = out;
  else if (net.output) net.output = node.id;
}

/** Adds `node` after the output node (or alone in an empty network). */
export function append(net, node) {
  attachAfter(net, node, outputNode(net));
}

/** Takes a node out, joining its single input to its outputs; returns nothing. */
export function detach(net, id) {
  const ins = inputsOf(net, id);
  net.edges = net.edges.flatMap((e) => {
    if (e.target === id) return [];
    if (e.source === id) return ins.length === 1 ? [{ source: ins[0], target: e.target }] : [];
    return [e];
  });
  if (net.output === id) net.output = null;
}

export function removeNode(net, id) {
  detach(net, id);
  net.nodes = net.nodes.filter((n) => n.id !== id);
}

/** Moves a node into the edge source→target (or after `source` when target is null). */
export function moveNode(net, id, source, target) {
  if (id === source || id === target) return false;
  const node = net.nodes.find((n) => n.id === id);
  removeNode(net, id);
  if (target) insertIntoEdge(net, node, source, target);
  else attachAfter(net, node, source);
  return true;
}

/** Moves a node one place up (-1) or down (+1) its chain; false when it cannot. */
export function shiftNode(net, id, dir) {
  const ins = inputsOf(net, id);
  const outs = outputsOf(net, id);
  if (ins.length !== 1) return false;
  if (dir < 0) {
    const pp = inputsOf(net, ins[0]);
    if (pp.length !== 1) return false;
    return moveNode(net, id, pp[0], ins[0]);
  }
  if (outs.length !== 1) return false;
  const after = outputsOf(net, outs[0]);
  return moveNode(net, id, outs[0], after.length === 1 ? after[0] : null);
}

export function connect(net, source, target) {
  if (source === target) return false;
  if (net.edges.some((e) => e.source === source && e.target === target)) return false;
  net.edges.push({ source, target });
  return true;
}

export function disconnect(net, source, target) {
  net.edges = net.edges.filter((e) => !(e.source === source && e.target === target));
}
