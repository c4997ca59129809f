/**
 * The composition root: fetches the catalog, presets and schemas, restores the document from
 * the URL (else starts from the first preset's data and training with a bare input layer),
 * creates the store, the live run and every component, and mounts them into index.html.
 * No other module creates globals or wires components together.
 * May import: every module of web/.
 */
import { createApi } from './api.js';
import { createStore, docFromSpec, readHash } from './store.js';
import { LoadDoc } from './commands.js';
import { createLive } from './live.js';
import { freshId } from './graph.js';
import { supervisedLessons } from './lessons.js';
import { createValidator } from './components/validator.js';
import { createPalette } from './components/palette.js';
import { createBuilder } from './components/builder.js';
import { createInspector } from './components/inspector.js';
import { createDataPanel } from './components/data-panel.js';
import { createTrainingPanel } from './components/training-panel.js';
import { createControls } from './components/controls.js';
import { createCharts } from './components/charts.js';
import { createBoundary } from './components/boundary.js';
import { createNetworkView } from './components/network-view.js';
import { createCentreTabs } from './components/centre-tabs.js';
import { createRoleSwitch } from './components/role-switch.js';
import { createRunsPanel } from './components/runs-panel.js';
import { createPresetsPanel } from './components/presets-panel.js';
import { createBanner } from './components/banner.js';
import { createInternals } from './components/internals.js';
import { createTokenPrompt } from './components/token-prompt.js';
import { createViewHost } from './views/index.js';

// the event the boundary box draws (components/boundary.js)
const BOUNDARY_EVENT = 'grid_computed';

/** A new page: the first lesson's data and training settings, and only an input layer. */
function freshDoc(catalog, presets) {
  const first = supervisedLessons(presets)[0];
  const spec = first ? docFromSpec(first.spec) : {};
  const input = catalog.layers.find((l) => l.category === 'input');
  const network = { nodes: [], edges: [], output: null };
  network.nodes.push({ id: freshId(network, input.name), kind: input.name, params: {} });
  return { name: null, data: spec.data, network, training: spec.training };
}

/**
 * The run's views (web/views/) after the boundary box, whose plane shows only when the run's
 * view probes include the grid it draws (an image set, or an autoencoder on the plane, would
 * leave it an empty box; its readout stays); their stylesheet goes after the page's.
 */
function mountViews({ store, live, catalog }) {
  document.head.append(Object.assign(document.createElement('link'),
    { rel: 'stylesheet', href: new URL('./views/views.css', import.meta.url).href }));
  const host = createViewHost({ run: live, catalog, fallback: () => store.spec() });
  const boundary = document.getElementById('boundary');
  boundary.after(host.el);
  const follow = () => {
    const ctx = host.refresh();
    boundary.classList.toggle('no-plane', !ctx.viewEvents.has(BOUNDARY_EVENT));
  };
  store.on('doc', follow);
  store.on('run', follow);
  follow();
}

async function boot() {
  let store = null;
  const pending = [];
  const api = createApi({ onConnection: (d) => (store ? store.emit('connection', d) : pending.push(d)),
    askToken: createTokenPrompt().ask });
  const [catalog, presets, schemas] = await Promise.all([api.catalog(), api.presets(),
    api.schemas().catch(() => ({}))]);
  const hash = readHash(location.hash);
  // the run stays in the address from the first write: a copy or reload while it is being
  // opened keeps it
  store = createStore(hash.doc || freshDoc(catalog, presets), { runId: hash.run });
  const live = createLive({ store, api, catalog });
  const deps = { store, api, live, catalog, presets, schemas };

  const mount = (slot, component) => document.getElementById(slot).append(component.el);
  mount('banner', createBanner(deps));
  const controls = createControls(deps);
  mount('controls', controls);
  document.getElementById('messages').append(controls.messages);
  mount('data', createDataPanel(deps));
  mount('training', createTrainingPanel(deps));
  mount('palette', createPalette(deps));
  mount('builder', createBuilder(deps));
  mount('inspector', createInspector(deps));
  mount('boundary', createBoundary(deps));
  mount('charts', createCharts(deps));
  const drawing = createNetworkView(deps);
  mount('netview', drawing);
  const tabs = createCentreTabs([
    { id: 'drawing', label: 'Drawing', el: document.getElementById('netview'), onShow: drawing.shown },
    { id: 'layers', label: 'Layers', el: document.getElementById('builder') }]);
  mount('centre-tabs', tabs);
  drawing.showLayers = () => tabs.show('layers');
  mount('roles', createRoleSwitch(deps));
  mountViews(deps);
  mount('internals', createInternals(deps));
  mount('runs', createRunsPanel(deps));
  mount('presets', createPresetsPanel(deps));
  createValidator(deps);
  pending.forEach((d) => store.emit('connection', d));

  document.addEventListener('keydown', (e) => {
    if (!(e.ctrlKey || e.metaKey) || e.target.closest('input, select, textarea')) return;
    if (e.key === 'z' && !e.shiftKey) { e.preventDefault(); store.undo(); }
    if (e.key === 'y' || (e.key === 'z' && e.shiftKey)) { e.preventDefault(); store.redo(); }
  });
  // a link with only a run (#run=...) shows that run's network and settings too, as the runs
  // panel does: the page never contradicts the run it shows
  async function openRun(id, takeItsDoc) {
    const run = await live.open(id);
    if (run && takeItsDoc && live.run?.id === id) {
      store.exec(new LoadDoc(docFromSpec(run.spec), `open run ${id}`));
      store.select(null);
    }
  }
  window.addEventListener('hashchange', () => {
    const next = readHash(location.hash);
    if (next.doc && JSON.stringify(next.doc) !== JSON.stringify(store.doc)) location.reload();
    else if (next.run && next.run !== live.run?.id) openRun(next.run, !next.doc); // only &run= changed
  });
  if (hash.run) openRun(hash.run, !hash.doc);

  // Benchmarks (benchmarks/ui_fps.py) read when each step reached the chart: `?perf` only.
  if (new URLSearchParams(location.search).has('perf')) {
    const drawn = [];
    store.on('drawn', ({ step }) => drawn.push([step, performance.timeOrigin + performance.now()]));
    window.livegradPerf = { drawn, live, open: (id) => live.open(id) };
  }
  document.body.dataset.ready = 'true';
}

boot().catch((err) => {
  const box = document.getElementById('fatal');
  box.hidden = false;
  box.textContent = `The playground could not start: ${err.message}. Is the server running?`;
  throw err;
});
