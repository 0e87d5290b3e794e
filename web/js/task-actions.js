// What one does to a task from its row: complete, delete (with undo), edit.
import { state, els } from './state.js';
import { $, announce } from './dom.js';
import { api, userPath, taskPath } from './api.js';
import { rowFor, showRowError } from './task-row.js';
import { loadTasks, applyTaskChange, removeTaskLocal } from './task-list.js';
import { openEdit, closeEdit, saveEdit } from './task-editor.js';
import { showToast } from './toast.js';

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
  markPending(id);
  try {
    const { data } = await api('PATCH', taskPath(id, '/complete'));
    state.pending.delete(id);
    applyTaskChange(data);
    announce(data.completed ? `Completed “${data.title}”.` : `“${data.title}” is active again.`);
  } catch (e) {
    clearPending(id);
    if (checkbox.isConnected) checkbox.checked = !checkbox.checked;
    if (e.status === 401) return;
    if (e.status === 404) {
      removeTaskLocal(id);
      showToast('That task no longer exists.');
      return;
    }
    showRowError(id, `Could not update: ${e.message}`);
  }
}

async function deleteTask(id) {
  const task = state.tasks.find((t) => t.id === id);
  if (!task || state.pending.has(id)) return;
  markPending(id);
  try {
    await api('DELETE', taskPath(id));
    state.pending.delete(id);
    removeTaskLocal(id);
    showToast(`Deleted “${task.title}”.`, { actionLabel: 'Undo', onAction: () => restoreTask(task) });
  } catch (e) {
    clearPending(id);
    if (e.status === 401) return;
    if (e.status === 404) {
      removeTaskLocal(id);
      showToast('That task was already deleted.');
      return;
    }
    showRowError(id, `Could not delete: ${e.message}`);
  }
}

async function restoreTask(task) {
  const body = {
    title: task.title,
    description: task.description,
    priority: task.priority,
    due_date: task.due_date,
    completed: !!task.completed,
  };
  if (task.category_id && state.catById.has(task.category_id)) body.category_id = task.category_id;
  try {
    const { data } = await api('POST', userPath('/tasks'), { body });
    await loadTasks();
    const r = data && rowFor(data.id);
    const t = r && r.querySelector('.task-toggle');
    if (t) t.focus();
    showToast(`Restored “${task.title}”.`);
  } catch (e) {
    if (e.status !== 401) showToast(`Could not restore “${task.title}”: ${e.message}`);
  }
}

function onListClick(ev) {
  const target = ev.target;
  if (!(target instanceof Element)) return;
  const actionEl = target.closest('[data-action]');
  if (!actionEl || !els.list.contains(actionEl)) return;
  const row = actionEl.closest('li[data-id]');
  if (!row) return;
  const id = row.dataset.id;
  switch (actionEl.dataset.action) {
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
  if (t instanceof HTMLInputElement && t.dataset.action === 'toggle') {
    const row = t.closest('li[data-id]');
    if (row) toggleTask(row.dataset.id, t);
  }
}

function onListSubmit(ev) {
  const form = ev.target;
  if (form instanceof HTMLFormElement && form.classList.contains('task-edit')) {
    ev.preventDefault();
    saveEdit(form);
  }
}

function onListKeydown(ev) {
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
}
