/**
 * The only module that talks to the server: REST with fetch, one WebSocket per watched run,
 * the binary frame layout of docs/protocol.md, and the safetensors header of checkpoints.
 * Server events are re-dispatched as DOM events named by the event's `type`.
 * May import: nothing (browser APIs only).
 */

/** A refusal from the server: `status`, the `detail` text and the located `errors`. */
export class ApiError extends Error {
  constructor(status, detail, errors = []) {
    super(detail || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.errors = errors;
  }
}

const UTF8 = new TextDecoder();
const TOKEN_KEY = 'livegrad.token';
// a token made of these characters travels as a websocket subprotocol, others in the query
const PROTOCOL_SAFE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
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

/**
 * A live subscription to one run's events. Dispatches each event as a DOM event of its
 * `type` (detail: the event) plus `connection` ({state: 'open'|'lost'|'closed'}) and `gap`
 * ({since, first}) when the server no longer holds events the client missed.
 * Reconnects with backoff and `?since=<last seq>`. Asks for `batch=true`: light events come
 * as JSON arrays (far fewer frames for the page to handle), and catch-up merges consecutive
 * steps_completed events, skipping seq numbers: only `hello.first_seq` signals a real loss.
 * Asks for `points=STEP_POINTS`: a fast run's steps_completed carries every stride-th step's
 * values (its `stride`), as many as a live chart can show; /metrics has every step.
 */
const STEP_POINTS = 256; // values per metric per steps_completed at most

class RunStream extends EventTarget {
  constructor(url, since = -1, events = undefined, token = () => null) {
    super();
    this.url = url;
    this.token = token;
    this.lastSeq = since;
    this.closed = false;
    this.retries = 0;
    this.ws = null;
    this.events = events; // event types asked for (undefined: never asked, all)
    this.framesHz = null; // binary frames a second per kind at most (null: as they come)
    this.#open();
  }

  #open() {
    // the subscription travels in the URL too, so that the catch-up is filtered as well
    const asked = this.events;
    const hz = this.framesHz;
    const sub = (Array.isArray(asked) ? `&subscribe=${asked.map(encodeURIComponent).join(',')}` : '')
      + (hz ? `&frames_hz=${hz}` : '');
    // the access token: a subprotocol (livegrad.token.<t>) the server echoes, not the URL
    const token = this.token();
    const safe = token && PROTOCOL_SAFE.test(token);
    const query = token && !safe ? `&token=${encodeURIComponent(token)}` : '';
    const ws = new WebSocket(`${this.url}?since=${this.lastSeq}&batch=true&points=${STEP_POINTS}${sub}${query}`,
      safe ? [`livegrad.token.${token}`] : []);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      this.retries = 0;
      // changed while connecting: the URL carried the old list
      if (String(this.events) !== String(asked) || this.framesHz !== hz) this.#resubscribe();
      this.#emit('connection', { state: 'open' });
    };
    ws.onmessage = (m) => this.#receive(m.data);
    ws.onclose = (e) => {
      if (this.closed || e.code === 4404 || e.code === 4401) {
        this.#emit('connection', { state: 'closed', code: e.code });
        return;
      }
      this.#emit('connection', { state: 'lost', code: e.code });
      const delay = Math.min(5000, 250 * 2 ** this.retries++);
      this.timer = setTimeout(() => this.#open(), delay);
    };
  }

  #receive(data) {
    if (typeof data !== 'string') { this.#dispatch(decodeFrame(data), true); return; }
    const parsed = JSON.parse(data);
    if (!Array.isArray(parsed)) { this.#dispatch(parsed, false); return; }
    for (const event of parsed) {
      this.#dispatch(event, false);
      if (this.closed) return;
    }
  }

  #dispatch(event, heavy) {
    if (event.type === 'hello') {
      // seqs start at 1; anything the server dropped before first_seq is gone for good
      const since = Math.max(this.lastSeq, 0);
      if (event.first_seq > since + 1) this.#emit('gap', { since, first: event.first_seq });
    } else if (typeof event.seq === 'number') {
      // a heavy frame is the latest of its kind (newest wins), never a duplicate to drop
      if (event.seq <= this.lastSeq && !heavy) return;
      this.lastSeq = Math.max(this.lastSeq, event.seq);
    }
    this.#emit(event.type, event);
    if (/^run_(completed|stopped|failed)$/.test(event.type)) this.close();
  }

  #emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }

  /** Asks the server for only these event types (plus its always-on lifecycle events; null:
   * all). Kept, and sent again on every reconnect, as a new socket starts unfiltered. */
  subscribe(types) {
    const next = types ? [...types] : null;
    if (this.events !== undefined && String(next) === String(this.events)) return;
    this.events = next;
    if (this.ws?.readyState === WebSocket.OPEN) this.#resubscribe();
  }

  /** Asks for binary frames (grids, maps, weights) at most `hz` a second per kind, the
   * newest each time (null: as they come): a page that draws less often need not decode more. */
  capFrames(hz) {
    if (hz === this.framesHz) return;
    this.framesHz = hz;
    if (this.ws?.readyState === WebSocket.OPEN) this.#resubscribe();
  }

  #resubscribe() { this.#write({ type: 'subscribe', events: this.events ?? null, frames_hz: this.framesHz }); }

  #write(message) { this.ws.send(JSON.stringify(message)); }

  /** Sends a command over the open socket (set_weight travels only there); false if closed. */
  send(message) {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.#write(message);
    return true;
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    this.ws?.close();
  }
}

/** The tab's token (no argument) or keeps `value`; without storage it lasts for the page. */
function stored(value) {
  try {
    if (value === undefined) return sessionStorage.getItem(TOKEN_KEY);
    sessionStorage.setItem(TOKEN_KEY, value);
  } catch { /* a sandboxed frame */ }
  return value ?? null;
}

/**
 * The REST client. Every method returns parsed JSON or throws an ApiError / Error.
 * `askToken({refused})` resolves with an access token when the server answers 401: it is
 * kept for the tab (sessionStorage), sent as `Authorization: Bearer` and on the websocket.
 */
export function createApi({ base = '/api/v1', onConnection = () => {}, askToken = null } = {}) {
  const root = new URL(base, location.href);
  let token = stored();
  let asking = null; // one prompt for every request refused meanwhile

  function newToken(refused) {
    asking ??= Promise.resolve(askToken({ refused })).then((t) => {
      token = stored(t);
      asking = null;
    });
    return asking;
  }

  async function send(method, path, body, used) {
    const headers = body === undefined ? {} : { 'Content-Type': 'application/json' };
    if (used) headers.Authorization = `Bearer ${used}`;
    const json = body === undefined ? undefined : JSON.stringify(body);
    try {
      return await fetch(`${root.pathname}${path}`, { method, headers, body: json });
    } catch (err) {
      onConnection({ state: 'lost', error: err });
      throw new Error(`the server cannot be reached (${err.message})`, { cause: err });
    }
  }

  async function request(method, path, body, { raw = false } = {}) {
    let used = token;
    let res = await send(method, path, body, used);
    while (res.status === 401 && askToken) { // until the person gives a token it takes
      if (token === used) await newToken(used !== null);
      used = token;
      res = await send(method, path, body, used);
    }
    onConnection({ state: 'open' });
    if (!res.ok) {
      let problem = {};
      try { problem = await res.json(); } catch { /* not JSON */ }
      const detail = typeof problem.detail === 'string' ? problem.detail : res.statusText;
      throw new ApiError(res.status, detail, problem.errors || []);
    }
    if (res.status === 204) return null;
    return raw ? res.arrayBuffer() : res.json();
  }

  const wsBase = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${root.pathname}`;

  return {
    catalog: () => request('GET', '/catalog'),
    presets: () => request('GET', '/catalog/presets'),
    /** The exported JSON Schemas (components of the OpenAPI document). */
    schemas: async () => {
      const res = await fetch(new URL('/openapi.json', location.href));
      if (!res.ok) throw new ApiError(res.status, 'the OpenAPI document is unavailable');
      return (await res.json()).components.schemas;
    },
    health: () => request('GET', '/health'),
    /** Checks a graph over a data set; with `more` ({training, family, schema_version}) the
     * loss, task and output width too. */
    validate: (network, data, more = {}) => request('POST', '/graphs/validate',
      { network, data, ...more }),
    /** Starts a run; `paused`: held before its first step; `pace`: at most so many steps/s. */
    createRun: (spec, { paused = false, pace = null } = {}) => {
      const query = new URLSearchParams();
      if (paused) query.set('paused', 'true');
      if (pace) query.set('pace', String(pace));
      return request('POST', `/runs${query.size ? `?${query}` : ''}`, spec);
    },
    listRuns: (limit = 50) => request('GET', `/runs?limit=${limit}`),
    getRun: (id) => request('GET', `/runs/${id}`),
    control: (id, action, body) => request('POST', `/runs/${id}/${action}`, body),
    setLr: (id, lr) => request('PATCH', `/runs/${id}`, { lr }),
    /** At most `pace` steps a second from now on; null: as fast as it goes. */
    setPace: (id, pace) => request('PATCH', `/runs/${id}`, { pace }),
    /** Changes a running run's probe settings, e.g. {curvature: {every: 50}}. */
    setProbes: (id, probes) => request('PATCH', `/runs/${id}`, { probes }),
    deleteRun: (id) => request('DELETE', `/runs/${id}`),
    metrics: (id, maxPoints = 2000) => request('GET', `/runs/${id}/metrics?max_points=${maxPoints}`),
    /** The run's weights as {metadata, tensors}; null when the run has none (yet). */
    checkpoint: async (id) => {
      try {
        return parseSafetensors(await request('GET', `/runs/${id}/checkpoint`, undefined, { raw: true }));
      } catch (err) {
        if (err instanceof ApiError && (err.status === 404 || err.status === 409)) return null;
        throw err;
      }
    },
    /** A data set's points {x: [[x1, x2]], y: [], split: []}; null when the server has no such route. */
    datasetPoints: async (choice) => {
      try {
        return await request('POST', '/datasets/points', choice);
      } catch (err) {
        if (err instanceof ApiError && (err.status === 404 || err.status === 405)) return null;
        throw err;
      }
    },
    /** `count` sample images of an image set ({sample_shape, class_names, images, labels}). */
    datasetSamples: (choice, count = 16) => request('POST', `/datasets/samples?count=${count}`, choice),
    /** A run's event stream; `events`: the types to receive (see RunStream.subscribe). */
    events: (id, since = -1, events = undefined) =>
      new RunStream(`${wsBase}/runs/${id}/events`, since, events, () => token),
  };
}
