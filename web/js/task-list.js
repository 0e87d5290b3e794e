// The task list: loading a page of tasks, rendering it, the pager and the empty state.
import { state, els, PAGE_SIZES, DEFAULT_LIMIT } from './state.js';
import { h } from './dom.js';
import { startOfDay, dayHeading } from './dates.js';
import { markCurrent, scheduleCounts } from './views.js';
import { api, userPath, taskPath } from './api.js';
import { clearErrors, showErrors } from './forms.js';
import { buildQuery, writeHash, matchesFilters, filtersActive } from './filters.js';
import { rowFor } from './rows.js';
import { taskRow } from './task-row.js';
import { watchRows, refreshSubtasks, subtasksOf, subtaskSection } from './subtasks.js';

let busyTimer = 0;

export async function loadTasks({ refocus = null, corrected = false } = {}) {
  if (!state.auth) return;
  const seq = ++state.loadSeq;
  if (state.loadCtl) state.loadCtl.abort();
  const ctl = new AbortController();
  state.loadCtl = ctl;
  clearTimeout(busyTimer);
  busyTimer = setTimeout(() => els.list.classList.add('is-loading'), 200);
  els.list.setAttribute('aria-busy', 'true');
  try {
    const { data, res } = await api('GET', userPath(`/tasks${buildQuery()}`), { signal: ctl.signal });
    if (seq !== state.loadSeq) return;
    const all = Array.isArray(data) ? data : [];
    const tasks = all.filter((t) => !state.pendingDeletes.has(t.id)); // deleted here, undo still open
    const header = parseInt(res.headers.get('X-Total-Count') || '', 10);
    const total = (Number.isFinite(header) ? header : state.offset + all.length) - (all.length - tasks.length);
    if (!tasks.length && state.offset > 0 && total > 0 && !corrected) {
      // The page we were on no longer exists (deletions): go to the last one.
      state.offset = Math.max(0, Math.floor((total - 1) / state.limit) * state.limit);
      writeHash();
      loadTasks({ refocus, corrected: true });
      return;
    }
    state.tasks = tasks;
    state.total = total;
    state.loadedOnce = true;
    state.subtaskGen++;
    clearErrors(els.filters);
    hideListError();
    renderTasks();
    if (refocus) refocus();
  } catch (e) {
    if (e && e.name === 'AbortError') return;
    if (seq !== state.loadSeq) return;
    if (e.status === 401) return;
    if (e.status === 422 && e.fields.length) {
      showErrors(els.filters, e, { focus: false });
      showListError(`Could not load tasks: ${e.message}`);
    } else {
      showListError(`Could not load tasks: ${e.message}`, true);
    }
  } finally {
    if (seq === state.loadSeq) {
      clearTimeout(busyTimer);
      els.list.classList.remove('is-loading');
      els.list.setAttribute('aria-busy', 'false');
    }
  }
}

export function showListError(msg, retry = false) {
  const box = els.listError;
  box.replaceChildren(h('span', { text: msg }));
  if (retry) {
    box.append(' ', h('button', { type: 'button', class: 'btn btn-small', dataset: { action: 'retry' }, text: 'Try again' }));
  }
  box.hidden = false;
}

function hideListError() {
  els.listError.hidden = true;
  els.listError.replaceChildren();
}

/**
 * Subtasks whose parent is on this page are shown in the parent's checklist, not as rows of
 * their own; the others are rows that say whose subtask they are.
 */
export function renderTasks() {
  const now = Date.now();
  const frag = document.createDocumentFragment();
  const keepEditing = state.editingId ? rowFor(state.editingId) : null;
  let stillEditing = false;
  // an open "add a subtask" form keeps what is typed in it across a redraw
  const openForms = new Map(Array.from(els.list.querySelectorAll('li[data-id] .subtask-add'))
    .map((form) => [form.closest('li[data-id]').dataset.id, form]));
  const focused = document.activeElement;
  const onPage = new Set(state.tasks.map((t) => t.id));
  for (const t of state.tasks) if (!t.parent_id) state.parentTitles.set(t.id, t.title);
  const rowOf = (t) => {
    if (keepEditing && t.id === state.editingId && keepEditing.classList.contains('is-editing')) {
      stillEditing = true;
      return keepEditing;
    }
    const fresh = taskRow(t, now);
    const form = openForms.get(t.id);
    const section = form && fresh.querySelector('.subtasks');
    if (section) section.replaceWith(subtaskSection(t, form));
    return fresh;
  };
  const shown = state.tasks.filter((t) => !(t.parent_id && onPage.has(t.parent_id)));
  // open tasks first; the completed ones after them, in a group that folds away
  const open = shown.filter((t) => !t.completed);
  const done = state.filters.status === 'completed' ? [] : shown.filter((t) => t.completed);
  const upcoming = state.filters.view === 'upcoming';
  let lastDay = null;
  for (const t of state.filters.status === 'completed' ? shown : open) {
    if (upcoming && t.due_date) {
      const day = startOfDay(new Date(t.due_date)).getTime();
      if (day !== lastDay) {
        lastDay = day;
        frag.append(h('li', { class: 'list-divider day-head', dataset: { testid: 'day-heading' } },
          h('h3', { text: dayHeading(new Date(t.due_date), now) })));
      }
    }
    frag.append(rowOf(t));
  }
  if (done.length) {
    const expanded = completedOpen();
    frag.append(h('li', { class: 'list-divider completed-head' },
      h('button', {
        type: 'button', class: 'btn btn-ghost btn-small completed-toggle', 'aria-expanded': String(expanded),
        dataset: { action: 'toggle-completed', testid: 'completed-toggle' },
      }, h('span', { 'aria-hidden': 'true', class: 'caret', text: expanded ? '▾ ' : '▸ ' }), `Completed (${done.length})`)));
    for (const t of done) {
      const r = rowOf(t);
      r.classList.add('in-done-group');
      frag.append(r);
    }
  }
  els.list.classList.toggle('hide-done', !completedOpen());
  if (!stillEditing) state.editingId = null;
  const focusRow = focused && focused.closest && focused.closest('li[data-id]');
  els.list.replaceChildren(frag);
  if (focused && focused !== document.activeElement && els.list.contains(focused)) focused.focus();
  else if (focusRow && !focused.isConnected && focused.dataset && focused.dataset.focus) {
    // the row was redrawn: keep focus on the same control of it
    const again = rowFor(focusRow.dataset.id);
    const el = again && again.querySelector(`[data-focus="${focused.dataset.focus}"]`);
    if (el) el.focus();
  }
  renderListMeta();
  watchRows(Array.from(els.list.querySelectorAll(':scope > li[data-id]:not([data-parent])')));
  loadParentTitles();
}

const OPEN_KEY = 'taskapi.completedOpen';
const viewKey = () => `${state.filters.view}:${state.filters.category_id || ''}`;

/** Whether the completed group of this view is unfolded (remembered per view; folded at first). */
function completedOpen() {
  try { return !!JSON.parse(localStorage.getItem(OPEN_KEY) || '{}')[viewKey()]; } catch { return false; }
}

function setCompletedOpen(open) {
  let all = {};
  try { all = JSON.parse(localStorage.getItem(OPEN_KEY) || '{}') || {}; } catch { all = {}; }
  all[viewKey()] = open;
  try { localStorage.setItem(OPEN_KEY, JSON.stringify(all)); } catch { /* private mode: for this page only */ }
  els.list.classList.toggle('hide-done', !open);
  const b = els.list.querySelector('[data-action="toggle-completed"]');
  if (b) {
    b.setAttribute('aria-expanded', String(open));
    b.querySelector('.caret').textContent = open ? '▾ ' : '▸ ';
  }
}

/** Titles of the parents of subtasks listed without them ("Subtask of …"). */
async function loadParentTitles() {
  const missing = new Set(state.tasks.filter((t) => t.parent_id && !state.parentTitles.has(t.parent_id)).map((t) => t.parent_id));
  for (const id of missing) {
    try {
      const { data } = await api('GET', taskPath(id));
      state.parentTitles.set(id, data.title);
    } catch {
      continue; // the row keeps saying "Subtask"
    }
    for (const span of els.list.querySelectorAll(`li[data-parent="${CSS.escape(id)}"] [data-testid="task-parent"]`)) {
      span.textContent = `Subtask of “${state.parentTitles.get(id)}”`;
    }
  }
}

function renderListMeta() {
  const total = state.total;
  const n = state.tasks.length;
  els.count.textContent = state.loadedOnce ? `(${total})` : '';
  els.count.setAttribute('aria-label', `${total} task${total === 1 ? '' : 's'}`);

  markCurrent();
  scheduleCounts();
  if (state.loadedOnce && n === 0) {
    els.empty.replaceChildren();
    const view = state.filters.view;
    if (!filtersActive() && view === 'today') {
      els.empty.append(h('p', { class: 'empty-title', text: 'Nothing due today' }), h('p', { class: 'muted', text: 'Tasks due today and overdue ones show here.' }));
    } else if (!filtersActive() && view === 'upcoming') {
      els.empty.append(h('p', { class: 'empty-title', text: 'Nothing coming up' }), h('p', { class: 'muted', text: 'Give a task a due date and it shows here, under its day.' }));
    } else if (filtersActive()) {
      els.empty.append(
        h('p', { text: 'No tasks match these filters.' }),
        h('button', { type: 'button', class: 'btn', dataset: { action: 'clear-filters' }, text: 'Clear filters' }),
      );
    } else {
      els.empty.append(
        h('p', { class: 'empty-title', text: 'No tasks yet' }),
        h('p', { class: 'muted', text: 'Add your first task above — it will show up here.' }),
      );
    }
    els.empty.hidden = false;
  } else {
    els.empty.hidden = true;
  }

  const pages = Math.max(1, Math.ceil(total / state.limit));
  const page = Math.floor(state.offset / state.limit) + 1;
  els.pager.hidden = !state.loadedOnce || (total <= PAGE_SIZES[0] && state.offset === 0);
  els.prev.disabled = state.offset <= 0;
  els.next.disabled = state.offset + n >= total;
  if (n > 0) {
    els.pageInfo.textContent = `${(state.offset + 1).toLocaleString()}–${(state.offset + n).toLocaleString()} of ${total.toLocaleString()} · page ${page} of ${pages}`;
  } else {
    els.pageInfo.textContent = `0 of ${total.toLocaleString()}`;
  }
}

/**
 * Replaces the row of a changed task, or drops it when it no longer
 * matches the filters. Keeps keyboard focus on the same control.
 */
export function applyTaskChange(task) {
  const i = state.tasks.findIndex((t) => t.id === task.id);
  if (i < 0) return;
  state.tasks[i] = task;
  scheduleCounts();
  const row = rowFor(task.id);
  if (!row && task.parent_id && state.subtasks.has(task.parent_id)) {
    // shown in its parent's checklist
    const entry = state.subtasks.get(task.parent_id);
    entry.items = subtasksOf(task.parent_id).map((t) => (t.id === task.id ? task : t));
    refreshSubtasks(task.parent_id);
    return;
  }
  if (!matchesFilters(task)) {
    removeTaskLocal(task.id);
    return;
  }
  if (!row || row.classList.contains('is-editing')) return; // the open editor keeps what is typed
  const focusKey = row.contains(document.activeElement) && document.activeElement.dataset
    ? document.activeElement.dataset.focus : null;
  const fresh = taskRow(task);
  row.replaceWith(fresh);
  if (focusKey) {
    const el = fresh.querySelector(`[data-focus="${focusKey}"]`);
    if (el) el.focus();
  }
}

export function removeTaskLocal(id) {
  const i = state.tasks.findIndex((t) => t.id === id);
  if (i < 0) return;
  state.tasks.splice(i, 1);
  state.total = Math.max(0, state.total - 1);
  if (state.editingId === id) state.editingId = null;
  const row = rowFor(id);
  if (row) {
    const hadFocus = row.contains(document.activeElement);
    const next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    if (hadFocus) {
      const target = next && next.querySelector('.task-toggle');
      if (target) target.focus();
      else els.tasksHeading.focus();
    }
  }
  renderListMeta();
  if (state.tasks.length === 0 && state.total > 0) loadTasks();
}

/** The pager: previous, next, and the page size. */
export function initPager() {
  els.prev.addEventListener('click', () => {
    state.offset = Math.max(0, state.offset - state.limit);
    writeHash();
    loadTasks({ refocus: () => { if (els.prev.disabled) els.next.focus(); } });
  });
  els.next.addEventListener('click', () => {
    state.offset += state.limit;
    writeHash();
    loadTasks({ refocus: () => { if (els.next.disabled) els.prev.focus(); } });
  });
  els.pageSize.addEventListener('change', () => {
    state.limit = parseInt(els.pageSize.value, 10) || DEFAULT_LIMIT;
    state.offset = 0;
    writeHash();
    loadTasks();
  });
  els.list.addEventListener('click', (ev) => {
    const b = ev.target instanceof Element ? ev.target.closest('[data-action="toggle-completed"]') : null;
    if (b) setCompletedOpen(b.getAttribute('aria-expanded') !== 'true');
  });
  els.listError.addEventListener('click', (ev) => {
    if (ev.target instanceof Element && ev.target.closest('[data-action="retry"]')) loadTasks();
  });
}
