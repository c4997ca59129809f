/**
 * The speeds a run can train at, from one step at a time to as fast as it goes, and the pace
 * (steps per second at most, the engine's set_pace) each one asks for. "One epoch per frame"
 * is TensorFlow Playground's rate: an epoch per animation frame, 60 a second.
 * Pure: no DOM, no state. May import: nothing.
 */
export const MAX_PACE = 100000; // the engine's ceiling (engine.core.control.MAX_PACE)
const FRAMES_PER_SECOND = 60;

export const SPEEDS = [
  { id: 'step', label: 'One step at a time', stepwise: true },
  { id: '1', label: '1 step/s', pace: 1 },
  { id: '10', label: '10 steps/s', pace: 10 },
  { id: '100', label: '100 steps/s', pace: 100 },
  { id: 'epoch', label: '1 epoch per frame', epochsPerSecond: FRAMES_PER_SECOND },
  { id: 'max', label: 'As fast as it goes' },
];
export const DEFAULT_SPEED = 'max';

export function speedOf(id) {
  return SPEEDS.find((s) => s.id === id) || SPEEDS.find((s) => s.id === DEFAULT_SPEED);
}

/** The pace a speed asks for, given the run's steps per epoch: null for as fast as it goes
 * (and for one step at a time, which pauses instead); undefined while an epoch-based speed
 * waits for the run to say its steps per epoch. */
export function paceFor(speed, stepsPerEpoch) {
  if (speed.pace) return speed.pace;
  if (speed.epochsPerSecond) {
    if (!stepsPerEpoch) return undefined;
    return Math.min(MAX_PACE, speed.epochsPerSecond * stepsPerEpoch);
  }
  return null;
}

/** Readable speed: "1 step/s", "240 steps/s", "12.5k steps/s". */
export function paceLabel(pace) {
  if (pace == null) return 'as fast as it goes';
  const n = pace >= 10000 ? `${+(pace / 1000).toFixed(1)}k` : `${+pace.toFixed(pace < 10 ? 1 : 0)}`;
  return `${n} step${pace === 1 ? '' : 's'}/s`;
}
