// Finding a task's row in the list, and showing an error on it.
import { els } from './state.js';
import { $ } from './dom.js';
import { showToast } from './toast.js';

export function rowFor(id) {
  return els.list.querySelector(`li[data-id="${CSS.escape(id)}"]`);
}

export function showRowError(id, msg) {
  const row = rowFor(id);
  if (row) {
    const slot = $('.row-error', row);
    if (slot) { slot.textContent = msg; return; }
  }
  showToast(msg);
}
