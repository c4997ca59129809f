/**
 * The network canvas: layers laid out top to bottom by depth, edges as SVG curves, drop
 * slots on every edge and after the output. Drag a palette item onto a slot (insert), onto
 * the canvas (append), or onto a layer (a new branch from it); drag a layer onto a slot to
 * move it; drag a layer's output port onto another layer to connect them (a merge).
 * Keyboard: Tab to a layer, Enter selects, Delete removes, Alt+Up/Down moves, Up/Down walks.
 * Redraws reconcile: each layer and slot keeps one element for its life, updated in place,
 * so the server's check of an edit can land mid-drag without taking the drop target away.
 * Listens to: store 'doc', 'select', 'report'.
 * A network that branches is laid out by dagre (graph-layout.js): every edge drawn apart.
 * May import: graph.js, graph-layout.js, commands.js, form.js (el).
 */
import { layout, outputNode } from '../graph.js';
import { branches, routePath, routedLayout } from '../graph-layout.js';
import { addLayer, connectLayers, moveLayer, removeLayer, shiftLayer } from '../commands.js';
import { el } from '../form.js';
import { defaultsOf, summary } from './palette.js';

const NODE_W = 196;
const ROW_H = 96;
const COL_W = 220;
const PAD = 28;
const MIME = 'application/x-livegrad';

export function createBuilder({ store, catalog }) {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.classList.add('edges');
  const layer = el('div', { class: 'nodes' });
  const canvas = el('div', { class: 'canvas', role: 'region', 'aria-label': 'Network canvas',
    'data-testid': 'canvas' }, svg, layer);
  const hint = el('p', { class: 'canvas-hint' },
    'Drag layers here from the palette (or press Enter on one). Drop on a + to insert between two layers, on a layer to branch from it; drag a layer\u2019s \u25cf port onto another to merge.');
  const root = el('div', { class: 'builder' }, canvas, hint);
  let report = { report: null, pending: true };
  const kinds = Object.fromEntries(catalog.layers.map((l) => [l.name, l]));

  function payload(e) {
    try { return JSON.parse(e.dataTransfer.getData(MIME)); } catch { return null; }
  }

  function dropOn(target, where) {
    target.addEventListener('dragover', (e) => {
      if (!e.dataTransfer.types.includes(MIME)) return;
      e.preventDefault();
      e.stopPropagation();
      target.classList.add('over');
    });
    target.addEventListener('dragleave', () => target.classList.remove('over'));
    target.addEventListener('drop', (e) => {
      const p = payload(e);
      target.classList.remove('over');
      canvas.classList.remove('dragging');
      if (!p) return;
      e.preventDefault();
      e.stopPropagation();
      const cmd = where(p);
      if (!cmd) return;
      store.exec(cmd);
      if (cmd.nodeId) store.select(cmd.nodeId());
    });
  }

  const addCmd = (kind, where) => addLayer(kind, defaultsOf(kinds[kind]), where);

  dropOn(canvas, (p) => (p.type === 'palette' ? addCmd(p.kind, {}) : null));
  document.addEventListener('dragstart', (e) => {
    if (e.dataTransfer.types.includes(MIME)) canvas.classList.add('dragging');
  });
  document.addEventListener('dragend', () => canvas.classList.remove('dragging'));

  // One element per layer id and per slot, kept across redraws and updated in place: a
  // report (after every edit) must not replace the element under a dragging pointer.
  const cards = new Map(); // id -> {card, parts}
  const slots = new Map(); // "source>target" -> slot element

  function createCard(id) {
    const parts = {
      kind: el('span', { class: 'node-kind' }), sum: el('div', { class: 'node-sum' }),
      shape: el('span', { class: 'shape' }), nparams: el('span', { class: 'nparams' }),
      error: el('div', { class: 'node-error', role: 'alert' }),
      port: el('span', { class: 'port', draggable: 'true', title: 'Drag onto another layer to connect',
        'aria-hidden': 'true' }),
    };
    const card = el('div', { tabindex: 0, role: 'button', draggable: 'true', 'data-id': id },
      el('div', { class: 'node-head' }, parts.kind, el('span', { class: 'node-id' }, id)),
      parts.sum, el('div', { class: 'node-foot' }, parts.shape, parts.nparams), parts.port);
    card.addEventListener('click', () => store.select(id));
    card.addEventListener('dragstart', (e) => {
      const isPort = e.target.classList?.contains('port');
      e.dataTransfer.setData(MIME, JSON.stringify({ type: isPort ? 'port' : 'node', id }));
      e.dataTransfer.effectAllowed = isPort ? 'link' : 'move';
      e.stopPropagation();
      canvas.classList.add('dragging');
    });
    card.addEventListener('keydown', (e) => keyOnNode(e, id));
    dropOn(card, (p) => {
      if (p.type === 'palette') return addCmd(p.kind, { after: id });
      if (p.type === 'port' && p.id !== id) return connectLayers(p.id, id);
      return null;
    });
    return { card, parts };
  }

  /** Sets what differs only, so that an unchanged card costs no style or layout work. */
  function put(node, key, value) {
    if (key === 'text') { if (node.textContent !== value) node.textContent = value; }
    else if (node.getAttribute(key) !== value) node.setAttribute(key, value);
  }

  function updateCard({ card, parts }, n, x, y, info, isOutput) {
    const kind = kinds[n.kind];
    // the node's own shape error, else one located on it by the whole spec's check (a loss
    // that does not fit the output) or by a refused request
    const located = [...(report.report?.errors || []), ...(report.errors || [])];
    const err = info?.error || located.find((e) => e.node === n.id)?.message;
    const shape = info?.shape_text ?? (report.pending ? '\u2026' : '?');
    const params = info?.params ?? null;
    const sum = summary(kind, n.params);
    const selected = store.selected === n.id;
    put(card, 'class', `node cat-${kind?.category || 'unknown'}${err ? ' invalid' : ''}` +
      `${selected ? ' selected' : ''}${isOutput ? ' output' : ''}` +
      `${card.classList.contains('over') ? ' over' : ''}`);
    put(card, 'aria-label', `${n.id}: ${n.kind}${sum ? `, ${sum}` : ''}, output ${shape}` +
      `${params !== null ? `, ${params} parameters` : ''}${err ? `. Error: ${err}` : ''}`);
    put(card, 'aria-pressed', String(selected));
    put(card, 'aria-invalid', err ? 'true' : 'false');
    put(card, 'style', `left:${x - NODE_W / 2}px;top:${y}px;width:${NODE_W}px`);
    put(parts.kind, 'text', n.kind);
    put(parts.sum, 'text', sum || kind?.category || '');
    put(parts.shape, 'text', shape);
    put(parts.nparams, 'text', params !== null ? `${params.toLocaleString()} p` : '');
    put(parts.error, 'text', err || '');
    // present only while there is an error: an empty alert is noise to a screen reader
    if (err && !parts.error.parentNode) card.insertBefore(parts.error, parts.port);
    else if (!err && parts.error.parentNode) parts.error.remove();
  }

  function slot(x, y, source, target, label) {
    const key = `${source}>${target || ''}`;
    let s = slots.get(key);
    if (!s) {
      s = el('div', { class: 'slot', 'data-source': source, 'data-target': target || '',
        'aria-hidden': 'true' }, '+');
      dropOn(s, (p) => {
        if (p.type === 'palette') return addCmd(p.kind, target ? { edge: [source, target] } : { after: source });
        if (p.type === 'node') return moveLayer(p.id, source, target || null);
        return null;
      });
      slots.set(key, s);
    }
    put(s, 'title', label);
    put(s, 'style', `left:${x - 14}px;top:${y - 14}px`);
    return s;
  }

  function keyOnNode(e, id) {
    const order = layout(store.doc.network).rows.flat(); // what the eye sees, top to bottom
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); store.select(id); }
    else if (e.key === 'Delete' || e.key === 'Backspace') {
      e.preventDefault();
      const i = order.indexOf(id);
      store.exec(removeLayer(id));
      store.select(null);
      focusNode(order[i - 1] || order[i + 1]);
    } else if (e.altKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) {
      e.preventDefault();
      try { store.exec(shiftLayer(id, e.key === 'ArrowUp' ? -1 : 1)); } catch { /* at an end */ }
      focusNode(id);
    } else if (e.key === 'ArrowUp' || e.key === 'ArrowDown') {
      e.preventDefault();
      focusNode(order[order.indexOf(id) + (e.key === 'ArrowUp' ? -1 : 1)]);
    }
  }

  function focusNode(id) {
    if (id) queueMicrotask(() => layer.querySelector(`[data-id="${CSS.escape(id)}"]`)?.focus());
  }

  /** Puts exactly `want` into `layer`, in order, moving only what is out of place. */
  function reconcile(want) {
    const keep = new Set(want);
    for (const child of [...layer.children]) if (!keep.has(child)) child.remove();
    want.forEach((child, i) => {
      const here = layer.children[i];
      if (here !== child) layer.insertBefore(child, here || null);
    });
  }

  /** Cards and edges: a chain by graph.js's rows; a graph that branches by dagre, whose
   * edges go around the cards (graph-layout.js). */
  function place(net) {
    if (branches(net)) {
      const r = routedLayout(net, { nodeW: NODE_W, nodeH: 62, rowGap: ROW_H - 62, colGap: COL_W - NODE_W,
        pad: PAD, width: canvas.clientWidth || 0 });
      const edges = r.edges.map((e) => ({ ...e, d: routePath(e.points),
        mid: e.points[Math.floor(e.points.length / 2)] }));
      return { pos: r.pos, edges, width: r.width, height: r.height + 40 };
    }
    const { rows, col, depth } = layout(net);
    const widest = Math.max(1, ...rows.map((r) => r.length));
    const width = Math.max(canvas.clientWidth || 0, widest * COL_W + 2 * PAD);
    const cx = width / 2;
    const pos = new Map(net.nodes.map((n) => [n.id, { x: cx + col.get(n.id) * COL_W, y: PAD + depth.get(n.id) * ROW_H }]));
    const edges = net.edges.filter((e) => pos.has(e.source) && pos.has(e.target)).map((e) => {
      const a = pos.get(e.source);
      const b = pos.get(e.target);
      const y1 = a.y + 62;
      return { source: e.source, target: e.target, mid: { x: (a.x + b.x) / 2, y: (y1 + b.y) / 2 },
        d: `M${a.x},${y1} C${a.x},${(y1 + b.y) / 2} ${b.x},${(y1 + b.y) / 2} ${b.x},${b.y}` };
    });
    return { pos, edges, width, height: PAD * 2 + Math.max(1, rows.length) * ROW_H + 40 };
  }

  function render() {
    const focused = document.activeElement?.closest?.('.node')?.dataset.id;
    const net = store.doc.network;
    const info = Object.fromEntries((report.report?.nodes || []).map((n) => [n.id, n]));
    const placed = place(net);
    svg.replaceChildren();
    svg.setAttribute('width', placed.width);
    svg.setAttribute('height', placed.height);
    put(layer, 'style', `height:${placed.height}px;width:${placed.width}px`);
    const want = [];
    for (const e of placed.edges) {
      const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
      path.setAttribute('d', e.d);
      path.dataset.source = e.source;
      path.dataset.target = e.target;
      svg.append(path);
      want.push(slot(e.mid.x, e.mid.y, e.source, e.target, `insert between ${e.source} and ${e.target}`));
    }
    const pos = (id) => placed.pos.get(id);
    const out = outputNode(net);
    const ids = new Set(net.nodes.map((n) => n.id));
    for (const id of cards.keys()) if (!ids.has(id)) cards.delete(id);
    for (const n of net.nodes) {
      const p = pos(n.id);
      if (!cards.has(n.id)) cards.set(n.id, createCard(n.id));
      updateCard(cards.get(n.id), n, p.x, p.y, info[n.id], n.id === out);
      want.push(cards.get(n.id).card);
      if (n.id === out) want.push(slot(p.x, p.y + ROW_H - 8, n.id, null, `append after ${n.id}`));
    }
    const live = new Set(want);
    for (const [key, s] of slots) if (!live.has(s)) slots.delete(key);
    reconcile(want);
    hint.hidden = net.nodes.length > 2;
    // a card moved within the layer loses focus: give it back
    if (focused && document.activeElement !== cards.get(focused)?.card) focusNode(focused);
  }

  store.on('doc', render);
  store.on('select', render);
  store.on('report', (r) => { report = r; render(); });
  let lastWidth = 0;
  new ResizeObserver(() => {
    if (Math.abs(canvas.clientWidth - lastWidth) > 4) { lastWidth = canvas.clientWidth; render(); }
  }).observe(canvas);
  render();
  return { el: root, render };
}
