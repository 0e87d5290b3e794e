// The filter bar above the list, and "Clear filters" in the empty state.
import { state, els } from './state.js';
import { applyFiltersToControls, readFilterControls, resetFilters, writeHash } from './filters.js';
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

function clearFilters() {
  resetFilters();
  applyFiltersToControls();
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
  els.empty.addEventListener('click', (ev) => {
    if (ev.target instanceof Element && ev.target.closest('[data-action="clear-filters"]')) clearFilters();
  });
}
