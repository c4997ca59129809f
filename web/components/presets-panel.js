/**
 * Presets from the server's catalog: one card each; choosing one loads its spec (undoable).
 * Listens to: nothing.
 * May import: commands.js, form.js (el).
 */
import { LoadDoc } from '../commands.js';
import { el } from '../form.js';

export function createPresetsPanel({ store, presets }) {
  const root = el('section', { class: 'panel presets-panel', 'aria-labelledby': 'presets-h' },
    el('h2', { id: 'presets-h' }, 'Presets'));
  for (const p of presets) {
    const b = el('button', { type: 'button', class: 'preset', 'data-preset': p.name,
      'aria-label': `Load preset: ${p.title}` },
    el('strong', {}, p.title), el('span', { class: 'small muted' }, p.description));
    b.addEventListener('click', () => {
      const doc = structuredClone(p.spec);
      delete doc.schema_version;
      store.exec(new LoadDoc(doc, `preset ${p.name}`));
      store.select(null);
    });
    root.append(b);
  }
  return { el: root };
}
