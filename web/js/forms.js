// Form errors: messages next to the fields named by loc[1], and the field builder.
import { FIELD_LABEL } from './state.js';
import { $$, h, nextId, announce } from './dom.js';

export function clearErrors(form) {
  for (const slot of $$('[data-error-for]', form)) slot.textContent = '';
  for (const el of $$('[aria-invalid="true"]', form)) el.removeAttribute('aria-invalid');
}

function fieldControl(form, name) {
  const c = form.elements ? form.elements.namedItem(name) : null;
  if (!c) return null;
  return c instanceof RadioNodeList ? c[0] : c;
}

export function setFieldError(form, field, msg) {
  const slot = form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
  if (!slot) return false;
  slot.textContent = slot.textContent ? `${slot.textContent} ${msg}` : msg;
  const control = fieldControl(form, field);
  if (control) {
    control.setAttribute('aria-invalid', 'true');
    if (!slot.id) slot.id = nextId('err');
    const ids = (control.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
    if (!ids.includes(slot.id)) control.setAttribute('aria-describedby', [...ids, slot.id].join(' '));
  }
  return true;
}

/**
 * Shows an ApiError (or a plain message) in a form. `statusField` maps a
 * status code to the field it is about (e.g. 409 on signup -> email).
 */
export function showErrors(form, err, { statusField = {}, focus = true } = {}) {
  clearErrors(form);
  const leftovers = [];
  let placed = false;
  if (err && err.fields && err.fields.length) {
    for (const [field, msg] of err.fields) {
      if (field && setFieldError(form, field, msg)) placed = true;
      else leftovers.push(field ? `${FIELD_LABEL[field] || field}: ${msg}` : msg);
    }
  } else {
    const field = err && statusField[err.status];
    const msg = (err && err.message) || String(err);
    if (field && setFieldError(form, field, msg)) placed = true;
    else leftovers.push(msg);
  }
  const formSlot = form.querySelector('[data-error-for="_form"]');
  if (leftovers.length) {
    if (formSlot) formSlot.textContent = leftovers.join(' ');
    else announce(leftovers.join(' '));
  }
  if (focus && placed) {
    const bad = form.querySelector('[aria-invalid="true"]');
    if (bad) bad.focus();
  }
}

/** A labelled field: label, control, and the slot for its error message. */
export function field(labelText, control, errorFor, extraClass = '') {
  const id = control.id || nextId('f');
  control.id = id;
  return h('div', { class: `field ${extraClass}`.trim() },
    h('label', { for: id, text: labelText }),
    control,
    h('p', { class: 'field-error', dataset: { errorFor } }),
  );
}
