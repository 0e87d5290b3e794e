// List filters: their state, the URL hash that keeps them, and the API query they make.
import { state, els, defaultFilters, DEFAULT_SORT, DEFAULT_LIMIT, PAGE_SIZES, SORTS, PRIORITIES, STATUSES } from './state.js';
import { $, $$ } from './dom.js';

export function readHash() {
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

export function writeHash() {
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

export function applyFiltersToControls() {
  const f = state.filters;
  const form = els.filters;
  for (const r of $$('input[name="status"]', form)) r.checked = r.value === f.status;
  form.elements.q.value = f.q;
  form.elements.priority.value = f.priority;
  form.elements.sort.value = f.sort;
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
}

export function resetFilters() {
  state.filters = defaultFilters(state.filters.sort);
}

export function buildQuery() {
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

/** Whether a task changed here still belongs in the list the filters ask for. */
export function matchesFilters(t) {
  const f = state.filters;
  if (f.status === 'active' && t.completed) return false;
  if (f.status === 'completed' && !t.completed) return false;
  if (f.priority && t.priority !== f.priority) return false;
  if (f.category_id && t.category_id !== f.category_id) return false;
  const q = f.q.trim().toLowerCase();
  if (q && !(t.title || '').toLowerCase().includes(q) && !(t.description || '').toLowerCase().includes(q)) return false;
  return true;
}

export function filtersActive() {
  const f = state.filters;
  return f.status !== 'all' || !!f.q.trim() || !!f.priority || !!f.category_id;
}
