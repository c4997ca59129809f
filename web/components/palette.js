/**
 * The palette: every layer kind of the catalog, grouped by category. Drag one onto the
 * canvas, or press Enter / click it to add it after the selected layer (else at the end).
 * Also exports the helpers that read a kind's catalog entry (defaults, one-line summary).
 * Listens to: nothing (reads store.selected when adding).
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

  for (const [category, kinds] of groups) {
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
    root.append(el('div', { class: 'pal-group' },
      el('span', { class: 'pal-cat' }, category), ...items));
  }
  return { el: root };
}
