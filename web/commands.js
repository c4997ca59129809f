/**
 * Undoable edit commands (three.js editor's Command + History): each has a `label`,
 * `execute(doc)` and `undo(doc)`. The store records them; components create them.
 * May import: graph.js.
 */
import * as graph from './graph.js';

const clone = (x) => structuredClone(x);

/** Sets doc[path...] = value (undefined deletes the key). */
export class SetValue {
  constructor(path, value, label = `set ${path.join('.')}`) {
    this.path = path;
    this.value = clone(value);
    this.label = label;
  }

  #parent(doc) {
    let obj = doc;
    for (const key of this.path.slice(0, -1)) obj = obj[key] ??= {};
    return obj;
  }

  execute(doc) {
    const parent = this.#parent(doc);
    const key = this.path.at(-1);
    this.had = key in parent;
    this.old = clone(parent[key]);
    if (this.value === undefined) delete parent[key];
    else parent[key] = clone(this.value);
  }

  undo(doc) {
    const parent = this.#parent(doc);
    const key = this.path.at(-1);
    if (this.had) parent[key] = clone(this.old);
    else delete parent[key];
  }
}

/** Any edit of the network, recorded as before/after snapshots (networks are small). */
export class EditNetwork {
  constructor(label, edit) {
    this.label = label;
    this.edit = edit;
  }

  execute(doc) {
    this.before ??= clone(doc.network);
    if (!this.after) {
      const net = clone(doc.network);
      if (this.edit(net) === false) throw new Error(`cannot ${this.label}`);
      this.after = net;
    }
    doc.network = clone(this.after);
  }

  undo(doc) { doc.network = clone(this.before); }
}

/** Replaces the whole document (a preset, a reopened run, a reset). */
export class LoadDoc {
  constructor(next, label = 'load') {
    this.next = clone(next);
    this.label = label;
  }

  execute(doc) {
    this.before ??= clone(doc);
    for (const key of Object.keys(doc)) delete doc[key];
    Object.assign(doc, clone(this.next));
  }

  undo(doc) {
    for (const key of Object.keys(doc)) delete doc[key];
    Object.assign(doc, clone(this.before));
  }
}

/** Edits another of the family's networks (an autoencoder's decoder after its encoder): the
 * one edited so far goes back to `networks`, the chosen one becomes `network`, which every
 * network edit works on. In the history, so that undo never edits the wrong network. */
export class SwitchRole {
  constructor(role) {
    this.role = role;
    this.label = `edit the ${role}`;
  }

  #go(doc, role) {
    doc.networks[doc.role] = clone(doc.network);
    doc.network = clone(doc.networks[role]);
    doc.role = role;
  }

  execute(doc) { this.from ??= doc.role; this.#go(doc, this.role); }

  undo(doc) { this.#go(doc, this.from); }
}

const node = (net, kind, params) => ({ id: graph.freshId(net, kind), kind, params: clone(params) });

/** The builder's vocabulary, as commands. `where`: {edge: [s, t]} | {after: id} | {} (append). */
export function addLayer(kind, params, where = {}) {
  let id = null;
  const cmd = new EditNetwork(`add ${kind}`, (net) => {
    const n = node(net, kind, params);
    id = n.id;
    if (where.edge) graph.insertIntoEdge(net, n, ...where.edge);
    else if (where.after) graph.attachAfter(net, n, where.after);
    else graph.append(net, n);
  });
  cmd.nodeId = () => id;
  return cmd;
}

export const removeLayer = (id) =>
  new EditNetwork(`delete ${id}`, (net) => graph.removeNode(net, id));

export const moveLayer = (id, source, target) =>
  new EditNetwork(`move ${id}`, (net) => graph.moveNode(net, id, source, target));

export const shiftLayer = (id, dir) =>
  new EditNetwork(`move ${id} ${dir < 0 ? 'up' : 'down'}`, (net) => graph.shiftNode(net, id, dir));

export const connectLayers = (source, target) =>
  new EditNetwork(`connect ${source} to ${target}`, (net) => graph.connect(net, source, target));

export const disconnectLayers = (source, target) =>
  new EditNetwork(`disconnect ${source} from ${target}`,
    (net) => graph.disconnect(net, source, target));

export const setLayerParam = (id, key, value) =>
  new EditNetwork(`set ${id}.${key}`, (net) => {
    const n = net.nodes.find((x) => x.id === id);
    n.params ??= {};
    if (value === undefined) delete n.params[key];
    else n.params[key] = value;
  });

/** Several commands as one step of the history. */
export class Batch {
  constructor(label, commands) {
    this.label = label;
    this.commands = commands;
  }

  execute(doc) { this.commands.forEach((c) => c.execute(doc)); }

  undo(doc) { [...this.commands].reverse().forEach((c) => c.undo(doc)); }
}
