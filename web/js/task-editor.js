// Editing a task in place: the row becomes a form; Save sends only what changed.
import { state, PRIORITIES, PRIORITY_LABEL } from './state.js';
import { $, h, setBusy, announce } from './dom.js';
import { api, taskPath } from './api.js';
import { dueField, readDue } from './due-field.js';
import { clearErrors, setFieldError, showErrors, field } from './forms.js';
import { matchesFilters } from './filters.js';
import { categoryOptions } from './categories.js';
import { rowFor } from './rows.js';
import { taskRow } from './task-row.js';
import { removeTaskLocal } from './task-list.js';
import { showToast } from './toast.js';
import { tagField, tagInputValue, sameTags } from './tag-input.js';
import { loadTags } from './tags.js';
import { recurrenceFields, readRecurrence, relabelChoices, recurrenceProblem, sameRecurrence } from './recurrence.js';

/** The values of a task form (the new-task form or an edit form). */
export function readTaskForm(form) {
  const v = (name) => (form.elements[name] ? form.elements[name].value : '');
  return {
    title: v('title').trim(),
    description: v('description').trim() ? v('description') : null,
    priority: v('priority') || 'medium',
    due: readDue(form),
    category_id: v('category_id') || null,
    tags: tagInputValue(form),
    recurrence: readRecurrence(form),
  };
}

/** Checks the due date and the recurrence of a form; false (with the error shown) when wrong. */
export function checkDueAndRepeat(form, f) {
  const due = f.due;
  if (due === undefined) {
    setFieldError(form, 'due_date', form.elements.due_date.value ? 'Enter the time as hours and minutes, or leave it empty.' : 'Pick a date for this time, or clear the time.');
    form.elements.due_date.focus();
    return false;
  }
  const problem = recurrenceProblem(f.recurrence, due);
  if (problem) {
    setFieldError(form, 'recurrence', problem);
    (f.recurrence.rule ? form.elements.due_date : form.elements.rrule).focus();
    return false;
  }
  return true;
}

/** Keeps the quick choices' names in step with the due date ("Every week on Friday"). */
export function followDueDate(form) {
  const relabel = () => relabelChoices(form, readDue(form) || null);
  for (const name of ['due_date', 'due_time']) {
    form.elements[name].addEventListener('input', relabel);
    form.elements[name].addEventListener('change', relabel);
  }
}

const sameInstant = (a, b) => (a ? Date.parse(a) : null) === (b ? Date.parse(b) : null);

function editRow(t) {
  const p = `e-${t.id}`;
  const title = h('input', { id: `${p}-title`, name: 'title', type: 'text', maxlength: '255', required: true, value: t.title, autocomplete: 'off', dataset: { testid: 'edit-title' } });
  const desc = h('textarea', { id: `${p}-desc`, name: 'description', rows: '2', maxlength: '2000', dataset: { testid: 'edit-description' } });
  desc.value = t.description || '';
  const prio = h('select', { id: `${p}-prio`, name: 'priority', dataset: { testid: 'edit-priority' } },
    ...PRIORITIES.map((v) => h('option', { value: v, text: PRIORITY_LABEL[v] })));
  prio.value = t.priority;
  const cat = h('select', { id: `${p}-cat`, name: 'category_id', class: 'category-select', dataset: { testid: 'edit-category', allLabel: 'No category' } });
  categoryOptions(cat, t.category_id, 'No category');

  const form = h('form', { class: 'task-edit', novalidate: true, 'aria-label': `Edit task “${t.title}”`, dataset: { testid: 'task-edit-form' } },
    field('Title', title, 'title', 'field-title'),
    field('Description', desc, 'description', 'field-desc'),
    field('Priority', prio, 'priority'),
    dueField(p, t.due_date),
    field('Category', cat, 'category_id'),
    tagField(`e-${t.id}`, t.tags || []),
    recurrenceFields('edit', t.recurrence, t.due_date),
    h('div', { class: 'edit-actions' },
      h('button', { type: 'submit', class: 'btn btn-primary btn-small', dataset: { testid: 'edit-save' }, text: 'Save' }),
      h('button', { type: 'button', class: 'btn btn-small', dataset: { action: 'cancel-edit', testid: 'edit-cancel' }, text: 'Cancel' }),
    ),
    h('p', { class: 'form-error', role: 'alert', dataset: { errorFor: '_form' } }),
    h('p', { class: 'live-notice', role: 'status', hidden: true, dataset: { liveNotice: '', testid: 'edit-live-notice' } }),
  );
  followDueDate(form);
  return h('li', { class: 'task is-editing', dataset: { id: t.id, testid: 'task-item' } }, form);
}

export function openEdit(id, focusName = 'title') {
  const task = state.tasks.find((t) => t.id === id);
  if (!task) return;
  if (state.editingId && state.editingId !== id) closeEdit(state.editingId, false);
  const row = rowFor(id);
  if (!row) return;
  state.editingId = id;
  const editing = editRow(task);
  row.replaceWith(editing);
  const form = editing.querySelector('form');
  // the version the form starts from: Save sends only what the person changed from it, and only
  // if the task is still that version (If-Match), so a change made elsewhere is never undone
  form.editBase = task;
  fetchVersion(form, task);
  const input = editing.querySelector(`[name="${focusName}"]`) || editing.querySelector('[name="title"]');
  input.focus();
  if (input.select && input.type === 'text') input.select();
}

/** The ETag of the version the editor shows (the list does not carry ETags). */
async function fetchVersion(form, task) {
  try {
    const { data, res } = await api('GET', taskPath(task.id), { cache: 'no-store' });
    if (data.updated_at === task.updated_at) form.dataset.etag = res.headers.get('ETag') || '';
    // else it already changed: no ETag, so the first Save is refused and says so
    else form.dataset.etag = '"stale"';
  } catch {
    // no ETag: Save still sends only what the person changed
  }
}

export function closeEdit(id, refocus = true) {
  const task = state.tasks.find((t) => t.id === id);
  const row = rowFor(id);
  if (state.editingId === id) state.editingId = null;
  if (!row || !task) return;
  const fresh = taskRow(task);
  row.replaceWith(fresh);
  if (refocus) $('[data-action="edit"]', fresh).focus();
}

export async function saveEdit(form) {
  const row = form.closest('li');
  const id = row.dataset.id;
  const task = form.editBase || state.tasks.find((t) => t.id === id);
  if (!task || form.classList.contains('is-busy')) return;
  clearErrors(form);
  const f = readTaskForm(form);
  if (!f.title) {
    setFieldError(form, 'title', 'The title cannot be empty.');
    form.elements.title.focus();
    return;
  }
  const patch = {};
  if (f.title !== task.title) patch.title = f.title;
  if ((f.description ?? null) !== (task.description ?? null)) patch.description = f.description;
  if (f.priority !== task.priority) patch.priority = f.priority;
  if (!checkDueAndRepeat(form, f)) return;
  if (!sameInstant(f.due, task.due_date)) patch.due_date = f.due;
  if ((f.category_id || null) !== (task.category_id || null)) patch.category_id = f.category_id;
  if (!sameTags(f.tags, task.tags)) patch.tags = f.tags;
  if (!sameRecurrence(f.recurrence, task.recurrence)) patch.recurrence = f.recurrence;
  if (!Object.keys(patch).length) {
    closeEdit(id);
    return;
  }
  setBusy(form, true);
  try {
    const etag = form.dataset.etag;
    const { data } = await api('PATCH', taskPath(id), { body: patch, headers: etag ? { 'If-Match': etag } : {} });
    state.editingId = null;
    const idx = state.tasks.findIndex((t) => t.id === id);
    if (idx >= 0) state.tasks[idx] = data;
    if (matchesFilters(data)) {
      const fresh = taskRow(data);
      row.replaceWith(fresh);
      $('[data-action="edit"]', fresh).focus();
    } else {
      removeTaskLocal(id);
      showToast(`Saved “${data.title}” — it no longer matches the current filters.`);
    }
    announce(`Saved “${data.title}”.`);
    if (patch.tags) loadTags();
  } catch (e) {
    setBusy(form, false);
    if (e.status === 401) return;
    if (e.status === 404) {
      removeTaskLocal(id);
      showToast('That task no longer exists.');
      return;
    }
    if (e.status === 412) {
      await conflict(form, id);
      return;
    }
    showErrors(form, e);
  }
}

/**
 * Saving was refused because the task changed elsewhere since the editor opened. Keep what the
 * person typed, say so, and take the latest version's ETag: a second Save applies their changes
 * (only the fields they changed) on top of it.
 */
async function conflict(form, id) {
  try {
    const { data, res } = await api('GET', taskPath(id), { cache: 'no-store' });
    const idx = state.tasks.findIndex((t) => t.id === id);
    if (idx >= 0) state.tasks[idx] = data;
    form.dataset.etag = res.headers.get('ETag') || '';
    showErrors(form, new Error('This task was changed on another device while you were editing. Your changes are still here: Save again to apply them to the latest version, or Cancel to see it.'));
  } catch (e) {
    if (e.status === 404) {
      removeTaskLocal(id);
      showToast('That task was deleted on another device.');
    } else if (e.status !== 401) showErrors(form, e);
  }
}
