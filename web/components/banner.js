/**
 * The connection banner: shown while the server or a run's stream is unreachable (the stream
 * reconnects by itself with `since`), hidden again once a request or the socket succeeds.
 * Listens to: store 'connection'.
 * May import: form.js (el).
 */
import { el } from '../form.js';

export function createBanner({ store }) {
  const root = el('div', { class: 'banner', role: 'alert', hidden: true, 'data-testid': 'banner' },
    'Connection to the server lost \u2014 reconnecting\u2026');
  store.on('connection', ({ state }) => {
    if (state === 'lost') root.hidden = false;
    else if (state === 'open') root.hidden = true;
  });
  return { el: root };
}
