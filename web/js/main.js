// taskapi web app — plain ES modules, no build step.
// Talks to the same-origin JSON API under /api (see the HTTP contract).
// This module starts the app: it wires the views and moves between logged out and in.
import { state, els, bindElements, AUTH_KEY } from './state.js';
import { announce } from './dom.js';
import { onSessionEnded } from './api.js';
import { readHash, applyFiltersToControls } from './filters.js';
import { initAuth, showAuth, readStoredAuth, clearAuth, renderAccount, refreshMe } from './auth.js';
import { loadTasks, initPager } from './task-list.js';
import { initTaskActions, flushDeletes } from './task-actions.js';
import { initNewTask } from './new-task.js';
import { initFilterBar, renderTagFilter } from './filter-bar.js';
import { loadCategories, initCategories, resetCategories } from './categories.js';
import { initToast, hideToast } from './toast.js';
import { initKeyboard } from './keyboard.js';
import { loadTags, initTags, resetTags } from './tags.js';
import { startLive, stopLive, initLive } from './live.js';
import { initViews, renderViews } from './views.js';

function resetData() {
  stopLive();
  if (state.loadCtl) state.loadCtl.abort();
  state.loadSeq++;
  state.tasks = [];
  state.total = 0;
  state.editingId = null;
  state.pending.clear();
  state.pendingDeletes.clear();
  state.loadedOnce = false;
  state.subtasks.clear();
  state.parentTitles.clear();
  els.list.replaceChildren();
  resetCategories();
  resetTags();
  hideToast();
}

function enterApp() {
  els.authView.hidden = true;
  els.appView.hidden = false;
  els.account.hidden = false;
  renderAccount();
  applyFiltersToControls();
  renderViews();
  renderTagFilter();
  loadCategories();
  loadTags();
  loadTasks();
  refreshMe();
  startLive();
}

function sessionEnded(message) {
  if (!state.auth) return;
  clearAuth();
  resetData();
  showAuth('login', message);
}

function logout() {
  flushDeletes();
  clearAuth();
  resetData();
  showAuth('login', '');
  announce('You are logged out.');
}

/** Another tab logged in or out. */
function onStorage(ev) {
  if (ev.key !== AUTH_KEY) return;
  const a = readStoredAuth();
  if (!a && state.auth) {
    state.auth = null;
    resetData();
    showAuth('login', 'You were logged out in another window.');
  } else if (a && (!state.auth || a.user_id !== state.auth.user_id || a.token !== state.auth.token)) {
    state.auth = a;
    resetData();
    enterApp();
  }
}

const MANAGE_KEY = 'taskapi.manageOpen';

/** "Manage categories and tags" stays folded or unfolded across reloads. */
function rememberManage() {
  const box = document.getElementById('manage');
  try { box.open = localStorage.getItem(MANAGE_KEY) === '1'; } catch { /* no storage: folded */ }
  box.addEventListener('toggle', () => {
    try { localStorage.setItem(MANAGE_KEY, box.open ? '1' : '0'); } catch { /* for this page only */ }
  });
}

function init() {
  bindElements();
  rememberManage();
  els.tasksHeading.tabIndex = -1;
  onSessionEnded(sessionEnded);
  initAuth({ onEnter: enterApp });
  els.logout.addEventListener('click', logout);
  initNewTask();
  initFilterBar();
  initTaskActions();
  initPager();
  initCategories();
  initTags();
  initToast();
  initKeyboard();
  initLive();
  initViews();
  window.addEventListener('storage', onStorage);

  readHash();
  const stored = readStoredAuth();
  if (stored && stored.expires_at && stored.expires_at < Date.now()) {
    clearAuth();
    showAuth('login', 'Your session has expired. Please log in again.');
  } else if (stored) {
    state.auth = stored;
    enterApp();
  } else {
    showAuth('login', '');
  }
}

// module scripts run after the document is parsed
init();
