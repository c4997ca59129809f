/**
 * The network drawn as units and links, like TensorFlow Playground, for small MLPs (a chain
 * of linear layers and activations, at most 16 units a layer): links coloured by the weight's
 * sign (blue positive, orange negative) and sized by its magnitude, and each hidden unit
 * showing its output over the input plane. While a run trains, weights and maps come from its
 * stream (weights_sampled, neuron_maps_computed); once it has ended, from its checkpoint
 * (safetensors), when it has one. Without either, links are grey.
 * Listens to: store 'report', 'doc'; live.onFrame (stream versions, run status).
 * May import: graph.js, form.js (el), neuron-maps.js.
 */
import { inputsOf, outputsOf } from '../graph.js';
import { el } from '../form.js';
import { mapImages, mapsByNode } from './neuron-maps.js';

const SVG = 'http://www.w3.org/2000/svg';
const MAX_UNITS = 16;

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
      Object.assign(cols.at(-1), { act: node.kind, actId: node.id });
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
  let checkpoint = null; // {metadata, tensors} of the run `checkpointFor`, after its end
  let checkpointFor = null;
  let inflight = false;
  let status = null;
  let fetchedAt = null; // the run and status the checkpoint was last asked for

  function source() {
    if (live.run && live.started) {
      const shapes = Object.fromEntries(live.started.graph.nodes.map((n) => [n.id, n.output_shape]));
      return { net: live.started.spec.network, shapes, features: live.started.data.feature_names };
    }
    const shapes = Object.fromEntries((report?.report?.nodes || []).map((n) => [n.id, n.output_shape]));
    return { net: store.doc.network, shapes, features: null };
  }

  /** Per drawn layer, {shape: [out, in], data} or null; plus where they came from. */
  function matrices(cols) {
    const ended = live.run && !live.active && checkpoint && checkpointFor === live.run.id;
    if (ended) {
      const mats = cols.slice(1).map((c) => checkpoint.tensors[`layers.${c.id}.weight`] || null);
      return { mats, from: 'checkpoint', step: checkpoint.metadata.step ?? '?' };
    }
    if (live.run && live.weights) {
      const byNode = Object.fromEntries(live.weights.layers.map((l) => [l.node, l]));
      const mats = cols.slice(1).map((c) => (byNode[c.id]
        ? { shape: byNode[c.id].shape, data: byNode[c.id].values } : null));
      return { mats, from: 'stream', step: live.weights.step };
    }
    return { mats: cols.slice(1).map(() => null), from: null, step: null };
  }

  function drawLinks(cols, mats, x, y) {
    let maxW = 1e-9;
    mats.forEach((m) => m?.data.forEach((v) => { maxW = Math.max(maxW, Math.abs(v)); }));
    mats.forEach((m, k) => {
      const a = cols[k];
      const b = cols[k + 1];
      for (let o = 0; o < b.units; o++) {
        for (let i = 0; i < a.units; i++) {
          const w = m && m.shape[1] === a.units ? m.data[o * a.units + i] : null;
          const line = svg('line', { x1: x(k), y1: y(a, i), x2: x(k + 1), y2: y(b, o),
            class: 'link', stroke: w === null ? '#cfd6dd' : w >= 0 ? '#0877bd' : '#f59322',
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
  }

  /** The units, with each hidden unit's map over the plane while the stream has them. */
  function drawUnits(cols, features, x, y) {
    const maps = live.run ? mapsByNode(live.maps) : {};
    let drawn = 0;
    cols.forEach((c, k) => {
      const own = k > 0 && k < cols.length - 1 ? maps[c.actId || c.id] : null;
      const images = own?.length === c.units ? mapImages(own, live.maps.resolution) : null;
      for (let u = 0; u < c.units; u++) {
        if (images) {
          box.append(svg('image', { href: images[u], x: x(k) - 9, y: y(c, u) - 9, width: 18,
            height: 18, class: 'unit-map', preserveAspectRatio: 'none' }));
          drawn++;
        }
        box.append(svg('rect', { x: x(k) - 9, y: y(c, u) - 9, width: 18, height: 18, rx: 3,
          class: images ? 'unit mapped' : 'unit' }));
      }
      const t = svg('text', { x: x(k), y: 14, 'text-anchor': 'middle', class: 'col-label' });
      t.textContent = k === 0 ? (features?.join(', ') || 'input') : `${c.units}${c.act ? ` ${c.act}` : ''}`;
      box.append(t);
    });
    root.dataset.maps = drawn;
  }

  function render() {
    const { net, shapes, features } = source();
    const cols = mlpColumns(net, shapes, catalog);
    box.replaceChildren();
    if (!cols) {
      box.setAttribute('height', 0);
      caption.textContent = 'The network view draws small MLPs (a chain of linear layers, \u2264 16 units).';
      delete root.dataset.weightsStep;
      return;
    }
    const W = 380;
    const H = Math.max(...cols.map((c) => c.units)) * 22 + 40;
    box.setAttribute('viewBox', `0 0 ${W} ${H}`);
    box.setAttribute('width', '100%');
    box.setAttribute('height', H);
    const x = (k) => 30 + (k * (W - 60)) / (cols.length - 1);
    const y = (c, u) => H / 2 + (u - (c.units - 1) / 2) * 22;
    const { mats, from, step } = matrices(cols);
    drawLinks(cols, mats, x, y);
    drawUnits(cols, features, x, y);
    root.dataset.source = from || 'none';
    if (from) root.dataset.weightsStep = step; else delete root.dataset.weightsStep;
    caption.textContent = from
      ? `Weights at step ${step}${from === 'stream' ? ' (live)' : ''}: blue positive, orange `
        + 'negative; thickness \u221d |w|. Each hidden unit shows its output over the plane.'
      : live.run ? 'Weights appear as the run streams them (small networks) or from its checkpoint.'
        : 'Links show weights once a run trains.';
  }

  async function fetchCheckpoint() {
    if (!live.run || inflight) return;
    inflight = true;
    const id = live.run.id;
    try {
      const w = await api.checkpoint(id);
      if (live.run?.id === id && w) { checkpoint = w; checkpointFor = id; render(); }
    } catch { /* the streamed weights stay */ } finally { inflight = false; }
  }

  live.onFrame(() => {
    if (!live.run) {
      if (status !== null) { status = fetchedAt = checkpoint = checkpointFor = null; render(); }
      return;
    }
    const key = `${live.run.id}:${live.status}:${!!live.started}:${live.weightsVersion}`;
    if (status === key) return;
    status = key;
    render();
    const end = `${live.run.id}:${live.status}`;
    if (!live.active && fetchedAt !== end) { fetchedAt = end; fetchCheckpoint(); } // once
  });
  store.on('report', (r) => { report = r; if (!live.run) render(); });
  store.on('doc', () => { if (!live.run) render(); });
  render();
  return { el: root };
}
