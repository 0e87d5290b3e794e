// The toast at the bottom of the screen, with an optional action (Undo).
import { els } from './state.js';

let toastTimer = 0;
let toastAction = null;
let toastClosed = null; // runs when the toast goes away without its action (the undo window closed)

/** `onClose` runs when the toast leaves without its action: timeout, dismissal, or a newer toast. */
export function showToast(text, { actionLabel = null, onAction = null, onClose = null, timeout = 8000 } = {}) {
  clearTimeout(toastTimer);
  closeWindow();
  toastClosed = onClose;
  els.toastText.textContent = text;
  toastAction = onAction;
  els.toastAction.hidden = !onAction;
  if (actionLabel) els.toastAction.textContent = actionLabel;
  els.toast.hidden = false;
  toastTimer = setTimeout(hideToast, timeout);
}

function closeWindow() {
  const fn = toastClosed;
  toastClosed = null;
  if (fn) fn();
}

export function hideToast() {
  clearTimeout(toastTimer);
  closeWindow();
  const hadFocus = els.toast.contains(document.activeElement);
  els.toast.hidden = true;
  toastAction = null;
  if (hadFocus && !els.appView.hidden) els.tasksHeading.focus();
}

export const hasToastAction = () => !!toastAction;

export function runToastAction() {
  const fn = toastAction;
  toastClosed = null; // the action replaces what closing would have done
  hideToast();
  if (fn) fn();
}

export function initToast() {
  els.toastAction.addEventListener('click', runToastAction);
  els.toastClose.addEventListener('click', hideToast);
}
