// List filters: their state, the URL hash that keeps them, and the API query they make.
import { state, els, defaultFilters, DEFAULT_SORT, DEFAULT_LIMIT, PAGE_SIZES, SORTS, PRIORITIES, STATUSES, VIEWS } from './state.js';
import { startOfDay } from './dates.js';
import { $, $$ } from './dom.js';

export function readHash() {
  const p = new URLSearchParams(location.hash.replace(/^#/, ''));
  const f = state.filters;
  const view = p.get('view');
  f.view = VIEWS.includes(view) ? view : 'all';
  const status = p.get('status');
  f.status = STATUSES.includes(status) ? status : 'all';
  f.q = (p.get('q') || '').slice(0, 200);
  const pr = p.get('priority');
  f.priority = PRIORITIES.includes(pr) ? pr : '';
  f.category_id = p.get('category') || '';
  f.tags = uniqueTags(p.getAll('tag'));
  f.topLevel = p.get('top') === '1';
  const sort = p.get('sort');
  f.sort = SORTS.includes(sort) ? sort : DEFAULT_SORT;
  const limit = parseInt(p.get('limit') || '', 10);
  state.limit = PAGE_SIZES.includes(limit) ? limit : DEFAULT_LIMIT;
  const offset = parseInt(p.get('offset') || '', 10);
  state.offset = offset > 0 ? offset : 0;
}

export function writeHash() {
  const f = state.filters;
  const p = new URLSearchParams();
  if (f.view !== 'all') p.set('view', f.view);
  if (f.status !== 'all') p.set('status', f.status);
  if (f.q) p.set('q', f.q);
  if (f.priority) p.set('priority', f.priority);
  if (f.category_id) p.set('category', f.category_id);
  for (const tag of f.tags) p.append('tag', tag);
  if (f.topLevel) p.set('top', '1');
  if (f.sort !== DEFAULT_SORT) p.set('sort', f.sort);
  if (state.limit !== DEFAULT_LIMIT) p.set('limit', String(state.limit));
  if (state.offset > 0) p.set('offset', String(state.offset));
  const s = p.toString();
  history.replaceState(null, '', s ? `#${s}` : location.pathname + location.search);
}

export function applyFiltersToControls() {
  const f = state.filters;
  const form = els.filters;
  for (const r of $$('input[name="status"]', form)) r.checked = r.value === f.status;
  form.elements.q.value = f.q;
  form.elements.priority.value = f.priority;
  form.elements.sort.value = f.sort;
  form.elements.top.checked = f.topLevel;
  els.pageSize.value = String(state.limit);
  // the category select is filled when categories arrive
}

export function readFilterControls() {
  const form = els.filters;
  const f = state.filters;
  const st = $('input[name="status"]:checked', form);
  f.status = st ? st.value : 'all';
  f.q = form.elements.q.value;
  f.priority = form.elements.priority.value;
  if (state.catsLoaded) f.category_id = form.elements.category_id.value; // else keep the one from the URL
  f.sort = form.elements.sort.value;
  f.topLevel = form.elements.top.checked;
}

export function resetFilters() {
  state.filters = defaultFilters(state.filters.sort, state.filters.view);
}

/**
 * The due-date window of a view: Today is everything due before tomorrow (overdue included),
 * Upcoming everything due from today on. Computed when asked, so a page left open past
 * midnight moves with the day.
 */
export function viewWindow(view, now = new Date()) {
  const today = startOfDay(now);
  const tomorrow = new Date(today);
  tomorrow.setDate(tomorrow.getDate() + 1);
  if (view === 'today') return { before: tomorrow };
  if (view === 'upcoming') return { after: new Date(today.getTime() - 1) };
  return {};
}

/** Today and Upcoming are in due order; the others in the chosen one. */
export const effectiveSort = () => (state.filters.view === 'all' ? state.filters.sort : 'due_date');

export function buildQuery() {
  const f = state.filters;
  const p = new URLSearchParams();
  // Today and Upcoming are what is left to do: done tasks of past days would crowd them (and their
  // pages); the Completed filter still shows them. A task ticked here stays until the next load.
  const planning = f.view === 'today' || f.view === 'upcoming';
  if (f.status === 'active' || (planning && f.status === 'all')) p.set('completed', 'false');
  else if (f.status === 'completed') p.set('completed', 'true');
  if (f.priority) p.set('priority', f.priority);
  if (f.category_id) p.set('category_id', f.category_id);
  if (f.q.trim()) p.set('q', f.q.trim());
  for (const tag of f.tags) p.append('tag', tag);
  if (f.topLevel) p.set('parent_id', 'null');
  const win = viewWindow(f.view);
  if (win.before) p.set('due_before', win.before.toISOString());
  if (win.after) p.set('due_after', win.after.toISOString());
  p.set('sort', effectiveSort());
  p.set('limit', String(state.limit));
  p.set('offset', String(state.offset));
  return `?${p}`;
}

/** Whether a task changed here still belongs in the list the filters ask for. */
export function matchesFilters(t) {
  const f = state.filters;
  if (f.status === 'active' && t.completed) return false;
  if (f.status === 'completed' && !t.completed) return false;
  if (f.priority && t.priority !== f.priority) return false;
  if (f.category_id && t.category_id !== f.category_id) return false;
  if (f.topLevel && t.parent_id) return false;
  const win = viewWindow(f.view);
  if ((win.before || win.after) && !t.due_date) return false;
  if (win.before && new Date(t.due_date) >= win.before) return false;
  if (win.after && new Date(t.due_date) <= win.after) return false;
  const own = new Set((t.tags || []).map(tagKey));
  if (!f.tags.every((tag) => own.has(tagKey(tag)))) return false;
  const q = f.q.trim().toLowerCase();
  if (q && !(t.title || '').toLowerCase().includes(q) && !(t.description || '').toLowerCase().includes(q)) return false;
  return true;
}

export function filtersActive() {
  const f = state.filters;
  return f.status !== 'all' || !!f.q.trim() || !!f.priority || !!f.category_id || f.tags.length > 0 || f.topLevel;
}

/** Tags are one name per user ignoring case (SPEC §10): this is the key they compare by. */
export const tagKey = (name) => String(name).trim().toLocaleLowerCase();

/** Trimmed, non-empty, each name once ignoring case; the first spelling wins. */
export function uniqueTags(names) {
  const seen = new Set();
  const out = [];
  for (const raw of names) {
    const name = String(raw).trim();
    if (!name || seen.has(tagKey(name))) continue;
    seen.add(tagKey(name));
    out.push(name);
  }
  return out;
}

/** Adds a tag to the tag filter (click on a chip). */
export function addTagFilter(name) {
  state.filters.tags = uniqueTags([...state.filters.tags, name]);
}

export function removeTagFilter(name) {
  state.filters.tags = state.filters.tags.filter((t) => tagKey(t) !== tagKey(name));
}
