// Live updates (SPEC §9): an EventSource on /events tells us that something changed; we then ask
// /sync what changed since our last cursor and apply it. Changes from other tabs and devices show
// within a second; an open editor or the new-task form keeps what is being typed.
import { state, els } from './state.js';
import { api, userPath } from './api.js';
import { matchesFilters } from './filters.js';
import { loadTasks, applyTaskChange, removeTaskLocal } from './task-list.js';
import { loadCategories } from './categories.js';
import { loadTags } from './tags.js';
import { refreshSubtasks } from './subtasks.js';
import { scheduleCounts } from './views.js';

const OFFLINE_AFTER_MS = 1500; // a short blip is not worth a message
const RETRY_MIN_MS = 2000;
const RETRY_MAX_MS = 30000;

let source = null;
let cursor = null; // where our copy of the state stands in the change order
let syncing = null; // the running sync, so that events during it make one more, not many
let again = false;
let retryTimer = 0;
let retryDelay = RETRY_MIN_MS;
let offlineTimer = 0;
let generation = 0; // bumped by stopLive: late answers of an old session are dropped

/** Opens the stream for the logged-in user (again, after a login). */
export function startLive() {
  stopLive();
  if (!state.auth || typeof EventSource !== 'function') return;
  connect(generation);
}

export function stopLive() {
  generation++;
  clearTimeout(retryTimer);
  clearTimeout(offlineTimer);
  if (source) source.close();
  source = null;
  cursor = null;
  again = false;
  setOffline(false);
}

function connect(gen) {
  const url = `${userPath('/events')}?access_token=${encodeURIComponent(state.auth.token)}`;
  const es = new EventSource(url);
  source = es;
  es.addEventListener('ready', (ev) => {
    if (gen !== generation) return;
    retryDelay = RETRY_MIN_MS;
    setOffline(false);
    const ready = parse(ev.data);
    if (!cursor) {
      // First contact (or after a cursor expired): reload, so that nothing between the page's
      // first load and this cursor is missed.
      cursor = ready && ready.cursor;
      loadTasks();
      loadCategories();
    } else {
      // A reconnect, or the server saying it may have missed changes: catch up from our cursor.
      requestSync(gen);
    }
  });
  es.addEventListener('change', () => { if (gen === generation) requestSync(gen); });
  es.addEventListener('open', () => { if (gen === generation) setOffline(false); });
  es.addEventListener('error', () => {
    if (gen !== generation) return;
    scheduleOffline();
    if (es.readyState === EventSource.CLOSED) {
      // The server answered with an error (e.g. 429, or a restart mid-handshake): EventSource
      // gives up then, so try again ourselves, a little later each time.
      es.close();
      retryTimer = setTimeout(() => { if (gen === generation && state.auth) connect(gen); }, retryDelay);
      retryDelay = Math.min(RETRY_MAX_MS, retryDelay * 2);
    }
    // otherwise EventSource reconnects by itself and a new `ready` makes us sync
  });
}

function parse(text) {
  try { return JSON.parse(text); } catch { return null; }
}

function scheduleOffline() {
  clearTimeout(offlineTimer);
  offlineTimer = setTimeout(() => setOffline(true), navigator.onLine === false ? 0 : OFFLINE_AFTER_MS);
}

function setOffline(offline) {
  if (!offline) clearTimeout(offlineTimer);
  if (els.liveStatus) els.liveStatus.hidden = !offline;
}

function requestSync(gen) {
  if (syncing) { again = true; return; }
  syncing = (async () => {
    do {
      again = false;
      await syncOnce(gen);
    } while (again && gen === generation);
    syncing = null;
  })();
}

async function syncOnce(gen) {
  if (!cursor || !state.auth) return;
  const changed = new Map();
  const deleted = new Set();
  let categoriesChanged = false;
  let at = cursor;
  try {
    for (;;) {
      const { data } = await api('GET', userPath(`/sync?since=${encodeURIComponent(at)}&limit=500`));
      if (gen !== generation) return;
      for (const t of data.tasks || []) { changed.set(t.id, t); deleted.delete(t.id); }
      for (const id of (data.deleted && data.deleted.tasks) || []) { deleted.add(id); changed.delete(id); }
      if ((data.categories || []).length || ((data.deleted && data.deleted.categories) || []).length) categoriesChanged = true;
      at = data.cursor;
      if (!data.more) break;
    }
  } catch (e) {
    if (gen !== generation) return;
    if (e.status === 410) {
      // our cursor is too old to catch up from: start over with a fresh stream and a full reload
      startLive();
    }
    return; // otherwise the next event or reconnect tries again from the same cursor
  }
  cursor = at;
  applyChanges([...changed.values()], deleted, categoriesChanged);
}

/** Applies what sync reported to the page, leaving alone what the person is typing. */
function applyChanges(tasks, deleted, categoriesChanged) {
  let reload = false;
  let tagsChanged = false;
  for (const id of deleted) {
    const parentId = checklistOf(id);
    if (parentId) updateChecklist(parentId, (items) => items.filter((t) => t.id !== id));
    if (!state.tasks.some((t) => t.id === id)) continue;
    if (state.editingId === id) noticeInEditor(id, 'This task was deleted on another device. Saving will not bring it back.');
    else removeTaskLocal(id);
    tagsChanged = true;
  }
  for (const task of tasks) {
    if (state.pendingDeletes.has(task.id)) continue; // deleted here, its undo window still open
    const known = state.tasks.find((t) => t.id === task.id);
    if (task.parent_id && state.subtasks.has(task.parent_id)) {
      // a subtask shown in its parent's checklist: redraw that checklist only
      updateChecklist(task.parent_id, (items) => upsert(items, task));
      if (!known) { tagsChanged = true; continue; }
    }
    if (known) {
      if (state.editingId === task.id && known.updated_at !== task.updated_at) {
        noticeInEditor(task.id, 'This task was changed on another device. Cancel to see the change; Save asks before it applies yours.');
      }
      if (JSON.stringify(known.tags || []) !== JSON.stringify(task.tags || [])) tagsChanged = true;
      applyTaskChange(task);
    } else if (matchesFilters(task)) {
      // a new task for this view: its place depends on sort and paging, which the server knows
      reload = true;
      tagsChanged = true;
    }
  }
  if (reload) loadTasks();
  else scheduleCounts(); // other views' counts may have moved
  if (categoriesChanged) loadCategories();
  if (tagsChanged) loadTags();
}

/** The parent whose checklist shows subtask `id`, if any. */
function checklistOf(id) {
  for (const [parentId, entry] of state.subtasks) if (entry.items && entry.items.some((t) => t.id === id)) return parentId;
  return null;
}

function updateChecklist(parentId, change) {
  const entry = state.subtasks.get(parentId);
  entry.items = change(entry.items || []);
  refreshSubtasks(parentId);
}

const upsert = (items, task) => {
  const rest = items.filter((t) => t.id !== task.id);
  return [...rest, task].sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
};

function noticeInEditor(id, text) {
  const form = els.list.querySelector(`li[data-id="${CSS.escape(id)}"] .task-edit`);
  const slot = form && form.querySelector('[data-live-notice]');
  if (slot) { slot.textContent = text; slot.hidden = false; }
}

export function initLive() {
  window.addEventListener('offline', () => { if (state.auth) setOffline(true); });
  window.addEventListener('online', () => {
    if (!state.auth) return;
    if (!source || source.readyState === EventSource.CLOSED) {
      // the stream was given up while offline: open it again at once (its `ready` syncs)
      clearTimeout(retryTimer);
      connect(generation);
    } else if (source.readyState === EventSource.OPEN) {
      // the stream lived through it, but a sync may have failed meanwhile: catch up
      setOffline(false);
      requestSync(generation);
    }
  });
}
