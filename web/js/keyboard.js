// Shortcuts (the `?` sheet lists them): `n` new task, `/` search, `j`/`k` move between tasks,
// `x` complete, `e` edit, `#` category, `t`/`u`/`a` views, Esc closes, Ctrl/Cmd+Z undoes a delete.
import { els } from './state.js';
import { hideToast, hasToastAction, runToastAction } from './toast.js';
import { openQuickAdd } from './new-task.js';
import { openEdit } from './task-editor.js';
import { showView } from './views.js';

const visibleRows = () => Array.from(els.list.querySelectorAll(':scope > li[data-id]:not(.is-editing)'))
  .filter((r) => r.offsetParent !== null);

/** The task row keyboard focus is in, if any. */
function currentRow() {
  const a = document.activeElement;
  return a instanceof Element ? a.closest('#task-list > li[data-id]') : null;
}

function move(step) {
  const rows = visibleRows();
  if (!rows.length) return;
  const i = rows.indexOf(currentRow());
  const next = rows[i < 0 ? (step > 0 ? 0 : rows.length - 1) : Math.min(rows.length - 1, Math.max(0, i + step))];
  const toggle = next.querySelector('.task-toggle');
  if (toggle) { toggle.focus(); next.scrollIntoView({ block: 'nearest' }); }
}

function onGlobalKeydown(ev) {
  const t = ev.target;
  const typing = t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))
    && !(t instanceof HTMLInputElement && t.type === 'checkbox');
  if (els.shortcuts.open) return; // the dialog handles its own keys (Esc closes it)
  if (ev.key === 'Escape' && !els.toast.hidden && !typing) { hideToast(); return; }
  if (typing || ev.altKey || els.appView.hidden) return;
  if ((ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === 'z' && hasToastAction()) {
    ev.preventDefault();
    runToastAction();
    return;
  }
  if (ev.ctrlKey || ev.metaKey) return;
  const row = currentRow();
  switch (ev.key) {
    case '/': ev.preventDefault(); els.filters.elements.q.focus(); break;
    case 'n': ev.preventDefault(); openQuickAdd(); break;
    case '?': ev.preventDefault(); els.shortcuts.showModal(); break;
    case 'j': ev.preventDefault(); move(1); break;
    case 'k': ev.preventDefault(); move(-1); break;
    case 'x':
      if (row) { ev.preventDefault(); const c = row.querySelector('.task-toggle'); if (c) c.click(); }
      break;
    case 'e':
      if (row) { ev.preventDefault(); openEdit(row.dataset.id); }
      break;
    case '#':
      if (row) { ev.preventDefault(); openEdit(row.dataset.id, 'category_id'); }
      break;
    case 't': ev.preventDefault(); showView('today'); break;
    case 'u': ev.preventDefault(); showView('upcoming'); break;
    case 'a': ev.preventDefault(); showView('all'); break;
    default: break;
  }
}

export function initKeyboard() {
  document.addEventListener('keydown', onGlobalKeydown);
}
