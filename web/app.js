// taskapi web app — plain JavaScript, no build step.
// Talks to the same-origin JSON API under /api (see the HTTP contract).
'use strict';

(() => {
  // ------------------------------------------------------------------
  // Constants and state
  // ------------------------------------------------------------------
  const AUTH_KEY = 'taskapi.auth';
  const DEFAULT_SORT = '-created_at';
  const DEFAULT_LIMIT = 50;
  const PAGE_SIZES = [25, 50, 100, 250, 1000];
  const SORTS = ['-created_at', 'created_at', 'due_date', '-due_date', '-priority', 'priority', 'title', '-title', '-updated_at'];
  const PRIORITIES = ['low', 'medium', 'high'];
  const STATUSES = ['all', 'active', 'completed'];
  const PRIORITY_LABEL = { low: 'Low', medium: 'Medium', high: 'High' };
  const FIELD_LABEL = {
    title: 'Title', description: 'Description', priority: 'Priority', due_date: 'Due date',
    category_id: 'Category', completed: 'Completed', email: 'Email', password: 'Password',
    name: 'Name', color: 'Colour', q: 'Search', sort: 'Sort', limit: 'Page size', offset: 'Page',
  };
  const DEFAULT_COLOR = '#3B82F6';

  const state = {
    auth: null,
    tasks: [],
    total: 0,
    categories: [],
    catById: new Map(),
    filters: { status: 'all', q: '', priority: '', category_id: '', sort: DEFAULT_SORT },
    limit: DEFAULT_LIMIT,
    offset: 0,
    editingId: null,
    loadSeq: 0,
    loadCtl: null,
    pending: new Set(),
    loadedOnce: false,
  };

  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

  let els = {};
  let catsLoaded = false;

  // ------------------------------------------------------------------
  // Small DOM helper: h('li', {class: 'x', dataset: {id}}, child, 'text')
  // ------------------------------------------------------------------
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    if (attrs) {
      for (const key in attrs) {
        const v = attrs[key];
        if (v === undefined || v === null || v === false) continue;
        if (key === 'class') el.className = v;
        else if (key === 'text') el.textContent = v;
        else if (key === 'dataset') Object.assign(el.dataset, v);
        else if (key === 'style') el.style.cssText = v;
        else if (key in el && typeof v !== 'string') el[key] = v;
        else el.setAttribute(key, v === true ? '' : v);
      }
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c);
    }
    return el;
  }

  let uid = 0;
  const nextId = (p) => `${p}-${++uid}`;

  // ------------------------------------------------------------------
  // API client
  // ------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, detail, res) {
      const { message, fields } = describeDetail(status, detail, res);
      super(message);
      this.status = status;
      this.detail = detail;
      this.fields = fields; // array of [fieldName|null, message]
    }
  }

  function describeDetail(status, detail, res) {
    const fields = [];
    let message;
    if (Array.isArray(detail)) {
      const parts = [];
      for (const item of detail) {
        const loc = Array.isArray(item && item.loc) ? item.loc : [];
        const field = loc.length > 1 ? String(loc[1]) : null;
        const msg = String((item && (item.msg || item.message)) || 'Invalid value');
        fields.push([field, msg]);
        parts.push(field ? `${FIELD_LABEL[field] || field}: ${msg}` : msg);
      }
      message = parts.join(' ') || 'The request was not valid.';
    } else if (typeof detail === 'string' && detail.trim()) {
      message = detail;
    } else if (detail && typeof detail === 'object') {
      message = String(detail.message || detail.msg || JSON.stringify(detail));
    } else {
      message = fallbackMessage(status);
    }
    if (status === 429) {
      const retry = res && parseInt(res.headers.get('Retry-After') || '', 10);
      if (retry > 0) message += ` Please wait ${retry} second${retry === 1 ? '' : 's'} and try again.`;
    }
    if (status >= 500 && typeof detail === 'string') message = `Server error: ${detail}. Please try again.`;
    return { message, fields };
  }

  function fallbackMessage(status) {
    if (status === 0) return 'Could not reach the server. Check your connection and try again.';
    if (status === 401) return 'Please log in again.';
    if (status === 403) return 'You are not allowed to do that.';
    if (status === 404) return 'Not found.';
    if (status === 413) return 'That is too large to save.';
    if (status === 429) return 'Too many attempts.';
    if (status >= 500) return `Server error (${status}). Please try again.`;
    return `Request failed (${status}).`;
  }

  async function api(method, path, { body, auth = true, signal } = {}) {
    const headers = { Accept: 'application/json' };
    if (auth) {
      if (!state.auth) throw new ApiError(401, 'Please log in.');
      headers.Authorization = `Bearer ${state.auth.token}`;
    }
    const init = { method, headers, signal };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      if (e && e.name === 'AbortError') throw e;
      throw new ApiError(0, null);
    }
    let data = null;
    if (res.status !== 204) {
      const text = await res.text();
      if (text) {
        try { data = JSON.parse(text); } catch { data = null; }
      }
    }
    if (!res.ok) {
      const err = new ApiError(res.status, data && typeof data === 'object' ? data.detail : null, res);
      if (auth && (res.status === 401 || (res.status === 403 && err.message === 'Account is disabled'))) {
        sessionEnded(res.status === 401
          ? `Your session has ended (${err.message}). Please log in again.`
          : `${err.message}. Please contact support.`);
      }
      throw err;
    }
    return { data, res };
  }

  const userPath = (suffix) => `/api/${encodeURIComponent(state.auth.user_id)}${suffix}`;
  const taskPath = (id, extra = '') => userPath(`/tasks/${encodeURIComponent(id)}${extra}`);
  const catPath = (id) => userPath(`/categories/${encodeURIComponent(id)}`);

  // ------------------------------------------------------------------
  // Form errors: messages next to the fields named by loc[1]
  // ------------------------------------------------------------------
  function clearErrors(form) {
    for (const slot of $$('[data-error-for]', form)) slot.textContent = '';
    for (const el of $$('[aria-invalid="true"]', form)) el.removeAttribute('aria-invalid');
  }

  function fieldControl(form, name) {
    const c = form.elements ? form.elements.namedItem(name) : null;
    if (!c) return null;
    return c instanceof RadioNodeList ? c[0] : c;
  }

  function setFieldError(form, field, msg) {
    const slot = form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
    if (!slot) return false;
    slot.textContent = slot.textContent ? `${slot.textContent} ${msg}` : msg;
    const control = fieldControl(form, field);
    if (control) {
      control.setAttribute('aria-invalid', 'true');
      if (!slot.id) slot.id = nextId('err');
      const ids = (control.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
      if (!ids.includes(slot.id)) control.setAttribute('aria-describedby', [...ids, slot.id].join(' '));
    }
    return true;
  }

  // Shows an ApiError (or a plain message) in a form. `statusField` maps a
  // status code to the field it is about (e.g. 409 on signup -> email).
  function showErrors(form, err, { statusField = {}, focus = true } = {}) {
    clearErrors(form);
    const leftovers = [];
    let placed = false;
    if (err && err.fields && err.fields.length) {
      for (const [field, msg] of err.fields) {
        if (field && setFieldError(form, field, msg)) placed = true;
        else leftovers.push(field ? `${FIELD_LABEL[field] || field}: ${msg}` : msg);
      }
    } else {
      const field = err && statusField[err.status];
      const msg = (err && err.message) || String(err);
      if (field && setFieldError(form, field, msg)) placed = true;
      else leftovers.push(msg);
    }
    const formSlot = form.querySelector('[data-error-for="_form"]');
    if (leftovers.length) {
      if (formSlot) formSlot.textContent = leftovers.join(' ');
      else announce(leftovers.join(' '));
    }
    if (focus && placed) {
      const bad = form.querySelector('[aria-invalid="true"]');
      if (bad) bad.focus();
    }
  }

  // ------------------------------------------------------------------
  // Helpers
  // ------------------------------------------------------------------
  let announceTimer = 0;
  function announce(msg) {
    clearTimeout(announceTimer);
    els.announcer.textContent = '';
    announceTimer = setTimeout(() => { els.announcer.textContent = msg; }, 30);
  }

  const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: 'numeric', minute: '2-digit' });

  function formatDue(iso, now) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return iso;
    const diff = d.getTime() - now;
    return Math.abs(diff) < 6 * 86400000 ? dayFmt.format(d) : dateFmt.format(d);
  }

  const pad = (n) => String(n).padStart(2, '0');
  // RFC 3339 -> value for <input type="datetime-local"> (local time)
  function toLocalInput(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return '';
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
  // datetime-local value -> RFC 3339 UTC
  function fromLocalInput(v) {
    if (!v) return null;
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
  }

  const isOverdue = (t, now) => !t.completed && !!t.due_date && new Date(t.due_date).getTime() < now;

  function matchesFilters(t) {
    const f = state.filters;
    if (f.status === 'active' && t.completed) return false;
    if (f.status === 'completed' && !t.completed) return false;
    if (f.priority && t.priority !== f.priority) return false;
    if (f.category_id && t.category_id !== f.category_id) return false;
    const q = f.q.trim().toLowerCase();
    if (q && !(t.title || '').toLowerCase().includes(q) && !(t.description || '').toLowerCase().includes(q)) return false;
    return true;
  }

  const filtersActive = () => {
    const f = state.filters;
    return f.status !== 'all' || !!f.q.trim() || !!f.priority || !!f.category_id;
  };

  function setBusy(form, busy) {
    form.classList.toggle('is-busy', busy);
    form.setAttribute('aria-busy', busy ? 'true' : 'false');
  }

  // ------------------------------------------------------------------
  // Auth
  // ------------------------------------------------------------------
  function readStoredAuth() {
    try {
      const a = JSON.parse(localStorage.getItem(AUTH_KEY) || 'null');
      if (!a || typeof a.token !== 'string' || !a.token || typeof a.user_id !== 'string' || !a.user_id) return null;
      return a;
    } catch {
      return null;
    }
  }

  function storeAuth(data, extra = {}) {
    const token = data.access_token || data.token;
    const expiresIn = Number(data.expires_in);
    state.auth = {
      token,
      user_id: String(data.user_id),
      email: data.email || extra.email || '',
      name: data.name ?? extra.name ?? null,
      expires_at: expiresIn > 0 ? Date.now() + expiresIn * 1000 : null,
    };
    try { localStorage.setItem(AUTH_KEY, JSON.stringify(state.auth)); } catch { /* private mode: keep in memory */ }
  }

  function clearAuth() {
    state.auth = null;
    try { localStorage.removeItem(AUTH_KEY); } catch { /* ignore */ }
  }

  function sessionEnded(message) {
    if (!state.auth) return;
    clearAuth();
    resetData();
    showAuth('login', message);
  }

  function logout() {
    clearAuth();
    resetData();
    showAuth('login', '');
    announce('You are logged out.');
  }

  function resetData() {
    if (state.loadCtl) state.loadCtl.abort();
    state.loadSeq++;
    state.tasks = [];
    state.total = 0;
    state.categories = [];
    state.catById = new Map();
    state.editingId = null;
    state.pending.clear();
    state.loadedOnce = false;
    els.list.replaceChildren();
    els.catList.replaceChildren();
    hideToast();
  }

  function showAuth(mode, notice) {
    els.appView.hidden = true;
    els.account.hidden = true;
    els.authView.hidden = false;
    document.title = mode === 'signup' ? 'Create account · Tasks' : 'Log in · Tasks';
    els.authHeading.textContent = mode === 'signup' ? 'Create your account' : 'Log in';
    els.authIntro.textContent = mode === 'signup'
      ? 'Sign up to start keeping your tasks in one place.'
      : 'Welcome back. Log in to see your tasks.';
    els.loginForm.hidden = mode !== 'login';
    els.signupForm.hidden = mode !== 'signup';
    clearErrors(els.loginForm);
    clearErrors(els.signupForm);
    els.authNotice.textContent = notice || '';
    els.authNotice.hidden = !notice;
    const form = mode === 'signup' ? els.signupForm : els.loginForm;
    const first = mode === 'signup' ? $('#signup-name') : $('#login-email');
    if (mode === 'login' && !first.value) first.focus();
    else if (mode === 'signup') first.focus();
    else $('input[type="password"]', form).focus();
  }

  function enterApp() {
    els.authView.hidden = true;
    els.appView.hidden = false;
    els.account.hidden = false;
    document.title = 'Tasks';
    renderAccount();
    applyFiltersToControls();
    loadCategories();
    loadTasks();
    refreshMe();
  }

  function renderAccount() {
    const a = state.auth;
    if (!a) return;
    els.accountName.textContent = a.name ? `${a.name} · ${a.email}` : a.email;
  }

  async function refreshMe() {
    try {
      const { data } = await api('GET', '/api/auth/me');
      if (!state.auth || !data) return;
      state.auth.email = data.email || state.auth.email;
      state.auth.name = data.name ?? null;
      try { localStorage.setItem(AUTH_KEY, JSON.stringify(state.auth)); } catch { /* ignore */ }
      renderAccount();
    } catch (e) {
      if (e.status !== 401) showListError(`Could not load your account: ${e.message}`);
    }
  }

  async function onLogin(ev) {
    ev.preventDefault();
    const form = els.loginForm;
    if (form.classList.contains('is-busy')) return;
    clearErrors(form);
    els.authNotice.hidden = true;
    const email = form.elements.email.value.trim();
    const password = form.elements.password.value;
    let bad = false;
    if (!email) { setFieldError(form, 'email', 'Enter your email address.'); bad = true; }
    if (!password) { setFieldError(form, 'password', 'Enter your password.'); bad = true; }
    if (bad) { $('[aria-invalid="true"]', form).focus(); return; }
    setBusy(form, true);
    try {
      const { data } = await api('POST', '/api/auth/login', { body: { email, password }, auth: false });
      storeAuth(data, { email });
      form.reset();
      enterApp();
      announce('Logged in.');
    } catch (e) {
      showErrors(form, e);
    } finally {
      setBusy(form, false);
    }
  }

  async function onSignup(ev) {
    ev.preventDefault();
    const form = els.signupForm;
    if (form.classList.contains('is-busy')) return;
    clearErrors(form);
    els.authNotice.hidden = true;
    const name = form.elements.name.value.trim();
    const email = form.elements.email.value.trim();
    const password = form.elements.password.value;
    let bad = false;
    if (!email) { setFieldError(form, 'email', 'Enter your email address.'); bad = true; }
    if (!password) { setFieldError(form, 'password', 'Choose a password of at least 8 characters.'); bad = true; }
    if (bad) { $('[aria-invalid="true"]', form).focus(); return; }
    const body = { email, password };
    if (name) body.name = name;
    setBusy(form, true);
    try {
      const { data } = await api('POST', '/api/auth/signup', { body, auth: false });
      storeAuth(data, { email, name: name || null });
      form.reset();
      enterApp();
      announce('Account created. You are logged in.');
    } catch (e) {
      showErrors(form, e, { statusField: { 409: 'email' } });
    } finally {
      setBusy(form, false);
    }
  }

  // ------------------------------------------------------------------
  // Filters, URL state
  // ------------------------------------------------------------------
  function readHash() {
    const p = new URLSearchParams(location.hash.replace(/^#/, ''));
    const f = state.filters;
    const status = p.get('status');
    f.status = STATUSES.includes(status) ? status : 'all';
    f.q = (p.get('q') || '').slice(0, 200);
    const pr = p.get('priority');
    f.priority = PRIORITIES.includes(pr) ? pr : '';
    f.category_id = p.get('category') || '';
    const sort = p.get('sort');
    f.sort = SORTS.includes(sort) ? sort : DEFAULT_SORT;
    const limit = parseInt(p.get('limit') || '', 10);
    state.limit = PAGE_SIZES.includes(limit) ? limit : DEFAULT_LIMIT;
    const offset = parseInt(p.get('offset') || '', 10);
    state.offset = offset > 0 ? offset : 0;
  }

  function writeHash() {
    const f = state.filters;
    const p = new URLSearchParams();
    if (f.status !== 'all') p.set('status', f.status);
    if (f.q) p.set('q', f.q);
    if (f.priority) p.set('priority', f.priority);
    if (f.category_id) p.set('category', f.category_id);
    if (f.sort !== DEFAULT_SORT) p.set('sort', f.sort);
    if (state.limit !== DEFAULT_LIMIT) p.set('limit', String(state.limit));
    if (state.offset > 0) p.set('offset', String(state.offset));
    const s = p.toString();
    history.replaceState(null, '', s ? `#${s}` : location.pathname + location.search);
  }

  function applyFiltersToControls() {
    const f = state.filters;
    const form = els.filters;
    for (const r of $$('input[name="status"]', form)) r.checked = r.value === f.status;
    form.elements.q.value = f.q;
    form.elements.priority.value = f.priority;
    form.elements.sort.value = f.sort;
    els.pageSize.value = String(state.limit);
    // category select is filled when categories arrive
  }

  function readFilterControls() {
    const form = els.filters;
    const f = state.filters;
    const st = $('input[name="status"]:checked', form);
    f.status = st ? st.value : 'all';
    f.q = form.elements.q.value;
    f.priority = form.elements.priority.value;
    if (catsLoaded) f.category_id = form.elements.category_id.value; // else keep the one from the URL
    f.sort = form.elements.sort.value;
  }

  let searchTimer = 0;
  function onFiltersChanged({ debounce = false } = {}) {
    clearTimeout(searchTimer);
    const run = () => {
      readFilterControls();
      state.offset = 0;
      writeHash();
      loadTasks();
    };
    if (debounce) searchTimer = setTimeout(run, 250);
    else run();
  }

  function clearFilters() {
    state.filters = { status: 'all', q: '', priority: '', category_id: '', sort: state.filters.sort };
    applyFiltersToControls();
    els.filters.elements.category_id.value = '';
    state.offset = 0;
    writeHash();
    loadTasks();
  }

  function buildQuery() {
    const f = state.filters;
    const p = new URLSearchParams();
    if (f.status === 'active') p.set('completed', 'false');
    else if (f.status === 'completed') p.set('completed', 'true');
    if (f.priority) p.set('priority', f.priority);
    if (f.category_id) p.set('category_id', f.category_id);
    if (f.q.trim()) p.set('q', f.q.trim());
    p.set('sort', f.sort);
    p.set('limit', String(state.limit));
    p.set('offset', String(state.offset));
    return `?${p}`;
  }

  // ------------------------------------------------------------------
  // Loading tasks
  // ------------------------------------------------------------------
  let busyTimer = 0;
  async function loadTasks({ refocus = null, corrected = false } = {}) {
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
      const tasks = Array.isArray(data) ? data : [];
      const header = parseInt(res.headers.get('X-Total-Count') || '', 10);
      const total = Number.isFinite(header) ? header : state.offset + tasks.length;
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

  function showListError(msg, retry = false) {
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

  // ------------------------------------------------------------------
  // Rendering tasks
  // ------------------------------------------------------------------
  function renderTasks() {
    const now = Date.now();
    const frag = document.createDocumentFragment();
    const keepEditing = state.editingId ? rowFor(state.editingId) : null;
    let stillEditing = false;
    for (const t of state.tasks) {
      if (keepEditing && t.id === state.editingId && keepEditing.classList.contains('is-editing')) {
        frag.append(keepEditing);
        stillEditing = true;
      } else {
        frag.append(taskRow(t, now));
      }
    }
    if (!stillEditing) state.editingId = null;
    els.list.replaceChildren(frag);
    renderListMeta();
  }

  function renderListMeta() {
    const total = state.total;
    const n = state.tasks.length;
    els.count.textContent = state.loadedOnce ? `(${total})` : '';
    els.count.setAttribute('aria-label', `${total} task${total === 1 ? '' : 's'}`);

    // empty state
    if (state.loadedOnce && n === 0) {
      els.empty.replaceChildren();
      if (filtersActive()) {
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

    // pager
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

  function rowFor(id) {
    return els.list.querySelector(`li[data-id="${CSS.escape(id)}"]`);
  }

  function taskRow(t, now = Date.now()) {
    const overdue = isOverdue(t, now);
    const cls = ['task', `prio-${t.priority}`];
    if (t.completed) cls.push('is-done');
    if (overdue) cls.push('is-overdue');
    if (state.pending.has(t.id)) cls.push('is-pending');

    const titleId = `t-${t.id}`;
    const toggle = h('input', {
      type: 'checkbox', class: 'task-toggle', checked: !!t.completed,
      'aria-labelledby': titleId, 'aria-describedby': `${titleId}-state`,
      dataset: { action: 'toggle', focus: 'toggle', testid: 'task-toggle' },
    });

    const meta = h('div', { class: 'task-meta' },
      h('span', { class: `badge badge-${t.priority}`, dataset: { testid: 'task-priority' }, text: PRIORITY_LABEL[t.priority] || t.priority }),
    );
    if (t.due_date) {
      const due = h('span', { class: overdue ? 'due due-overdue' : 'due', dataset: { testid: 'task-due' } },
        'Due ',
        h('time', { datetime: t.due_date, title: `Due ${dateFmt.format(new Date(t.due_date))}`, text: formatDue(t.due_date, now) }),
      );
      meta.append(due);
      if (overdue) meta.append(h('span', { class: 'badge badge-overdue', dataset: { testid: 'task-overdue' }, text: 'Overdue' }));
    }
    const cat = t.category_id ? state.catById.get(t.category_id) : null;
    if (cat) {
      meta.append(h('span', { class: 'chip', dataset: { cat: cat.id, testid: 'task-category' }, style: `--chip:${safeColor(cat.color)}` },
        h('span', { class: 'visually-hidden', text: 'Category: ' }), cat.name));
    }

    const body = h('div', { class: 'task-body' },
      h('span', { class: 'task-title', id: titleId, dataset: { action: 'edit-title', testid: 'task-title' }, text: t.title }),
      h('span', { class: 'visually-hidden', id: `${titleId}-state`, text: t.completed ? 'completed' : (overdue ? 'overdue' : 'not completed') }),
      t.description ? h('p', { class: 'task-desc', dataset: { testid: 'task-description' }, text: t.description }) : null,
      meta,
    );

    const actions = h('div', { class: 'task-actions' },
      h('button', { type: 'button', class: 'btn btn-small btn-ghost', dataset: { action: 'edit', focus: 'edit', testid: 'task-edit' }, 'aria-label': `Edit “${t.title}”`, text: 'Edit' }),
      h('button', { type: 'button', class: 'btn btn-small btn-ghost btn-danger', dataset: { action: 'delete', focus: 'delete', testid: 'task-delete' }, 'aria-label': `Delete “${t.title}”`, text: 'Delete' }),
    );

    return h('li', { class: cls.join(' '), dataset: { id: t.id, testid: 'task-item' } },
      toggle, body, actions,
      h('p', { class: 'row-error', role: 'alert', dataset: { testid: 'task-error' } }),
    );
  }

  function safeColor(c) {
    return /^#[0-9a-fA-F]{6}$/.test(c || '') ? c : DEFAULT_COLOR;
  }

  function showRowError(id, msg) {
    const row = rowFor(id);
    if (row) {
      const slot = $('.row-error', row);
      if (slot) { slot.textContent = msg; return; }
    }
    showToast(msg);
  }

  // Replace the row of a changed task, or drop it when it no longer
  // matches the filters. Keeps keyboard focus on the same control.
  function applyTaskChange(task) {
    const i = state.tasks.findIndex((t) => t.id === task.id);
    if (i < 0) return;
    state.tasks[i] = task;
    const row = rowFor(task.id);
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

  function removeTaskLocal(id) {
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

  // ------------------------------------------------------------------
  // Task actions
  // ------------------------------------------------------------------
  function readTaskForm(form) {
    const v = (name) => (form.elements[name] ? form.elements[name].value : '');
    return {
      title: v('title').trim(),
      description: v('description').trim() ? v('description') : null,
      priority: v('priority') || 'medium',
      due_raw: v('due_date'),
      category_id: v('category_id') || null,
    };
  }

  async function onCreateTask(ev) {
    ev.preventDefault();
    const form = els.taskForm;
    if (form.classList.contains('is-busy')) return;
    clearErrors(form);
    const f = readTaskForm(form);
    if (!f.title) {
      setFieldError(form, 'title', 'Give the task a title.');
      form.elements.title.focus();
      return;
    }
    const due = fromLocalInput(f.due_raw);
    if (due === undefined) {
      setFieldError(form, 'due_date', 'Enter a valid date and time.');
      form.elements.due_date.focus();
      return;
    }
    const body = { title: f.title, priority: f.priority };
    if (f.description !== null) body.description = f.description;
    if (due) body.due_date = due;
    if (f.category_id) body.category_id = f.category_id;
    setBusy(form, true);
    try {
      const { data } = await api('POST', userPath('/tasks'), { body });
      form.elements.title.value = '';
      form.elements.description.value = '';
      form.elements.due_date.value = '';
      form.elements.title.focus();
      announce(`Added “${data ? data.title : f.title}”.`);
      await loadTasks();
      if (data && !matchesFilters(data)) showToast(`Added “${data.title}” — it is hidden by the current filters.`);
    } catch (e) {
      if (e.status !== 401) showErrors(form, e);
    } finally {
      setBusy(form, false);
    }
  }

  async function toggleTask(id, checkbox) {
    state.pending.add(id);
    const row = rowFor(id);
    if (row) { row.classList.add('is-pending'); $('.row-error', row).textContent = ''; }
    try {
      const { data } = await api('PATCH', taskPath(id, '/complete'));
      state.pending.delete(id);
      applyTaskChange(data);
      announce(data.completed ? `Completed “${data.title}”.` : `“${data.title}” is active again.`);
    } catch (e) {
      state.pending.delete(id);
      const r = rowFor(id);
      if (r) r.classList.remove('is-pending');
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
    state.pending.add(id);
    const row = rowFor(id);
    if (row) { row.classList.add('is-pending'); $('.row-error', row).textContent = ''; }
    try {
      await api('DELETE', taskPath(id));
      state.pending.delete(id);
      removeTaskLocal(id);
      showToast(`Deleted “${task.title}”.`, { actionLabel: 'Undo', onAction: () => restoreTask(task) });
    } catch (e) {
      state.pending.delete(id);
      const r = rowFor(id);
      if (r) r.classList.remove('is-pending');
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

  // ---- in-place editing ------------------------------------------------
  function field(labelText, control, errorFor, extraClass = '') {
    const id = control.id || nextId('f');
    control.id = id;
    return h('div', { class: `field ${extraClass}`.trim() },
      h('label', { for: id, text: labelText }),
      control,
      h('p', { class: 'field-error', dataset: { errorFor } }),
    );
  }

  function categoryOptions(select, selected, noneLabel) {
    select.replaceChildren(h('option', { value: '', text: noneLabel }));
    for (const c of state.categories) {
      select.append(h('option', { value: c.id, text: c.name }));
    }
    if (selected && !state.catById.has(selected)) {
      // A category we no longer know about: keep it selectable so nothing changes silently.
      select.append(h('option', { value: selected, text: '(unknown category)' }));
    }
    select.value = selected || '';
  }

  function editRow(t) {
    const p = `e-${t.id}`;
    const title = h('input', { id: `${p}-title`, name: 'title', type: 'text', maxlength: '255', required: true, value: t.title, autocomplete: 'off', dataset: { testid: 'edit-title' } });
    const desc = h('textarea', { id: `${p}-desc`, name: 'description', rows: '2', maxlength: '2000', dataset: { testid: 'edit-description' } });
    desc.value = t.description || '';
    const prio = h('select', { id: `${p}-prio`, name: 'priority', dataset: { testid: 'edit-priority' } },
      ...PRIORITIES.map((v) => h('option', { value: v, text: PRIORITY_LABEL[v] })));
    prio.value = t.priority;
    const due = h('input', { id: `${p}-due`, name: 'due_date', type: 'datetime-local', value: toLocalInput(t.due_date), dataset: { testid: 'edit-due' } });
    const cat = h('select', { id: `${p}-cat`, name: 'category_id', class: 'category-select', dataset: { testid: 'edit-category', allLabel: 'No category' } });
    categoryOptions(cat, t.category_id, 'No category');

    const form = h('form', { class: 'task-edit', novalidate: true, 'aria-label': `Edit task “${t.title}”`, dataset: { testid: 'task-edit-form' } },
      field('Title', title, 'title', 'field-title'),
      field('Description', desc, 'description', 'field-desc'),
      field('Priority', prio, 'priority'),
      field('Due', due, 'due_date'),
      field('Category', cat, 'category_id'),
      h('div', { class: 'edit-actions' },
        h('button', { type: 'submit', class: 'btn btn-primary btn-small', dataset: { testid: 'edit-save' }, text: 'Save' }),
        h('button', { type: 'button', class: 'btn btn-small', dataset: { action: 'cancel-edit', testid: 'edit-cancel' }, text: 'Cancel' }),
      ),
      h('p', { class: 'form-error', role: 'alert', dataset: { errorFor: '_form' } }),
    );
    return h('li', { class: 'task is-editing', dataset: { id: t.id, testid: 'task-item' } }, form);
  }

  function openEdit(id, focusName = 'title') {
    const task = state.tasks.find((t) => t.id === id);
    if (!task) return;
    if (state.editingId && state.editingId !== id) closeEdit(state.editingId, false);
    const row = rowFor(id);
    if (!row) return;
    state.editingId = id;
    const editing = editRow(task);
    row.replaceWith(editing);
    const input = editing.querySelector(`[name="${focusName}"]`) || editing.querySelector('[name="title"]');
    input.focus();
    if (input.select && input.type === 'text') input.select();
  }

  function closeEdit(id, refocus = true) {
    const task = state.tasks.find((t) => t.id === id);
    const row = rowFor(id);
    if (state.editingId === id) state.editingId = null;
    if (!row || !task) return;
    const fresh = taskRow(task);
    row.replaceWith(fresh);
    if (refocus) $('[data-action="edit"]', fresh).focus();
  }

  async function saveEdit(form) {
    const row = form.closest('li');
    const id = row.dataset.id;
    const task = state.tasks.find((t) => t.id === id);
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
    if (f.due_raw !== toLocalInput(task.due_date)) {
      const due = fromLocalInput(f.due_raw);
      if (due === undefined) {
        setFieldError(form, 'due_date', 'Enter a valid date and time.');
        form.elements.due_date.focus();
        return;
      }
      patch.due_date = due;
    }
    if ((f.category_id || null) !== (task.category_id || null)) patch.category_id = f.category_id;
    if (!Object.keys(patch).length) {
      closeEdit(id);
      return;
    }
    setBusy(form, true);
    try {
      const { data } = await api('PATCH', taskPath(id), { body: patch });
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
    } catch (e) {
      setBusy(form, false);
      if (e.status === 401) return;
      if (e.status === 404) {
        removeTaskLocal(id);
        showToast('That task no longer exists.');
        return;
      }
      showErrors(form, e);
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
    if (ev.key === 'Escape') {
      const form = ev.target instanceof Element && ev.target.closest('.task-edit');
      if (form) {
        ev.preventDefault();
        ev.stopPropagation();
        closeEdit(form.closest('li').dataset.id);
      }
    } else if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      const form = ev.target instanceof Element && ev.target.closest('.task-edit');
      if (form) { ev.preventDefault(); saveEdit(form); }
    }
  }

  // ------------------------------------------------------------------
  // Categories
  // ------------------------------------------------------------------
  function setCategories(list) {
    state.categories = list.slice().sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }));
    state.catById = new Map(state.categories.map((c) => [c.id, c]));
    renderCategories();
    refreshCategorySelects();
  }

  async function loadCategories() {
    try {
      const { data } = await api('GET', userPath('/categories'));
      setCategories(Array.isArray(data) ? data : []);
      // tasks may have rendered before categories arrived
      if (state.loadedOnce && state.tasks.some((t) => t.category_id)) renderTasks();
    } catch (e) {
      if (e.status !== 401) {
        const slot = $('[data-error-for="_form"]', els.catForm);
        slot.textContent = `Could not load categories: ${e.message}`;
      }
    }
  }

  function refreshCategorySelects() {
    for (const sel of [els.newCategory, els.filters.elements.category_id]) {
      const prev = sel === els.filters.elements.category_id ? state.filters.category_id : sel.value;
      const noneLabel = sel.dataset.allLabel || 'No category';
      sel.replaceChildren(h('option', { value: '', text: noneLabel }));
      for (const c of state.categories) sel.append(h('option', { value: c.id, text: c.name }));
      sel.value = state.catById.has(prev) ? prev : '';
    }
    // the filter pointed at a category that is gone
    if (catsLoaded && state.filters.category_id && !state.catById.has(state.filters.category_id)) {
      state.filters.category_id = '';
      writeHash();
      loadTasks();
    }
    // open edit forms
    for (const sel of $$('.task-edit select[name="category_id"]', els.list)) {
      categoryOptions(sel, sel.value, 'No category');
    }
  }

  function renderCategories() {
    catsLoaded = true;
    const frag = document.createDocumentFragment();
    for (const c of state.categories) frag.append(categoryRow(c));
    els.catList.replaceChildren(frag);
    els.catEmpty.hidden = state.categories.length > 0;
  }

  function categoryRow(c) {
    return h('li', { class: 'category', dataset: { id: c.id, testid: 'category-item' } },
      h('input', {
        type: 'color', class: 'color-input', value: safeColor(c.color).toLowerCase(),
        'aria-label': `Colour of ${c.name}`, dataset: { action: 'recolor', testid: 'category-color' },
      }),
      h('span', { class: 'category-name', dataset: { testid: 'category-name' }, text: c.name }),
      h('span', { class: 'category-actions' },
        h('button', { type: 'button', class: 'btn btn-small btn-ghost', dataset: { action: 'rename', testid: 'category-rename' }, 'aria-label': `Rename ${c.name}`, text: 'Rename' }),
        h('button', { type: 'button', class: 'btn btn-small btn-ghost btn-danger', dataset: { action: 'delete', testid: 'category-delete' }, 'aria-label': `Delete ${c.name}`, text: 'Delete' }),
      ),
      h('p', { class: 'row-error', role: 'alert', dataset: { testid: 'category-error' } }),
    );
  }

  function catRow(id) {
    return els.catList.querySelector(`li[data-id="${CSS.escape(id)}"]`);
  }

  function startRename(id) {
    const c = state.catById.get(id);
    const row = catRow(id);
    if (!c || !row) return;
    const input = h('input', { type: 'text', name: 'name', value: c.name, maxlength: '100', id: nextId('cat'), autocomplete: 'off', dataset: { testid: 'category-rename-input' } });
    const form = h('form', { class: 'category-rename', novalidate: true, dataset: { testid: 'category-rename-form' } },
      h('label', { class: 'visually-hidden', for: input.id, text: `New name for ${c.name}` }),
      input,
      h('button', { type: 'submit', class: 'btn btn-small btn-primary', text: 'Save' }),
      h('button', { type: 'button', class: 'btn btn-small', dataset: { action: 'cancel' }, text: 'Cancel' }),
      h('p', { class: 'field-error', dataset: { errorFor: 'name' } }),
      h('p', { class: 'form-error', role: 'alert', dataset: { errorFor: '_form' } }),
    );
    const li = h('li', { class: 'category is-editing', dataset: { id, testid: 'category-item' } }, form);
    row.replaceWith(li);
    input.focus();
    input.select();
  }

  function startDelete(id) {
    const c = state.catById.get(id);
    const row = catRow(id);
    if (!c || !row) return;
    const confirmBtn = h('button', { type: 'button', class: 'btn btn-small btn-danger-solid', dataset: { action: 'confirm-delete', testid: 'category-confirm-delete' }, text: 'Delete' });
    const li = h('li', { class: 'category is-confirming', dataset: { id, testid: 'category-item' } },
      h('p', { class: 'confirm-text', text: `Delete “${c.name}”? Its tasks stay, without a category.` }),
      h('span', { class: 'category-actions' },
        confirmBtn,
        h('button', { type: 'button', class: 'btn btn-small', dataset: { action: 'cancel' }, text: 'Keep' }),
      ),
      h('p', { class: 'row-error', role: 'alert' }),
    );
    row.replaceWith(li);
    confirmBtn.focus();
  }

  function restoreCatRow(id, focusAction) {
    const c = state.catById.get(id);
    const row = catRow(id);
    if (!row) return;
    if (!c) { row.remove(); return; }
    const fresh = categoryRow(c);
    row.replaceWith(fresh);
    if (focusAction) {
      const b = fresh.querySelector(`[data-action="${focusAction}"]`);
      if (b) b.focus();
    }
  }

  function replaceCategory(c) {
    const list = state.categories.map((x) => (x.id === c.id ? c : x));
    setCategories(list);
    // update chips in the task list without re-rendering it
    for (const chip of $$(`.chip[data-cat="${CSS.escape(c.id)}"]`, els.list)) {
      chip.style.setProperty('--chip', safeColor(c.color));
      chip.lastChild.textContent = c.name;
    }
  }

  async function onCategoryCreate(ev) {
    ev.preventDefault();
    const form = els.catForm;
    if (form.classList.contains('is-busy')) return;
    clearErrors(form);
    const name = form.elements.name.value.trim();
    if (!name) {
      setFieldError(form, 'name', 'Give the category a name.');
      form.elements.name.focus();
      return;
    }
    setBusy(form, true);
    try {
      const { data } = await api('POST', userPath('/categories'), { body: { name, color: form.elements.color.value.toUpperCase() } });
      setCategories([...state.categories, data]);
      form.elements.name.value = '';
      form.elements.name.focus();
      announce(`Added category “${data.name}”.`);
    } catch (e) {
      if (e.status !== 401) showErrors(form, e, { statusField: { 409: 'name' } });
    } finally {
      setBusy(form, false);
    }
  }

  async function onCatListClick(ev) {
    const target = ev.target instanceof Element ? ev.target.closest('[data-action]') : null;
    if (!target) return;
    const row = target.closest('li[data-id]');
    if (!row) return;
    const id = row.dataset.id;
    const action = target.dataset.action;
    if (action === 'rename') startRename(id);
    else if (action === 'delete') startDelete(id);
    else if (action === 'cancel') restoreCatRow(id, row.classList.contains('is-confirming') ? 'delete' : 'rename');
    else if (action === 'confirm-delete') {
      if (row.classList.contains('is-busy')) return;
      row.classList.add('is-busy');
      const c = state.catById.get(id);
      try {
        await api('DELETE', catPath(id));
        setCategories(state.categories.filter((x) => x.id !== id));
        announce(`Deleted category “${c ? c.name : ''}”.`);
        els.catForm.elements.name.focus();
        // its tasks now have no category
        for (const t of state.tasks) if (t.category_id === id) t.category_id = null;
        if (!state.filters.category_id) renderTasks();
      } catch (e) {
        row.classList.remove('is-busy');
        if (e.status === 401) return;
        if (e.status === 404) {
          setCategories(state.categories.filter((x) => x.id !== id));
          showToast('That category was already deleted.');
          return;
        }
        $('.row-error', row).textContent = `Could not delete: ${e.message}`;
      }
    }
  }

  async function onCatListChange(ev) {
    const input = ev.target;
    if (!(input instanceof HTMLInputElement) || input.dataset.action !== 'recolor') return;
    const row = input.closest('li[data-id]');
    const id = row.dataset.id;
    const c = state.catById.get(id);
    const color = input.value.toUpperCase();
    if (!c || color === (c.color || '').toUpperCase()) return;
    $('.row-error', row).textContent = '';
    try {
      const { data } = await api('PATCH', catPath(id), { body: { color } });
      replaceCategory(data);
      const again = catRow(id);
      const sw = again && again.querySelector('[data-action="recolor"]');
      if (sw) sw.focus();
      announce(`Changed the colour of “${data.name}”.`);
    } catch (e) {
      if (e.status === 401) return;
      input.value = safeColor(c.color).toLowerCase();
      $('.row-error', row).textContent = `Could not change the colour: ${e.message}`;
    }
  }

  async function onCatListSubmit(ev) {
    const form = ev.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains('category-rename')) return;
    ev.preventDefault();
    const row = form.closest('li[data-id]');
    const id = row.dataset.id;
    const c = state.catById.get(id);
    if (form.classList.contains('is-busy') || !c) return;
    clearErrors(form);
    const name = form.elements.name.value.trim();
    if (!name) {
      setFieldError(form, 'name', 'The name cannot be empty.');
      form.elements.name.focus();
      return;
    }
    if (name === c.name) { restoreCatRow(id, 'rename'); return; }
    setBusy(form, true);
    try {
      const { data } = await api('PATCH', catPath(id), { body: { name } });
      replaceCategory(data);
      const again = catRow(id);
      const b = again && again.querySelector('[data-action="rename"]');
      if (b) b.focus();
      announce(`Renamed to “${data.name}”.`);
    } catch (e) {
      setBusy(form, false);
      if (e.status !== 401) showErrors(form, e, { statusField: { 409: 'name' } });
    }
  }

  function onCatListKeydown(ev) {
    if (ev.key !== 'Escape') return;
    const row = ev.target instanceof Element ? ev.target.closest('li.is-editing, li.is-confirming') : null;
    if (row) {
      ev.preventDefault();
      restoreCatRow(row.dataset.id, row.classList.contains('is-confirming') ? 'delete' : 'rename');
    }
  }

  // ------------------------------------------------------------------
  // Toast (with undo)
  // ------------------------------------------------------------------
  let toastTimer = 0;
  let toastAction = null;
  function showToast(text, { actionLabel = null, onAction = null, timeout = 8000 } = {}) {
    clearTimeout(toastTimer);
    els.toastText.textContent = text;
    toastAction = onAction;
    els.toastAction.hidden = !onAction;
    if (actionLabel) els.toastAction.textContent = actionLabel;
    els.toast.hidden = false;
    toastTimer = setTimeout(hideToast, timeout);
  }
  function hideToast() {
    clearTimeout(toastTimer);
    const hadFocus = els.toast.contains(document.activeElement);
    els.toast.hidden = true;
    toastAction = null;
    if (hadFocus && !els.appView.hidden) els.tasksHeading.focus();
  }
  function runToastAction() {
    const fn = toastAction;
    hideToast();
    if (fn) fn();
  }

  // ------------------------------------------------------------------
  // Keyboard shortcuts
  // ------------------------------------------------------------------
  function onGlobalKeydown(ev) {
    const t = ev.target;
    const typing = t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
    if (ev.key === 'Escape' && !els.toast.hidden && !typing) { hideToast(); return; }
    if (typing || ev.altKey || els.appView.hidden) return;
    if ((ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === 'z' && toastAction) {
      ev.preventDefault();
      runToastAction();
      return;
    }
    if (ev.ctrlKey || ev.metaKey) return;
    if (ev.key === '/') { ev.preventDefault(); els.filters.elements.q.focus(); }
    else if (ev.key === 'n') { ev.preventDefault(); els.taskForm.elements.title.focus(); }
  }

  // ------------------------------------------------------------------
  // Wiring
  // ------------------------------------------------------------------
  function init() {
    els = {
      announcer: $('#announcer'),
      authView: $('#auth-view'),
      appView: $('#app-view'),
      account: $('#account'),
      accountName: $('#account-name'),
      authHeading: $('#auth-heading'),
      authIntro: $('#auth-intro'),
      authNotice: $('#auth-notice'),
      loginForm: $('#login-form'),
      signupForm: $('#signup-form'),
      taskForm: $('#task-form'),
      newCategory: $('#new-category'),
      filters: $('#filters'),
      list: $('#task-list'),
      listError: $('#list-error'),
      empty: $('#empty'),
      count: $('#task-count'),
      tasksHeading: $('#tasks-heading'),
      pager: $('#pager'),
      prev: $('#page-prev'),
      next: $('#page-next'),
      pageInfo: $('#page-info'),
      pageSize: $('#page-size'),
      catList: $('#category-list'),
      catEmpty: $('#category-empty'),
      catForm: $('#category-form'),
      toast: $('#toast'),
      toastText: $('#toast-text'),
      toastAction: $('#toast-action'),
      toastClose: $('#toast-close'),
    };
    els.tasksHeading.tabIndex = -1;

    els.loginForm.addEventListener('submit', onLogin);
    els.signupForm.addEventListener('submit', onSignup);
    for (const b of $$('[data-show]')) {
      b.addEventListener('click', () => showAuth(b.dataset.show, ''));
    }
    $('#logout').addEventListener('click', logout);

    els.taskForm.addEventListener('submit', onCreateTask);
    els.taskForm.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey) && ev.target instanceof HTMLTextAreaElement) {
        ev.preventDefault();
        els.taskForm.requestSubmit();
      }
    });

    els.filters.addEventListener('submit', (ev) => { ev.preventDefault(); onFiltersChanged(); });
    els.filters.addEventListener('change', (ev) => {
      if (ev.target && ev.target.name === 'q') return; // handled by input
      onFiltersChanged();
    });
    els.filters.addEventListener('input', (ev) => {
      if (ev.target && ev.target.name === 'q') onFiltersChanged({ debounce: true });
    });

    els.list.addEventListener('click', onListClick);
    els.list.addEventListener('change', onListChange);
    els.list.addEventListener('submit', onListSubmit);
    els.list.addEventListener('keydown', onListKeydown);
    els.empty.addEventListener('click', (ev) => {
      if (ev.target instanceof Element && ev.target.closest('[data-action="clear-filters"]')) clearFilters();
    });
    els.listError.addEventListener('click', (ev) => {
      if (ev.target instanceof Element && ev.target.closest('[data-action="retry"]')) loadTasks();
    });

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

    els.catForm.addEventListener('submit', onCategoryCreate);
    els.catList.addEventListener('click', onCatListClick);
    els.catList.addEventListener('change', onCatListChange);
    els.catList.addEventListener('submit', onCatListSubmit);
    els.catList.addEventListener('keydown', onCatListKeydown);

    els.toastAction.addEventListener('click', runToastAction);
    els.toastClose.addEventListener('click', hideToast);
    document.addEventListener('keydown', onGlobalKeydown);

    // Another tab logged in or out.
    window.addEventListener('storage', (ev) => {
      if (ev.key !== AUTH_KEY) return;
      const a = readStoredAuth();
      if (!a && state.auth) { state.auth = null; resetData(); showAuth('login', 'You were logged out in another window.'); }
      else if (a && (!state.auth || a.user_id !== state.auth.user_id || a.token !== state.auth.token)) {
        state.auth = a;
        resetData();
        enterApp();
      }
    });

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

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
