/**
 * The network drawing's two popovers: a unit's map enlarged, with its value range (on hover
 * or focus), and a link's weight, read and set (on click; the Playground's quick edit). A
 * weight is set on the run shown, between its steps (the set_weight command); without a run
 * there is no weight yet to set, and the popover says so.
 * May import: form.js (el), numbers.js, neuron-maps.js.
 */
import { el } from '../form.js';
import { readable } from '../numbers.js';
import { nodeScale, paintMap, valueRange } from './neuron-maps.js';

const ZOOM_PX = 132;

export function createPopovers({ root, live }) {
  const big = el('canvas', { width: 1, height: 1 });
  const zoomText = el('p', { class: 'small' });
  const zoomBox = el('div', { class: 'unit-zoom', 'data-testid': 'unit-zoom', hidden: true,
    role: 'tooltip' }, big, zoomText);
  const linkName = el('p', { class: 'small' });
  const input = el('input', { type: 'number', step: 'any', 'aria-label': 'Weight' });
  const set = el('button', { type: 'button' }, 'Set');
  const close = el('button', { type: 'button', class: 'ghost', 'aria-label': 'Close' }, '\u00d7');
  const note = el('p', { class: 'small muted' });
  const error = el('p', { class: 'error small', role: 'alert' });
  const linkBox = el('div', { class: 'link-edit', 'data-testid': 'link-edit', hidden: true,
    role: 'dialog', 'aria-label': 'Weight of a link' },
  el('div', { class: 'row' }, linkName, close), el('div', { class: 'row' }, input, set), note, error);
  root.append(zoomBox, linkBox);
  let zoomed = null;
  let editing = null;

  function place(box, x, y) {
    const r = root.getBoundingClientRect();
    box.style.left = `${Math.max(0, Math.min(r.width - 180, x - r.left + 12))}px`;
    box.style.top = `${Math.max(0, y - r.top + 12)}px`;
  }

  function refreshZoom() {
    const u = zoomed;
    if (!u) return;
    if (!u.values) {
      big.hidden = true;
      zoomText.textContent = `${u.label}: its map comes once a run streams maps (2-D data)`;
      return;
    }
    big.hidden = false;
    paintMap(big, u.values, u.resolution, nodeScale([{ values: u.values }]));
    const [lo, hi] = valueRange(u.values);
    zoomText.textContent = `${u.label}: from ${readable(lo)} (orange) to ${readable(hi)} (blue)`;
  }

  const self = {
    /** Shows unit `u` ({box, label, values, resolution}) enlarged; null hides it. */
    zoom(u) {
      zoomed = u;
      zoomBox.hidden = !u;
      if (!u) return;
      big.style.width = big.style.height = `${ZOOM_PX}px`;
      const r = u.box.getBoundingClientRect();
      place(zoomBox, r.right, r.top);
      refreshZoom();
    },
    refreshZoom,
    /** Opens the weight of `link` ({node, row, col, name, weight}) at the pointer. */
    editLink(link, x, y) {
      editing = link;
      linkBox.hidden = false;
      place(linkBox, x, y);
      linkName.textContent = link.name;
      input.value = link.weight === null || link.weight === undefined ? '' : link.weight.toPrecision(4);
      const canSet = !!live.run && live.active && typeof live.setWeight === 'function';
      input.disabled = set.disabled = !canSet;
      error.textContent = '';
      note.textContent = canSet ? 'Set between two steps; the optimizer\u2019s state stays as it is.'
        : live.run && live.active ? 'This server cannot set weights.'
          : 'Weights exist once a run trains: play (or step once), then set one.';
      if (canSet) input.focus();
    },
    close() { editing = null; linkBox.hidden = true; },
    async submit() {
      const value = Number(input.value);
      if (!editing || input.value === '' || !Number.isFinite(value)) {
        error.textContent = 'A weight is a finite number.';
        return;
      }
      const { node, row, col } = editing;
      const ok = await live.setWeight(node, row, col, value);
      if (ok === false) error.textContent = 'The run did not take it (see the message above).';
      else linkBox.hidden = true;
    },
  };
  close.addEventListener('click', () => self.close());
  set.addEventListener('click', () => self.submit());
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') self.submit();
    if (e.key === 'Escape') self.close();
  });
  return self;
}
