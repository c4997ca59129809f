/**
 * The Training panel: task, loss, optimizer and its hyper-parameters, schedule,
 * regularization, gradient clipping, initialization (each a catalog choice with its own
 * form), and batch size, epochs and seed from the exported TrainingSpec schema. The learning
 * rate may change while a run trains: the change goes to the run too. Switching a choice
 * keeps the values the new entry also takes (lr from Adam to SGD).
 * Listens to: store 'doc', 'run-error'.
 * May import: commands.js, form.js.
 */
import { SetValue } from '../commands.js';
import { accepts, createForm, el } from '../form.js';

const CHOICES = [
  ['loss', 'Loss', 'losses'],
  ['optimizer', 'Optimizer', 'optimizers'],
  ['schedule', 'Schedule', 'schedules'],
  ['regularizer', 'Regularization', 'regularizers'],
  ['clip', 'Gradient clipping', 'clippers'],
  ['init', 'Initialization', 'initializers'],
];
const SCALARS = ['batch_size', 'epochs', 'seed'];

export function createTrainingPanel({ store, live, catalog, schemas }) {
  const root = el('section', { class: 'panel training-panel', 'aria-labelledby': 'train-h' },
    el('h2', { id: 'train-h' }, 'Training'));
  const training = () => store.doc.training || {};
  const blocks = {};

  const taskSelect = el('select', { id: 'task' },
    ...catalog.tasks.map((t) => el('option', { value: t.name, title: t.description }, t.name)));
  taskSelect.addEventListener('change', () =>
    store.exec(new SetValue(['training', 'task'], taskSelect.value)));
  root.append(el('div', { class: 'field' }, el('label', { for: 'task' }, 'Task'), taskSelect));

  const more = el('div', { class: 'more-body' });
  for (const [key, title, list] of CHOICES) {
    const entries = catalog[list];
    const select = el('select', { id: `choice-${key}` });
    const help = el('small', { class: 'help' });
    const error = el('span', { class: 'field-error', role: 'alert' });
    const slot = el('div', { class: 'sub' });
    select.addEventListener('change', () => store.exec(new SetValue(['training', key],
      { name: select.value, params: carried(key, select.value) }, `${key} ${select.value}`)));
    (key === 'loss' || key === 'optimizer' ? root : more).append(el('div', { class: `field choice choice-${key}` },
      el('label', { for: select.id }, title), select, help, error, slot));
    blocks[key] = { entries, select, help, error, slot, form: null, formFor: null };
  }

  /** The values set on the current choice that the new one `name` takes too (lr from Adam to
   * SGD, say): a person switching optimizer keeps the learning rate they chose; the rest
   * take the new entry's defaults. */
  function carried(key, name) {
    const own = blocks[key].entries.find((e) => e.name === name)?.params?.properties || {};
    const before = training()[key]?.params || {};
    return Object.fromEntries(Object.entries(before)
      .filter(([k, v]) => k in own && accepts(own[k], v)));
  }

  const scalarSchema = { properties: Object.fromEntries(SCALARS
    .filter((k) => schemas?.TrainingSpec?.properties?.[k])
    .map((k) => [k, schemas.TrainingSpec.properties[k]])) };
  const scalars = createForm(scalarSchema, { idPrefix: 'train',
    onChange: (k, v) => store.exec(new SetValue(['training', k], v)) });
  root.append(scalars.el, el('details', { class: 'more' },
    el('summary', {}, 'Schedule, regularization, clipping, initialization'), more));

  function onParam(key, k, v) {
    store.exec(new SetValue(['training', key, 'params', k], v));
    if (key === 'optimizer' && k === 'lr' && live.active) live.setLr(v);
  }

  function render() {
    const t = training();
    taskSelect.value = t.task ?? catalog.tasks[0]?.name;
    for (const [key, b] of Object.entries(blocks)) {
      const choice = t[key] || { name: b.entries[0]?.name, params: {} };
      const fits = (e) => !e.tasks || e.tasks.includes(taskSelect.value);
      const options = b.entries.filter(fits);
      const names = options.map((e) => e.name).join();
      if (b.select.dataset.names !== names) {
        b.select.replaceChildren(...options.map((e) => el('option', { value: e.name }, e.name)));
        b.select.dataset.names = names;
      }
      b.select.value = choice.name;
      const entry = b.entries.find((e) => e.name === choice.name);
      b.help.textContent = entry?.description || '';
      b.error.textContent = entry && !fits(entry) ? `${choice.name} does not fit the ${taskSelect.value} task` : '';
      if (b.formFor !== choice.name) {
        b.form = createForm(entry?.params, { idPrefix: key, onChange: (k, v) => onParam(key, k, v) });
        b.formFor = choice.name;
        b.slot.replaceChildren(b.form.el);
      }
      b.form.update(choice.params || {});
    }
    scalars.update(t);
  }

  store.on('doc', render);
  store.on('run-error', ({ error }) => {
    Object.values(blocks).forEach((b) => b.form?.clearErrors());
    for (const e of error?.errors || []) {
      // the page edits one optimizer and one regularizer: version 2 names them by role / index
      const field = (e.field || '').replace(/^training\.optimizers\.\w+/, 'training.optimizer')
        .replace(/^training\.regularizers\.\d+/, 'training.regularizer');
      const m = /training\.(\w+)(?:\.params\.(\w+))?/.exec(field);
      if (!m) continue;
      if (blocks[m[1]] && m[2]) blocks[m[1]].form?.setError(m[2], e.message);
      else if (blocks[m[1]]) blocks[m[1]].error.textContent = e.message;
      else scalars.setError(m[1], e.message);
    }
  });
  render();
  return { el: root };
}
