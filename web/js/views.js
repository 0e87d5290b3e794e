// The views are the navigation: Today, Upcoming, All tasks, and each category, with the number
// of open tasks in each. A sidebar on a desktop, a menu on a phone.
import { state, els } from './state.js';
import { h, safeColor, announce } from './dom.js';
import { api, userPath } from './api.js';
import { writeHash, viewWindow, applyFiltersToControls } from './filters.js';
import { loadTasks } from './task-list.js';

const VIEW_LABEL = { today: 'Today', upcoming: 'Upcoming', all: 'All tasks' };

/** The name of the view on screen: "Today", "Home" (a category) … */
export function currentViewName() {
  const f = state.filters;
  if (f.view === 'all' && f.category_id) {
    const c = state.catById.get(f.category_id);
    return c ? c.name : 'Category';
  }
  return VIEW_LABEL[f.view] || 'All tasks';
}

/** Which nav entry is current: 'today', 'upcoming', 'all' or 'cat:<id>'. */
const currentKey = () => {
  const f = state.filters;
  if (f.view === 'all' && f.category_id) return `cat:${f.category_id}`;
  return f.view;
};

function link(key, label, extra = null) {
  const [view, cat] = key.startsWith('cat:') ? ['all', key.slice(4)] : [key, ''];
  const href = `#${new URLSearchParams({ ...(view !== 'all' ? { view } : {}), ...(cat ? { category: cat } : {}) })}`;
  return h('li', null, h('a', {
    href, class: 'view-link', dataset: { view: key, testid: `view-${key.startsWith('cat:') ? 'category' : key}` },
  }, extra, h('span', { class: 'view-name', text: label }), h('span', { class: 'view-count', dataset: { count: key } })));
}

export function renderViews() {
  const cats = state.categories.map((c) => link(`cat:${c.id}`, c.name,
    h('span', { class: 'dot', 'aria-hidden': 'true', style: `--chip:${safeColor(c.color)}` })));
  els.views.replaceChildren(
    h('ul', { class: 'view-list' }, link('today', 'Today'), link('upcoming', 'Upcoming'), link('all', 'All tasks')),
    cats.length ? h('h2', { class: 'view-group', id: 'view-cats-heading', text: 'Categories' }) : null,
    cats.length ? h('ul', { class: 'view-list', 'aria-labelledby': 'view-cats-heading' }, ...cats) : null,
  );
  markCurrent();
  scheduleCounts();
}

export function markCurrent() {
  const key = currentKey();
  for (const a of els.views.querySelectorAll('a[data-view]')) {
    if (a.dataset.view === key) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const name = currentViewName();
  // Today and Upcoming are always in due order: the sort choice is for the other views
  const sort = els.filters.elements.sort;
  if (sort) sort.closest('.field').hidden = state.filters.view !== 'all';
  els.viewTitle.textContent = name;
  els.viewsToggle.querySelector('span').textContent = name;
  document.title = `${name} · Tasks`;
}

export function showView(key) {
  const f = state.filters;
  if (key.startsWith('cat:')) { f.view = 'all'; f.category_id = key.slice(4); } else { f.view = key; f.category_id = ''; }
  state.offset = 0;
  applyFiltersToControls();
  if (els.filters.elements.category_id) els.filters.elements.category_id.value = f.category_id;
  writeHash();
  markCurrent();
  closeMenu();
  loadTasks();
  announce(`Showing ${currentViewName()}.`);
}

let countTimer = 0;
let countSeq = 0;
/** The open tasks of each view, by one `limit=1` request each (X-Total-Count); batched. */
export function scheduleCounts() {
  clearTimeout(countTimer);
  countTimer = setTimeout(loadCounts, 300);
}

async function countOf(params) {
  const p = new URLSearchParams({ completed: 'false', limit: '1', ...params });
  const { res } = await api('GET', userPath(`/tasks?${p}`));
  return parseInt(res.headers.get('X-Total-Count') || '0', 10) || 0;
}

async function loadCounts() {
  if (!state.auth) return;
  const seq = ++countSeq;
  const today = viewWindow('today');
  const upcoming = viewWindow('upcoming');
  const jobs = [
    ['today', { due_before: today.before.toISOString() }],
    ['upcoming', { due_after: upcoming.after.toISOString() }],
    ['all', {}],
    ...state.categories.map((c) => [`cat:${c.id}`, { category_id: c.id }]),
  ];
  try {
    const counts = await Promise.all(jobs.map(([, params]) => countOf(params)));
    if (seq !== countSeq) return;
    jobs.forEach(([key], i) => {
      const el = els.views.querySelector(`[data-count="${CSS.escape(key)}"]`);
      if (!el) return;
      el.textContent = counts[i] ? String(counts[i]) : '';
      el.setAttribute('aria-label', `${counts[i]} open`);
    });
  } catch {
    // counts are a nicety: the list itself shows its own errors
  }
}

function openMenu() {
  els.appView.classList.add('is-menu-open');
  els.viewsToggle.setAttribute('aria-expanded', 'true');
  const current = els.views.querySelector('[aria-current="page"]') || els.views.querySelector('a');
  if (current) current.focus();
}

export function closeMenu() {
  if (!els.appView.classList.contains('is-menu-open')) return;
  els.appView.classList.remove('is-menu-open');
  els.viewsToggle.setAttribute('aria-expanded', 'false');
}

export function initViews() {
  els.views.addEventListener('click', (ev) => {
    const a = ev.target instanceof Element ? ev.target.closest('a[data-view]') : null;
    if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
    ev.preventDefault();
    showView(a.dataset.view);
    const again = els.views.querySelector(`a[data-view="${CSS.escape(a.dataset.view)}"]`);
    if (again && !matchMedia('(max-width: 899px)').matches) again.focus();
    else els.tasksHeading.focus();
  });
  els.viewsToggle.addEventListener('click', () => {
    if (els.appView.classList.contains('is-menu-open')) closeMenu(); else openMenu();
  });
  els.views.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') { closeMenu(); els.viewsToggle.focus(); }
  });
  // a page left open overnight: Today becomes the new day's
  setInterval(() => { if (state.auth && state.filters.view !== 'all') loadTasks(); scheduleCounts(); }, 15 * 60 * 1000);
}
