// Unit tests of web/store.js's pure parts: the URL hash and the document from a run spec.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeDoc, decodeDoc, readHash, docFromSpec } from '../../web/store.js';

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

test('docFromSpec edits the model network, first optimizer and first regularizer', () => {
  const spec = {
    schema_version: 2,
    data: { name: 'moons' },
    networks: { other: { nodes: ['o'] }, model: { nodes: ['m'] } },
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
