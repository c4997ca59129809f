/**
 * Which of the family's networks the centre edits, for a family of several (an
 * autoencoder's encoder, then its decoder): one button per role, in the document's order;
 * switching is an undoable step (commands.js SwitchRole). Hidden for a family of one.
 * Listens to: store 'doc'. May import: commands.js, form.js (el).
 */
import { SwitchRole } from '../commands.js';
import { el } from '../form.js';

export function createRoleSwitch({ store }) {
  const root = el('div', { class: 'role-switch', role: 'group', 'aria-label': 'Network to edit' });
  let shown = null;

  function render() {
    const roles = store.doc.role ? Object.keys(store.doc.networks) : [];
    const key = JSON.stringify([roles, store.doc.role]);
    if (key === shown) return;
    shown = key;
    root.hidden = roles.length < 2;
    root.replaceChildren(...(roles.length < 2 ? [] : [el('span', { class: 'muted small' }, 'editing'),
      ...roles.map((role) => {
        const b = el('button', { type: 'button', 'data-role': role,
          'aria-pressed': String(role === store.doc.role) }, role);
        b.addEventListener('click', () => {
          if (role !== store.doc.role) { store.exec(new SwitchRole(role)); store.select(null); }
        });
        return b;
      })]));
  }

  store.on('doc', render);
  render();
  return { el: root };
}
