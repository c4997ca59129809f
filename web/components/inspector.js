/**
 * The property inspector of the selected layer: its parameters (a form from the catalog's
 * schema, descriptions as help), its inputs (disconnect), connect its output to another
 * layer (a merge without a mouse), move up or down, delete; shape, parameters and error.
 * Below 1600 px it floats over the centre while a layer is selected (× or Escape closes).
 * Listens to: store 'select', 'doc', 'report'.
 * May import: commands.js, graph.js, form.js.
 */
import { connectLayers, disconnectLayers, removeLayer, setLayerParam, shiftLayer } from '../commands.js';
import { inputsOf } from '../graph.js';
import { createForm, el } from '../form.js';

export function createInspector({ store, catalog }) {
  const kinds = Object.fromEntries(catalog.layers.map((l) => [l.name, l]));
  const head = el('div');
  const formSlot = el('div');
  const actions = el('div');
  const root = el('section', { class: 'inspector', 'aria-label': 'Layer inspector' },
    head, formSlot, actions);
  let form = null;
  let formFor = null;
  let report = null;

  const button = (text, label, fn, attrs = {}) => {
    const b = el('button', { type: 'button', 'aria-label': label, ...attrs }, text);
    b.addEventListener('click', fn);
    return b;
  };

  function render() {
    const net = store.doc.network;
    const node = net.nodes.find((n) => n.id === store.selected);
    // below 1600 px the inspector floats over the centre while a layer is selected
    root.closest('.build-area')?.classList.toggle('has-selection', !!node);
    if (!node) {
      form = null;
      formFor = null;
      const total = report?.report?.total_params;
      formSlot.replaceChildren();
      actions.replaceChildren();
      head.replaceChildren(el('h3', {}, 'Inspector'),
        el('p', { class: 'muted' }, 'Select a layer to edit its parameters.'),
        total !== undefined ? el('p', { class: 'muted' }, `Network: ${total.toLocaleString()} parameters`) : '');
      return;
    }
    const kind = kinds[node.kind];
    if (formFor !== `${node.id}:${node.kind}`) {
      form = createForm(kind?.params, { idPrefix: `insp-${node.id}`,
        onChange: (k, v) => store.exec(setLayerParam(node.id, k, v)) });
      formFor = `${node.id}:${node.kind}`;
      formSlot.replaceChildren(form.el);
    }
    form.update(node.params || {});
    const info = report?.report?.nodes?.find((n) => n.id === node.id);
    const err = info?.error || (report?.errors || []).find((e) => e.node === node.id)?.message;
    const ins = inputsOf(net, node.id);
    const others = net.nodes.filter((n) => n.id !== node.id && !ins.includes(n.id));
    const pick = el('select', { 'aria-label': `Connect ${node.id}'s output to`, id: 'connect-target' },
      ...others.map((n) => el('option', { value: n.id }, n.id)));
    const focused = actions.contains(document.activeElement)
      ? document.activeElement.getAttribute('aria-label') : null;
    head.replaceChildren(
      el('div', { class: 'inspector-head' },
        el('h3', {}, el('span', { class: 'node-kind' }, node.kind), ' ', el('code', {}, node.id)),
        button('\u00d7', 'Close the inspector', () => store.select(null), { class: 'ghost close' })),
      el('p', { class: 'help' }, kind?.description || ''),
      el('p', { class: 'stats' }, `output ${info?.shape_text ?? '?'} \u00b7 ${info?.params ?? '?'} parameters`),
      // how the output size follows from kernel, stride, padding (the server's own numbers)
      info?.arithmetic ? el('ul', { class: 'arithmetic', 'data-testid': 'shape-arithmetic',
        'aria-label': 'How the output size follows' },
      ...info.arithmetic.split('; ').map((line) => el('li', {}, line))) : '',
      err ? el('p', { class: 'error', role: 'alert' }, err) : '');
    actions.replaceChildren(
      el('div', { class: 'row' },
        button('\u2191 Move up', `Move ${node.id} up`, () => tryExec(shiftLayer(node.id, -1))),
        button('\u2193 Move down', `Move ${node.id} down`, () => tryExec(shiftLayer(node.id, 1))),
        button('Delete', `Delete ${node.id}`, () => { store.exec(removeLayer(node.id)); store.select(null); },
          { class: 'danger' })),
      el('div', { class: 'inputs' }, el('span', { class: 'muted' }, 'inputs: '),
        ...(ins.length ? ins.map((s) => button(`${s} \u00d7`, `Disconnect ${s} from ${node.id}`,
          () => store.exec(disconnectLayers(s, node.id)), { class: 'chip' })) : [el('span', {}, 'none')])),
      others.length ? el('div', { class: 'row' }, pick,
        button('Connect', `Connect ${node.id} to the chosen layer`,
          () => tryExec(connectLayers(node.id, pick.value)))) : '');
    if (focused) actions.querySelector(`[aria-label="${CSS.escape(focused)}"]`)?.focus();
  }

  function tryExec(cmd) {
    try { store.exec(cmd); } catch { /* nothing to move: at an end of the chain */ }
  }

  root.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !e.target.closest('select')) store.select(null);
  });
  store.on('select', render);
  store.on('doc', () => {
    if (store.selected && !store.doc.network.nodes.some((n) => n.id === store.selected)) store.select(null);
    else render();
  });
  store.on('report', (r) => { report = r; render(); });
  render();
  return { el: root };
}
