/**
 * Numbers as people read them: a loss of 910803968 as "9.11e8", not "910803968.000" (which
 * wraps its box), a tiny one as "1.20e-5", ordinary ones with three decimals; and axis ticks
 * short enough for a 46-pixel axis. Every output parses back as a JavaScript (and Python)
 * number, except the non-finite words.
 * Pure: no DOM, no state. May import: nothing.
 */
const BIG = 1e4;
const SMALL = 1e-3;

function nonFinite(v) {
  if (Number.isNaN(v)) return 'NaN';
  return v > 0 ? '\u221e' : '\u2212\u221e';
}

/** Scientific with `digits` significant digits and no "+": 9.11e8, 1.20e-5. */
function scientific(v, digits) {
  return v.toExponential(digits - 1).replace('e+', 'e');
}

/** A readout's value: three decimals between 0.001 and 10,000, scientific outside. */
export function readable(v) {
  if (v == null) return '\u2013';
  if (!Number.isFinite(v)) return nonFinite(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= BIG || a < SMALL)) return scientific(v, 3);
  return a >= 100 ? v.toFixed(1) : v.toFixed(3);
}

/** An axis tick: at most about six characters (1.5, 0.003, 2e4, 1e-5). */
export function tick(v) {
  if (v == null || !Number.isFinite(v)) return '';
  const a = Math.abs(v);
  if (a !== 0 && (a >= BIG || a < SMALL)) return scientific(v, 2).replace(/\.0e/, 'e');
  return String(+v.toPrecision(3));
}
