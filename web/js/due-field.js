// The due date of a task form: a date, an optional time (no time = a date-only due date) and
// quick picks (Today, Tomorrow, Next week, No date).
import { h } from './dom.js';
import { toInputs, fromInputs, dayInput } from './dates.js';

function nextMonday(now = new Date()) {
  const d = new Date(now);
  d.setDate(d.getDate() + (((8 - d.getDay()) % 7) || 7));
  return d;
}

const PICKS = [
  ['today', 'Today', () => new Date()],
  ['tomorrow', 'Tomorrow', () => { const d = new Date(); d.setDate(d.getDate() + 1); return d; }],
  ['next-week', 'Next week', () => nextMonday()],
  ['none', 'No date', () => null],
];

/** The fieldset; `prefix` makes ids and test ids (`new-due`, `edit-due-time` …). */
export function dueField(prefix, iso) {
  const { day, time } = toInputs(iso);
  const testPrefix = prefix.startsWith('e-') ? 'edit' : prefix;
  const dayEl = h('input', { id: `${prefix}-due`, name: 'due_date', type: 'date', value: day, dataset: { testid: `${testPrefix}-due` } });
  const timeEl = h('input', { id: `${prefix}-due-time`, name: 'due_time', type: 'time', value: time, 'aria-describedby': `${prefix}-due-hint`, dataset: { testid: `${testPrefix}-due-time` } });
  const picks = h('div', { class: 'due-picks', role: 'group', 'aria-label': 'Quick picks for the due date' },
    ...PICKS.map(([key, label, when]) => h('button', {
      type: 'button', class: 'btn btn-small btn-chip', dataset: { pick: key, testid: `${testPrefix}-due-${key}` },
      onclick: () => {
        const d = when();
        dayEl.value = d ? dayInput(d) : '';
        if (!d) timeEl.value = '';
        dayEl.dispatchEvent(new Event('change', { bubbles: true }));
      },
    }, label)),
  );
  return h('fieldset', { class: 'field field-due' },
    h('legend', { text: 'Due' }),
    h('div', { class: 'due-inputs' },
      h('label', { class: 'visually-hidden', for: dayEl.id, text: 'Due date' }), dayEl,
      h('label', { class: 'visually-hidden', for: timeEl.id, text: 'Time (optional)' }), timeEl,
    ),
    h('p', { class: 'hint', id: `${prefix}-due-hint`, text: 'Leave the time empty for a whole day.' }),
    picks,
    h('p', { class: 'field-error', dataset: { errorFor: 'due_date' } }),
  );
}

/** The form's due date: RFC 3339, null (none) or undefined (not a valid date). */
export function readDue(form) {
  return fromInputs(form.elements.due_date.value, form.elements.due_time ? form.elements.due_time.value : '');
}

export function resetDue(form) {
  form.elements.due_date.value = '';
  if (form.elements.due_time) form.elements.due_time.value = '';
  form.elements.due_date.dispatchEvent(new Event('change', { bubbles: true }));
}
