/**
 * The elements of the network drawing for one layout: links as SVG curves (a wide invisible
 * twin takes the clicks), a canvas per unit for its map, a header per column (its width and
 * activation, which select the layer; +/- on hidden layers) and a drop zone after each
 * column. Built once per layout; network-view.js updates their attributes in place.
 * May import: form.js (el), network-layout.js.
 */
import { el } from '../form.js';
import { placeUnits } from '../network-layout.js';

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

const curve = (x1, y1, x2, y2) => {
  const m = (x1 + x2) / 2;
  return `M${x1.toFixed(1)},${y1.toFixed(1)} C${m.toFixed(1)},${y1.toFixed(1)} ` +
    `${m.toFixed(1)},${y2.toFixed(1)} ${x2.toFixed(1)},${y2.toFixed(1)}`;
};

function unitLabel(col, u, features) {
  if (col.role === 'input') return features?.[u] ?? `x${u + 1}`;
  return `${col.id}[${u}]`;
}

/** Links between column k and k+1: [{line, hit, tip, name, node, row, col}] row-major. */
function buildLinks(layer, cols, at) {
  return cols.slice(1).map((b, k) => {
    const a = cols[k];
    return Array.from({ length: b.units * a.units }, (_, j) => {
      const o = Math.floor(j / a.units);
      const i = j % a.units;
      const d = curve(at.x(k) + at.size / 2, at.y(k, i), at.x(k + 1) - at.size / 2, at.y(k + 1, o));
      const line = svg('path', { d, class: 'link' });
      const hit = svg('path', { d, class: 'link-hit', 'data-node': b.id, 'data-row': o, 'data-col': i });
      const tip = svg('title', {});
      hit.append(tip);
      layer.append(line, hit);
      return { line, hit, tip, name: `${a.id}[${i}] \u2192 ${b.id}[${o}]`, node: b.id, row: o, col: i };
    });
  });
}

function buildUnits(stage, cols, at, features) {
  return cols.map((c, k) => Array.from({ length: c.units }, (_, u) => {
    const canvas = el('canvas', { width: 1, height: 1 });
    const label = unitLabel(c, u, features);
    const box = el('div', { class: `unit ${c.role}`, tabindex: '-1', role: 'img',
      'data-col': k, 'data-unit': u, 'aria-label': label }, canvas,
    c.role === 'input' ? el('span', { class: 'unit-name' }, label) : null);
    Object.assign(box.style, { left: `${at.x(k) - at.size / 2}px`, top: `${at.y(k, u) - at.size / 2}px`,
      width: `${at.size}px`, height: `${at.size}px` });
    stage.append(box);
    return { box, canvas, label, values: null, resolution: 0 };
  }));
}

function buildHeads(stage, cols, at, features) {
  return cols.map((c, k) => {
    const wide = at.span >= 64; // room for "8 units" above each column
    const text = !wide ? `${c.units}` : c.role === 'input' ? `${c.units} input${c.units === 1 ? '' : 's'}`
      : `${c.units} unit${c.units === 1 ? '' : 's'}`;
    const name = el('button', { type: 'button', class: 'col-name ghost', 'data-select': c.id,
      title: `Select ${c.id}` }, c.role === 'input' ? (features ? 'input' : text) : text);
    const act = c.actId ? el('button', { type: 'button', class: 'col-act ghost', 'data-select': c.actId,
      title: `Select ${c.actId}` }, c.act) : null;
    const quick = c.role === 'hidden' ? el('span', { class: 'col-quick' },
      el('button', { type: 'button', class: 'unit-minus', 'data-resize': `${k}:-1`,
        'aria-label': `One unit less in ${c.id}` }, '\u2212'),
      el('button', { type: 'button', class: 'unit-plus', 'data-resize': `${k}:1`,
        'aria-label': `One unit more in ${c.id}` }, '+')) : null;
    const head = el('div', { class: `col-head ${c.role}`, 'data-id': c.id }, name, act, quick);
    Object.assign(head.style, { left: `${at.x(k)}px` });
    stage.append(head);
    return head;
  });
}

function buildDrops(stage, cols, at, H) {
  return cols.map((c, k) => {
    const last = k === cols.length - 1;
    const zone = el('div', { class: 'drop-zone', 'data-after': k,
      title: last ? 'Drop a layer here to add it at the end' : `Drop a layer here to insert it after ${c.id}` },
    el('span', {}, '+'));
    const left = at.x(k) + at.size / 2 + 4;
    const right = last ? left + Math.max(28, at.span / 2) : at.x(k + 1) - at.size / 2 - 4;
    Object.assign(zone.style, { left: `${left}px`, width: `${Math.max(16, right - left)}px`,
      top: '40px', height: `${H - 48}px` });
    stage.append(zone);
    return zone;
  });
}

/** Builds the drawing of `cols` into `stage` (W x H); returns its parts. */
export function buildStage(stage, cols, features, W, H) {
  const at = placeUnits(cols, W, H);
  const links = svg('svg', { class: 'links', width: W, height: H, 'aria-hidden': 'true' });
  stage.replaceChildren(links);
  return {
    at,
    links: buildLinks(links, cols, at),
    units: buildUnits(stage, cols, at, features),
    heads: buildHeads(stage, cols, at, features),
    drops: buildDrops(stage, cols, at, H),
  };
}
