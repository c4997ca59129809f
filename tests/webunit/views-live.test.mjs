// Two live.js run objects fed by two fake streams: each keeps the latest events its views
// asked for, apart from the other's, with versions that move per event (no server, no DOM).
import { test } from 'node:test';
import assert from 'node:assert/strict';

globalThis.document ??= { hidden: false };
globalThis.requestAnimationFrame ??= () => 0; // frames are not needed here
const { createLive } = await import('../../web/live.js');

class FakeStream extends EventTarget {
  constructor(types) { super(); this.types = types; this.closed = false; }
  subscribe(types) { this.types = types; }
  close() { this.closed = true; }
  send(type, fields) { this.dispatchEvent(new CustomEvent(type, { detail: { type, ...fields } })); }
}

function fakeRun(id) {
  const streams = [];
  const api = {
    getRun: async () => ({ id, status: 'running', spec: {} }),
    metrics: async () => ({ series: {} }),
    events: (_id, _since, types) => { const s = new FakeStream(types); streams.push(s); return s; },
  };
  const store = { emit() {}, setRun() {}, spec: () => ({}) };
  return { live: createLive({ store, api }), streams };
}

test('two runs keep their own latest view events', async () => {
  const a = fakeRun('a');
  const b = fakeRun('b');
  a.live.want('views', ['code_sampled']);
  b.live.want('views', ['code_sampled', 'reconstructions_sampled']);
  await a.live.open('a');
  await b.live.open('b');
  const [sa] = a.streams;
  const [sb] = b.streams;
  assert.ok(sa.types.includes('code_sampled') && !sa.types.includes('reconstructions_sampled'));
  assert.ok(sb.types.includes('reconstructions_sampled'));
  assert.equal(a.live.latest('code_sampled'), null);
  assert.equal(a.live.versionOf('code_sampled'), 0);

  sa.send('code_sampled', { step: 10, sparsity: 0.1 });
  sb.send('code_sampled', { step: 20, sparsity: 0.9 });
  sb.send('code_sampled', { step: 30, sparsity: 0.8 });
  sa.send('reconstructions_sampled', { step: 10 }); // not asked for by a's views: not kept
  assert.equal(a.live.latest('code_sampled').sparsity, 0.1);
  assert.equal(b.live.latest('code_sampled').step, 30);
  assert.equal(a.live.latest('reconstructions_sampled'), null);
  const before = a.live.versionOf('code_sampled');
  sa.send('code_sampled', { step: 11, sparsity: 0.2 });
  assert.notEqual(a.live.versionOf('code_sampled'), before);
  assert.equal(b.live.latest('code_sampled').step, 30);
  assert.equal(a.live.step, 11);
});

test('a view asking anew reopens the stream from the start; a new run forgets the old events', async () => {
  const { live, streams } = fakeRun('c');
  await live.open('c');
  assert.equal(streams.length, 1);
  live.want('views', ['predictions_sampled']);
  assert.equal(streams.length, 2); // the history of a type asked for late
  assert.ok(streams[0].closed);
  streams[1].send('predictions_sampled', { step: 5, accuracy: 0.5 });
  assert.equal(live.latest('predictions_sampled').accuracy, 0.5);
  const seen = live.versionOf('predictions_sampled');
  await live.open('c');
  assert.equal(live.latest('predictions_sampled'), null);
  assert.notEqual(live.versionOf('predictions_sampled'), seen);
  live.want('views', []);
  assert.ok(!streams.at(-1).types.includes('predictions_sampled'));
});

test('a view redraws only when the version of its event moved', async () => {
  const { follow } = await import('../../web/views/follow.js');
  const frames = [];
  let version = 0;
  const run = { versionOf: () => version, latest: () => ({ version }), onFrame: (fn) => { frames.push(fn); return () => frames.pop(); } };
  const drawn = [];
  const stop = follow(run, 'code_sampled', (e) => drawn.push(e.version));
  frames[0]();
  frames[0]();
  version = 3;
  frames[0]();
  frames[0]();
  assert.deepEqual(drawn, [0, 3]); // once at mount, once for the new event
  stop();
  assert.equal(frames.length, 0);
});
