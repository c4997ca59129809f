/**
 * The connection banner: shown while the server or a run's stream is unreachable (the stream
 * reconnects by itself with `since`), hidden again once a request or the socket succeeds.
 * While it shows, it asks the server's health with backoff itself: with no run streaming,
 * nothing else would retry, and the banner's "reconnecting" would stay up for good.
 * Listens to: store 'connection'.
 * May import: form.js (el).
 */
import { el } from '../form.js';

const FIRST_WAIT_MS = 500;
const MAX_WAIT_MS = 5000;

export function createBanner({ store, api }) {
  const root = el('div', { class: 'banner', role: 'alert', hidden: true, 'data-testid': 'banner' },
    'Connection to the server lost \u2014 reconnecting\u2026');
  let timer = null;
  let wait = FIRST_WAIT_MS;

  // A success comes back as a 'connection' {state: 'open'} (api.js reports every request).
  function probe() {
    timer = setTimeout(async () => {
      try {
        await api.health();
      } catch {
        wait = Math.min(MAX_WAIT_MS, wait * 2);
        if (timer !== null) probe();
      }
    }, wait);
  }

  store.on('connection', ({ state }) => {
    if (state === 'lost') {
      root.hidden = false;
      if (timer === null) probe();
    } else if (state === 'open') {
      root.hidden = true;
      clearTimeout(timer);
      timer = null;
      wait = FIRST_WAIT_MS;
    }
  });
  return { el: root };
}
