/**
 * Asks the server to check the network whenever the document changes (debounced), with the
 * training settings (a loss that does not fit the output is marked on the output node while
 * editing, not refused on Play), and publishes the answer on the store's bus as 'report':
 * {report, error, pending}.
 * Listens to: store 'doc'.
 * May import: lessons.js (widthNode).
 */
import { widthNode } from '../lessons.js';

/** The input a role's network is checked over: {} (the data's) for the first role, else
 * {input_shape: [width]} of the role before it. */
export function roleInput(doc, catalog) {
  const roles = Object.keys(doc.networks);
  const i = roles.indexOf(doc.role);
  if (i <= 0) return {};
  const width = widthNode(doc.networks[roles[i - 1]], catalog.layers)?.params?.out_features;
  return Number.isInteger(width) ? { input_shape: [width] } : {};
}

export function createValidator({ store, api, catalog }) {
  let timer = null;
  let ticket = 0;
  let last = { report: null, error: null, pending: true };

  async function validate(mine = ++ticket) {
    const { network, data, training, family } = store.doc;
    let more = training ? { training, schema_version: 1, ...(family ? { family } : {}) } : {};
    // one network of several: the first over the data; a later one over the width the one
    // before it ends in (a decoder over the code). The whole run is checked on Play.
    if (store.doc.role) more = roleInput(store.doc, catalog);
    let next;
    try {
      next = { report: await api.validate(network, data, more), error: null, pending: false };
    } catch (error) {
      // a 422 on the form of the body: located errors, as a report the builder can show
      const located = (error.errors || []).map((e) => ({ ...e, node: e.node ?? nodeOf(e.field) }));
      next = { report: null, error, errors: located, pending: false };
    }
    if (mine !== ticket) return; // a newer edit is on its way (counted when it was made)
    last = next;
    store.emit('report', last);
  }

  function nodeOf(field) {
    const m = /nodes\.(\d+)/.exec(field || '');
    return m ? store.doc.network.nodes[Number(m[1])]?.id ?? null : null;
  }

  function schedule() {
    clearTimeout(timer);
    const mine = ++ticket; // an answer to an older check that lands after this edit is stale
    last = { ...last, pending: true };
    store.emit('report', last);
    timer = setTimeout(() => validate(mine), 120);
  }

  store.on('doc', schedule);
  schedule();
  return { get current() { return last; }, validate };
}
