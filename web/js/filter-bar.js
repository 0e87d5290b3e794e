// The filter bar above the list, and "Clear filters" in the empty state.
import { state, els } from './state.js';
import { h, announce } from './dom.js';
import { applyFiltersToControls, readFilterControls, resetFilters, writeHash, addTagFilter, removeTagFilter, tagKey } from './filters.js';
import { loadTasks } from './task-list.js';

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

/** The tags the list is filtered by, each with a button that takes it off. */
export function renderTagFilter() {
  const tags = state.filters.tags;
  els.tagFilter.hidden = tags.length === 0;
  els.tagFilter.replaceChildren(
    h('span', { class: 'muted small', text: tags.length === 1 ? 'Tagged' : 'Tagged with all of' }),
    ...tags.map((tag) => h('button', {
      type: 'button', class: 'tag-chip is-active', 'aria-label': `Stop filtering by tag ${tag}`,
      dataset: { tag, testid: 'tag-filter-chip' },
    }, tag, h('span', { 'aria-hidden': 'true', class: 'tag-x', text: ' ×' }))),
  );
}

function reload() {
  state.offset = 0;
  writeHash();
  loadTasks();
}

/** Shows only the tasks that also carry `name` (a click on a tag chip). */
export function filterByTag(name) {
  addTagFilter(name);
  renderTagFilter();
  reload();
  // the clicked chip is redrawn with the list: keep keyboard focus on the filter it made
  const chip = Array.from(els.tagFilter.querySelectorAll('[data-tag]')).find((b) => tagKey(b.dataset.tag) === tagKey(name));
  if (chip) chip.focus();
  announce(`Showing tasks tagged ${state.filters.tags.join(' and ')}.`);
}

function clearFilters() {
  resetFilters();
  applyFiltersToControls();
  renderTagFilter();
  els.filters.elements.category_id.value = '';
  state.offset = 0;
  writeHash();
  loadTasks();
}

export function initFilterBar() {
  els.filters.addEventListener('submit', (ev) => { ev.preventDefault(); onFiltersChanged(); });
  els.filters.addEventListener('change', (ev) => {
    if (ev.target && ev.target.name === 'q') return; // handled by input
    onFiltersChanged();
  });
  els.filters.addEventListener('input', (ev) => {
    if (ev.target && ev.target.name === 'q') onFiltersChanged({ debounce: true });
  });
  els.tagFilter.addEventListener('click', (ev) => {
    const b = ev.target instanceof Element ? ev.target.closest('[data-tag]') : null;
    if (!b) return;
    const next = b.nextElementSibling || b.previousElementSibling;
    removeTagFilter(b.dataset.tag);
    renderTagFilter();
    reload();
    const again = next && next.dataset.tag && els.tagFilter.querySelector(`[data-tag="${CSS.escape(next.dataset.tag)}"]`);
    (again || els.filters.elements.q).focus();
    announce(`Stopped filtering by tag ${b.dataset.tag}.`);
  });
  els.empty.addEventListener('click', (ev) => {
    if (ev.target instanceof Element && ev.target.closest('[data-action="clear-filters"]')) clearFilters();
  });
}
