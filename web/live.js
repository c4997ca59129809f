/**
 * The run on the page: starts it from the store's spec, reopens past ones, sends control
 * commands, and gathers its event stream into typed buffers (one per named metric, whatever
 * the run's family declares in run_started.metrics or the catalog: no metric name is written
 * here; the latest boundary grid, weights and neuron maps). It never draws:
 * components read `live` once per animation frame through `onFrame`, and redraw only when
 * `version` (or `gridVersion`, `weightsVersion`) moved. A batch of events costs a few buffer
 * pushes and one version bump each: nothing is drawn or dispatched per event.
 * Probe events go to `live.internals` (internals-buffers.js), which keeps its own versions.
 * Any other event type a view `want`s is kept as the latest of its type: `latest(type)`, with
 * `versionOf(type)` moving on each one (views, web/views/, draw from these).
 * The stream is asked for the events the page draws: everything live.js handles, plus the
 * probe events that open panels `want` (collapsed ones do not pay for their events).
 * The speed (speeds.js) is the page's: a run starts at it and follows each change of it;
 * `live.pace` is the run's own, as its pace_changed events say.
 * Bus topics it emits on the store: 'run' (status, counters; at most once per animation
 * frame), 'run-error' ({error, where}).
 * May import: internals-buffers.js, redraw-budget.js, series-buffer.js, speeds.js (gets the
 * api, the store and the catalog from main.js).
 */
import { createInternals } from './internals-buffers.js';
import { createRedrawBudget, frameCap } from './redraw-budget.js';
import { Buffer } from './series-buffer.js';
import { DEFAULT_SPEED, paceFor, speedOf } from './speeds.js';

const ACTIVE = new Set(['queued', 'running', 'paused']);

// probe events that always-visible parts draw: warnings on the loss chart, the share line;
// weight_set answers the network drawing's edit of a link
const ALWAYS = ['warning', 'telemetry_share', 'weight_set'];

/** The metrics a run reports: its run_started list, else its family's from the catalog. */
function familyMetrics(catalog, run) {
  const name = run?.spec?.family || 'supervised';
  return catalog?.families?.find((f) => f.name === name)?.metrics || [];
}

export function createLive({ store, api, catalog = null }) {
  const frameFns = [];
  const live = {
    run: null, status: 'idle', step: 0, epoch: 0, totalSteps: null, stepsPerEpoch: null,
    started: null, grid: null, lr: null, failure: null, version: 0, gridVersion: 0,
    speed: speedOf(DEFAULT_SPEED), pace: null, // the page's speed; the run's pace (steps/s)
    weights: null, maps: null, weightsVersion: 0, // the latest weights_sampled, neuron maps
    // MetricInfo: {name, title, split, chart, chart_title, lower_is_better, range}
    metricInfo: familyMetrics(catalog, null),
    series: new Map(), // metric name -> Buffer (step, value)
    internals: createInternals(),
    /** The buffer of one named metric (empty until its first value). */
    metric(name) {
      let buf = this.series.get(name);
      if (!buf) { buf = new Buffer(); this.series.set(name, buf); }
      return buf;
    },
    get active() { return ACTIVE.has(this.status); },
    /** Calls fn(now) on each redraw frame; returns what stops it. */
    onFrame(fn) {
      frameFns.push(fn);
      return () => { const i = frameFns.indexOf(fn); if (i >= 0) frameFns.splice(i, 1); };
    },
    /** The latest event of `type` among those asked for with `want` (null: none yet). */
    latest(type) { return latest.get(type)?.event ?? null; },
    /** Moves on with each event of `type` (and when the run changes): redraw when it moved. */
    versionOf(type) { return latest.get(type)?.version ?? 0; },
  };
  const latest = new Map(); // wanted event type -> {event, version}
  let latestCount = 0; // versions never repeat, across runs too
  let stream = null;
  const wants = new Map(); // owner -> event types it draws now

  let announced = -1; // the version last emitted as 'run' (once per frame, from tick)
  const changed = () => { live.version++; };

  function clear() {
    live.series.clear();
    live.metricInfo = familyMetrics(catalog, null); // until the run says what it reports
    Object.assign(live, { step: 0, epoch: 0, grid: null, started: null, failure: null,
      totalSteps: null, weights: null, maps: null, pace: null });
    live.gridVersion++;
    live.weightsVersion++;
    live.internals.clear();
    latest.clear();
  }

  function keep(e) { latest.set(e.type, { event: e, version: ++latestCount }); }

  function absorb(e) {
    if (typeof e.step === 'number') live.step = Math.max(live.step, e.step);
    if (typeof e.epoch === 'number') live.epoch = Math.max(live.epoch, e.epoch);
  }

  const handlers = {
    hello: (e) => { live.status = e.status; },
    run_started: (e) => {
      live.started = e; live.status = 'running';
      live.totalSteps = e.total_steps; live.stepsPerEpoch = e.steps_per_epoch;
      if (e.metrics?.length) live.metricInfo = e.metrics;
      if (heldFor === live.run?.id) release();
    },
    steps_completed: (e) => {
      live.lr = e.lr;
      const stride = e.stride || 1; // a thinned stream: every stride-th step's values
      for (const [name, values] of Object.entries(e.metrics)) {
        const buf = live.metric(name);
        values.forEach((v, i) => {
          const step = e.first_step + i * stride;
          if (step > buf.last) buf.push(step, v);
        });
      }
    },
    eval_completed: (e) => {
      for (const [name, v] of Object.entries(e.metrics)) {
        const buf = live.metric(name);
        if (e.step > buf.last) buf.push(e.step, v);
      }
    },
    // heavy events come as binary frames: their arrays are typed-array views with a `shape`
    grid_computed: (e) => { live.grid = e; live.gridVersion++; }, // values (R, R) row-major
    weights_sampled: (e) => { live.weights = e; live.weightsVersion++; }, // values (out, in)
    neuron_maps_computed: (e) => { // values (units, R, R): map i is a view of its plane
      const [units, r, c] = e.values.shape;
      const maps = Array.from({ length: units }, (_, i) => e.values.subarray(i * r * c, (i + 1) * r * c));
      live.maps = { ...e, values: maps };
      live.weightsVersion++;
    },
    run_paused: () => { live.status = 'paused'; },
    run_resumed: () => { live.status = 'running'; },
    lr_changed: (e) => { live.lr = e.lr; },
    pace_changed: (e) => { live.pace = e.pace; },
    run_completed: () => { live.status = 'completed'; },
    run_stopped: () => { live.status = 'stopped'; },
    run_failed: (e) => { live.status = 'failed'; live.failure = e.error || e.message || 'failed'; },
  };

  function listen(s) {
    for (const [type, fn] of Object.entries(handlers)) {
      s.addEventListener(type, (ev) => { fn(ev.detail); absorb(ev.detail); changed(); });
    }
    for (const [type, fn] of Object.entries(live.internals.handlers)) {
      s.addEventListener(type, (ev) => { fn(ev.detail); absorb(ev.detail); });
    }
    const own = new Set([...Object.keys(handlers), ...Object.keys(live.internals.handlers)]);
    for (const type of wantedTypes()) {
      if (!own.has(type)) s.addEventListener(type, (ev) => { keep(ev.detail); absorb(ev.detail); });
    }
    s.addEventListener('connection', (ev) => store.emit('connection', ev.detail));
    s.addEventListener('gap', () => guard(async () => {
      const id = live.run?.id;
      if (id) { await seedFromMetrics(id, () => live.run?.id === id); changed(); }
    }, 'stream'));
  }

  /** The scalar history from /metrics, then the points the stream already added past it:
   * for a reopened run, and after a gap (events the server no longer held). */
  async function seedFromMetrics(id, wanted = () => true) {
    const s = (await api.metrics(id, 4000)).series;
    if (!wanted()) return; // the page moved on to another run meanwhile
    const merge = (buf, name) => {
      const xs = s[name] ? [...s[name].steps] : [];
      const ys = s[name] ? [...s[name].values] : [];
      const last = xs.length ? xs[xs.length - 1] : -Infinity;
      for (let i = 0; i < buf.n; i++) {
        if (buf.x[i] > last) { xs.push(buf.x[i]); ys.push(buf.y[i]); }
      }
      buf.clear();
      xs.forEach((x, i) => buf.push(x, ys[i]));
    };
    for (const name of Object.keys(s)) if (name !== 'lr') merge(live.metric(name), name);
  }

  function attach(run) {
    stream?.close();
    live.run = run;
    live.status = run.status;
    if (!live.started) live.metricInfo = familyMetrics(catalog, run);
    store.setRun(run.id);
    stream = api.events(run.id, -1, subscription());
    listen(stream);
    changed();
  }

  function wantedTypes() {
    const types = new Set();
    for (const list of wants.values()) list.forEach((t) => types.add(t));
    return types;
  }

  function subscription() {
    const types = new Set([...Object.keys(handlers), ...ALWAYS]);
    types.delete('hello'); // a greeting, not an event type: the server would refuse the list
    wantedTypes().forEach((t) => types.add(t));
    return [...types];
  }

  // A run started at an epoch-based speed waits before its first step until run_started
  // says its steps per epoch: then it gets its pace and goes (release).
  let heldFor = null;
  function release() {
    const id = heldFor;
    heldFor = null;
    guard(async () => {
      await api.setPace(id, paceFor(live.speed, live.stepsPerEpoch) ?? null);
      await api.control(id, 'resume');
    });
  }

  /** Follows a change of speed on the run shown: one step at a time pauses it; a pace goes
   * to it, and a run paused for stepping goes on. */
  async function followSpeed(before) {
    const speed = live.speed;
    if (!live.run || !live.active) return;
    const id = live.run.id;
    if (speed.stepwise) {
      if (live.status === 'running') await api.control(id, 'pause');
      return;
    }
    const pace = paceFor(speed, live.stepsPerEpoch);
    if (pace !== undefined) await api.setPace(id, pace);
    if (before.stepwise && live.status === 'paused') await api.control(id, 'resume');
  }

  async function guard(fn, where = 'controls') {
    try { return await fn(); } catch (error) {
      store.emit('run-error', { error, where });
      return null;
    }
  }

  Object.assign(live, {
    async start() {
      return guard(async () => {
        store.emit('run-error', { error: null });
        const speed = live.speed;
        const pace = paceFor(speed, null);
        const held = speed.stepwise || pace === undefined;
        const run = await api.createRun(store.spec(), { paused: held, pace: held ? null : pace });
        clear();
        heldFor = pace === undefined ? run.id : null;
        attach(run);
        return run;
      }, 'start');
    },
    /** Shows a past (or running) run: its curves from /metrics, then its live stream. */
    async open(id) {
      return guard(async () => {
        const run = await api.getRun(id);
        clear();
        await seedFromMetrics(id);
        attach(run);
        return run;
      }, 'runs');
    },
    pause: () => guard(async () => { live.run && await api.control(live.run.id, 'pause'); }),
    resume: () => guard(async () => { live.run && await api.control(live.run.id, 'resume'); }),
    stepOnce: () => guard(async () => {
      if (live.run) await api.control(live.run.id, 'step', { n: 1 });
    }),
    stop: () => guard(async () => { live.run && await api.control(live.run.id, 'stop'); }),
    /** The page's speed (a speeds.js id), for the next run and the one shown. */
    setSpeed: (id) => {
      const before = live.speed;
      live.speed = speedOf(id);
      changed();
      return guard(() => followSpeed(before));
    },
    setLr: (lr) => guard(async () => {
      if (live.run && live.active) await api.setLr(live.run.id, lr);
    }, 'lr'),
    /** Sets one weight of the run shown (node's weight[row, col]), between its steps: true
     * once the run says weight_set, false when the server refused it (the error is shown). */
    setWeight(node, row, col, value) {
      if (!live.run || !live.active || !stream) return Promise.resolve(false);
      const s = stream;
      return new Promise((resolve) => {
        const done = (ok, error) => {
          s.removeEventListener('weight_set', onSet);
          s.removeEventListener('error', onError);
          clearTimeout(timer);
          if (error) store.emit('run-error', { error: new Error(error), where: 'weights' });
          resolve(ok);
        };
        const onSet = (e) => { if (e.detail.node === node) done(true); };
        const onError = (e) => done(false, e.detail?.message || 'the weight was refused');
        const timer = setTimeout(() => done(false, 'no answer from the run'), 5000);
        s.addEventListener('weight_set', onSet);
        s.addEventListener('error', onError);
        if (!s.send({ type: 'control', action: 'set_weight', node, row, col, value })) {
          done(false, 'the connection is not open');
        }
      });
    },
    /** Changes the running run's probes ({curvature: {every: 50}}); false when it failed. */
    setProbes: async (probes) => {
      if (!live.run || !live.active) return true;
      return (await guard(() => api.setProbes(live.run.id, probes), 'probes')) !== null;
    },
    /** Asks the stream for `types` on behalf of `owner` (a panel), replacing its last ask. */
    want(owner, types) {
      const had = new Set(subscription());
      wants.set(owner, types);
      const now = subscription();
      if (!stream) return;
      if (live.run && now.some((t) => !had.has(t))) {
        // A type asked for anew only comes from its next event on: read the run again from
        // its start, so that a section opened late (or on a finished run) has its history.
        stream.close();
        live.internals.clear();
        stream = api.events(live.run.id, -1, now);
        listen(stream);
      } else {
        stream.subscribe(now);
      }
    },
    /** Forgets the run on the page (stopping it first when it still trains). */
    async reset() {
      if (live.run && live.active) await guard(() => api.control(live.run.id, 'stop'));
      stream?.close();
      stream = null;
      live.run = null;
      live.status = 'idle';
      store.setRun(null);
      clear();
      changed();
    },
  });

  // Components redraw together, on every other animation frame at most (30 Hz, the budget's
  // floor of 28 ms: a little under 2 x 16.7, as frame times jitter), and less often while
  // frames come late (redraw-budget.js): each frame that changes anything costs a commit
  // that pushes every canvas of the page to the compositor. `live.redrawMs` says the interval
  // now. Nothing while the tab is hidden (browsers stop animation frames then; the stream
  // keeps filling the buffers).
  const budget = createRedrawBudget();
  Object.defineProperty(live, 'redrawMs', { get: () => budget.interval });
  // While the page redraws less often than views come, the stream is asked for binary
  // frames at about the redraw rate (frameCap), the newest each time: decoding a grid that
  // is never drawn costs a busy machine as much as one drawn. Looked at twice a second.
  let cappedAt = -Infinity;
  function capFrames(now) {
    if (!stream || now - cappedAt < 500) return;
    cappedAt = now;
    stream.capFrames(frameCap(budget.interval));
  }
  const tick = (now) => {
    if (!document.hidden) capFrames(now);
    if (!document.hidden && budget.frame(now)) {
      if (announced !== live.version) { announced = live.version; store.emit('run', live); }
      // one component's error is reported, and neither stops the others nor the frames
      for (const fn of [...frameFns]) {
        try { fn(now); } catch (err) { globalThis.reportError?.(err); }
      }
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  return live;
}
