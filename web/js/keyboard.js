// Shortcuts: `/` search, `n` new task, Esc closes the toast, Ctrl/Cmd+Z runs its Undo.
import { els } from './state.js';
import { hideToast, hasToastAction, runToastAction } from './toast.js';

function onGlobalKeydown(ev) {
  const t = ev.target;
  const typing = t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  if (ev.key === 'Escape' && !els.toast.hidden && !typing) { hideToast(); return; }
  if (typing || ev.altKey || els.appView.hidden) return;
  if ((ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === 'z' && hasToastAction()) {
    ev.preventDefault();
    runToastAction();
    return;
  }
  if (ev.ctrlKey || ev.metaKey) return;
  if (ev.key === '/') { ev.preventDefault(); els.filters.elements.q.focus(); }
  else if (ev.key === 'n') { ev.preventDefault(); els.taskForm.elements.title.focus(); }
}

export function initKeyboard() {
  document.addEventListener('keydown', onGlobalKeydown);
}
