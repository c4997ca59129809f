/**
 * Runs: the server's past and current runs. Each row tells its run apart from the others:
 * when it started (local time), its name, data set and size, optimizer and learning rate,
 * and why it ended when the server says (failure_reason, e.g. "the server stopped while this
 * run was active"). A filter narrows the rows by their text; a select sorts them (newest
 * first, by status, by best test loss). Open one to see its curves, boundary and network
 * again (its spec is loaded into the editor); delete finished ones.
 * The page's own run's row follows it live (status and step), not the listing's moment.
 * Listens to: store 'run' (refreshes when a run ends or starts).
 * May import: commands.js, form.js (el), numbers.js, store.js (docFromSpec).
 */
import { LoadDoc } from '../commands.js';
import { el } from '../form.js';
import { readable } from '../numbers.js';
import { docFromSpec } from '../store.js';

const ACTIVE = new Set(['queued', 'running', 'paused']);
const FOLLOW_MS = 250;
const STATUS_ORDER = ['running', 'paused', 'queued', 'completed', 'stopped', 'failed', 'interrupted'];
const when = (r) => Date.parse(r.started_at || r.created_at) || 0;
/** The loss a run ended with, when its summary has one: lower sorts first. */
const lossOf = (r) => r.metrics?.test_loss ?? r.metrics?.train_loss ?? Infinity;
const SORTS = {
  newest: (a, b) => when(b) - when(a),
  status: (a, b) => STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status)
    || when(b) - when(a),
  loss: (a, b) => lossOf(a) - lossOf(b) || when(b) - when(a),
};

// one formatter, made once: the page's own row is rewritten on each frame while it trains
const TIME = new Intl.DateTimeFormat([], { month: 'short', day: 'numeric', hour: '2-digit',
  minute: '2-digit' });
const shortTime = (r) => TIME.format(new Date(when(r)));

export function createRunsPanel({ store, api, live, catalog }) {
  const list = el('ul', { class: 'runs', 'aria-label': 'Past runs' });
  const error = el('p', { class: 'error', role: 'alert' });
  const refresh = el('button', { type: 'button', class: 'ghost', 'aria-label': 'Refresh runs' }, '\u21bb');
  const filter = el('input', { type: 'search', class: 'runs-filter', 'aria-label': 'Filter runs',
    placeholder: 'filter: spiral, adam, failed\u2026' });
  const sort = el('select', { class: 'runs-sort', 'aria-label': 'Sort runs' },
    el('option', { value: 'newest' }, 'newest first'),
    el('option', { value: 'status' }, 'by status'),
    el('option', { value: 'loss' }, 'by best loss'));
  const root = el('section', { class: 'panel runs-panel', 'aria-labelledby': 'runs-h' },
    el('h2', { id: 'runs-h' }, 'Runs ', refresh),
    el('div', { class: 'runs-tools' }, filter, sort), error, list);
  let seen = '';
  let items = [];
  const parts = new Map(); // run id -> {r, badge, details} of its row as shown

  /** The run's headline: its family's test metric that is best high (as accuracy), else
   * its first test metric, as the catalog declares them. */
  function metric(r) {
    const m = r.metrics || {};
    const family = catalog.families?.find((f) => f.name === (r.spec?.family || 'supervised'));
    const tests = (family?.metrics || []).filter((d) => d.split === 'test' && m[d.name] != null);
    const best = tests.find((d) => !d.lower_is_better) || tests[0];
    if (!best) return '';
    const v = Number(m[best.name]);
    const text = best.range?.[1] === 1 ? `${(v * 100).toFixed(1)}%` : readable(v);
    return `${best.title.toLowerCase()} ${text}`;
  }

  /** "adam lr 0.1": the run's (first) optimizer and its learning rate, or the default's. */
  function optimizer(r) {
    const t = r.spec?.training || {};
    const choice = t.optimizers ? Object.values(t.optimizers)[0] : t.optimizer;
    if (!choice) return '';
    const entry = catalog.optimizers?.find((e) => e.name === choice.name);
    const lr = choice.params?.lr ?? entry?.params?.properties?.lr?.default;
    return lr === undefined ? choice.name : `${choice.name} lr ${lr}`;
  }

  function show() {
    parts.clear();
    const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    const rows = items.map((r) => ({ r, li: row(r) }))
      .filter(({ li }) => words.every((w) => li.textContent.toLowerCase().includes(w)))
      .sort((a, b) => SORTS[sort.value](a.r, b.r));
    list.replaceChildren(...rows.map(({ li }) => li));
    if (!rows.length) {
      list.append(el('li', { class: 'muted' }, items.length ? 'No run matches.' : 'No runs yet.'));
    }
  }

  async function load() {
    try {
      items = (await api.listRuns(30)).items;
      error.textContent = '';
      show();
    } catch (e) {
      error.textContent = `Runs could not be listed: ${e.message}`;
    }
  }

  const detailsOf = (r, step = r.step) =>
    [shortTime(r), optimizer(r), `step ${step}`, metric(r)].filter(Boolean).join(' \u00b7 ');

  /** The page's own run's row, as the run is now (its listing is a moment old): its status at
   * once, its step at most every FOLLOW_MS (readable, and a row that changed is repainted). */
  let followedAt = -Infinity;
  let trailing = null; // the update a throttled one owes: the last step always shows
  function follow() {
    const p = parts.get(live.run?.id);
    if (!p || !live.run) return;
    const now = performance.now();
    if (now - followedAt < FOLLOW_MS && p.badge.textContent === live.status) {
      trailing ??= setTimeout(() => { trailing = null; follow(); }, FOLLOW_MS - (now - followedAt));
      return;
    }
    followedAt = now;
    const text = detailsOf(p.r, live.step);
    if (p.details.textContent !== text) p.details.textContent = text;
    if (p.badge.textContent !== live.status) {
      p.badge.textContent = live.status;
      p.badge.className = `badge ${live.status}`;
    }
  }

  function row(r) {
    const data = r.spec?.data?.name || '';
    const nodes = (r.spec?.networks?.model ?? r.spec?.network)?.nodes?.length ?? 0;
    const title = [r.name, data, `${nodes} layers`].filter(Boolean).join(' \u00b7 ');
    const badge = el('span', { class: `badge ${r.status}` }, r.status);
    const details = el('span', { class: 'muted small run-details' }, detailsOf(r));
    parts.set(r.id, { r, badge, details });
    const open = el('button', { type: 'button', class: 'open', 'aria-label': `Open run ${r.id}` },
      badge,
      el('span', { class: 'run-name' }, title),
      details,
      // why it ended, when the server says: kept only for runs that did not simply finish
      r.failure_reason && r.status !== 'completed'
        ? el('span', { class: 'small run-why' }, r.failure_reason) : null);
    open.addEventListener('click', async () => {
      store.exec(new LoadDoc(docFromSpec(r.spec), `open run ${r.id}`));
      await live.open(r.id);
    });
    const del = el('button', { type: 'button', class: 'ghost danger', disabled: ACTIVE.has(r.status),
      'aria-label': `Delete run ${r.id}`, title: 'Delete this run' }, '\u2715');
    del.addEventListener('click', async () => {
      try {
        await api.deleteRun(r.id);
        if (live.run?.id === r.id) await live.reset();
        load();
      } catch (e) { error.textContent = `Could not delete ${r.id}: ${e.message}`; }
    });
    return el('li', { class: live.run?.id === r.id ? 'current' : '', 'data-run': r.id }, open, del);
  }

  refresh.addEventListener('click', load);
  filter.addEventListener('input', show);
  sort.addEventListener('change', show);
  store.on('run', () => {
    const key = `${live.run?.id}:${live.active}`;
    if (key !== seen) { seen = key; load(); }
    follow();
  });
  load();
  return { el: root, load };
}
