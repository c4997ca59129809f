/**
 * The Internals panel: collapsible sections on what the network does inside while it trains
 * (gradient norms, update ratios, distributions, dead/saturated units, curvature, telemetry
 * cost), each with a two-sentence reading. Open sections ask the run's stream for their
 * probes' events (the catalog says which events each probe emits); collapsed ones ask for
 * nothing. A section redraws at most every REDRAW_MS, only when open, on screen, and its data
 * moved.
 * Listens to: store 'doc'; live.onFrame; each section's <details> toggle; the panel's size.
 * May import: form.js (el), internals-*.js.
 */
import { el } from '../form.js';
import { createActivitySection, createGradSection, createTelemetrySection, createUpdateSection }
  from './internals-sections.js';
import { createDistSection } from './internals-dist.js';
import { createCurvatureSection } from './internals-curvature.js';

const REDRAW_MS = 200; // probes sample at most ~10 Hz; a faster redraw would show nothing new
const OPEN = new Set(['grad', 'telemetry']); // open on a fresh page: small, and most telling

export function createInternals(deps) {
  const { store, live, catalog } = deps;
  const sections = {
    grad: createGradSection(deps),
    update: createUpdateSection(deps),
    dist: createDistSection(deps),
    activity: createActivitySection(deps),
    curvature: createCurvatureSection(deps),
    telemetry: createTelemetrySection(deps),
  };
  const eventsOf = Object.fromEntries((catalog.probes || []).map((p) => [p.name, p.events || []]));
  const root = el('section', { class: 'panel internals-panel', 'aria-labelledby': 'internals-h',
    'data-testid': 'internals' }, el('h2', { id: 'internals-h' }, 'Internals'));
  const state = {}; // per section: {details, visible, drawn, at}

  for (const [name, s] of Object.entries(sections)) {
    const details = el('details', { class: 'internals-section', 'data-section': name },
      el('summary', {}, s.title), el('p', { class: 'help' }, s.help), s.el);
    details.open = OPEN.has(name);
    details.addEventListener('toggle', () => { state[name].drawn = -1; ask(); });
    state[name] = { details, visible: true, drawn: -1, at: -Infinity };
    root.append(details);
  }
  sections.dist.onWant = ask;
  // a document that turns a probe on (a preset, the toggle) opens its section, so that the
  // events of the run it starts are asked for from the beginning
  const autoOpen = () => {
    for (const [name, s] of Object.entries(sections)) {
      if (s.autoOpen?.() && !state[name].details.open) state[name].details.open = true;
    }
  };
  store.on('doc', autoOpen);
  autoOpen();

  /** The events of the probes that open sections draw, from the catalog. */
  function ask() {
    const types = new Set();
    for (const [name, s] of Object.entries(sections)) {
      if (state[name].details.open) s.probes.forEach((p) => (eventsOf[p] || []).forEach((t) => types.add(t)));
    }
    live.want('internals', [...types]);
  }
  ask();

  // off screen (scrolled away) sections do not redraw; they catch up when they come back
  const seen = new IntersectionObserver((entries) => {
    for (const e of entries) state[e.target.dataset.section].visible = e.isIntersecting;
  });
  Object.values(state).forEach((st) => seen.observe(st.details));

  live.onFrame((now) => {
    for (const [name, s] of Object.entries(sections)) {
      const st = state[name];
      if (!st.details.open || !st.visible || now - st.at < REDRAW_MS) continue;
      const v = s.version();
      if (v === st.drawn) continue;
      st.drawn = v; st.at = now;
      s.draw();
    }
  });

  let lastW = 0;
  new ResizeObserver(() => {
    const w = root.clientWidth - 28; // the panel's padding
    if (Math.abs(w - lastW) < 4) return;
    lastW = w;
    Object.values(sections).forEach((s) => s.resize(w));
  }).observe(root);
  return { el: root };
}
