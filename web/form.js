/**
 * Builds a form from a parameter JSON Schema (as the catalog gives it): number and integer
 * fields with their range, booleans, enums, optional values (anyOf [..., null]) and sets of
 * choices (array of enum). Each field shows its title, the schema's description as help text,
 * and an error slot. `createForm(schema, {onChange, idPrefix})` -> {el, update(values), setError}.
 * An entry the schema refuses stays in its field, marked (aria-invalid, red border), with why
 * and the value still in use: the document keeps its old value.
 * May import: nothing.
 */

let uid = 0;

/** A field's schema as one type: an optional value (anyOf [..., null]) is `nullable`, and a
 * number that may also be a word (padding: 3 or 'same') keeps the words in `words`. */
function plain(prop) {
  if (prop.anyOf) {
    const some = prop.anyOf.find((p) => p.type !== 'null' && p.const === undefined && !p.enum);
    const words = prop.anyOf.flatMap((p) => (p.const !== undefined ? [p.const] : p.enum || []));
    return { ...(some || { type: 'string' }), nullable: prop.anyOf.some((p) => p.type === 'null'),
      words, default: prop.default, title: prop.title, description: prop.description };
  }
  return prop;
}

const sliderRange = (p) => p.type === 'number' && !(p.default > 0 && p.default < 0.01) && Number.isFinite(p.maximum ?? p.exclusiveMaximum)
  && Number.isFinite(p.minimum ?? p.exclusiveMinimum) && (p.maximum ?? p.exclusiveMaximum) <= 1
  && (p.minimum ?? p.exclusiveMinimum) >= 0;

function checkNumber(p, raw) {
  if (raw === '' && p.nullable) return { value: null };
  if (p.words?.includes(raw)) return { value: raw };
  const v = Number(raw);
  if (raw === '' || !Number.isFinite(v)) {
    return { error: p.words?.length ? `enter a number or ${p.words.join(' or ')}` : 'enter a number' };
  }
  if (p.type === 'integer' && !Number.isInteger(v)) return { error: 'must be a whole number' };
  if (p.minimum !== undefined && v < p.minimum) return { error: `must be \u2265 ${p.minimum}` };
  if (p.maximum !== undefined && v > p.maximum) return { error: `must be \u2264 ${p.maximum}` };
  if (p.exclusiveMinimum !== undefined && v <= p.exclusiveMinimum) {
    return { error: `must be > ${p.exclusiveMinimum}` };
  }
  if (p.exclusiveMaximum !== undefined && v >= p.exclusiveMaximum) {
    return { error: `must be < ${p.exclusiveMaximum}` };
  }
  return { value: v };
}

/** Whether a parameter's schema takes `value`: numbers by their range, the rest as given
 * (the server checks them). */
export function accepts(prop, value) {
  return typeof value !== 'number' || !checkNumber(plain(prop), String(value)).error;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k in e && typeof v !== 'string') e[k] = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  e.append(...children.filter((c) => c !== null && c !== undefined));
  return e;
}
export { el };

const shown = (v) => (Array.isArray(v) ? v.join(', ') : String(v));

/** One field; `memo.kept` is the document's value, which a refused entry leaves in use. */
function field(key, prop, onChange, prefix, memo) {
  const p = plain(prop);
  const id = `${prefix}-${key}-${++uid}`;
  const help = el('small', { class: 'help', id: `${id}-help` }, p.description || '');
  const error = el('span', { class: 'field-error', role: 'alert', id: `${id}-err` });
  const label = el('label', { for: id }, p.title || key);
  const described = `${id}-help ${id}-err`;
  const wrap = el('div', { class: 'field', 'data-key': key });
  let input;
  let set;
  // A refused entry stays in its field, marked, beside why and the value still in use
  // (`note` false for the server's own refusals, which are of the document's value).
  const fail = (msg, note = true) => {
    const kept = note && msg && memo.kept !== undefined && memo.kept !== null;
    error.textContent = kept ? `${msg}; still using ${shown(memo.kept)}` : msg || '';
    wrap.classList.toggle('invalid', !!msg);
    if (msg) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
  };

  if (p.type === 'boolean') {
    input = el('input', { type: 'checkbox', id, 'aria-describedby': described });
    input.addEventListener('change', () => onChange(key, input.checked));
    set = (v) => { input.checked = !!v; };
    wrap.classList.add('check');
    wrap.append(input, label, help, error);
    return { wrap, set, fail, input };
  }
  if (p.type === 'array' && p.items?.enum) {
    const box = el('fieldset', { class: 'choices', 'aria-describedby': described },
      el('legend', {}, p.title || key));
    input = box;
    const boxes = p.items.enum.map((opt) => {
      const cb = el('input', { type: 'checkbox', value: opt, id: `${id}-${opt}` });
      box.append(el('label', { class: 'chip', for: cb.id }, cb, ` ${opt}`));
      return cb;
    });
    box.addEventListener('change', () => {
      const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
      if (p.minItems && chosen.length < p.minItems) {
        fail(`choose at least ${p.minItems}`);
        return;
      }
      fail('');
      onChange(key, chosen);
    });
    set = (v) => boxes.forEach((b) => { b.checked = (v || []).includes(b.value); });
    wrap.append(box, help, error);
    return { wrap, set, fail, input: box };
  }
  if (p.type === 'array' && p.prefixItems) {
    input = el('input', { type: 'text', id, 'aria-describedby': described, inputmode: 'decimal' });
    input.addEventListener('change', () => {
      const parts = input.value.split(/[,\s]+/).filter(Boolean);
      const vals = parts.map((x, i) => checkNumber(p.prefixItems[i] || {}, x));
      const bad = parts.length !== p.prefixItems.length ? `enter ${p.prefixItems.length} numbers`
        : vals.find((v) => v.error)?.error;
      fail(bad);
      if (!bad) onChange(key, vals.map((v) => v.value));
    });
    set = (v) => { input.value = (v || []).join(', '); };
  } else if (p.type === 'array' && ['integer', 'number'].includes(p.items?.type)) {
    // a list of any length within its bounds, e.g. a reshape's [1, 8, 8]
    input = el('input', { type: 'text', id, 'aria-describedby': described, inputmode: 'numeric' });
    input.addEventListener('change', () => {
      const parts = input.value.split(/[,\s]+/).filter(Boolean);
      const vals = parts.map((x) => checkNumber(p.items, x));
      const [lo, hi] = [p.minItems ?? 0, p.maxItems ?? Infinity];
      const bad = parts.length < lo || parts.length > hi
        ? `enter ${lo === hi ? lo : `${lo} to ${hi}`} numbers` : vals.find((v) => v.error)?.error;
      fail(bad);
      if (!bad) onChange(key, vals.map((v) => v.value));
    });
    set = (v) => { input.value = (v || []).join(', '); };
  } else if (p.enum) {
    input = el('select', { id, 'aria-describedby': described },
      ...p.enum.map((o) => el('option', { value: o }, String(o))));
    // the schema's own value, not the option's text: an enum of sizes is numbers
    input.addEventListener('change', () => onChange(key, p.enum.find((o) => String(o) === input.value)));
    set = (v) => { input.value = v; };
  } else if (sliderRange(p)) {
    const out = el('output', { for: id });
    input = el('input', { type: 'range', id, 'aria-describedby': described,
      min: p.minimum ?? p.exclusiveMinimum, max: p.maximum ?? p.exclusiveMaximum, step: 0.01 });
    input.addEventListener('input', () => { out.textContent = input.value; });
    input.addEventListener('change', () => {
      const r = checkNumber(p, input.value);
      fail(r.error);
      if (!r.error) onChange(key, r.value);
    });
    set = (v) => { input.value = v; out.textContent = v; };
    wrap.append(label, el('div', { class: 'slider' }, input, out), help, error);
    return { wrap, set, fail, input };
  } else {
    // a number, or a number or a word (padding 3 or 'same'): a text field that takes both
    input = p.words?.length
      ? el('input', { type: 'text', id, 'aria-describedby': described,
        placeholder: `a number or ${p.words.join(' or ')}` })
      : el('input', { type: 'number', id, 'aria-describedby': described,
        step: p.type === 'integer' ? 1 : 'any', placeholder: p.nullable ? 'none' : '' });
    if (p.minimum !== undefined) input.min = p.minimum;
    if (p.maximum !== undefined) input.max = p.maximum;
    input.addEventListener('change', () => {
      const r = checkNumber(p, input.value.trim());
      fail(r.error);
      if (!r.error) onChange(key, r.value);
    });
    set = (v) => { input.value = v ?? ''; };
  }
  wrap.append(label, input, help, error);
  return { wrap, set, fail, input };
}

export function createForm(schema, { onChange, idPrefix = 'f', skip = [] } = {}) {
  const root = el('div', { class: 'form' });
  const fields = {};
  for (const [key, prop] of Object.entries(schema?.properties || {})) {
    if (skip.includes(key)) continue;
    const memo = { kept: undefined };
    const f = field(key, prop, (k, v) => onChange?.(k, v), idPrefix, memo);
    fields[key] = { ...f, memo, prop: plain(prop) };
    root.append(f.wrap);
  }
  return {
    el: root,
    fields,
    /** Shows values (or the schema defaults), leaving a field alone while it has focus, and
     * a refused entry in place until the document's value itself changes (undo, a load). */
    update(values = {}) {
      for (const [key, f] of Object.entries(fields)) {
        const value = key in values ? values[key] : f.prop.default;
        const same = JSON.stringify(value) === JSON.stringify(f.memo.kept);
        f.memo.kept = value;
        if (f.wrap.classList.contains('invalid')) {
          if (same) continue;
          f.fail('');
        }
        if (f.wrap.contains(document.activeElement) && f.input.type !== 'checkbox') continue;
        f.set(value);
      }
    },
    setError(key, message) { fields[key]?.fail(message, false); },
    clearErrors() { Object.values(fields).forEach((f) => f.fail('')); },
  };
}
