// The new-task form.
import { els } from './state.js';
import { announce, setBusy } from './dom.js';
import { api, userPath } from './api.js';
import { fromLocalInput } from './dates.js';
import { clearErrors, setFieldError, showErrors } from './forms.js';
import { matchesFilters } from './filters.js';
import { loadTasks } from './task-list.js';
import { readTaskForm, checkDueAndRepeat, followDueDate } from './task-editor.js';
import { showToast } from './toast.js';
import { tagField, resetTagField } from './tag-input.js';
import { recurrenceFields, resetRecurrenceFields } from './recurrence.js';
import { loadTags } from './tags.js';

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
  if (!checkDueAndRepeat(form, f)) return;
  const due = fromLocalInput(f.due_raw);
  const body = { title: f.title, priority: f.priority };
  if (f.description !== null) body.description = f.description;
  if (due) body.due_date = due;
  if (f.category_id) body.category_id = f.category_id;
  if (f.tags.length) body.tags = f.tags;
  if (f.recurrence) body.recurrence = f.recurrence;
  setBusy(form, true);
  try {
    const { data } = await api('POST', userPath('/tasks'), { body });
    form.elements.title.value = '';
    form.elements.description.value = '';
    form.elements.due_date.value = '';
    form.elements.due_date.dispatchEvent(new Event('change'));
    resetTagField(form);
    resetRecurrenceFields(form);
    form.elements.title.focus();
    if (f.tags.length) loadTags();
    announce(`Added “${data ? data.title : f.title}”.`);
    await loadTasks();
    if (data && !matchesFilters(data)) showToast(`Added “${data.title}” — it is hidden by the current filters.`);
  } catch (e) {
    if (e.status !== 401) showErrors(form, e);
  } finally {
    setBusy(form, false);
  }
}

export function initNewTask() {
  els.taskForm.querySelector('#new-tags-slot').replaceWith(tagField('new'));
  els.taskForm.querySelector('#new-repeat-slot').replaceWith(recurrenceFields('new', null, null));
  followDueDate(els.taskForm);
  els.taskForm.addEventListener('submit', onCreateTask);
  els.taskForm.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey) && ev.target instanceof HTMLTextAreaElement) {
      ev.preventDefault();
      els.taskForm.requestSubmit();
    }
  });
}
