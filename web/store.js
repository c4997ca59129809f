/**
 * The one store: the document being edited (data set, network, training settings: a RunSpec),
 * an undo/redo history of edit commands, the selection, and the URL hash that mirrors it all
 * so that a copied link reproduces the page. Components listen with `store.on(type, fn)`:
 *   'doc'       the document changed (detail: {command})
 *   'select'    another node was selected (detail: {id})
 *   'history'   undo/redo availability changed
 * Other, non-serialised topics (validation report, run state) travel on the same bus.
 * May import: nothing.
 */

const enc = new TextEncoder();
const dec = new TextDecoder();

/** base64url of UTF-8 JSON: what a link carries after `#s=`. */
export function encodeDoc(doc) {
  const bytes = enc.encode(JSON.stringify(doc));
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function decodeDoc(text) {
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return JSON.parse(dec.decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
}

/** Reads `#s=<doc>&run=<id>` from a hash; missing parts are null. */
export function readHash(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  let doc;
  try { doc = params.get('s') ? decodeDoc(params.get('s')) : null; } catch { doc = null; }
  return { doc, run: params.get('run') };
}

const clone = (x) => structuredClone(x);

/** The page's document from a run spec the server sent (version 2). It edits one network at
 * a time: a family of one network has it as `network`; a family of several (an autoencoder's
 * encoder and decoder) keeps them all in `networks` and the one being edited, `role`, as
 * `network` (commands.js SwitchRole). One optimizer and one regularizer: the first of each.
 * The server reads the document back as a version-1 spec (one network), which it upgrades,
 * or as version 2 (several). */
export function docFromSpec(spec) {
  const { schema_version: _version, networks, ...doc } = clone(spec);
  const roles = Object.keys(networks || {});
  if (roles.length > 1) Object.assign(doc, { networks, role: roles[0], network: clone(networks[roles[0]]) });
  else if (networks) doc.network = networks.model ?? Object.values(networks)[0];
  const t = doc.training;
  if (t?.optimizers) { t.optimizer = Object.values(t.optimizers)[0]; delete t.optimizers; }
  if (t?.regularizers) {
    t.regularizer = t.regularizers[0] ?? { name: 'none', params: {} };
    delete t.regularizers;
  }
  return doc;
}

export function createStore(initialDoc, { runId = null } = {}) {
  const bus = new EventTarget();
  const done = [];
  const undone = [];
  let doc = clone(initialDoc);
  let selected = null;
  let run = runId;
  let urlTimer = null;

  const emit = (type, detail = {}) => bus.dispatchEvent(new CustomEvent(type, { detail }));

  function writeNow() {
    clearTimeout(urlTimer);
    urlTimer = null;
    const params = new URLSearchParams({ s: encodeDoc(doc) });
    if (run) params.set('run', run);
    history.replaceState(null, '', `#${params}`);
  }
  // edits come in bursts (a slider's input events): the address follows 50 ms after the last
  function writeUrl() {
    clearTimeout(urlTimer);
    urlTimer = setTimeout(writeNow, 50);
  }

  function changed(command) {
    writeUrl();
    emit('doc', { command });
    emit('history', { canUndo: done.length > 0, canRedo: undone.length > 0 });
  }

  const store = {
    get doc() { return doc; },
    get selected() { return selected; },
    get runId() { return run; },
    get canUndo() { return done.length > 0; },
    get canRedo() { return undone.length > 0; },

    /** Runs an edit command ({label, execute(doc), undo(doc)}) and records it. */
    exec(command) {
      command.execute(doc);
      done.push(command);
      if (done.length > 200) done.shift();
      undone.length = 0;
      changed(command);
    },
    undo() {
      const command = done.pop();
      if (!command) return;
      command.undo(doc);
      undone.push(command);
      changed(command);
    },
    redo() {
      const command = undone.pop();
      if (!command) return;
      command.execute(doc);
      done.push(command);
      changed(command);
    },
    select(id) {
      if (id === selected) return;
      selected = id;
      emit('select', { id });
    },
    /** The run shown on the page (kept in the URL so that a reload reopens it). */
    setRun(id) {
      run = id;
      writeNow(); // at once: a link copied the moment a run starts has it
    },
    /** A RunSpec for the server: the document as it is. */
    spec() {
      if (!doc.role) return clone({ schema_version: 1, ...doc });
      const { network, networks, role, ...rest } = clone(doc);
      return { schema_version: 2, ...rest, networks: { ...networks, [role]: network } };
    },
    flushUrl: writeNow,
    on(type, fn) {
      const handler = (e) => fn(e.detail);
      bus.addEventListener(type, handler);
      return () => bus.removeEventListener(type, handler);
    },
    emit,
  };
  writeUrl();
  return store;
}
