// Categories: the side panel (create, rename, recolour, delete) and the category selects.
import { state, els } from './state.js';
import { $, $$, h, nextId, announce, setBusy, safeColor } from './dom.js';
import { api, userPath, catPath } from './api.js';
import { clearErrors, setFieldError, showErrors } from './forms.js';
import { writeHash } from './filters.js';
import { loadTasks, renderTasks } from './task-list.js';
import { showToast } from './toast.js';
import { renderViews } from './views.js';

function setCategories(list) {
  state.categories = list.slice().sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }));
  state.catById = new Map(state.categories.map((c) => [c.id, c]));
  renderCategories();
  refreshCategorySelects();
  renderViews();
}

export async function loadCategories() {
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

/** Fills a category <select>, keeping `selected` even when it is unknown. */
export function categoryOptions(select, selected, noneLabel) {
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

function refreshCategorySelects() {
  for (const sel of [els.newCategory, els.filters.elements.category_id]) {
    const prev = sel === els.filters.elements.category_id ? state.filters.category_id : sel.value;
    const noneLabel = sel.dataset.allLabel || 'No category';
    sel.replaceChildren(h('option', { value: '', text: noneLabel }));
    for (const c of state.categories) sel.append(h('option', { value: c.id, text: c.name }));
    sel.value = state.catById.has(prev) ? prev : '';
  }
  // the filter pointed at a category that is gone
  if (state.catsLoaded && state.filters.category_id && !state.catById.has(state.filters.category_id)) {
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
  state.catsLoaded = true;
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

async function confirmDelete(row, id) {
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

function onCatListClick(ev) {
  const target = ev.target instanceof Element ? ev.target.closest('[data-action]') : null;
  if (!target) return;
  const row = target.closest('li[data-id]');
  if (!row) return;
  const id = row.dataset.id;
  const action = target.dataset.action;
  if (action === 'rename') startRename(id);
  else if (action === 'delete') startDelete(id);
  else if (action === 'cancel') restoreCatRow(id, row.classList.contains('is-confirming') ? 'delete' : 'rename');
  else if (action === 'confirm-delete') confirmDelete(row, id);
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

export function resetCategories() {
  state.categories = [];
  state.catById = new Map();
  els.catList.replaceChildren();
}

export function initCategories() {
  els.catForm.addEventListener('submit', onCategoryCreate);
  els.catList.addEventListener('click', onCatListClick);
  els.catList.addEventListener('change', onCatListChange);
  els.catList.addEventListener('submit', onCatListSubmit);
  els.catList.addEventListener('keydown', onCatListKeydown);
}
