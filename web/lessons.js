/**
 * Lessons: the presets the page can load, and what a supervised
 * data set's lesson teaches the page when a person picks that set: its training settings
 * (the defaults that work for it: a digits net learns with the digits lesson's Adam, not with
 * the spiral's) and the width of its output layer. Nothing here names a data set: the
 * presets from the catalog say which set each lesson trains on.
 * Pure: no DOM, no state. May import: graph.js.
 */
import { inputsOf, outputNode } from './graph.js';

/** The presets the page can load: every one (a family of several networks is edited one
 * network at a time). */
export function editablePresets(presets) {
  return presets;
}

/** The lessons of the supervised family (one network), whose settings fit a network built
 * from scratch. */
export function supervisedLessons(presets) {
  return presets.filter((p) => Object.keys(p.spec.networks || { model: 0 }).length === 1
    && (p.spec.family?.name ?? 'supervised') === 'supervised');
}

/** The first supervised lesson that trains on data set `name`, or null. */
export function lessonFor(presets, name) {
  return supervisedLessons(presets).find((p) => p.spec.data?.name === name) || null;
}

/** The node that sets the network's output width: from the output back through layers of
 * one input that keep it (activations, dropout...), the first with `out_features` in its
 * parameters or its catalog schema; null when there is none. */
export function widthNode(net, layers) {
  const byId = new Map(net.nodes.map((n) => [n.id, n]));
  let id = net.nodes.length ? outputNode(net) : null;
  while (id) {
    const node = byId.get(id);
    const schema = layers.find((l) => l.name === node.kind)?.params?.properties || {};
    if ('out_features' in (node.params || {}) || 'out_features' in schema) return node;
    const inputs = inputsOf(net, id);
    id = inputs.length === 1 ? inputs[0] : null;
  }
  return null;
}

/** The output width a lesson's own network ends in (null when it sets none). */
export function lessonWidth(lesson, layers) {
  const nets = lesson.spec.networks || { model: lesson.spec.network };
  const net = nets.model ?? Object.values(nets)[0];
  const node = net && widthNode(net, layers);
  return node?.params?.out_features ?? null;
}
