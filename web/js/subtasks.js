// Subtasks: the checklist under a top-level task, its progress (2/5), adding and checking off.
// A parent's subtasks are fetched (`parent_id=ID`) when its row comes on screen, and kept
// until the next list load, which marks them stale: shown as they were, then refreshed.
import { state } from './state.js';
import { $, h, announce, setBusy } from './dom.js';
import { api, userPath, taskPath } from './api.js';
import { clearErrors, setFieldError, showErrors } from './forms.js';
import { rowFor, showRowError } from './rows.js';
import { showToast } from './toast.js';
import { setCompleted } from './complete.js';

const byCreation = (a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0);

/** The subtasks known for a parent: fetched ones, else those on the current page. */
export function subtasksOf(parentId) {
  const entry = state.subtasks.get(parentId);
  if (entry) return entry.items;
  return state.tasks.filter((t) => t.parent_id === parentId).sort(byCreation);
}

const progressKnown = (parentId) => state.subtasks.has(parentId);

/** "2/5" with what it means for screen readers, or null when the task has no subtasks. */
export function progressBadge(parentId) {
  const items = subtasksOf(parentId);
  if (!progressKnown(parentId) || !items.length) return null;
  const done = items.filter((t) => t.completed).length;
  return h('span', { class: `badge badge-progress${done === items.length ? ' is-complete' : ''}`, dataset: { testid: 'task-progress' } },
    `${done}/${items.length}`, h('span', { class: 'visually-hidden', text: ' subtasks done' }));
}

function subtaskItem(t) {
  const titleId = `st-${t.id}`;
  return h('li', { class: `subtask${t.completed ? ' is-done' : ''}`, dataset: { subId: t.id, testid: 'subtask-item' } },
    h('input', { type: 'checkbox', class: 'task-toggle', checked: !!t.completed, 'aria-labelledby': titleId, dataset: { action: 'toggle-subtask', testid: 'subtask-toggle' } }),
    h('span', { class: 'subtask-title', id: titleId, dataset: { testid: 'subtask-title' }, text: t.title }),
    h('button', { type: 'button', class: 'btn btn-small btn-ghost btn-danger subtask-delete', dataset: { action: 'delete-subtask', testid: 'subtask-delete' }, 'aria-label': `Delete subtask “${t.title}”`, text: '×' }),
  );
}

/** The checklist and, when asked for, the add form; `form` keeps an open form as it is. */
export function subtaskSection(parent, form = null) {
  const items = subtasksOf(parent.id);
  if (!items.length && !form) return h('div', { class: 'subtasks', hidden: true });
  return h('div', { class: 'subtasks' },
    items.length ? h('ul', { class: 'subtask-list', 'aria-label': `Subtasks of “${parent.title}”`, dataset: { testid: 'subtask-list' } }, ...items.map(subtaskItem)) : null,
    form,
  );
}

function addForm(parent) {
  const id = `add-sub-${parent.id}`;
  return h('form', { class: 'subtask-add', novalidate: true, dataset: { testid: 'subtask-form' } },
    h('label', { class: 'visually-hidden', for: id, text: `New subtask of “${parent.title}”` }),
    h('input', { id, name: 'title', type: 'text', maxlength: '255', autocomplete: 'off', placeholder: 'Add a subtask…', dataset: { testid: 'subtask-title-input' } }),
    h('button', { type: 'submit', class: 'btn btn-small', dataset: { testid: 'subtask-add' }, text: 'Add' }),
    h('button', { type: 'button', class: 'btn btn-small btn-ghost', dataset: { action: 'close-subtask-form' }, text: 'Done' }),
    h('p', { class: 'field-error', dataset: { errorFor: 'title' } }),
    h('p', { class: 'form-error', role: 'alert', dataset: { errorFor: '_form' } }),
  );
}

/** Redraws a parent row's checklist and progress, keeping an open add form and focus. */
export function refreshSubtasks(parentId) {
  const row = rowFor(parentId);
  const parent = state.tasks.find((t) => t.id === parentId);
  if (!row || !parent || row.classList.contains('is-editing')) return;
  const old = $('.subtasks', row);
  const form = old ? $('.subtask-add', old) : null;
  const focusSub = document.activeElement && document.activeElement.closest && document.activeElement.closest('[data-sub-id]');
  const fresh = subtaskSection(parent, form);
  if (old) old.replaceWith(fresh); else $('.task-body', row).append(fresh);
  const meta = $('.task-meta', row);
  const badge = progressBadge(parentId);
  const oldBadge = $('[data-testid="task-progress"]', meta);
  if (oldBadge && badge) oldBadge.replaceWith(badge);
  else if (oldBadge) oldBadge.remove();
  else if (badge) meta.prepend(badge);
  if (focusSub) {
    const again = fresh.querySelector(`[data-sub-id="${CSS.escape(focusSub.dataset.subId)}"] .task-toggle`);
    if (again) again.focus();
  }
}

const inFlight = new Set();
async function fetchSubtasks(parentId) {
  if (inFlight.has(parentId)) return;
  const gen = state.subtaskGen;
  inFlight.add(parentId);
  try {
    const { data } = await api('GET', userPath(`/tasks?parent_id=${encodeURIComponent(parentId)}&sort=created_at&limit=1000`));
    // only its own: a server without the filter would answer with every task
    const items = (Array.isArray(data) ? data : []).filter((t) => t.parent_id === parentId);
    state.subtasks.set(parentId, { gen, items });
    refreshSubtasks(parentId);
  } catch (e) {
    if (e.status !== 401 && e.status !== 404) showRowError(parentId, `Could not load subtasks: ${e.message}`);
  } finally {
    inFlight.delete(parentId);
  }
}

let observer = null;
/** Fetches the subtasks of top-level rows as they come near the screen. */
export function watchRows(rows) {
  if (observer) observer.disconnect();
  const fresh = (id) => { const e = state.subtasks.get(id); return e && e.gen === state.subtaskGen; };
  if (!('IntersectionObserver' in window)) {
    for (const r of rows) if (!fresh(r.dataset.id)) fetchSubtasks(r.dataset.id);
    return;
  }
  observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      observer.unobserve(entry.target);
      const id = entry.target.dataset.id;
      if (!fresh(id)) fetchSubtasks(id);
    }
  }, { rootMargin: '300px 0px' });
  for (const r of rows) observer.observe(r);
}

export function openAddForm(parentId) {
  const row = rowFor(parentId);
  const parent = state.tasks.find((t) => t.id === parentId);
  if (!row || !parent) return;
  let form = $('.subtask-add', row);
  if (!form) {
    form = addForm(parent);
    const old = $('.subtasks', row);
    const section = subtaskSection(parent, form);
    if (old) old.replaceWith(section); else $('.task-body', row).append(section);
  }
  form.elements.title.focus();
}

export function closeAddForm(parentId) {
  const row = rowFor(parentId);
  const form = row && $('.subtask-add', row);
  if (!form) return;
  form.remove();
  refreshSubtasks(parentId);
  const b = $('[data-action="add-subtask"]', row);
  if (b) b.focus();
}

function setItems(parentId, items) {
  state.subtasks.set(parentId, { gen: state.subtasks.get(parentId)?.gen ?? state.subtaskGen, items });
}

export async function addSubtask(form, parentId) {
  if (form.classList.contains('is-busy')) return;
  clearErrors(form);
  const title = form.elements.title.value.trim();
  if (!title) { setFieldError(form, 'title', 'Give the subtask a title.'); form.elements.title.focus(); return; }
  setBusy(form, true);
  try {
    const { data } = await api('POST', userPath('/tasks'), { body: { title, parent_id: parentId } });
    setItems(parentId, [...subtasksOf(parentId), data]);
    form.elements.title.value = '';
    refreshSubtasks(parentId);
    form.elements.title.focus();
    announce(`Added subtask “${data.title}”.`);
  } catch (e) {
    if (e.status === 422 && e.fields.some(([f]) => f === 'parent_id')) {
      showErrors(form, new Error('This task cannot have subtasks (it is a subtask itself, or was deleted).'));
    } else if (e.status !== 401) showErrors(form, e);
  } finally {
    setBusy(form, false);
  }
}

const owner = (item) => item.closest('li[data-id]')?.dataset.id;

export async function toggleSubtask(item, checkbox) {
  const parentId = owner(item);
  const id = item.dataset.subId;
  if (state.pending.has(id)) return;
  state.pending.add(id);
  try {
    const shown = subtasksOf(parentId).find((t) => t.id === id);
    const { task: data, outcome } = await setCompleted(shown, checkbox.checked);
    setItems(parentId, subtasksOf(parentId).map((t) => (t.id === id ? data : t)));
    refreshSubtasks(parentId);
    if (outcome !== 'done') showToast(`“${data.title}” changed on another device; it now shows its latest state.`);
    announce(data.completed ? `Checked off “${data.title}”.` : `“${data.title}” is open again.`);
  } catch (e) {
    if (checkbox.isConnected) checkbox.checked = !checkbox.checked;
    if (e.status !== 401) showRowError(parentId, `Could not update the subtask: ${e.message}`);
  } finally {
    state.pending.delete(id);
  }
}

export async function deleteSubtask(item) {
  const parentId = owner(item);
  const id = item.dataset.subId;
  const sub = subtasksOf(parentId).find((t) => t.id === id);
  try {
    await api('DELETE', taskPath(id));
  } catch (e) {
    if (e.status === 401) return;
    if (e.status !== 404) { showRowError(parentId, `Could not delete the subtask: ${e.message}`); return; }
  }
  setItems(parentId, subtasksOf(parentId).filter((t) => t.id !== id));
  refreshSubtasks(parentId);
  const row = rowFor(parentId);
  const next = row && ($('.subtask .task-toggle', row) || $('[data-action="add-subtask"]', row));
  if (next) next.focus();
  showToast(`Deleted subtask “${sub ? sub.title : ''}”.`);
}
