/**
 * The palette: every layer kind of the catalog, grouped by category; the kinds that take
 * only images (the catalog's `spatial`) in a collapsible group, open while the input is an
 * image. Drag one onto the canvas, or press Enter / click it to add it after the selected
 * layer (else at the end).
 * Also exports the helpers that read a kind's catalog entry (defaults, one-line summary).
 * Listens to: store 'report' (the input's shape); reads store.selected when adding.
 * May import: commands.js, graph.js, form.js (el).
 */
import { addLayer } from '../commands.js';
import { outputsOf } from '../graph.js';
import { el } from '../form.js';

const MIME = 'application/x-livegrad';

/** The catalog's defaults of a kind, leaving out those that default to "none" (inferred). */
export function defaultsOf(kind) {
  const out = {};
  for (const [k, p] of Object.entries(kind?.params?.properties || {})) {
    if (p.default !== undefined && p.default !== null) out[k] = p.default;
  }
  return out;
}

/** A short reading of the parameters that differ from nothing: "out_features 4". */
export function summary(kind, params = {}) {
  const props = kind?.params?.properties || {};
  const keys = Object.keys(props).filter((k) => props[k].type !== 'boolean');
  return keys.slice(0, 2).map((k) => `${k} ${params[k] ?? props[k].default ?? 'auto'}`)
    .filter((s) => !s.endsWith(' auto')).join(' \u00b7 ');
}

export function createPalette({ store, catalog }) {
  const groups = new Map();
  for (const kind of catalog.layers) {
    if (!groups.has(kind.category)) groups.set(kind.category, []);
    groups.get(kind.category).push(kind);
  }
  const root = el('div', { class: 'palette', role: 'toolbar', 'aria-label': 'Layer palette' });

  function add(kind) {
    const sel = store.selected;
    const net = store.doc.network;
    let where = {};
    if (sel && net.nodes.some((n) => n.id === sel)) {
      const outs = outputsOf(net, sel);
      where = outs.length === 1 ? { edge: [sel, outs[0]] } : { after: sel };
    }
    const cmd = addLayer(kind.name, defaultsOf(kind), where);
    store.exec(cmd);
    store.select(cmd.nodeId());
  }

  const group = (category, kinds) => {
    const items = kinds.map((kind) => {
      const b = el('button', { type: 'button', class: `pal-item cat-${category}`, draggable: 'true',
        title: kind.description, 'data-kind': kind.name,
        'aria-label': `Add ${kind.name} layer: ${kind.description}` }, kind.name);
      b.addEventListener('dragstart', (e) => {
        e.dataTransfer.setData(MIME, JSON.stringify({ type: 'palette', kind: kind.name }));
        e.dataTransfer.effectAllowed = 'copy';
      });
      b.addEventListener('click', () => add(kind));
      return b;
    });
    return el('div', { class: 'pal-group' }, el('span', { class: 'pal-cat' }, category), ...items);
  };
  // kinds that take only images (or sequences) in a group of their own, open while the
  // network's input is one: on 2-D points and flat features they would only crowd the row
  const spatial = el('details', { class: 'pal-spatial', 'data-testid': 'palette-spatial' });
  const count = catalog.layers.filter((k) => k.spatial).length;
  const body = el('div', { class: 'pal-spatial-body' });
  spatial.append(el('summary', {}, `image layers (${count})`), body);
  for (const [category, kinds] of groups) {
    const flat = kinds.filter((k) => !k.spatial);
    const images = kinds.filter((k) => k.spatial);
    if (flat.length) root.append(group(category, flat));
    if (images.length) body.append(group(category, images));
  }
  if (count) root.append(spatial);

  let imageInput = null; // whether the checked network's input is an image (null: not known)
  store.on('report', (r) => {
    const input = r?.report?.nodes?.find((n) => n.kind === 'input');
    if (!input?.output_shape) return;
    const now = input.output_shape.length > 1;
    if (now !== imageInput) spatial.open = now; // on a change of data, not against a click
    imageInput = now;
  });
  return { el: root };
}
