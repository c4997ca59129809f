/**
 * Controls: play/pause, single step, stop, reset; the speed (one step at a time to as fast
 * as it goes, changeable while running); step and epoch counters and the steps a second that
 * really ran; the run's status; why play is disabled (an invalid network, a check in
 * progress); errors of the last command (a refusal goes once the document changes);
 * undo/redo and "copy link". Counters redraw once per animation frame. The messages
 * (`messages`) are mounted apart from the buttons, above the network.
 * Listens to: store 'report', 'doc', 'run-error', 'history'; live.onFrame.
 * May import: form.js (el), speeds.js.
 */
import { el } from '../form.js';
import { DEFAULT_SPEED, SPEEDS, paceLabel } from '../speeds.js';

const RATE_WINDOW_MS = 1000; // the measured rate is over the last second

/** Steps per second over the last RATE_WINDOW_MS, from (time, step) samples. */
function rateMeter() {
  const samples = [];
  return {
    rate(now, step) {
      if (samples.length && step < samples[samples.length - 1][1]) samples.length = 0;
      samples.push([now, step]);
      while (samples.length > 2 && now - samples[1][0] > RATE_WINDOW_MS) samples.shift();
      const [t0, s0] = samples[0];
      return now - t0 > 200 ? ((step - s0) * 1000) / (now - t0) : null;
    },
  };
}

export function createControls({ store, live }) {
  const btn = (cls, label, text) => el('button', { type: 'button', class: cls, 'aria-label': label,
    title: label }, text);
  const play = btn('play', 'Play', '\u25b6');
  const step = btn('round', 'Step once', '');
  step.innerHTML = '<svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">' +
    '<path d="M3 2l8 6-8 6z M12 2h2v12h-2z" fill="currentColor"/></svg>';
  const stop = btn('round', 'Stop', '\u25a0');
  const reset = btn('round', 'Reset', '\u21ba');
  const undo = btn('ghost', 'Undo', '\u21b6 Undo');
  const redo = btn('ghost', 'Redo', '\u21b7 Redo');
  const copy = btn('ghost', 'Copy link', 'Copy link');
  const stepOut = el('output', { 'data-testid': 'step', 'aria-label': 'Step' }, '0');
  const epochOut = el('output', { 'data-testid': 'epoch', 'aria-label': 'Epoch' }, '0');
  const speed = el('select', { id: 'speed', 'aria-label': 'Speed', 'data-testid': 'speed' },
    ...SPEEDS.map((s) => el('option', { value: s.id }, s.label)));
  speed.value = live.speed.id;
  const rateOut = el('output', { class: 'rate small muted', 'data-testid': 'rate',
    'aria-label': 'Steps per second' });
  const status = el('span', { class: 'status', 'data-testid': 'status', role: 'status' }, 'idle');
  // where the run trains and why (run_started.device_reason): 'auto' keeps a plain MLP on the
  // CPU's fused step even beside a GPU
  const where = el('span', { class: 'where small muted', 'data-testid': 'where' });
  const reason = el('p', { class: 'reason', 'data-testid': 'play-reason', role: 'status' });
  const error = el('p', { class: 'error', role: 'alert', 'data-testid': 'run-error' });
  const root = el('div', { class: 'controls', role: 'group', 'aria-label': 'Run controls' },
    el('div', { class: 'buttons' }, reset, play, step, stop),
    el('div', { class: 'counter speed-box' }, el('label', { class: 'label', for: 'speed' }, 'Speed'),
      speed, rateOut),
    el('div', { class: 'counter' }, el('span', { class: 'label' }, 'Step'), stepOut),
    el('div', { class: 'counter' }, el('span', { class: 'label' }, 'Epoch'), epochOut),
    el('div', { class: 'run-state' }, status, where),
    el('div', { class: 'edit' }, undo, redo, copy));
  // why Play is disabled and what was refused: a fixed place above the network (main.js
  // mounts it), never a new header row
  const messages = el('div', { class: 'messages', 'data-testid': 'messages' }, reason, error);
  let report = { pending: true };
  let shown = -1;
  let refused = false; // the error shown is a refusal of the document as it was
  const meter = rateMeter();

  function blocked() {
    if (report.pending && !report.report) return 'Checking the network\u2026';
    if (report.error) return report.error.message;
    if (report.report && !report.report.ok) {
      const e = report.report.errors[0];
      return e ? `${e.node ? `${e.node}: ` : ''}${e.message}` : 'the network is invalid';
    }
    return '';
  }

  /** Writes a property only when it differs: an unchanged write still costs a style pass. */
  const put = (node, key, value) => { if (node[key] !== value) node[key] = value; };

  function render() {
    const why = live.active ? '' : blocked();
    const running = live.status === 'running' || live.status === 'queued';
    const label = running ? 'Pause' : live.status === 'paused' ? 'Resume' : 'Play';
    put(play, 'disabled', !!why);
    if (play.getAttribute('aria-label') !== label) play.setAttribute('aria-label', label);
    put(play, 'title', label);
    put(play, 'textContent', running ? '\u275a\u275a' : '\u25b6');
    if (play.classList.contains('running') !== running) play.classList.toggle('running', running);
    put(reason, 'textContent', why ? `Play is disabled: ${why}` : '');
    put(reason, 'title', reason.textContent);
    put(step, 'disabled', !live.active);
    put(stop, 'disabled', !live.active);
    put(reset, 'disabled', !live.run);
    put(status, 'textContent', live.failure ? `failed: ${live.failure}` : live.status);
    put(status, 'title', status.textContent);
    const s = live.run && live.started;
    put(where, 'textContent', s ? `on ${s.device} (${s.strategy})` : '');
    put(where, 'title', s ? s.device_reason || '' : '');
    if (status.dataset.state !== live.status) status.dataset.state = live.status;
    put(undo, 'disabled', !store.canUndo);
    put(redo, 'disabled', !store.canRedo);
  }

  play.addEventListener('click', () => {
    if (live.status === 'running' || live.status === 'queued') live.pause();
    else if (live.status === 'paused' && live.speed.stepwise) live.setSpeed(DEFAULT_SPEED);
    else if (live.status === 'paused') live.resume();
    else live.start();
  });
  step.addEventListener('click', () => live.stepOnce());
  speed.addEventListener('change', () => live.setSpeed(speed.value));
  stop.addEventListener('click', () => live.stop());
  reset.addEventListener('click', () => live.reset());
  undo.addEventListener('click', () => store.undo());
  redo.addEventListener('click', () => store.redo());
  copy.addEventListener('click', async () => {
    store.flushUrl();
    try {
      await navigator.clipboard.writeText(location.href);
      copy.textContent = '\u2713 Copied';
    } catch {
      copy.textContent = 'Copy the address bar';
    }
    setTimeout(() => { copy.textContent = 'Copy link'; }, 1500);
  });

  live.onFrame((now) => {
    const rate = live.status === 'running' ? meter.rate(now, live.step) : null;
    const paced = live.active && live.pace != null ? `at most ${paceLabel(live.pace)}` : '';
    put(rateOut, 'textContent', rate == null ? paced : `${paceLabel(rate)}`);
    put(rateOut, 'title', paced);
    if (shown === live.version) return;
    shown = live.version;
    put(stepOut, 'textContent', String(live.step));
    put(epochOut, 'textContent', String(live.epoch));
    put(speed, 'value', live.speed.id);
    render();
  });
  store.on('report', (r) => { report = r; render(); });
  store.on('doc', () => { if (refused) { refused = false; error.textContent = ''; } });
  store.on('history', render);
  // status and counters change together, once per frame: never a "paused" beside an old step
  store.on('run-error', ({ error: e, where }) => {
    refused = !!e && where === 'start';
    if (!e) { error.textContent = ''; return; }
    const located = (e.errors || []).map((x) => `${x.node ? `${x.node}: ` : ''}${x.message}`);
    error.textContent = `${where === 'start' ? 'The run was refused' : 'Error'}: ${e.message}` +
      (located.length ? ` (${located.join('; ')})` : '');
    error.title = error.textContent;
  });
  render();
  return { el: root, messages };
}
