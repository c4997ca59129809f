/**
 * The only module that talks to the server: REST with fetch and one WebSocket per watched
 * run (binary frames and checkpoints are decoded by frames.js). Server events are
 * re-dispatched as DOM events named by the event's `type`.
 * May import: frames.js.
 */

import { decodeFrame, parseSafetensors } from './frames.js';

/** A refusal from the server: `status`, the `detail` text and the located `errors`. */
export class ApiError extends Error {
  constructor(status, detail, errors = []) {
    super(detail || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.errors = errors;
  }
}

const TOKEN_KEY = 'livegrad.token';
// a token made of these characters travels as a websocket subprotocol, others in the query
const PROTOCOL_SAFE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

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
