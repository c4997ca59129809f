/**
 * The network drawn as units and links, like TensorFlow Playground, for small MLPs (a chain
 * of linear layers and activations, at most 16 units a layer): links coloured by the weight's
 * sign (blue positive, orange negative) and sized by its magnitude, and each hidden unit
 * showing its output over the input plane. While a run trains, weights and maps come from its
 * stream (weights_sampled, neuron_maps_computed); once it has ended, from its checkpoint
 * (safetensors), when the run says it has one (has_checkpoint). Without either, links are
 * grey. The SVG is built once per network shape; new weights and maps only update its
 * attributes, at most every REDRAW_MS.
 * Listens to: store 'report', 'doc'; live.onFrame (stream versions, run status).
 * May import: graph.js, form.js (el), numbers.js, neuron-maps.js.
 */
import { inputsOf, outputsOf } from '../graph.js';
import { el } from '../form.js';
import { readable } from '../numbers.js';
import { mapImages, mapsByNode } from './neuron-maps.js';

const SVG = 'http://www.w3.org/2000/svg';
const MAX_UNITS = 16;
const REDRAW_MS = 200;

function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

/** Columns [{id, units, label}] of a plain MLP chain, or null when the net is not one. */
export function mlpColumns(net, shapes, catalog) {
  if (!net?.nodes) return null; // a run of several networks (an autoencoder's): no one chain
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
  let renderedAt = -Infinity;
  // what is drawn: layout key, link and image elements, the maps event and its PNG URLs
  const shape = { key: undefined, links: [], images: [], mapsEvent: undefined, urls: [] };

  function source() {
    if (live.run && live.started) {
      const shapes = Object.fromEntries(live.started.graph.nodes.map((n) => [n.id, n.output_shape]));
      const spec = live.started.spec;
      return { net: spec.networks?.model ?? spec.network, shapes, features: live.started.data.feature_names };
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
      // values: a Float32Array view, (out, in) row-major, as the checkpoint's tensors
      const mats = cols.slice(1).map((c) => (byNode[c.id]
        ? { shape: byNode[c.id].values.shape, data: byNode[c.id].values } : null));
      return { mats, from: 'stream', step: live.weights.step };
    }
    return { mats: cols.slice(1).map(() => null), from: null, step: null };
  }

  /** Sets an attribute only when it changed: the drawing is updated in place, not rebuilt. */
  const attr = (node, k, v) => { const t = String(v); if (node.getAttribute(k) !== t) node.setAttribute(k, t); };

  /** Builds the links of `cols` once (grey); `paintLinks` colours them. */
  function drawLinks(cols, x, y) {
    shape.links = cols.slice(1).map((b, k) => {
      const a = cols[k];
      return Array.from({ length: b.units * a.units }, (_, j) => {
        const o = Math.floor(j / a.units);
        const i = j % a.units;
        const line = svg('line', { x1: x(k), y1: y(a, i), x2: x(k + 1), y2: y(b, o), class: 'link' });
        const tip = svg('title', {});
        line.append(tip);
        box.append(line);
        return { line, tip, name: `${a.id}[${i}] \u2192 ${b.id}[${o}]` };
      });
    });
  }

  function paintLinks(cols, mats) {
    let maxW = 1e-9;
    for (const m of mats) if (m) for (const v of m.data) maxW = Math.max(maxW, Math.abs(v));
    mats.forEach((m, k) => {
      const fits = m && m.shape[1] === cols[k].units;
      shape.links[k].forEach(({ line, tip, name }, j) => {
        const w = fits ? m.data[j] : null; // [out, in] row-major, as the links
        attr(line, 'stroke', w === null ? '#cfd6dd' : w >= 0 ? '#0877bd' : '#f59322');
        attr(line, 'stroke-width', w === null ? 1 : (0.4 + (4.5 * Math.abs(w)) / maxW).toFixed(2));
        attr(line, 'stroke-opacity', w === null ? 0.8 : (0.35 + (0.6 * Math.abs(w)) / maxW).toFixed(2));
        const text = w === null ? '' : `${name}: ${readable(w)}`;
        if (tip.textContent !== text) tip.textContent = text;
      });
    });
  }

  /** The units: an <image> slot on each hidden unit for its map, then its frame. */
  function drawUnits(cols, features, x, y) {
    shape.images = cols.map((c, k) => {
      const hidden = k > 0 && k < cols.length - 1;
      const images = [];
      for (let u = 0; u < c.units; u++) {
        const at = { x: x(k) - 9, y: y(c, u) - 9, width: 18, height: 18 };
        if (hidden) {
          const image = svg('image', { ...at, class: 'unit-map', preserveAspectRatio: 'none' });
          image.style.display = 'none';
          images.push(image);
          box.append(image);
        }
        box.append(svg('rect', { ...at, rx: 3, class: 'unit' }));
      }
      const t = svg('text', { x: x(k), y: 14, 'text-anchor': 'middle', class: 'col-label' });
      t.textContent = k === 0 ? (features?.join(', ') || 'input') : `${c.units}${c.act ? ` ${c.act}` : ''}`;
      box.append(t);
      return images;
    });
  }

  /** Each hidden unit's map, while the stream has them; PNGs made once per maps event. */
  function paintMaps(cols) {
    const event = live.run ? live.maps : null;
    if (event !== shape.mapsEvent) {
      shape.mapsEvent = event;
      const maps = mapsByNode(event);
      shape.urls = cols.map((c, k) => {
        const own = k > 0 && k < cols.length - 1 ? maps[c.actId || c.id] : null;
        return own?.length === c.units ? mapImages(own, event.resolution) : null;
      });
    }
    let drawn = 0;
    shape.images.forEach((images, k) => images.forEach((image, u) => {
      const url = shape.urls[k]?.[u];
      if (url && image.getAttribute('href') !== url) image.setAttribute('href', url);
      if (image.style.display !== (url ? '' : 'none')) image.style.display = url ? '' : 'none';
      image.nextSibling.classList.toggle('mapped', !!url);
      drawn += url ? 1 : 0;
    }));
    root.dataset.maps = drawn;
  }

  function render() {
    const { net, shapes, features } = source();
    const cols = mlpColumns(net, shapes, catalog);
    const key = cols ? JSON.stringify([cols, features]) : null;
    if (key !== shape.key) {
      shape.key = key;
      shape.mapsEvent = undefined;
      box.replaceChildren();
      if (cols) {
        const W = 380;
        const H = Math.max(...cols.map((c) => c.units)) * 22 + 40;
        box.setAttribute('viewBox', `0 0 ${W} ${H}`);
        box.setAttribute('width', '100%');
        box.setAttribute('height', H);
        const x = (k) => 30 + (k * (W - 60)) / (cols.length - 1);
        const y = (c, u) => H / 2 + (u - (c.units - 1) / 2) * 22;
        drawLinks(cols, x, y);
        drawUnits(cols, features, x, y);
      }
    }
    if (!cols) {
      box.setAttribute('height', 0);
      caption.textContent = 'The network view draws small MLPs (a chain of linear layers, \u2264 16 units).';
      delete root.dataset.weightsStep;
      return;
    }
    const { mats, from, step } = matrices(cols);
    paintLinks(cols, mats);
    paintMaps(cols);
    root.dataset.source = from || 'none';
    if (from) root.dataset.weightsStep = step; else delete root.dataset.weightsStep;
    // a net without hidden layers (input -> output) has no hidden units to speak of
    const units = cols.length > 2 ? ' Each hidden unit shows its output over the plane.'
      : ' No hidden layer: each output is a weighted sum of the inputs.';
    const text = from
      ? `Weights at step ${step}${from === 'stream' ? ' (live)' : ''}: blue positive, orange `
        + `negative; thickness \u221d |w|.${units}`
      : live.run ? 'Weights appear as the run streams them (small networks) or from its checkpoint.'
        : 'Links show weights once a run trains.';
    if (caption.textContent !== text) caption.textContent = text;
  }

  async function fetchCheckpoint() {
    if (!live.run || inflight) return;
    inflight = true;
    const id = live.run.id;
    try {
      // Only a run that says it has one: a failed or refused run has none, and asking
      // anyway is a 404 in the console after every such run. The run the page holds is
      // as it was when opened, so read it again now that it has ended.
      const ended = live.run.has_checkpoint ? live.run : await api.getRun(id);
      if (!ended.has_checkpoint) return;
      const w = await api.checkpoint(id);
      if (live.run?.id === id && w) { checkpoint = w; checkpointFor = id; render(); }
    } catch { /* the streamed weights stay */ } finally { inflight = false; }
  }

  live.onFrame((now) => {
    if (!live.run) {
      if (status !== null) { status = fetchedAt = checkpoint = checkpointFor = null; render(); }
      return;
    }
    const ended = `${live.run.id}:${live.status}:${!!live.started}`;
    const key = `${ended}:${live.weightsVersion}`;
    // weights and maps arrive at a few Hz: redraw at most every REDRAW_MS while they stream
    if (status === key || (status?.startsWith(`${ended}:`) && now - renderedAt < REDRAW_MS)) return;
    status = key;
    renderedAt = now;
    render();
    const end = `${live.run.id}:${live.status}`;
    if (!live.active && fetchedAt !== end) { fetchedAt = end; fetchCheckpoint(); } // once
  });
  store.on('report', (r) => { report = r; if (!live.run) render(); });
  store.on('doc', () => { if (!live.run) render(); });
  render();
  return { el: root };
}
