// What one does to a task from its row: complete, delete (with undo), edit.
import { state, els } from './state.js';
import { $, announce } from './dom.js';
import { api, taskPath } from './api.js';
import { setCompleted } from './complete.js';
import { rowFor, showRowError } from './rows.js';
import { renderTasks, applyTaskChange, removeTaskLocal } from './task-list.js';
import { openEdit, closeEdit, saveEdit } from './task-editor.js';
import { showToast, hideToast } from './toast.js';
import { formatNextDue } from './dates.js';
import { filterByTag } from './filter-bar.js';
import { loadTags } from './tags.js';
import { openAddForm, closeAddForm, addSubtask, toggleSubtask, deleteSubtask } from './subtasks.js';

function markPending(id) {
  state.pending.add(id);
  const row = rowFor(id);
  if (row) { row.classList.add('is-pending'); $('.row-error', row).textContent = ''; }
}

function clearPending(id) {
  state.pending.delete(id);
  const r = rowFor(id);
  if (r) r.classList.remove('is-pending');
}

async function toggleTask(id, checkbox) {
  const before = state.tasks.find((t) => t.id === id);
  if (!before) return;
  const wanted = checkbox.checked; // the state the person asked for, as the page showed it
  markPending(id);
  try {
    const { task: data, outcome } = await setCompleted(before, wanted);
    state.pending.delete(id);
    applyTaskChange(data);
    if (outcome === 'already') {
      const msg = data.completed
        ? `“${data.title}” was already completed on another device.`
        : `“${data.title}” was already open again on another device.`;
      showToast(msg);
      announce(msg);
    } else if (outcome === 'conflict') {
      const msg = `“${data.title}” changed on another device, so nothing was changed. It now shows its latest state.`;
      showToast(msg);
      announce(msg);
    } else if (!before.completed && !data.completed && data.recurrence) {
      // a recurring task moves to its next occurrence instead of completing (SPEC §10)
      const next = formatNextDue(data.due_date);
      showToast(`Done for now: “${data.title}” is next due ${next}.`);
      announce(`Done for now. “${data.title}” is next due ${next}.`);
    } else {
      announce(data.completed ? `Completed “${data.title}”.` : `“${data.title}” is active again.`);
    }
  } catch (e) {
    clearPending(id);
    if (checkbox.isConnected) checkbox.checked = !wanted;
    if (e.status === 401) return;
    if (e.status === 404) {
      removeTaskLocal(id);
      showToast('That task no longer exists.');
      return;
    }
    showRowError(id, `Could not update: ${e.message}`);
  }
}

/**
 * Delete with a real undo: the row goes at once, the DELETE is sent only when the undo window
 * closes (or the page is left), so Undo brings back the same task, with its id and place.
 */
function deleteTask(id) {
  const index = state.tasks.findIndex((t) => t.id === id);
  const task = state.tasks[index];
  if (!task || state.pending.has(id)) return;
  state.pendingDeletes.set(id, { task, index });
  removeTaskLocal(id);
  showToast(`Deleted “${task.title}”.`, {
    actionLabel: 'Undo',
    onAction: () => undoDelete(id),
    onClose: () => sendDelete(id),
  });
}

function undoDelete(id) {
  const held = state.pendingDeletes.get(id);
  if (!held) return;
  state.pendingDeletes.delete(id);
  state.tasks.splice(Math.min(held.index, state.tasks.length), 0, held.task);
  state.total += 1;
  renderTasks();
  const r = rowFor(id);
  const t = r && r.querySelector('.task-toggle');
  if (t) t.focus();
  announce(`Restored “${held.task.title}”.`);
}

async function sendDelete(id) {
  const held = state.pendingDeletes.get(id);
  if (!held) return;
  try {
    await api('DELETE', taskPath(id));
    if (held.task.tags && held.task.tags.length) loadTags();
  } catch (e) {
    if (e.status === 401 || e.status === 404) return;
    // it is still there: show it again, with the reason
    state.tasks.splice(Math.min(held.index, state.tasks.length), 0, held.task);
    state.total += 1;
    renderTasks();
    showRowError(id, `Could not delete: ${e.message}`);
  } finally {
    state.pendingDeletes.delete(id);
  }
}

/** The page is going away with deletions still undoable: send them now (keepalive outlives the page). */
export function flushDeletes() {
  if (!state.auth) return;
  for (const id of state.pendingDeletes.keys()) {
    fetch(taskPath(id), { method: 'DELETE', keepalive: true, headers: { Authorization: `Bearer ${state.auth.token}` } }).catch(() => {});
  }
  const had = state.pendingDeletes.size > 0;
  state.pendingDeletes.clear();
  if (had) hideToast(); // its Undo can no longer bring them back
}

function onListClick(ev) {
  const target = ev.target;
  if (!(target instanceof Element)) return;
  const actionEl = target.closest('[data-action]');
  if (!actionEl || !els.list.contains(actionEl)) return;
  const row = actionEl.closest('li[data-id]');
  if (!row) return;
  const id = row.dataset.id;
  const subItem = actionEl.closest('[data-sub-id]');
  switch (actionEl.dataset.action) {
    case 'toggle-subtask':
      if (state.pending.has(subItem.dataset.subId)) ev.preventDefault();
      break;
    case 'delete-subtask':
      deleteSubtask(subItem);
      break;
    case 'add-subtask':
      openAddForm(id);
      break;
    case 'close-subtask-form':
      closeAddForm(id);
      break;
    case 'filter-tag':
      filterByTag(actionEl.dataset.tag);
      break;
    case 'toggle':
      if (state.pending.has(id)) ev.preventDefault(); // one request at a time per task
      break;
    case 'edit':
      openEdit(id);
      break;
    case 'edit-title':
      if (!window.getSelection || String(window.getSelection()) === '') openEdit(id);
      break;
    case 'delete':
      deleteTask(id);
      break;
    case 'cancel-edit':
      closeEdit(id);
      break;
    default:
      break;
  }
}

function onListChange(ev) {
  const t = ev.target;
  if (!(t instanceof HTMLInputElement)) return;
  if (t.dataset.action === 'toggle') {
    const row = t.closest('li[data-id]');
    if (row) toggleTask(row.dataset.id, t);
  } else if (t.dataset.action === 'toggle-subtask') {
    toggleSubtask(t.closest('[data-sub-id]'), t);
  }
}

function onListSubmit(ev) {
  const form = ev.target;
  if (!(form instanceof HTMLFormElement)) return;
  if (form.classList.contains('task-edit')) {
    ev.preventDefault();
    saveEdit(form);
  } else if (form.classList.contains('subtask-add')) {
    ev.preventDefault();
    addSubtask(form, form.closest('li[data-id]').dataset.id);
  }
}

function onListKeydown(ev) {
  const adding = ev.target instanceof Element && ev.target.closest('.subtask-add');
  if (adding && ev.key === 'Escape') {
    ev.preventDefault();
    closeAddForm(adding.closest('li[data-id]').dataset.id);
    return;
  }
  const form = ev.target instanceof Element && ev.target.closest('.task-edit');
  if (!form) return;
  if (ev.key === 'Escape') {
    ev.preventDefault();
    ev.stopPropagation();
    closeEdit(form.closest('li').dataset.id);
  } else if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
    ev.preventDefault();
    saveEdit(form);
  }
}

export function initTaskActions() {
  els.list.addEventListener('click', onListClick);
  els.list.addEventListener('change', onListChange);
  els.list.addEventListener('submit', onListSubmit);
  els.list.addEventListener('keydown', onListKeydown);
  window.addEventListener('pagehide', flushDeletes);
}
