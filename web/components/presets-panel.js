/**
 * Presets (lessons) from the server's catalog, in a menu at the top of the page: one card
 * each; choosing one loads its spec (undoable) and closes the menu. A new lesson leaves the
 * run shown: one still training is stopped, after asking. Escape closes the menu.
 * Listens to: nothing.
 * May import: commands.js, form.js (el), lessons.js, store.js (docFromSpec).
 */
import { LoadDoc } from '../commands.js';
import { el } from '../form.js';
import { editablePresets } from '../lessons.js';
import { docFromSpec } from '../store.js';

export function createPresetsPanel({ store, live, presets }) {
  const list = el('div', { class: 'panel presets-panel', role: 'group', 'aria-labelledby': 'presets-h' },
    el('h2', { id: 'presets-h' }, 'Lessons'));
  const root = el('details', { class: 'menu lessons-menu', 'data-testid': 'lessons' },
    el('summary', { title: 'Presets: lessons to load and play' }, 'Lessons ▾'), list);
  root.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && root.open) { root.open = false; root.querySelector('summary').focus(); }
  });
  document.addEventListener('click', (e) => { if (root.open && !root.contains(e.target)) root.open = false; });
  // a family of several networks (an autoencoder's encoder and decoder) loads them all; the
  // centre edits one at a time (role-switch.js)
  for (const p of editablePresets(presets)) {
    const b = el('button', { type: 'button', class: 'preset', 'data-preset': p.name,
      'aria-label': `Load preset: ${p.title}` },
    el('strong', {}, p.title), el('span', { class: 'small muted' }, p.description));
    b.addEventListener('click', async () => {
      root.open = false;
      if (live.active && !window.confirm(`A run is training. Stop it and load "${p.title}"?`)) return;
      if (live.run) await live.reset(); // its boundary, counters and status go with it
      const doc = docFromSpec(p.spec);
      store.exec(new LoadDoc(doc, `preset ${p.name}`));
      store.select(null);
    });
    list.append(b);
  }
  return { el: root };
}
