/**
 * Runs: the server's past and current runs, newest first. Open one to see its curves,
 * boundary and network again (its spec is loaded into the editor); delete finished ones.
 * Listens to: store 'run' (refreshes when a run ends or starts).
 * May import: commands.js, form.js (el), store.js (docFromSpec).
 */
import { LoadDoc } from '../commands.js';
import { el } from '../form.js';
import { docFromSpec } from '../store.js';

const ACTIVE = new Set(['queued', 'running', 'paused']);

export function createRunsPanel({ store, api, live, catalog }) {
  const list = el('ul', { class: 'runs', 'aria-label': 'Past runs' });
  const error = el('p', { class: 'error', role: 'alert' });
  const refresh = el('button', { type: 'button', class: 'ghost', 'aria-label': 'Refresh runs' }, '\u21bb');
  const root = el('section', { class: 'panel runs-panel', 'aria-labelledby': 'runs-h' },
    el('h2', { id: 'runs-h' }, 'Runs ', refresh), error, list);
  let seen = '';

  /** The run's headline: its family's test metric that is best high (as accuracy), else
   * its first test metric, as the catalog declares them. */
  function metric(r) {
    const m = r.metrics || {};
    const family = catalog.families?.find((f) => f.name === (r.spec?.family || 'supervised'));
    const tests = (family?.metrics || []).filter((d) => d.split === 'test' && m[d.name] != null);
    const best = tests.find((d) => !d.lower_is_better) || tests[0];
    if (!best) return '';
    const v = Number(m[best.name]);
    const text = best.range?.[1] === 1 ? `${(v * 100).toFixed(1)}%` : v.toFixed(3);
    return `${best.title.toLowerCase()} ${text}`;
  }

  async function load() {
    try {
      const page = await api.listRuns(30);
      error.textContent = '';
      list.replaceChildren(...page.items.map(row));
      if (!page.items.length) list.append(el('li', { class: 'muted' }, 'No runs yet.'));
    } catch (e) {
      error.textContent = `Runs could not be listed: ${e.message}`;
    }
  }

  function row(r) {
    const name = r.spec?.data?.name || '';
    const nodes = (r.spec?.networks?.model ?? r.spec?.network)?.nodes?.length ?? 0;
    const open = el('button', { type: 'button', class: 'open', 'aria-label': `Open run ${r.id}` },
      el('span', { class: `badge ${r.status}` }, r.status),
      el('span', { class: 'run-name' }, `${name} \u00b7 ${nodes} layers`),
      el('span', { class: 'muted small' }, `step ${r.step} ${metric(r)}`));
    open.addEventListener('click', async () => {
      store.exec(new LoadDoc(stripDoc(r.spec), `open run ${r.id}`));
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
    const li = el('li', { class: live.run?.id === r.id ? 'current' : '', 'data-run': r.id }, open, del);
    return li;
  }

  const stripDoc = docFromSpec;

  refresh.addEventListener('click', load);
  store.on('run', () => {
    const key = `${live.run?.id}:${live.active}`;
    if (key !== seen) { seen = key; load(); }
  });
  load();
  return { el: root, load };
}
