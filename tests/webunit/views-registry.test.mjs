// Unit tests of web/views/registry.js: which views fit a run, from the catalog's view probes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createViewRegistry, viewContext, viewEventsFor } from '../../web/views/registry.js';

// the shape of GET /catalog, cut to what the registry reads (probe entries as the engine's)
const catalog = {
  families: [{ name: 'supervised', probes: null }, { name: 'ae', probes: ['recon', 'norms'] }],
  datasets: [{ name: 'moons', plane: true, task: 'classification' },
    { name: 'pics', plane: false, task: 'classification' }],
  probes: [
    { name: 'norms', view: false, events: ['norms_sampled'], families: null, data_kinds: null },
    { name: 'grid', view: true, events: ['grid_computed'], families: ['supervised'], data_kinds: ['plane'] },
    { name: 'preds', view: true, events: ['predictions_sampled'], families: ['supervised'],
      data_kinds: ['image', 'vector'] },
    { name: 'recon', view: true, events: ['reconstructions_sampled'], families: ['ae'], data_kinds: null },
    { name: 'code', view: true, events: ['code_sampled'], families: ['ae'], data_kinds: null },
  ],
};
const spec = (family, data, task) => ({ family: family && { name: family }, data: { name: data },
  training: task ? { task } : {} });

test('view events follow the family, the data kind and the view flag', () => {
  const sup = catalog.families[0];
  assert.deepEqual([...viewEventsFor(catalog, sup, catalog.datasets[0])], ['grid_computed']);
  assert.deepEqual([...viewEventsFor(catalog, sup, catalog.datasets[1])], ['predictions_sampled']);
  // a kind the engine named wins over the plane flag's guess
  assert.deepEqual([...viewEventsFor(catalog, sup, catalog.datasets[1], 'matrix')], []);
  // a family that lists its probes gets only those ('code' is not among ae's)
  assert.deepEqual([...viewEventsFor(catalog, catalog.families[1], catalog.datasets[0])],
    ['reconstructions_sampled']);
});

test('viewContext reads the spec, defaulting to the supervised family and the set task', () => {
  const ctx = viewContext(catalog, spec(null, 'pics'));
  assert.equal(ctx.family.name, 'supervised');
  assert.equal(ctx.task, 'classification');
  assert.equal(ctx.dataKind, null);
  assert.equal(viewContext(catalog, spec(null, 'pics'), { data: { kind: 'image' } }).dataKind, 'image');
  assert.equal(viewContext(catalog, null).dataset, null);
});

test('a view fits when all its events are view events of the run and appliesTo agrees', () => {
  const reg = createViewRegistry();
  const mount = () => ({});
  reg.registerView({ id: 'boundary', title: 'B', events: ['grid_computed'], mount });
  reg.registerView({ id: 'preds', title: 'P', events: ['predictions_sampled'], mount,
    appliesTo: (ctx) => ctx.task === 'classification' });
  reg.registerView({ id: 'both', title: 'R', events: ['reconstructions_sampled', 'code_sampled'], mount });
  const ids = (s) => reg.viewsFor(viewContext(catalog, s)).map((v) => v.id);
  assert.deepEqual(ids(spec(null, 'moons')), ['boundary']);
  assert.deepEqual(ids(spec(null, 'pics')), ['preds']);
  assert.deepEqual(ids(spec(null, 'pics', 'regression')), []);
  assert.deepEqual(ids(spec('ae', 'pics')), []); // code_sampled is not among ae's probes
  assert.throws(() => reg.registerView({ id: 'boundary', events: [], mount }), /twice/);
  assert.throws(() => reg.registerView({ id: 'x', mount }), /events/);
});
