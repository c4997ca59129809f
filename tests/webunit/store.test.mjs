// Unit tests of web/store.js's pure parts: the URL hash and the document from a run spec.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeDoc, decodeDoc, readHash, docFromSpec, createStore } from '../../web/store.js';
import { EditNetwork, SwitchRole } from '../../web/commands.js';

// the store mirrors its document in the address: a stand-in for the browser's history
globalThis.history ??= { replaceState() {} };

test('encodeDoc is base64url and round-trips through decodeDoc and readHash', () => {
  const doc = { name: 'ünïcode ✓', network: { nodes: [{ id: 'a' }] }, lr: 0.001 };
  const text = encodeDoc(doc);
  assert.match(text, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(decodeDoc(text), doc);
  assert.deepEqual(readHash(`#s=${text}&run=r1`), { doc, run: 'r1' });
});

test('readHash gives nulls for missing or broken parts', () => {
  assert.deepEqual(readHash(''), { doc: null, run: null });
  assert.deepEqual(readHash('#run=abc'), { doc: null, run: 'abc' });
  assert.deepEqual(readHash('#s=!!notbase64'), { doc: null, run: null });
});

test('docFromSpec edits one network, the first optimizer and the first regularizer', () => {
  const spec = {
    schema_version: 2,
    data: { name: 'moons' },
    networks: { model: { nodes: ['m'] } },
    training: {
      optimizers: { main: { name: 'adam' }, second: { name: 'sgd' } },
      regularizers: [{ name: 'l2', params: { w: 1 } }, { name: 'l1' }],
    },
  };
  const doc = docFromSpec(spec);
  assert.deepEqual(doc, {
    data: { name: 'moons' },
    network: { nodes: ['m'] },
    training: { optimizer: { name: 'adam' }, regularizer: { name: 'l2', params: { w: 1 } } },
  });
  assert.equal(spec.schema_version, 2); // the spec itself is untouched
  assert.ok(spec.training.optimizers);
  const bare = docFromSpec({ networks: { x: { nodes: [] } }, training: { regularizers: [] } });
  assert.deepEqual(bare.network, { nodes: [] });
  assert.deepEqual(bare.training.regularizer, { name: 'none', params: {} });
});

test('a spec of several networks is edited one role at a time and read back whole', () => {
  const spec = { schema_version: 2, data: { name: 'digits' }, training: {},
    networks: { encoder: { nodes: ['e'] }, decoder: { nodes: ['d'] } } };
  const store = createStore(docFromSpec(spec));
  assert.equal(store.doc.role, 'encoder');
  assert.deepEqual(store.doc.network, { nodes: ['e'] });
  store.exec(new SwitchRole('decoder'));
  assert.deepEqual(store.doc.network, { nodes: ['d'] });
  store.exec(new EditNetwork('edit', (net) => { net.nodes.push('d2'); }));
  const back = store.spec();
  assert.equal(back.schema_version, 2);
  assert.deepEqual(back.networks, { encoder: { nodes: ['e'] }, decoder: { nodes: ['d', 'd2'] } });
  assert.equal(back.network, undefined);
  store.undo();
  store.undo(); // the role switch too: the encoder again, the decoder untouched
  assert.equal(store.doc.role, 'encoder');
  assert.deepEqual(store.spec().networks.decoder, { nodes: ['d'] });
});
