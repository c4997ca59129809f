/**
 * The view registry: what the output panel can show of a run, one entry per view
 * ({id, title, events, appliesTo(ctx), mount(host, run) -> {el, destroy?}}), and which views
 * fit a run. A view fits because the events it draws are among the catalog's view probes for
 * the run's family and data (and its own appliesTo, e.g. on the task): no data set or family
 * name is written here or in a view module.
 * ctx (viewContext): {family, dataset (catalog entries), dataKind (null when not known),
 * task, viewEvents (Set of event types)}.
 * May import: nothing.
 */

/** A registry of its own (tests make several; the page uses the module's one). */
export function createViewRegistry() {
  const views = [];
  return {
    registerView(view) {
      if (!view?.id || !Array.isArray(view.events) || typeof view.mount !== 'function') {
        throw new Error('a view needs an id, its events and mount(host, run)');
      }
      if (views.some((v) => v.id === view.id)) throw new Error(`view ${view.id} is registered twice`);
      views.push(view);
    },
    /** The views that fit ctx, in the order they were registered. */
    viewsFor(ctx) {
      return views.filter((v) => v.events.every((t) => ctx.viewEvents.has(t))
        && (v.appliesTo ? v.appliesTo(ctx) : true));
    },
  };
}

/** The data kinds a run may have when only the catalog is known: 'plane' for a set with a
 * plane, else any kind but 'plane' (its shape params decide between image and vector). */
function kindFits(kinds, dataset, dataKind) {
  if (kinds == null) return true;
  if (dataKind) return kinds.includes(dataKind);
  return dataset?.plane ? kinds.includes('plane') : kinds.some((k) => k !== 'plane');
}

/** The event types of the catalog's view probes that apply to this family and data. */
export function viewEventsFor(catalog, family, dataset, dataKind = null) {
  const allowed = family?.probes; // null: every probe that applies
  const events = new Set();
  for (const p of catalog.probes || []) {
    if (!p.view) continue;
    if (p.families && !p.families.includes(family?.name)) continue;
    if (allowed && !allowed.includes(p.name)) continue;
    if (!kindFits(p.data_kinds, dataset, dataKind)) continue;
    (p.events || []).forEach((e) => events.add(e));
  }
  return events;
}

/**
 * The ctx of a run spec (or of the page's document, before a run): its family and data set as
 * the catalog describes them; `started` (a run_started event, when there is one) gives the
 * data's kind as the engine named it, if it says.
 */
export function viewContext(catalog, spec, started = null) {
  const familyName = spec?.family?.name ?? 'supervised';
  const family = (catalog.families || []).find((f) => f.name === familyName) ?? { name: familyName };
  const dataset = (catalog.datasets || []).find((d) => d.name === spec?.data?.name) ?? null;
  const dataKind = started?.data?.kind ?? null;
  const task = spec?.training?.task ?? dataset?.task ?? null;
  return { family, dataset, dataKind, task, viewEvents: viewEventsFor(catalog, family, dataset, dataKind) };
}

/** A key that changes when the set of views of a ctx does. */
export function viewsKey(views) { return views.map((v) => v.id).join(','); }

const shared = createViewRegistry();
export const registerView = shared.registerView;
export const viewsFor = shared.viewsFor;
