// The new-task form: one quick-add line ("Call mum tomorrow 5pm #Home !high") that shows what it
// understood before Enter, and the full details on demand.
import { state, els, PRIORITY_LABEL } from './state.js';
import { h, announce, setBusy } from './dom.js';
import { api, userPath } from './api.js';
import { formatDue } from './dates.js';
import { clearErrors, setFieldError, showErrors } from './forms.js';
import { matchesFilters, uniqueTags } from './filters.js';
import { loadTasks } from './task-list.js';
import { readTaskForm, checkDueAndRepeat, followDueDate } from './task-editor.js';
import { showToast } from './toast.js';
import { tagField, resetTagField } from './tag-input.js';
import { recurrenceFields, resetRecurrenceFields, describeRecurrence, browserTimeZone } from './recurrence.js';
import { dueField, resetDue } from './due-field.js';
import { loadTags } from './tags.js';
import { parseQuickAdd } from './quick-add-parse.js';

const TITLE_MAX = 255;

function parseLine() {
  return parseQuickAdd(els.taskForm.elements.title.value, { categories: state.categories, timezone: browserTimeZone() });
}

/** What the line says, in words, under it: "Tomorrow 9:00 AM · Home · High priority". */
function renderPreview() {
  const p = parseLine();
  const parts = [];
  for (const f of p.found) {
    if (f.kind === 'date') parts.push(['date', formatDue(f.text)]);
    else if (f.kind === 'category') parts.push(['category', f.text]);
    else if (f.kind === 'tag') parts.push(['tag', `#${f.text}`]);
    else if (f.kind === 'priority') parts.push(['priority', `${PRIORITY_LABEL[f.text]} priority`]);
    else if (f.kind === 'repeat') parts.push(['repeat', `Repeats ${describeRecurrence(p.recurrence, p.due)}`]);
  }
  const box = els.quickPreview;
  if (!parts.length) { box.replaceChildren(); return; }
  box.replaceChildren(
    h('span', { class: 'visually-hidden', text: 'Understood: ' }),
    ...parts.map(([kind, text]) => h('span', { class: `qa-chip qa-${kind}`, dataset: { testid: `quick-${kind}` }, text })),
  );
}

function setDetails(open) {
  const toggle = $toggle();
  toggle.setAttribute('aria-expanded', String(open));
  els.taskDetails.hidden = !open;
}

const $toggle = () => document.getElementById('task-details-toggle');

async function onCreateTask(ev) {
  ev.preventDefault();
  const form = els.taskForm;
  if (form.classList.contains('is-busy')) return;
  clearErrors(form);
  const f = readTaskForm(form);
  const p = parseLine();
  // words in the line win over the details, which fill in what the line leaves out
  const title = p.title;
  if (!title) {
    setFieldError(form, 'title', p.found.length ? 'Add a few words saying what the task is, as well as when.' : 'Type what needs doing first.');
    form.elements.title.focus();
    return;
  }
  if (title.length > TITLE_MAX) {
    setFieldError(form, 'title', `Keep the title to ${TITLE_MAX} characters (it has ${title.length}); put the rest in the description.`);
    form.elements.title.focus();
    return;
  }
  const merged = {
    ...f,
    title,
    due: p.due !== undefined ? p.due : f.due,
    priority: p.priority || f.priority,
    category_id: p.categoryId !== undefined ? p.categoryId : f.category_id,
    tags: uniqueTags([...f.tags, ...p.tags]),
    recurrence: p.recurrence || f.recurrence,
  };
  if (!checkDueAndRepeat(form, merged)) { setDetails(true); return; }
  const body = { title: merged.title, priority: merged.priority };
  if (merged.description !== null) body.description = merged.description;
  if (merged.due) body.due_date = merged.due;
  if (merged.category_id) body.category_id = merged.category_id;
  if (merged.tags.length) body.tags = merged.tags;
  if (merged.recurrence) body.recurrence = merged.recurrence;
  setBusy(form, true);
  try {
    const { data } = await api('POST', userPath('/tasks'), { body });
    form.elements.title.value = '';
    form.elements.description.value = '';
    form.elements.priority.value = 'medium';
    resetDue(form);
    resetTagField(form);
    resetRecurrenceFields(form);
    renderPreview();
    form.elements.title.focus();
    if (merged.tags.length) loadTags();
    announce(`Added “${data ? data.title : title}”.`);
    await loadTasks();
    if (data && !matchesFilters(data)) showToast(`Added “${data.title}” — it is not in this view.`);
  } catch (e) {
    if (e.status !== 401) {
      showErrors(form, e);
      if (form.querySelector('.task-details [aria-invalid="true"]')) setDetails(true);
    }
  } finally {
    setBusy(form, false);
  }
}

/** Phones: the form is a sheet at the bottom, opened by the floating button. */
export function openQuickAdd() {
  els.appView.classList.add('is-adding');
  els.taskForm.elements.title.focus();
}

export function closeQuickAdd() {
  els.appView.classList.remove('is-adding');
}

export function initNewTask() {
  els.taskForm.querySelector('#new-due-slot').replaceWith(dueField('new', null));
  els.taskForm.querySelector('#new-tags-slot').replaceWith(tagField('new'));
  els.taskForm.querySelector('#new-repeat-slot').replaceWith(recurrenceFields('new', null, null));
  followDueDate(els.taskForm);
  els.taskForm.addEventListener('submit', onCreateTask);
  els.taskForm.elements.title.addEventListener('input', renderPreview);
  $toggle().addEventListener('click', () => setDetails(els.taskDetails.hidden));
  els.taskForm.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey) && ev.target instanceof HTMLTextAreaElement) {
      ev.preventDefault();
      els.taskForm.requestSubmit();
    } else if (ev.key === 'Escape' && els.appView.classList.contains('is-adding')) {
      closeQuickAdd();
      els.fab.focus();
    }
  });
  els.fab.addEventListener('click', openQuickAdd);
}
