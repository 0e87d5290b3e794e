// Tags of the user: the autocomplete list, and the tag panel beside the categories
// (each tag with its count; rename, which merges into an existing tag, and delete).
import { state, els } from './state.js';
import { $, h, nextId, announce, setBusy } from './dom.js';
import { api, userPath } from './api.js';
import { clearErrors, setFieldError, showErrors } from './forms.js';
import { addTagFilter, tagKey, writeHash } from './filters.js';
import { loadTasks } from './task-list.js';
import { filterByTag, renderTagFilter } from './filter-bar.js';
import { showToast } from './toast.js';

const tagPath = (name) => userPath(`/tags/${encodeURIComponent(name)}`);

export async function loadTags() {
  try {
    const { data } = await api('GET', userPath('/tags'));
    state.tags = Array.isArray(data) ? data : [];
    renderTags();
  } catch (e) {
    if (e.status === 401) return;
    els.tagEmpty.textContent = `Could not load tags: ${e.message}`;
    els.tagEmpty.hidden = false;
  }
}

function renderTags() {
  els.tagOptions.replaceChildren(...state.tags.map((t) => h('option', { value: t.name })));
  els.tagList.replaceChildren(...state.tags.map(tagRow));
  els.tagEmpty.hidden = state.tags.length > 0;
  if (!state.tags.length) els.tagEmpty.textContent = 'No tags yet. Add them to a task.';
}

function tagRow(t) {
  return h('li', { class: 'category tag-item', dataset: { tag: t.name, testid: 'tag-item' } },
    h('button', {
      type: 'button', class: 'tag-chip', dataset: { action: 'filter', testid: 'tag-name' },
      'aria-label': `Show tasks tagged ${t.name}`, text: t.name,
    }),
    h('span', { class: 'muted small tag-count', dataset: { testid: 'tag-count' }, 'aria-label': `${t.count} task${t.count === 1 ? '' : 's'}`, text: String(t.count) }),
    h('span', { class: 'category-actions' },
      h('button', { type: 'button', class: 'btn btn-small btn-ghost', dataset: { action: 'rename', testid: 'tag-rename' }, 'aria-label': `Rename tag ${t.name}`, text: 'Rename' }),
      h('button', { type: 'button', class: 'btn btn-small btn-ghost btn-danger', dataset: { action: 'delete', testid: 'tag-delete' }, 'aria-label': `Delete tag ${t.name}`, text: 'Delete' }),
    ),
    h('p', { class: 'row-error', role: 'alert', dataset: { testid: 'tag-error' } }),
  );
}

const tagRowFor = (name) => els.tagList.querySelector(`li[data-tag="${CSS.escape(name)}"]`);

function restoreRow(name, focusAction) {
  const t = state.tags.find((x) => x.name === name);
  const row = tagRowFor(name);
  if (!row) return;
  if (!t) { row.remove(); return; }
  const fresh = tagRow(t);
  row.replaceWith(fresh);
  const b = focusAction && fresh.querySelector(`[data-action="${focusAction}"]`);
  if (b) b.focus();
}

function startRename(name) {
  const row = tagRowFor(name);
  if (!row) return;
  const input = h('input', { type: 'text', name: 'name', value: name, maxlength: '50', id: nextId('tag'), autocomplete: 'off', dataset: { testid: 'tag-rename-input' } });
  const form = h('form', { class: 'category-rename tag-rename', novalidate: true },
    h('label', { class: 'visually-hidden', for: input.id, text: `New name for tag ${name}` }),
    input,
    h('button', { type: 'submit', class: 'btn btn-small btn-primary', text: 'Save' }),
    h('button', { type: 'button', class: 'btn btn-small', dataset: { action: 'cancel' }, text: 'Cancel' }),
    h('p', { class: 'field-error', dataset: { errorFor: 'name' } }),
    h('p', { class: 'form-error', role: 'alert', dataset: { errorFor: '_form' } }),
  );
  row.replaceWith(h('li', { class: 'category is-editing', dataset: { tag: name, testid: 'tag-item' } }, form));
  input.focus();
  input.select();
}

function startDelete(name) {
  const row = tagRowFor(name);
  if (!row) return;
  const confirmBtn = h('button', { type: 'button', class: 'btn btn-small btn-danger-solid', dataset: { action: 'confirm-delete', testid: 'tag-confirm-delete' }, text: 'Delete' });
  row.replaceWith(h('li', { class: 'category is-confirming', dataset: { tag: name, testid: 'tag-item' } },
    h('p', { class: 'confirm-text', text: `Delete the tag “${name}”? It is taken off its tasks; they stay.` }),
    h('span', { class: 'category-actions' }, confirmBtn,
      h('button', { type: 'button', class: 'btn btn-small', dataset: { action: 'cancel' }, text: 'Keep' })),
    h('p', { class: 'row-error', role: 'alert' }),
  ));
  confirmBtn.focus();
}

/** The filter names a renamed or deleted tag: follow the change. */
function retargetFilter(oldName, newName) {
  const f = state.filters;
  if (!f.tags.some((t) => tagKey(t) === tagKey(oldName))) return;
  f.tags = f.tags.filter((t) => tagKey(t) !== tagKey(oldName));
  if (newName) addTagFilter(newName);
  writeHash();
  renderTagFilter();
}

async function rename(form, oldName) {
  if (form.classList.contains('is-busy')) return;
  clearErrors(form);
  const name = form.elements.name.value.trim();
  if (!name) { setFieldError(form, 'name', 'The name cannot be empty.'); form.elements.name.focus(); return; }
  if (name === oldName) { restoreRow(oldName, 'rename'); return; }
  setBusy(form, true);
  try {
    const { data } = await api('PUT', tagPath(oldName), { body: { name } });
    retargetFilter(oldName, data.name);
    await loadTags();
    const b = tagRowFor(data.name)?.querySelector('[data-action="rename"]');
    if (b) b.focus();
    announce(`Renamed the tag to “${data.name}”.`);
    loadTasks();
  } catch (e) {
    setBusy(form, false);
    if (e.status === 404) { showToast('That tag is no longer in use.'); loadTags(); return; }
    if (e.status !== 401) showErrors(form, e);
  }
}

async function remove(row, name) {
  if (row.classList.contains('is-busy')) return;
  row.classList.add('is-busy');
  try {
    await api('DELETE', tagPath(name));
    retargetFilter(name, null);
    await loadTags();
    announce(`Deleted the tag “${name}”.`);
    document.getElementById('tag-heading').focus();
    loadTasks();
  } catch (e) {
    row.classList.remove('is-busy');
    if (e.status === 404) { showToast('That tag was already deleted.'); loadTags(); return; }
    if (e.status !== 401) $('.row-error', row).textContent = `Could not delete: ${e.message}`;
  }
}

export function resetTags() {
  state.tags = [];
  els.tagList.replaceChildren();
  els.tagOptions.replaceChildren();
}

export function initTags() {
  els.tagList.addEventListener('click', (ev) => {
    const target = ev.target instanceof Element ? ev.target.closest('[data-action]') : null;
    const row = target && target.closest('li[data-tag]');
    if (!row) return;
    const name = row.dataset.tag;
    const action = target.dataset.action;
    if (action === 'filter') filterByTag(name);
    else if (action === 'rename') startRename(name);
    else if (action === 'delete') startDelete(name);
    else if (action === 'cancel') restoreRow(name, row.classList.contains('is-confirming') ? 'delete' : 'rename');
    else if (action === 'confirm-delete') remove(row, name);
  });
  els.tagList.addEventListener('submit', (ev) => {
    const form = ev.target;
    if (!(form instanceof HTMLFormElement)) return;
    ev.preventDefault();
    rename(form, form.closest('li[data-tag]').dataset.tag);
  });
  els.tagList.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Escape') return;
    const row = ev.target instanceof Element ? ev.target.closest('li.is-editing, li.is-confirming') : null;
    if (row) { ev.preventDefault(); restoreRow(row.dataset.tag, row.classList.contains('is-confirming') ? 'delete' : 'rename'); }
  });
}
