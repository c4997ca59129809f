/**
 * The view host: a <div id="views"> that shows the registered views fitting one run object
 * (`run`: a live.js object) and asks that run's stream for their events, and only theirs
 * (`run.want`). Which views fit comes from the catalog (registry.js viewContext): the run's
 * spec once it has one, else the spec `fallback()` gives (the page's document), so that a
 * chosen data set shows where its views will be before Play. The views are mounted again
 * when the run, its run_started or the fitting set changes; each view redraws itself from
 * `run.latest(type)` on `run.onFrame` when `run.versionOf(type)` moved.
 * May import: views/registry.js.
 */
import { viewContext, viewsFor as sharedViewsFor, viewsKey } from './registry.js';

export function createViewHost({ run, catalog, fallback = () => null, viewsFor = sharedViewsFor,
  id = 'views' }) {
  const el = document.createElement('div');
  el.id = id;
  el.className = 'views';
  el.setAttribute('data-testid', 'views');
  el.hidden = true;
  const owner = {}; // this host's ask in run.want
  let mounted = [];
  let key = null;
  let seenRun;
  let seenStarted;

  function unmount() {
    for (const m of mounted) m.destroy?.();
    mounted = [];
    el.replaceChildren();
  }

  /** Mounts the views that fit the run now, when they differ from those shown. */
  function refresh(force = false) {
    seenRun = run.run;
    seenStarted = run.started;
    const ctx = viewContext(catalog, run.run?.spec ?? fallback(), run.started);
    const views = viewsFor(ctx);
    const next = `${run.run?.id ?? ''}|${viewsKey(views)}`;
    if (next === key && !force) return ctx;
    key = next;
    unmount();
    for (const view of views) {
      const box = document.createElement('section');
      box.className = 'view';
      box.dataset.view = view.id;
      box.setAttribute('aria-label', view.title);
      const title = document.createElement('h3');
      title.textContent = view.title;
      box.append(title);
      el.append(box);
      mounted.push(view.mount(box, run, ctx) || {});
    }
    el.hidden = views.length === 0;
    run.want(owner, [...new Set(views.flatMap((v) => v.events))]);
    return ctx;
  }

  const stop = run.onFrame(() => {
    if (run.run !== seenRun || run.started !== seenStarted) refresh();
  });

  return {
    el,
    refresh,
    /** Unmounts every view and stops asking for their events. */
    destroy() {
      stop();
      unmount();
      run.want(owner, []);
    },
  };
}
