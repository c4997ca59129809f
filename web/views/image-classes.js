/**
 * What an image classifier shows (predictions_sampled), as one view of the registry: the test
 * accuracy; a grid of fixed test images with their true and predicted class (a mistake has a
 * red border and says "true 3 → 8"); the confusion matrix of the whole test split as a real
 * <table> (rows true, columns predicted, counts shaded by their share of the row); and the
 * most confident mistakes with their confidence. Redrawn with each event (one per evaluation).
 * May import: views/registry.js, views/draw.js, views/follow.js.
 */
import { registerView } from './registry.js';
import { fmt, h, sampleAt, sampleCanvas } from './draw.js';
import { follow } from './follow.js';

const TYPE = 'predictions_sampled';

/** The class name of index i (the index itself when the event names none). */
const nameOf = (names, i) => names?.[i] ?? String(i);

/** Rows of the confusion matrix with each cell's share of its row (0 for an empty row). */
export function confusionRows(confusion) {
  const [c] = confusion.shape;
  return Array.from({ length: c }, (_, r) => {
    const counts = Array.from(confusion.subarray(r * c, (r + 1) * c));
    const total = counts.reduce((a, b) => a + b, 0);
    return { counts, total, shares: counts.map((n) => (total ? n / total : 0)) };
  });
}

/** A captioned sample: its canvas, and its caption ("3", or "true 3 → 8" when wrong). */
function tile(shape, names, truth, said, extra = '') {
  const wrong = truth !== said;
  const { canvas, draw } = sampleCanvas(shape);
  const caption = wrong ? `true ${nameOf(names, truth)} → ${nameOf(names, said)}` : nameOf(names, truth);
  // a mistake's two names on two lines, each whole ("true square", "→ circle")
  const lines = wrong ? [h('span', { text: `true ${nameOf(names, truth)}` }),
    h('span', { text: `→ ${nameOf(names, said)}` })] : [caption];
  const fig = h('figure', { class: wrong ? 'tile mistake' : 'tile', 'data-truth': truth, 'data-predicted': said,
    'aria-label': wrong ? `mistake: ${caption}` : `correct: ${caption}` },
  canvas, h('figcaption', { class: 'small' }, ...lines, extra ? h('span', { class: 'sure', text: extra }) : null));
  return { fig, draw };
}

function confusionTable(e) {
  const names = e.class_names;
  const rows = confusionRows(e.confusion);
  const head = h('tr', {}, h('th', { scope: 'col', class: 'corner', text: 'true \\ predicted' }),
    ...rows.map((_, j) => h('th', { scope: 'col', text: nameOf(names, j) })));
  const body = rows.map((row, i) => h('tr', {}, h('th', { scope: 'row', text: nameOf(names, i) }),
    ...row.counts.map((n, j) => {
      const cell = h('td', { class: i === j ? 'diag' : n ? 'off' : '', text: String(n),
        title: `true ${nameOf(names, i)}, predicted ${nameOf(names, j)}: ${n}` });
      // shade by the share of the row: the diagonal in blue, confusions in red
      const share = row.shares[j];
      if (n) cell.style.background = i === j ? `rgba(8, 119, 189, ${0.15 + 0.6 * share})`
        : `rgba(214, 39, 40, ${0.15 + 0.7 * share})`;
      return cell;
    })));
  return h('table', { class: 'confusion', 'data-testid': 'confusion' },
    h('caption', { class: 'small', text: 'Confusion matrix of the test split (rows: true class)' }),
    h('thead', {}, head), h('tbody', {}, ...body));
}

function mountPredictions(box, run) {
  const note = h('p', { class: 'small muted', text: 'Appears with the first evaluation of the run (press Play).' });
  const accuracy = h('p', { class: 'accuracy', 'data-testid': 'view-accuracy' });
  const grid = h('div', { class: 'tiles', 'data-testid': 'prediction-grid' });
  const matrix = h('div', { class: 'confusion-box' });
  const mistakesTitle = h('h4', { text: 'Most confident mistakes' });
  const mistakes = h('div', { class: 'tiles', 'data-testid': 'confident-mistakes' });
  const body = h('div', { class: 'predictions-body' }, accuracy, grid, matrix, mistakesTitle, mistakes);
  box.append(note, body);

  return follow(run, TYPE, (e) => {
    note.hidden = Boolean(e);
    body.hidden = !e;
    if (!e) return;
    const names = e.class_names;
    // tiles wide enough for the longest class name ("triangle"), each on one line
    const longest = Math.max(1, ...(names || []).map((n) => String(n).length));
    for (const g of [grid, mistakes]) g.style.setProperty('--tile-min', `${Math.max(44, 6 * longest + 14)}px`);
    const wrong = e.labels.filter((t, i) => t !== e.predicted[i]).length;
    accuracy.textContent = `Test accuracy ${fmt(100 * e.accuracy, 3)}% · step ${e.step} · `
      + `${wrong} of ${e.labels.length} shown wrong`;
    accuracy.dataset.accuracy = e.accuracy;
    grid.replaceChildren(...Array.from(e.labels, (t, i) => {
      const { fig, draw } = tile(e.sample_shape, names, t, e.predicted[i]);
      draw(sampleAt(e.images, i));
      return fig;
    }));
    matrix.replaceChildren(confusionTable(e));
    const m = e.mistake_labels.length;
    mistakesTitle.hidden = false;
    mistakes.replaceChildren(...(m ? Array.from(e.mistake_labels, (t, i) => {
      const conf = `${Math.round(100 * e.mistake_confidence[i])}% sure`;
      const { fig, draw } = tile(e.sample_shape, names, t, e.mistake_predicted[i], conf);
      draw(sampleAt(e.mistake_images, i));
      return fig;
    }) : [h('p', { class: 'small muted', text: 'No mistakes on the test split.' })]));
  });
}

registerView({
  id: 'predictions', title: 'Test images and predictions', events: [TYPE],
  appliesTo: (ctx) => ctx.task == null || ctx.task === 'classification',
  mount: (box, run) => ({ el: box, destroy: mountPredictions(box, run) }),
});
