/**
 * The Data panel: one thumbnail per data set of the catalog (its points when the server can
 * give them; a mosaic of sample images for an image set), and the chosen set's parameters from its schema: points, noise, train/test
 * ratio, input features, seed; "Regenerate" draws a new seed. Choosing a set that has a
 * lesson (a preset on it) takes that lesson's training settings and output width, in one
 * undoable step, and says so; choosing another set of another task switches the task, and
 * the loss when the current one does not fit it.
 * Listens to: store 'doc'. Emits on the bus: 'points' ({choice, points} or null).
 * May import: commands.js, form.js, lessons.js, store.js (docFromSpec), views/draw.js.
 */
import { Batch, SetValue } from '../commands.js';
import { createForm, el } from '../form.js';
import { lessonFor, lessonWidth, widthNode } from '../lessons.js';
import { docFromSpec } from '../store.js';
import { rgba } from '../views/draw.js';

const COLORS = ['#f59322', '#0877bd', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

/** Draws `samples.images` (flat uint8 C*H*W each) as a square mosaic filling a size-px canvas;
 * returns how many it drew. */
export function drawMosaic(ctx, samples, size) {
  const [, hgt, w] = samples.sample_shape;
  const n = samples.images.length;
  const side = Math.ceil(Math.sqrt(n));
  const tile = new OffscreenCanvas(w, hgt);
  const tctx = tile.getContext('2d');
  const img = tctx.createImageData(w, hgt);
  const cell = size / side;
  ctx.imageSmoothingEnabled = false;
  samples.images.forEach((pixels, i) => {
    rgba(pixels, samples.sample_shape, img.data);
    tctx.putImageData(img, 0, 0);
    // a 1-px seam of the card's grey between samples, so that they read as separate images
    ctx.drawImage(tile, (i % side) * cell, Math.floor(i / side) * cell, cell - 1, cell - 1);
  });
  return n;
}

/** Draws the points on a canvas of `size` px showing `extent`; returns how many it drew. */
export function drawPoints(ctx, points, extent, size, { alpha = 1, test = true } = {}) {
  const [x0, x1, y0, y1] = extent;
  const values = points.y;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  let drawn = 0;
  points.x.forEach(([a, b], i) => {
    if (!test && points.split?.[i] === 'test') return;
    drawn++;
    const px = ((a - x0) / (x1 - x0)) * size;
    const py = (1 - (b - y0) / (y1 - y0)) * size;
    const v = values[i];
    ctx.globalAlpha = alpha;
    ctx.fillStyle = Number.isInteger(v) && hi < 8 ? COLORS[v % COLORS.length]
      : `hsl(${210 - 180 * ((v - lo) / (hi - lo || 1))}, 70%, 50%)`;
    ctx.beginPath();
    ctx.arc(px, py, Math.max(1.5, size / 90), 0, 2 * Math.PI);
    ctx.fill();
    // outlines, as TensorFlow Playground's: white for train, dark for test, so that a point
    // stays visible on a heatmap region of its own colour
    ctx.strokeStyle = points.split?.[i] === 'test' ? '#222' : '#fff';
    ctx.lineWidth = 1;
    ctx.stroke();
  });
  ctx.globalAlpha = 1;
  return drawn;
}

export function createDataPanel({ store, api, catalog, presets = [] }) {
  const sets = catalog.datasets;
  const byName = Object.fromEntries(sets.map((d) => [d.name, d]));
  const thumbs = el('div', { class: 'thumbs', role: 'radiogroup', 'aria-label': 'Data set' });
  const formSlot = el('div');
  const regen = el('button', { type: 'button', class: 'secondary' }, '\u21bb Regenerate');
  const adapted = el('p', { class: 'small muted adapted', 'data-testid': 'data-adapted',
    role: 'status' });
  const root = el('section', { class: 'panel data-panel', 'aria-labelledby': 'data-h' },
    el('h2', { id: 'data-h' }, 'Data'), thumbs, adapted, formSlot, regen);
  let form = null;
  let formFor = null;
  let serverHasPoints = true;
  let shownKey = null;

  function choose(name) {
    const d = store.doc.data;
    if (d.name === name) return;
    const target = byName[name];
    const keep = Object.fromEntries(Object.entries(d.params || {})
      .filter(([k]) => k in (target.params.properties || {}) && k !== 'features'));
    const cmds = [new SetValue(['data'], { name, params: keep }, `data set ${name}`)];
    const t = store.doc.training || {};
    const lesson = lessonFor(presets, name);
    adapted.textContent = '';
    if (lesson) {
      cmds.push(...lessonCommands(lesson));
    } else if (target.task && t.task !== target.task) {
      cmds.push(new SetValue(['training', 'task'], target.task));
      const loss = catalog.losses.find((l) => l.name === t.loss?.name);
      if (!loss?.tasks?.includes(target.task)) {
        const fit = catalog.losses.find((l) => l.tasks?.includes(target.task));
        if (fit) cmds.push(new SetValue(['training', 'loss'], { name: fit.name, params: {} }));
      }
    }
    store.exec(new Batch(`data set ${name}`, cmds));
  }

  /** The lesson's training settings, and its output width on the layer that sets ours. */
  function lessonCommands(lesson) {
    const cmds = [new SetValue(['training'], lesson.spec.training ? docTraining(lesson) : {})];
    const net = store.doc.network;
    const node = widthNode(net, catalog.layers);
    const width = lessonWidth(lesson, catalog.layers);
    const said = [`training settings from the lesson "${lesson.title}"`];
    if (node && width && node.params?.out_features !== width) {
      const at = net.nodes.indexOf(node);
      cmds.push(new SetValue(['network', 'nodes', at, 'params', 'out_features'], width));
      said.push(`${node.id} has ${width} outputs`);
    }
    adapted.textContent = `Took ${said.join('; ')} (Undo goes back).`;
    return cmds;
  }

  /** A lesson's training as the document holds it (one optimizer, one regularizer). */
  function docTraining(lesson) {
    return docFromSpec({ training: lesson.spec.training }).training;
  }

  const cards = sets.map((d) => {
    // painted on a canvas off the page, shown as an image: a canvas on the page costs the
    // renderer with every frame it commits, painted since or not (50 unchanged 16 px
    // canvases: about 30 ms of CPU a second at 30 frames a second; 50 images: 5)
    const c = el('canvas', { width: 64, height: 64 });
    const pic = el('img', { width: 64, height: 64, alt: '', 'aria-hidden': 'true' });
    const b = el('button', { type: 'button', class: 'thumb', role: 'radio', title: d.description,
      'data-name': d.name, 'aria-label': `${d.name}: ${d.description}` }, pic,
    el('span', {}, d.name.replace(/_/g, ' ')));
    b.addEventListener('click', () => choose(d.name));
    b.addEventListener('keydown', (e) => {
      const i = sets.indexOf(d);
      const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[e.key];
      if (!step) return;
      e.preventDefault();
      const next = sets[(i + step + sets.length) % sets.length];
      choose(next.name);
      thumbs.querySelector(`[data-name="${next.name}"]`)?.focus();
    });
    thumbs.append(b);
    return { d, b, c, pic };
  });

  /** Shows a card's painted canvas as its image, with what the painting counted. */
  function show({ c, pic }) {
    pic.src = c.toDataURL();
    Object.assign(pic.dataset, c.dataset);
    pic.className = c.className;
  }

  async function paintThumbs() {
    for (const card of cards) {
      const { d, c } = card;
      const ctx = c.getContext('2d');
      ctx.fillStyle = '#f4f6f8';
      ctx.fillRect(0, 0, 64, 64);
      if (!d.plane) await paintSamples(d, c, ctx);
      else if (!serverHasPoints) thumbs.classList.add('nopoints');
      else {
        const pts = await points({ name: d.name, params: { n_points: 200 } });
        if (pts) c.dataset.points = drawPoints(ctx, pts, pts.extent, 64);
      }
      show(card);
    }
  }

  /** An image set's mosaic of 16 training samples (a set the server refuses stays blank). */
  async function paintSamples(d, c, ctx) {
    try {
      const samples = await api.datasetSamples({ name: d.name, params: {} }, 16);
      c.dataset.samples = drawMosaic(ctx, samples, 64);
      c.classList.add('mosaic');
    } catch { /* not images, or an older server: the blank thumbnail stays */ }
  }

  async function points(choice) {
    if (!serverHasPoints) return null;
    try {
      const p = await api.datasetPoints(choice);
      if (p === null) serverHasPoints = false;
      return p;
    } catch { return null; }
  }

  regen.addEventListener('click', () => {
    const seed = (store.doc.data.params?.seed ?? 0) + 1;
    store.exec(new SetValue(['data', 'params', 'seed'], seed, 'regenerate the data'));
  });

  async function render() {
    const d = store.doc.data;
    const entry = byName[d.name];
    for (const { d: x, b } of cards) {
      b.setAttribute('aria-checked', String(x.name === d.name));
      b.tabIndex = x.name === d.name ? 0 : -1;
    }
    if (formFor !== d.name) {
      form = createForm(entry?.params, { idPrefix: 'data',
        onChange: (k, v) => store.exec(new SetValue(['data', 'params', k], v)) });
      formFor = d.name;
      formSlot.replaceChildren(form.el);
    }
    form.update(d.params || {});
    regen.hidden = !entry?.params?.properties?.seed;
    // every edit of the document lands here: ask the server only when the data changed
    const key = JSON.stringify(d);
    if (key === shownKey) return;
    shownKey = key;
    const p = entry?.plane ? await points(d) : null;
    if (key === shownKey) store.emit('points', p ? { choice: d, points: p } : null);
  }

  store.on('doc', render);
  store.on('run-error', ({ error }) => {
    for (const e of error?.errors || []) {
      const m = /data\.params\.(\w+)/.exec(e.field || '');
      if (m) form?.setError(m[1], e.message);
    }
  });
  render();
  paintThumbs();
  return { el: root };
}
