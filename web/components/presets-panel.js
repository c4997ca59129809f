/**
 * Presets from the server's catalog: one card each; choosing one loads its spec (undoable).
 * A new lesson leaves the run shown: one still training is stopped, after asking.
 * Listens to: nothing.
 * May import: commands.js, form.js (el), lessons.js, store.js (docFromSpec).
 */
import { LoadDoc } from '../commands.js';
import { el } from '../form.js';
import { editablePresets } from '../lessons.js';
import { docFromSpec } from '../store.js';

export function createPresetsPanel({ store, live, presets }) {
  const root = el('section', { class: 'panel presets-panel', 'aria-labelledby': 'presets-h' },
    el('h2', { id: 'presets-h' }, 'Presets'));
  // the page edits one network; presets of families with several (an autoencoder's encoder
  // and decoder) run from the API until the page edits networks by role
  for (const p of editablePresets(presets)) {
    const b = el('button', { type: 'button', class: 'preset', 'data-preset': p.name,
      'aria-label': `Load preset: ${p.title}` },
    el('strong', {}, p.title), el('span', { class: 'small muted' }, p.description));
    b.addEventListener('click', async () => {
      if (live.active && !window.confirm(`A run is training. Stop it and load "${p.title}"?`)) return;
      if (live.run) await live.reset(); // its boundary, counters and status go with it
      const doc = docFromSpec(p.spec);
      store.exec(new LoadDoc(doc, `preset ${p.name}`));
      store.select(null);
    });
    root.append(b);
  }
  return { el: root };
}
