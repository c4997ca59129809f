/**
 * The centre's two faces of one network: the drawing (units, links, live maps: the
 * Playground's picture, built on) and the layers (cards: any graph, branches and merges).
 * A tab list (arrow keys move between the tabs); the choice is kept in localStorage so a
 * reload shows the same face.
 * Listens to: nothing. May import: form.js (el).
 */
import { el } from '../form.js';

const KEY = 'livegrad.centre';

/** `panes`: [{id, label, el, onShow?}] in tab order; the first is the default. */
export function createCentreTabs(panes) {
  const list = el('div', { class: 'centre-tabs', role: 'tablist', 'aria-label': 'Network view' });
  const tabs = panes.map((p) => {
    const tab = el('button', { type: 'button', role: 'tab', id: `tab-${p.id}`, 'data-tab': p.id,
      'aria-controls': p.el.id }, p.label);
    p.el.setAttribute('role', 'tabpanel');
    p.el.setAttribute('aria-labelledby', tab.id);
    tab.addEventListener('click', () => show(p.id));
    tab.addEventListener('keydown', (e) => {
      const d = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
      if (!d) return;
      const next = panes[(panes.indexOf(p) + d + panes.length) % panes.length];
      show(next.id);
      tabs[panes.indexOf(next)].focus();
    });
    list.append(tab);
    return tab;
  });

  function show(id) {
    panes.forEach((p, i) => {
      const on = p.id === id;
      p.el.hidden = !on;
      tabs[i].setAttribute('aria-selected', String(on));
      tabs[i].tabIndex = on ? 0 : -1;
      if (on) p.onShow?.();
    });
    try { localStorage.setItem(KEY, id); } catch { /* private mode: not kept */ }
  }

  let saved = null;
  try { saved = localStorage.getItem(KEY); } catch { /* none */ }
  show(panes.some((p) => p.id === saved) ? saved : panes[0].id);
  return { el: list, show };
}
