/**
 * The network drawn as units and links, like TensorFlow Playground, in the centre of the
 * page, and built on: every input feature, hidden unit and output unit carries its live map
 * over the plane (neuron_maps_computed; hover or focus enlarges it with its value range),
 * links are coloured by the weight's sign (blue positive, orange negative) and sized by its
 * magnitude (weights_sampled while a run streams, its checkpoint after it ended, grey before),
 * and a click on a link reads or sets its weight (network-popovers.js). Layers dragged from
 * the palette drop on the edges between columns; +/- changes a hidden layer's width; a
 * column's header selects its layer for the inspector. Branches and skip connections are
 * drawn too: an add's or a concat's links (grey, fixed) come from each of its sources, one
 * bundle per edge (network-dag.js). Networks that are not small flat layers say why and are
 * edited as cards (the Layers tab).
 * The stage is built once per layout (network-stage.js); new weights and maps only update
 * attributes and canvases, at most every REDRAW_MS, and not while the drawing is hidden.
 * Listens to: store 'report', 'doc', 'select'; live.onFrame (stream versions, run status).
 * May import: commands.js, form.js (el), network-layout.js, network-stage.js,
 * network-popovers.js, neuron-maps.js, palette.js (defaultsOf).
 */
import { addLayer, setLayerParam } from '../commands.js';
import { el } from '../form.js';
import { MAX_UNITS, drawnColumns, dropInto, mapNode, resized } from '../network-layout.js';
import { buildStage, paintLinks } from './network-stage.js';
import { createPopovers } from './network-popovers.js';
import { mapsByNode, nodeScale, paintMap } from './neuron-maps.js';
import { defaultsOf } from './palette.js';

const REDRAW_MS = 20; // maps stream at 20+ Hz: each new one on the next frame (28 ms apart)
const MIME = 'application/x-livegrad';

/** The same layers, widths and edges (a run's spec may spell defaults the page left out). */
function sameNet(a, b) {
  const key = (net) => JSON.stringify([net.nodes.map((n) => [n.id, n.kind, n.params?.out_features ?? null]),
    net.edges.map((e) => [e.source, e.target])]);
  return key(a) === key(b);
}

export function createNetworkView({ store, api, live, catalog }) {
  const stage = el('div', { class: 'netdraw' });
  const why = el('p', { class: 'netdraw-why muted', hidden: true });
  const caption = el('p', { class: 'muted small netdraw-caption' });
  const root = el('div', { class: 'netview-box', 'data-testid': 'network-view', role: 'region',
    'aria-label': 'Network drawing' }, why, stage, caption);
  const pop = createPopovers({ root, live });
  const kinds = Object.fromEntries(catalog.layers.map((l) => [l.name, l]));
  let report = null;
  let checkpoint = null; // {metadata, tensors} of the run `checkpointFor`, after its end
  let checkpointFor = null;
  let inflight = false;
  let status = null;
  let fetchedAt = null;
  let renderedAt = -Infinity;
  let size = [0, 0];
  // what is drawn: layout key, columns, the stage's parts, the maps event painted
  let drawn = { key: undefined, cols: null, parts: null, mapsEvent: undefined };
  let focusAt = [0, 0];
  // whether the drawing is displayed (not inside a display: none tab), as a resize observer
  // last saw it: offsetParent would force a layout on every redraw (null: not seen yet)
  let shownSize = null;
  const displayed = () => (shownSize === null ? root.isConnected && root.offsetParent !== null
    : shownSize);
  const known = {}; // node id -> its last checked output shape
  let autoLayers = null; // why the network shown last was not drawn, when it was not
  let showing = false; // rendering because its tab was chosen: it stays shown

  /** The run's network while the document still is that network; else the document's
   * (an edit after a run draws what will train next, with grey links). */
  function source() {
    const spec = live.run && live.started ? live.started.spec : null;
    const ran = spec && (spec.networks?.[store.doc.role || 'model'] ?? spec.network);
    if (ran && sameNet(ran, store.doc.network)) {
      const shapes = Object.fromEntries(live.started.graph.nodes.map((n) => [n.id, n.output_shape]));
      return { net: ran, shapes, features: live.started.data.feature_names, ran: true };
    }
    const net = store.doc.network;
    const checked = Object.fromEntries((report?.report?.nodes || []).map((n) => [n.id, n.output_shape]));
    // while the server checks an edit, a linear layer's width is its out_features and the
    // input keeps its last known shape: the drawing does not blink on every edit
    for (const n of net.nodes) {
      if (checked[n.id]) { known[n.id] = checked[n.id]; continue; }
      if (n.kind === 'linear' && Number.isInteger(n.params?.out_features)) checked[n.id] = [n.params.out_features];
      else if (known[n.id] && report?.pending) checked[n.id] = known[n.id];
    }
    const shapes = checked;
    return { net, shapes, features: store.doc.data?.params?.features ?? null, ran: false };
  }

  /** Per link bundle, its layer's {shape: [out, in], data} or null (an add's or a concat's
   * links have no weights); plus where they came from. */
  function matrices(cols, ran) {
    const ids = drawn.parts.bundles.map((b) => (b.kind === 'dense' ? cols[b.to].id : null));
    const none = { mats: ids.map(() => null), from: null, step: null };
    if (!ran) return none;
    const ended = live.run && !live.active && checkpoint && checkpointFor === live.run.id;
    if (ended) {
      const mats = ids.map((id) => (id && checkpoint.tensors[`layers.${id}.weight`]) || null);
      return { mats, from: 'checkpoint', step: checkpoint.metadata.step ?? '?' };
    }
    if (!live.run || !live.weights) return none;
    const byNode = Object.fromEntries(live.weights.layers.map((l) => [l.node, l.values]));
    const mats = ids.map((id) => (byNode[id] ? { shape: byNode[id].shape, data: byNode[id] } : null));
    return { mats, from: 'stream', step: live.weights.step };
  }

  /** Each unit's map from the latest maps event, painted once per event. */
  function paintMaps(cols) {
    const event = live.run && drawn.ran ? live.maps : null;
    if (event === drawn.mapsEvent) return;
    drawn.mapsEvent = event;
    const maps = mapsByNode(event);
    let hidden = 0;
    let all = 0;
    cols.forEach((c, k) => {
      const own = maps[c.role === 'input' ? c.id : mapNode(c)];
      const fits = own?.length === c.units;
      const scale = fits ? nodeScale(own) : 1;
      drawn.parts.units[k].forEach((unit, u) => {
        unit.values = fits ? own[u].values : null;
        unit.resolution = fits ? event.resolution : 0;
        if (fits) paintMap(unit.canvas, unit.values, event.resolution, scale);
        unit.box.classList.toggle('mapped', fits);
        if (fits) { all++; if (c.role === 'hidden') hidden++; }
      });
    });
    root.dataset.maps = hidden; // hidden units that show their map
    root.dataset.mapped = all; // every unit that does (inputs and outputs too)
    if (event) root.dataset.mapsStep = event.step; else delete root.dataset.mapsStep;
    pop.refreshZoom();
  }

  function rebuild(layout, features) {
    const cols = layout.cols || null;
    drawn = { key: drawn.key, cols, parts: null, mapsEvent: undefined };
    stage.replaceChildren();
    if (!cols) return;
    drawn.parts = buildStage(stage, layout, features, size[0], size[1]);
    focusAt = [Math.min(focusAt[0], cols.length - 1), 0];
    const first = drawn.parts.units[focusAt[0]][0];
    if (first) first.box.tabIndex = 0;
    markSelected();
  }

  function render() {
    if (!displayed()) return; // hidden: drawn when shown
    const { net, shapes, features, ran } = source();
    const layout = drawnColumns(net, shapes, catalog);
    const cols = layout.cols || null;
    const key = JSON.stringify([cols, layout.edges, features, size]);
    if (key !== drawn.key) { drawn.key = key; rebuild(layout, features); }
    drawn.ran = ran;
    if (cols) autoLayers = null;
    why.hidden = !!cols;
    stage.hidden = !cols;
    if (!cols) {
      // a network that just became one too wide or not flat to draw unit by unit: its layers,
      // not an empty box (once: the Drawing tab shown again says why)
      if (layout.lasting && autoLayers !== layout.why && !showing) self.showLayers?.();
      autoLayers = layout.why;
      const text = `This network is not drawn unit by unit: ${layout.why}.`;
      if (why.dataset.text !== text) {
        why.dataset.text = text;
        const go = el('button', { type: 'button', class: 'show-layers' }, 'Show it as layers');
        go.addEventListener('click', () => self.showLayers?.());
        why.replaceChildren(`${text} `, go);
      }
      caption.textContent = '';
      delete root.dataset.weightsStep;
      return;
    }
    const { mats, from, step } = matrices(cols, ran);
    paintLinks(drawn.parts, cols, mats);
    paintMaps(cols);
    root.dataset.source = from || 'none';
    if (from) root.dataset.weightsStep = step; else delete root.dataset.weightsStep;
    const merges = drawn.parts.bundles.some((b) => b.kind !== 'dense')
      ? ' Grey links into an add or a concat pass values on unweighted.' : '';
    const units = cols.length > 2 ? ` Each unit shows its output over the plane.${merges}`
      : cols.length === 2 ? ' No hidden layer: each output is a weighted sum of the inputs.' : '';
    // streamed weights of a run that has ended (a failed run keeps no checkpoint): its last
    // sample, not live ones
    const streamed = live.active ? ' (live)' : ', the last the run streamed';
    const text = from
      ? `Weights at step ${step}${from === 'stream' ? streamed : ''}: blue positive, orange `
        + `negative; thickness \u221d |w|.${units}`
      : cols.length === 1 ? 'Drag a layer from the palette onto the + to start the network.'
        : live.run ? 'Weights appear as the run streams them or from its checkpoint.'
          : 'Links show weights once a run trains; drop layers on a +, +/\u2212 sets a layer\u2019s width.';
    if (caption.textContent !== text) caption.textContent = text;
  }

  function markSelected() {
    drawn.parts?.heads.forEach((h, k) => {
      const ids = drawn.cols[k].ids;
      h.classList.toggle('selected', ids.includes(store.selected));
    });
  }

  async function fetchCheckpoint() {
    if (!live.run || inflight) return;
    inflight = true;
    const id = live.run.id;
    try {
      // Only a run that says it has one (a failed run has none: asking is a 404). The run
      // the page holds is as it was when opened, so read it again now that it has ended.
      const ended = live.run.has_checkpoint ? live.run : await api.getRun(id);
      if (!ended.has_checkpoint) return;
      const w = await api.checkpoint(id);
      if (live.run?.id === id && w) { checkpoint = w; checkpointFor = id; render(); }
    } catch { /* the streamed weights stay */ } finally { inflight = false; }
  }

  // --- what a person does on the drawing --------------------------------------------------
  stage.addEventListener('click', (e) => {
    const pick = e.target.closest('[data-select]');
    if (pick) { store.select(pick.dataset.select); return; }
    const resize = e.target.closest('[data-resize]');
    if (resize) {
      const [k, d] = resize.dataset.resize.split(':').map(Number);
      // from the document's width, not the drawn one: the drawing waits for the server's
      // shapes, and a second click before they come must count from the first
      const col = drawn.cols[k];
      const set = store.doc.network.nodes.find((x) => x.id === col.id)?.params?.out_features;
      const n = resized({ ...col, units: set ?? col.units }, d);
      if (n !== null) store.exec(setLayerParam(col.id, 'out_features', n));
      return;
    }
    const link = drawn.parts?.linkOf(e.target.closest('.link-hit'));
    if (link) {
      if (!link.fixed) pop.editLink(link, e.clientX, e.clientY); // an add's links have no weight
      return;
    }
    const unit = e.target.closest('.unit');
    if (unit) store.select(drawn.cols[Number(unit.dataset.col)].id);
  });

  const unitOf = (target) => {
    const box = target.closest?.('.unit');
    return box ? drawn.parts.units[Number(box.dataset.col)][Number(box.dataset.unit)] : null;
  };
  stage.addEventListener('pointerover', (e) => { const u = unitOf(e.target); if (u) pop.zoom(u); });
  stage.addEventListener('pointerout', (e) => { if (unitOf(e.target)) pop.zoom(null); });
  stage.addEventListener('focusin', (e) => { const u = unitOf(e.target); if (u) pop.zoom(u); });
  stage.addEventListener('focusout', () => pop.zoom(null));

  // arrow keys walk the units (one tab stop for the whole drawing); Enter selects the layer
  stage.addEventListener('keydown', (e) => {
    const u = unitOf(e.target);
    if (!u) return;
    const [k0, u0] = [Number(e.target.dataset.col), Number(e.target.dataset.unit)];
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (e.key === 'Enter') { store.select(drawn.cols[k0].id); return; }
    if (!moves[e.key]) return;
    e.preventDefault();
    const k = Math.max(0, Math.min(drawn.cols.length - 1, k0 + moves[e.key][0]));
    const n = Math.max(0, Math.min(drawn.cols[k].units - 1, k === k0 ? u0 + moves[e.key][1] : u0));
    e.target.tabIndex = -1;
    const next = drawn.parts.units[k][Math.min(n, drawn.cols[k].units - 1)];
    next.box.tabIndex = 0;
    next.box.focus();
    focusAt = [k, n];
  });

  // layers dropped from the palette: between columns (or after the last), anywhere else at the end
  const zoneOf = (target) => target.closest?.('.drop-zone');
  stage.addEventListener('dragover', (e) => {
    if (!e.dataTransfer.types.includes(MIME)) return;
    e.preventDefault();
    stage.querySelectorAll('.drop-zone.over').forEach((z) => z.classList.remove('over'));
    zoneOf(e.target)?.classList.add('over');
  });
  stage.addEventListener('dragleave', (e) => zoneOf(e.target)?.classList.remove('over'));
  stage.addEventListener('drop', (e) => {
    let p = null;
    try { p = JSON.parse(e.dataTransfer.getData(MIME)); } catch { /* not ours */ }
    stage.querySelectorAll('.drop-zone.over').forEach((z) => z.classList.remove('over'));
    if (!p || p.type !== 'palette' || !drawn.cols) return;
    e.preventDefault();
    // a zone's place in the drawing's list; anywhere else: the last zone, after the output
    const zones = drawn.parts.at.zones;
    const z = zones[drawn.parts.drops.indexOf(zoneOf(e.target))] ?? zones.at(-1);
    const k = z.after;
    const params = defaultsOf(kinds[p.kind]);
    // a linear layer dropped on the drawing takes its neighbour's width, as the Playground's
    // "add a layer" does, so that it can be drawn unit by unit
    if ('out_features' in (kinds[p.kind]?.params?.properties || {})) {
      params.out_features = Math.min(MAX_UNITS, Math.max(1, drawn.cols[k].units));
    }
    const cmd = addLayer(p.kind, params, dropInto(drawn.cols, drawn.parts.edges, z));
    store.exec(cmd);
    store.select(cmd.nodeId());
  });
  document.addEventListener('dragstart', (e) => {
    if (e.dataTransfer.types.includes(MIME)) stage.classList.add('dragging');
  });
  document.addEventListener('dragend', () => stage.classList.remove('dragging'));

  new ResizeObserver(([entry]) => {
    const was = shownSize;
    shownSize = entry.contentRect.width > 0 || entry.contentRect.height > 0;
    if (shownSize && was === false) { status = null; render(); } // shown by anyone: draw now
  }).observe(root);
  new ResizeObserver(([entry]) => {
    const w = Math.round(entry.contentRect.width);
    const h = Math.max(260, Math.round(entry.contentRect.height));
    if (w > 0 && (w !== size[0] || h !== size[1])) { size = [w, h]; render(); }
  }).observe(stage);

  live.onFrame((now) => {
    if (!live.run) {
      if (status !== null) { status = fetchedAt = checkpoint = checkpointFor = null; render(); }
      return;
    }
    const ended = `${live.run.id}:${live.status}:${!!live.started}`;
    const key = `${ended}:${live.weightsVersion}`;
    if (status === key || (status?.startsWith(`${ended}:`) && now - renderedAt < REDRAW_MS)) return;
    if (!displayed()) return; // hidden: no work until shown
    status = key;
    renderedAt = now;
    render();
    const end = `${live.run.id}:${live.status}`;
    if (!live.active && fetchedAt !== end) { fetchedAt = end; fetchCheckpoint(); } // once
  });
  store.on('report', (r) => { report = r; if (!live.run) render(); });
  store.on('doc', render);
  store.on('select', markSelected);
  // showLayers: set by main.js, shows the centre's Layers tab
  // shown: its tab was just shown, before the resize observer has seen it
  const self = { el: root,
    shown: () => { shownSize = true; status = null; showing = true; render(); showing = false; },
    showLayers: null };
  render();
  return self;
}
