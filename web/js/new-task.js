// The new-task form.
import { els } from './state.js';
import { announce, setBusy } from './dom.js';
import { api, userPath } from './api.js';
import { fromLocalInput } from './dates.js';
import { clearErrors, setFieldError, showErrors } from './forms.js';
import { matchesFilters } from './filters.js';
import { loadTasks } from './task-list.js';
import { readTaskForm } from './task-editor.js';
import { showToast } from './toast.js';

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

export function initNewTask() {
  els.taskForm.addEventListener('submit', onCreateTask);
  els.taskForm.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey) && ev.target instanceof HTMLTextAreaElement) {
      ev.preventDefault();
      els.taskForm.requestSubmit();
    }
  });
}
