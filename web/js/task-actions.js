// What one does to a task from its row: complete, delete (with undo), edit.
import { state, els } from './state.js';
import { $, announce } from './dom.js';
import { api, userPath, taskPath } from './api.js';
import { rowFor, showRowError } from './rows.js';
import { loadTasks, applyTaskChange, removeTaskLocal } from './task-list.js';
import { openEdit, closeEdit, saveEdit } from './task-editor.js';
import { showToast } from './toast.js';
import { formatNextDue } from './dates.js';
import { filterByTag } from './filter-bar.js';
import { loadTags } from './tags.js';
import { openAddForm, closeAddForm, addSubtask, toggleSubtask, deleteSubtask, subtasksOf } from './subtasks.js';

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
  markPending(id);
  try {
    const { data } = await api('PATCH', taskPath(id, '/complete'));
    state.pending.delete(id);
    applyTaskChange(data);
    if (before && !before.completed && !data.completed && data.recurrence) {
      // a recurring task moves to its next occurrence instead of completing (SPEC §10)
      const next = formatNextDue(data.due_date);
      showToast(`Done for now: “${data.title}” is next due ${next}.`);
      announce(`Done for now. “${data.title}” is next due ${next}.`);
    } else {
      announce(data.completed ? `Completed “${data.title}”.` : `“${data.title}” is active again.`);
    }
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
  const subtasks = task.parent_id ? [] : subtasksOf(id); // deleted with it (SPEC §10)
  markPending(id);
  try {
    await api('DELETE', taskPath(id));
    state.pending.delete(id);
    removeTaskLocal(id);
    showToast(`Deleted “${task.title}”.`, { actionLabel: 'Undo', onAction: () => restoreTask(task, subtasks) });
    if (task.tags && task.tags.length) loadTags();
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

/** A POST body that makes `task` again, as far as what it points at still exists. */
function copyOf(task, parentId) {
  const body = {
    title: task.title,
    description: task.description,
    priority: task.priority,
    due_date: task.due_date,
    completed: !!task.completed,
  };
  if (task.category_id && state.catById.has(task.category_id)) body.category_id = task.category_id;
  if (task.tags && task.tags.length) body.tags = task.tags;
  if (task.recurrence) body.recurrence = task.recurrence;
  if (parentId) body.parent_id = parentId;
  return body;
}

/** Undo of a delete: the task again (a new one, as the API has no undelete), with its subtasks. */
async function restoreTask(task, subtasks) {
  try {
    const { data } = await api('POST', userPath('/tasks'), { body: copyOf(task, task.parent_id) });
    for (const sub of subtasks) await api('POST', userPath('/tasks'), { body: copyOf(sub, data.id) });
    await loadTasks();
    if (task.tags && task.tags.length) loadTags();
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
}
