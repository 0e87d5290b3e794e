// Small DOM helpers shared by every view.
import { els, DEFAULT_COLOR } from './state.js';

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

/** h('li', {class: 'x', dataset: {id}}, child, 'text') */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const key in attrs) {
      const v = attrs[key];
      if (v === undefined || v === null || v === false) continue;
      if (key === 'class') el.className = v;
      else if (key === 'text') el.textContent = v;
      else if (key === 'dataset') { for (const k in v) if (v[k] !== undefined && v[k] !== null) el.dataset[k] = v[k]; }
      else if (key === 'style') el.style.cssText = v;
      else if (key in el && typeof v !== 'string') el[key] = v;
      else el.setAttribute(key, v === true ? '' : v);
    }
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c);
  }
  return el;
}

let uid = 0;
export const nextId = (prefix) => `${prefix}-${++uid}`;

let announceTimer = 0;
/** Says `msg` to screen readers through the polite live region. */
export function announce(msg) {
  clearTimeout(announceTimer);
  els.announcer.textContent = '';
  // a fresh text node a moment later, so the same message twice is still read
  announceTimer = setTimeout(() => { els.announcer.textContent = msg; }, 30);
}

export function setBusy(form, busy) {
  form.classList.toggle('is-busy', busy);
  form.setAttribute('aria-busy', busy ? 'true' : 'false');
}

export function safeColor(c) {
  return /^#[0-9a-fA-F]{6}$/.test(c || '') ? c : DEFAULT_COLOR;
}
