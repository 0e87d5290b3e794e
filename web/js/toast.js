// The toast at the bottom of the screen, with an optional action (Undo).
import { els } from './state.js';

let toastTimer = 0;
let toastAction = null;

export function showToast(text, { actionLabel = null, onAction = null, timeout = 8000 } = {}) {
  clearTimeout(toastTimer);
  els.toastText.textContent = text;
  toastAction = onAction;
  els.toastAction.hidden = !onAction;
  if (actionLabel) els.toastAction.textContent = actionLabel;
  els.toast.hidden = false;
  toastTimer = setTimeout(hideToast, timeout);
}

export function hideToast() {
  clearTimeout(toastTimer);
  const hadFocus = els.toast.contains(document.activeElement);
  els.toast.hidden = true;
  toastAction = null;
  if (hadFocus && !els.appView.hidden) els.tasksHeading.focus();
}

export const hasToastAction = () => !!toastAction;

export function runToastAction() {
  const fn = toastAction;
  hideToast();
  if (fn) fn();
}

export function initToast() {
  els.toastAction.addEventListener('click', runToastAction);
  els.toastClose.addEventListener('click', hideToast);
}
