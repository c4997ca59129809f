/**
 * The elements of the network drawing for one layout: links as SVG curves, one bundle per
 * edge between columns (a wide invisible twin takes the clicks and carries the tooltip), a
 * canvas per unit for its map, a header per column (its width and activation, which select
 * the layer; +/- on hidden linear layers) and drop zones on each edge and after the output.
 * Built once per layout (places from network-dag.js); new weights only restyle the links
 * in place (paintLinks), which network-view.js calls as they come.
 * May import: form.js (el), network-dag.js.
 */
import { el } from '../form.js';
import { bundlesOf, linkPath, placeDrawing } from '../network-dag.js';

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function unitLabel(col, u, features) {
  if (col.role === 'input') return features?.[u] ?? `x${u + 1}`;
  return `${col.id}[${u}]`;
}

/**
 * Per bundle, its links [{line, hit, tip, name, node, row, col, fixed}] in the bundle's
 * order (row-major for dense ones). Only a dense link into a linear layer has a weight to
 * read or set (data-node/row/col); an add's or concat's links are fixed (grey).
 */
function buildLinks(layer, cols, at, bundles) {
  return bundles.map((b, e) => {
    const [a, t] = [cols[b.from], cols[b.to]];
    const fixed = b.kind !== 'dense';
    return b.pairs.map(([i, o]) => {
      const d = linkPath(at, cols, e, b, i, o);
      const line = svg('path', { d, class: `link${fixed ? ' fixed' : ''}`, 'data-source': a.id,
        'data-target': t.id, 'data-edge': e });
      const hit = svg('path', fixed ? { d, class: 'link-hit fixed' }
        : { d, class: 'link-hit', 'data-node': t.id, 'data-row': o, 'data-col': i });
      const tip = svg('title', {});
      hit.append(tip);
      layer.append(line, hit);
      return { line, hit, tip, name: `${a.id}[${i}] \u2192 ${t.id}[${o}]`, node: t.id, row: o, col: i, fixed };
    });
  });
}

function buildUnits(stage, cols, at, features) {
  return cols.map((c, k) => Array.from({ length: c.units }, (_, u) => {
    const canvas = el('canvas', { width: 1, height: 1 });
    const label = unitLabel(c, u, features);
    const box = el('div', { class: `unit ${c.role}${c.merge ? ' merge' : ''}`, tabindex: '-1', role: 'img',
      'data-col': k, 'data-unit': u, 'aria-label': label }, canvas,
    c.role === 'input' ? el('span', { class: 'unit-name' }, label) : null);
    Object.assign(box.style, { left: `${at.x(k) - at.size / 2}px`, top: `${at.y(k, u) - at.size / 2}px`,
      width: `${at.size}px`, height: `${at.size}px` });
    stage.append(box);
    return { box, canvas, label, values: null, resolution: 0 };
  }));
}

function headText(c, wide, features) {
  const units = `${c.units} unit${c.units === 1 ? '' : 's'}`;
  if (c.merge) return wide ? `${c.merge}: ${c.units}` : c.merge;
  if (c.role === 'input') return features ? 'input' : wide ? `${c.units} input${c.units === 1 ? '' : 's'}` : `${c.units}`;
  return wide ? units : `${c.units}`;
}

function buildHeads(stage, cols, at, features) {
  return cols.map((c, k) => {
    const wide = at.span >= 64; // room for "8 units" above each column
    const name = el('button', { type: 'button', class: 'col-name ghost', 'data-select': c.id,
      title: `Select ${c.id}` }, headText(c, wide, features));
    const act = c.actId ? el('button', { type: 'button', class: 'col-act ghost', 'data-select': c.actId,
      title: `Select ${c.actId}` }, c.act) : null;
    const quick = c.role === 'hidden' && !c.merge ? el('span', { class: 'col-quick' },
      el('button', { type: 'button', class: 'unit-minus', 'data-resize': `${k}:-1`,
        'aria-label': `One unit less in ${c.id}` }, '\u2212'),
      el('button', { type: 'button', class: 'unit-plus', 'data-resize': `${k}:1`,
        'aria-label': `One unit more in ${c.id}` }, '+')) : null;
    const head = el('div', { class: `col-head ${c.role}`, 'data-id': c.id }, name, act, quick);
    const { left, top } = at.heads[k];
    Object.assign(head.style, { left: `${left}px` }, top === null ? {} : { top: `${top}px` });
    stage.append(head);
    return head;
  });
}

function buildDrops(stage, cols, at, edges) {
  return at.zones.map((z) => {
    const e = z.edge === null ? null : edges[z.edge];
    const attrs = { class: 'drop-zone', 'data-after': z.after, title: e
      ? `Drop a layer here to insert it between ${cols[e.from].id} and ${cols[e.to].id}`
      : 'Drop a layer here to add it at the end' };
    if (e) Object.assign(attrs, { 'data-edge': z.edge, 'data-source': cols[e.from].id, 'data-target': cols[e.to].id });
    const zone = el('div', attrs, el('span', {}, '+'));
    Object.assign(zone.style, { left: `${z.left}px`, width: `${z.width}px`, top: `${z.top}px`,
      height: `${z.height}px` });
    stage.append(zone);
    return zone;
  });
}

/** Builds the drawing of `cols` and `edges` into `stage` (W x H); returns its parts. */
export function buildStage(stage, { cols, edges }, features, W, H) {
  const at = placeDrawing(cols, edges, W, H);
  const bundles = bundlesOf(cols, edges);
  const links = svg('svg', { class: 'links', width: W, height: H, 'aria-hidden': 'true' });
  stage.replaceChildren(links);
  const parts = {
    at,
    edges,
    bundles,
    links: buildLinks(links, cols, at, bundles),
    units: buildUnits(stage, cols, at, features),
    heads: buildHeads(stage, cols, at, features),
    drops: buildDrops(stage, cols, at, edges),
  };
  const byHit = new Map(parts.links.flat().map((l) => [l.hit, l]));
  parts.linkOf = (hit) => byHit.get(hit) ?? null;
  return parts;
}

const attr = (node, k, v) => { const t = String(v); if (node.getAttribute(k) !== t) node.setAttribute(k, t); };

/** Colours and sizes each link by its weight (mats: per bundle {shape: [out, in], data} or
 * null): blue positive, orange negative, thickness by |w|; grey without one. */
export function paintLinks(parts, cols, mats) {
  let maxW = 1e-9;
  for (const m of mats) if (m) for (const v of m.data) maxW = Math.max(maxW, Math.abs(v));
  mats.forEach((m, e) => {
    const b = parts.bundles[e];
    const fits = m && m.shape[1] === cols[b.from].units && m.shape[0] === cols[b.to].units;
    parts.links[e].forEach((link, j) => {
      const w = fits ? m.data[j] : null; // [out, in] row-major, as the links
      link.weight = w;
      const grey = link.fixed ? '#a9b4bf' : '#cfd6dd'; // an add's links: darker, no weight
      attr(link.line, 'stroke', w === null ? grey : w >= 0 ? '#0877bd' : '#f59322');
      attr(link.line, 'stroke-width', w === null ? 1 : (0.4 + (4.5 * Math.abs(w)) / maxW).toFixed(2));
      attr(link.line, 'stroke-opacity', w === null ? 0.8 : (0.35 + (0.6 * Math.abs(w)) / maxW).toFixed(2));
      const text = w === null ? link.name : `${link.name}: ${w.toPrecision(3)} (click to edit)`;
      if (link.tip.textContent !== text) link.tip.textContent = text;
    });
  });
}
