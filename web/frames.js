/**
 * What the server sends as bytes, decoded: the binary event frames of docs/protocol.md (a
 * JSON header, then the tensors it names, placed at their paths in the event) and the
 * safetensors layout of checkpoints. Pure: no network, no DOM.
 * May import: nothing (browser APIs only).
 */

const UTF8 = new TextDecoder();
// safetensors dtype codes -> typed arrays; F16 is Float16Array where the browser has one
const TYPED = { F32: Float32Array, I32: Int32Array, U8: Uint8Array, F16: Uint16Array };

/** float16 bits as a Float32Array: one copy, for browsers without Float16Array. */
function halfToFloat(bits) {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const f = h & 0x3ff;
    out[i] = e === 0 ? sign * f * 2 ** -24 // subnormal
      : e === 31 ? (f ? NaN : sign * Infinity) : sign * (1 + f / 1024) * 2 ** (e - 15);
  }
  return out;
}

/** The JSON header of a safetensors layout and where its data starts (8 + its length). */
function readHeader(buf) {
  const n = Number(new DataView(buf).getBigUint64(0, true));
  return { header: JSON.parse(UTF8.decode(new Uint8Array(buf, 8, n))), base: 8 + n };
}

/**
 * A typed array over one tensor of `buf` (null for a dtype we do not read), with its `shape`.
 * A view, no copy, when the tensor starts on a multiple of its element size, as every buffer
 * of a frame does; a copy otherwise (checkpoints of older safetensors versions).
 */
function tensor(buf, base, { dtype, shape, data_offsets: [a, b] }) {
  const Type = TYPED[dtype];
  if (!Type) return null;
  const at = base + a;
  const view = at % Type.BYTES_PER_ELEMENT ? new Type(buf.slice(at, base + b))
    : new Type(buf, at, (b - a) / Type.BYTES_PER_ELEMENT);
  const H = globalThis.Float16Array;
  const values = dtype !== 'F16' ? view : H ? new H(view.buffer, view.byteOffset, view.length)
    : halfToFloat(view);
  values.shape = shape;
  return values;
}

/** Puts `value` back at its dotted path (`values`, `layers.0.bias`) of `root`: an insert into
 * a list (the header left that item out), a key in an object. Paths come in order. */
function place(root, path, value) {
  const parts = path.split('.');
  const last = parts.pop();
  const node = parts.reduce((n, part) => n[part], root);
  if (Array.isArray(node)) node.splice(Number(last), 0, value);
  else node[last] = value;
}

/**
 * Decodes one binary frame (docs/protocol.md): safetensors' layout, the event's JSON in
 * `__metadata__.event`, each array an 8-byte-aligned buffer named by its path in the event.
 * Returns the event with each array in place as a typed-array view of `buf` (Float32Array,
 * Float16Array, Uint8Array, Int32Array; float16 becomes a Float32Array copy where the browser
 * has no Float16Array), carrying its `shape` (row-major: `values[i * shape[1] + j]`).
 */
export function decodeFrame(buf) {
  const { header, base } = readHeader(buf);
  const event = JSON.parse(header.__metadata__.event);
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const values = tensor(buf, base, t);
    if (!values) throw new Error(`unsupported dtype ${t.dtype} in ${event.type}.${name}`);
    place(event, name, values);
  }
  return event;
}

/** Parses a safetensors file (a checkpoint): {metadata, tensors: {name: {shape, data}}}. */
export function parseSafetensors(buf) {
  const { header, base } = readHeader(buf);
  const tensors = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const data = tensor(buf, base, t);
    if (data) tensors[name] = { shape: t.shape, data };
  }
  return { metadata: header.__metadata__ || {}, tensors };
}
