/**
 * The access-token prompt: a small dialog, shown when the server answers 401 (it was started
 * with LIVEGRAD_ACCESS_TOKEN). `ask({refused})` opens it (once, however many requests wait)
 * and resolves with what the person enters; api.js keeps it for the tab (sessionStorage).
 * Listens to: its own form. May import: nothing.
 */
const ASK = 'This server needs an access token: the one it was started with '
  + '(LIVEGRAD_ACCESS_TOKEN). Ask whoever runs it.';
const REFUSED = 'The server refused that token. Check it and try again.';

export function createTokenPrompt({ root = document.body } = {}) {
  const el = document.createElement('dialog');
  el.className = 'token-prompt';
  el.setAttribute('aria-labelledby', 'token-h');
  el.innerHTML = `<form method="dialog">
    <h2 id="token-h">Access token</h2>
    <p class="why" role="status"></p>
    <label>Token <input name="token" type="password" autocomplete="current-password"
      spellcheck="false" required></label>
    <button type="submit">Continue</button>
  </form>`;
  root.append(el);
  const form = el.querySelector('form');
  const input = form.elements.token;
  const why = el.querySelector('.why');
  const waiting = [];

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const value = input.value.trim();
    if (!value) return;
    input.value = '';
    el.close();
    waiting.splice(0).forEach((resolve) => resolve(value));
  });
  el.addEventListener('cancel', (e) => e.preventDefault()); // nothing works without it

  function ask({ refused = false } = {}) {
    why.textContent = refused ? REFUSED : ASK;
    if (!el.open) el.showModal();
    input.focus();
    return new Promise((resolve) => waiting.push(resolve));
  }

  return { el, ask };
}
