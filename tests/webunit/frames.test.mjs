// Unit tests of web/frames.js, binary frames (docs/protocol.md) and safetensors, built here
// by hand (u64 header length, JSON header, 8-byte-aligned buffers), and of api.js's ApiError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../web/api.js';
import { decodeFrame, parseSafetensors } from '../../web/frames.js';

/** A safetensors buffer: tensors [{name, dtype, shape, bytes}], `metadata` as given. */
function build(tensors, metadata, { align = 8 } = {}) {
  const header = {};
  if (metadata) header.__metadata__ = metadata;
  let at = 0;
  const placed = tensors.map((t) => {
    at = Math.ceil(at / align) * align;
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [at, at + t.bytes.byteLength] };
    const p = { at, bytes: new Uint8Array(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength) };
    at += t.bytes.byteLength;
    return p;
  });
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // data starts 8-aligned
  const head = new TextEncoder().encode(json);
  const buf = new ArrayBuffer(8 + head.length + at);
  new DataView(buf).setBigUint64(0, BigInt(head.length), true);
  new Uint8Array(buf, 8).set(head);
  for (const p of placed) new Uint8Array(buf, 8 + head.length + p.at).set(p.bytes);
  return buf;
}

test('decodeFrame puts typed arrays at their paths in the event', () => {
  const event = { type: 'grid_computed', seq: 7, layers: [{ name: 'd1' }, { name: 'd3' }] };
  const buf = build([
    { name: 'values', dtype: 'F32', shape: [2, 2], bytes: new Float32Array([1, 2, 3, 4.5]) },
    { name: 'labels', dtype: 'U8', shape: [3], bytes: new Uint8Array([0, 1, 2]) },
    { name: 'idx', dtype: 'I32', shape: [2], bytes: new Int32Array([-1, 5]) },
    // a list item the header left out: inserted back at its index
    { name: 'layers.1', dtype: 'F32', shape: [1], bytes: new Float32Array([9]) },
  ], { event: JSON.stringify(event) });
  const e = decodeFrame(buf);
  assert.equal(e.type, 'grid_computed');
  assert.equal(e.seq, 7);
  assert.ok(e.values instanceof Float32Array);
  assert.deepEqual([...e.values], [1, 2, 3, 4.5]);
  assert.deepEqual(e.values.shape, [2, 2]);
  assert.equal(e.values.buffer, buf); // a view, no copy
  assert.deepEqual([...e.labels], [0, 1, 2]);
  assert.deepEqual([...e.idx], [-1, 5]);
  assert.equal(e.layers.length, 3);
  assert.deepEqual([...e.layers[1]], [9]);
  assert.deepEqual(e.layers[2], { name: 'd3' });
});

test('decodeFrame reads float16 as floats', () => {
  // 1.0, -2.0, 0.5, +inf in IEEE half precision
  const bits = new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7c00]);
  const buf = build([{ name: 'w', dtype: 'F16', shape: [4], bytes: bits }],
    { event: JSON.stringify({ type: 'weights' }) });
  const e = decodeFrame(buf);
  assert.deepEqual([...e.w], [1, -2, 0.5, Infinity]);
  assert.deepEqual(e.w.shape, [4]);
});

test('decodeFrame refuses a dtype it cannot read', () => {
  const buf = build([{ name: 'x', dtype: 'F64', shape: [1], bytes: new Float64Array([1]) }],
    { event: JSON.stringify({ type: 'grid_computed' }) });
  assert.throws(() => decodeFrame(buf), /unsupported dtype F64 in grid_computed\.x/);
});

test('parseSafetensors: metadata, tensors, unaligned data copied, unknown dtypes skipped', () => {
  const buf = build([
    { name: 'a', dtype: 'U8', shape: [1], bytes: new Uint8Array([7]) },
    { name: 'b', dtype: 'F32', shape: [2], bytes: new Float32Array([0.25, -1]) },
    { name: 'c', dtype: 'F64', shape: [1], bytes: new Float64Array([3]) },
  ], { format: 'pt' }, { align: 1 }); // b starts at offset 1: not 4-aligned
  const { metadata, tensors } = parseSafetensors(buf);
  assert.deepEqual(metadata, { format: 'pt' });
  assert.deepEqual(Object.keys(tensors), ['a', 'b']);
  assert.deepEqual(tensors.b.shape, [2]);
  assert.deepEqual([...tensors.b.data], [0.25, -1]);
  assert.deepEqual(parseSafetensors(build([], null)).metadata, {});
});

test('ApiError carries status and errors', () => {
  const err = new ApiError(422, '', [{ loc: ['x'] }]);
  assert.equal(err.message, 'HTTP 422');
  assert.equal(err.status, 422);
  assert.deepEqual(err.errors, [{ loc: ['x'] }]);
});
