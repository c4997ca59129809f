/**
 * The network drawn as units and links, like TensorFlow Playground, for small MLPs (a chain
 * of linear layers and activations, at most 16 units a layer): links coloured by the weight's
 * sign (blue positive, orange negative) and sized by its magnitude. Weights come from the
 * run's checkpoint (safetensors), fetched at a modest rate; without one, links are grey.
 * Listens to: store 'report', 'doc', 'run'; live.onFrame (checkpoint polling).
 * May import: graph.js, form.js (el).
 */
import { inputsOf, outputsOf } from '../graph.js';
import { el } from '../form.js';

const SVG = 'http://www.w3.org/2000/svg';
const MAX_UNITS = 16;
const POLL_MS = 2500;

function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

/** Columns [{id, units, label}] of a plain MLP chain, or null when the net is not one. */
export function mlpColumns(net, shapes, catalog) {
  const cat = Object.fromEntries(catalog.layers.map((l) => [l.name, l.category]));
  const start = net.nodes.find((n) => cat[n.kind] === 'input');
  if (!start) return null;
  const cols = [];
  let id = start.id;
  const seen = new Set();
  while (id && !seen.has(id)) {
    seen.add(id);
    const node = net.nodes.find((n) => n.id === id);
    const kind = cat[node.kind];
    if (inputsOf(net, id).length > 1 || outputsOf(net, id).length > 1) return null;
    const units = shapes[id]?.[0];
    if (kind === 'input' || node.kind === 'linear') {
      if (!units || units > MAX_UNITS || shapes[id].length !== 1) return null;
      cols.push({ id, units, label: kind === 'input' ? 'input' : `${units}`, act: '' });
    } else if (kind === 'activation') {
      cols.at(-1).act = node.kind;
    } else if (kind !== 'regularization') return null;
    id = outputsOf(net, id)[0];
  }
  return cols.length >= 2 && seen.size === net.nodes.length ? cols : null;
}

export function createNetworkView({ store, api, live, catalog }) {
  const box = svg('svg', { class: 'netview', role: 'img', 'aria-label': 'Network weights' });
  const caption = el('p', { class: 'muted small' });
  const root = el('div', { class: 'netview-box', 'data-testid': 'network-view' }, box, caption);
  let report = null;
  let weights = null;
  let weightsFor = null;
  let lastPoll = 0;
  let inflight = false;
  let status = null;

  function source() {
    if (live.run && live.started) {
      const shapes = Object.fromEntries(live.started.graph.nodes.map((n) => [n.id, n.output_shape]));
      return { net: live.started.spec.network, shapes, features: live.started.data.feature_names };
    }
    const shapes = Object.fromEntries((report?.report?.nodes || []).map((n) => [n.id, n.output_shape]));
    return { net: store.doc.network, shapes, features: null };
  }

  function render() {
    const { net, shapes, features } = source();
    const cols = mlpColumns(net, shapes, catalog);
    box.replaceChildren();
    if (!cols) {
      box.setAttribute('height', 0);
      caption.textContent = 'The network view draws small MLPs (a chain of linear layers, \u2264 16 units).';
      return;
    }
    const W = 380;
    const H = Math.max(...cols.map((c) => c.units)) * 22 + 40;
    box.setAttribute('viewBox', `0 0 ${W} ${H}`);
    box.setAttribute('width', '100%');
    box.setAttribute('height', H);
    const x = (k) => 30 + (k * (W - 60)) / (cols.length - 1);
    const y = (c, u) => H / 2 + (u - (c.units - 1) / 2) * 22;
    let maxW = 1e-9;
    const mats = cols.slice(1).map((c) => weights?.tensors[`layers.${c.id}.weight`] || null);
    mats.forEach((m) => m?.data.forEach((v) => { maxW = Math.max(maxW, Math.abs(v)); }));
    mats.forEach((m, k) => {
      const a = cols[k];
      const b = cols[k + 1];
      for (let o = 0; o < b.units; o++) {
        for (let i = 0; i < a.units; i++) {
          const w = m && m.shape[1] === a.units ? m.data[o * a.units + i] : null;
          const line = svg('line', { x1: x(k), y1: y(a, i), x2: x(k + 1), y2: y(b, o),
            stroke: w === null ? '#cfd6dd' : w >= 0 ? '#0877bd' : '#f59322',
            'stroke-width': w === null ? 1 : 0.4 + (4.5 * Math.abs(w)) / maxW,
            'stroke-opacity': w === null ? 0.8 : 0.35 + (0.6 * Math.abs(w)) / maxW });
          if (w !== null) {
            const tip = svg('title', {});
            tip.textContent = `${a.id}[${i}] \u2192 ${b.id}[${o}]: ${w.toFixed(3)}`;
            line.append(tip);
          }
          box.append(line);
        }
      }
    });
    cols.forEach((c, k) => {
      for (let u = 0; u < c.units; u++) {
        box.append(svg('rect', { x: x(k) - 7, y: y(c, u) - 7, width: 14, height: 14, rx: 3,
          class: 'unit' }));
      }
      const t = svg('text', { x: x(k), y: 14, 'text-anchor': 'middle', class: 'col-label' });
      t.textContent = k === 0 ? (features?.join(', ') || 'input') : `${c.units}${c.act ? ` ${c.act}` : ''}`;
      box.append(t);
    });
    caption.textContent = weights
      ? `Weights at step ${weights.metadata.step ?? '?'}: blue positive, orange negative; thickness \u221d |w|.`
      : live.run ? 'Weights appear when the server has a checkpoint of this run (at its end).'
        : 'Links show weights once a run has a checkpoint.';
  }

  async function poll() {
    if (!live.run || inflight) return;
    inflight = true;
    const id = live.run.id;
    try {
      const w = await api.checkpoint(id);
      if (live.run?.id === id && w) { weights = w; weightsFor = id; render(); }
    } catch { /* the next poll tries again */ } finally { inflight = false; }
  }

  live.onFrame((now) => {
    if (!live.run) {
      if (weights) { weights = null; weightsFor = null; render(); }
      return;
    }
    if (weightsFor !== live.run.id && weights) { weights = null; render(); }
    const key = `${live.run.id}:${live.status}:${!!live.started}`;
    const changed = status !== key;
    status = key;
    if (changed) render();
    if ((changed && !live.active) || (live.active && now - lastPoll > POLL_MS)) {
      lastPoll = now;
      poll();
    }
  });
  store.on('report', (r) => { report = r; if (!live.run) render(); });
  store.on('doc', () => { if (!live.run) render(); });
  render();
  return { el: root };
}
