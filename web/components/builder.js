/**
 * The network canvas: layers laid out top to bottom by depth, edges as SVG curves, drop
 * slots on every edge and after the output. Drag a palette item onto a slot (insert), onto
 * the canvas (append), or onto a layer (a new branch from it); drag a layer onto a slot to
 * move it; drag a layer's output port onto another layer to connect them (a merge).
 * Keyboard: Tab to a layer, Enter selects, Delete removes, Alt+Up/Down moves, Up/Down walks.
 * Listens to: store 'doc', 'select', 'report'.
 * May import: graph.js, commands.js, form.js (el).
 */
import { layout, outputNode } from '../graph.js';
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

  function nodeCard(n, x, y, info, isOutput) {
    const kind = kinds[n.kind];
    const err = info?.error || (report.errors || []).find((e) => e.node === n.id)?.message;
    const shape = info?.shape_text ?? (report.pending ? '\u2026' : '?');
    const params = info?.params ?? null;
    const label = `${n.id}: ${n.kind}${summary(kind, n.params) ? `, ${summary(kind, n.params)}` : ''}, ` +
      `output ${shape}${params !== null ? `, ${params} parameters` : ''}${err ? `. Error: ${err}` : ''}`;
    const card = el('div', {
      class: `node cat-${kind?.category || 'unknown'}${err ? ' invalid' : ''}` +
        `${store.selected === n.id ? ' selected' : ''}${isOutput ? ' output' : ''}`,
      tabindex: 0, role: 'button', draggable: 'true', 'data-id': n.id, 'aria-label': label,
      'aria-pressed': String(store.selected === n.id), 'aria-invalid': err ? 'true' : 'false',
      style: `left:${x - NODE_W / 2}px;top:${y}px;width:${NODE_W}px`,
    },
    el('div', { class: 'node-head' }, el('span', { class: 'node-kind' }, n.kind),
      el('span', { class: 'node-id' }, n.id)),
    el('div', { class: 'node-sum' }, summary(kind, n.params) || kind?.category || ''),
    el('div', { class: 'node-foot' }, el('span', { class: 'shape' }, shape),
      el('span', { class: 'nparams' }, params !== null ? `${params.toLocaleString()} p` : '')),
    err ? el('div', { class: 'node-error', role: 'alert' }, err) : null,
    el('span', { class: 'port', draggable: 'true', title: 'Drag onto another layer to connect',
      'aria-hidden': 'true' }));
    card.addEventListener('click', () => store.select(n.id));
    card.addEventListener('dragstart', (e) => {
      const isPort = e.target.classList?.contains('port');
      e.dataTransfer.setData(MIME, JSON.stringify({ type: isPort ? 'port' : 'node', id: n.id }));
      e.dataTransfer.effectAllowed = isPort ? 'link' : 'move';
      e.stopPropagation();
      canvas.classList.add('dragging');
    });
    card.addEventListener('keydown', (e) => keyOnNode(e, n.id));
    dropOn(card, (p) => {
      if (p.type === 'palette') return addCmd(p.kind, { after: n.id });
      if (p.type === 'port' && p.id !== n.id) return connectLayers(p.id, n.id);
      return null;
    });
    return card;
  }

  function slot(x, y, source, target, label) {
    const s = el('div', { class: 'slot', style: `left:${x - 14}px;top:${y - 14}px`,
      'data-source': source, 'data-target': target || '', title: label, 'aria-hidden': 'true' }, '+');
    dropOn(s, (p) => {
      if (p.type === 'palette') return addCmd(p.kind, target ? { edge: [source, target] } : { after: source });
      if (p.type === 'node') return moveLayer(p.id, source, target || null);
      return null;
    });
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

  function render() {
    const focused = document.activeElement?.closest?.('.node')?.dataset.id;
    const net = store.doc.network;
    const { rows, col, depth } = layout(net);
    const info = Object.fromEntries((report.report?.nodes || []).map((n) => [n.id, n]));
    const widest = Math.max(1, ...rows.map((r) => r.length));
    const width = Math.max(canvas.clientWidth || 0, widest * COL_W + 2 * PAD);
    const cx = width / 2;
    const pos = (id) => ({ x: cx + col.get(id) * COL_W, y: PAD + depth.get(id) * ROW_H });
    const out = outputNode(net);
    const height = PAD * 2 + Math.max(1, rows.length) * ROW_H + 40;
    layer.replaceChildren();
    svg.replaceChildren();
    svg.setAttribute('width', width);
    svg.setAttribute('height', height);
    layer.style.height = `${height}px`;
    layer.style.width = `${width}px`;
    for (const e of net.edges) {
      if (!depth.has(e.source) || !depth.has(e.target)) continue;
      const a = pos(e.source);
      const b = pos(e.target);
      const y1 = a.y + 62;
      const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
      path.setAttribute('d', `M${a.x},${y1} C${a.x},${(y1 + b.y) / 2} ${b.x},${(y1 + b.y) / 2} ${b.x},${b.y}`);
      svg.append(path);
      layer.append(slot((a.x + b.x) / 2, (y1 + b.y) / 2, e.source, e.target,
        `insert between ${e.source} and ${e.target}`));
    }
    for (const n of net.nodes) {
      const p = pos(n.id);
      layer.append(nodeCard(n, p.x, p.y, info[n.id], n.id === out));
      if (n.id === out) layer.append(slot(p.x, p.y + ROW_H - 8, n.id, null, `append after ${n.id}`));
    }
    hint.hidden = net.nodes.length > 2;
    if (focused) focusNode(focused);
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
