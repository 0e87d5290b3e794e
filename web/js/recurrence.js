// Recurring tasks: the quick choices, the picker in task forms, and a rule told in words.
import { h, nextId } from './dom.js';

const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];
const DAY_NAME = { MO: 'Monday', TU: 'Tuesday', WE: 'Wednesday', TH: 'Thursday', FR: 'Friday', SA: 'Saturday', SU: 'Sunday' };
const JS_DAY = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA']; // Date#getDay() order
const ORDINAL = { 1: 'first', 2: 'second', 3: 'third', 4: 'fourth', 5: 'fifth', '-1': 'last', '-2': 'second to last' };
const monthFmt = new Intl.DateTimeFormat('en-US', { month: 'long' });
const monthDayFmt = new Intl.DateTimeFormat('en-US', { month: 'long', day: 'numeric' });
const untilFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

/** The quick choices: each is a rule that follows the due date where it can. */
export const CHOICES = [
  { value: '', rule: null, label: () => 'Does not repeat' },
  { value: 'daily', rule: 'FREQ=DAILY', label: () => 'Every day' },
  { value: 'weekdays', rule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR', label: () => 'Every weekday (Monday to Friday)' },
  { value: 'weekly', rule: 'FREQ=WEEKLY', label: (due) => (due ? `Every week on ${DAY_NAME[JS_DAY[due.getDay()]]}` : 'Every week on the due day') },
  { value: 'monthly', rule: 'FREQ=MONTHLY', label: (due) => (due ? `Every month on the ${ordinalDay(due.getDate())}` : 'Every month on the due day') },
  { value: 'month-end', rule: 'FREQ=MONTHLY;BYMONTHDAY=-1', label: () => 'Every month on the last day' },
  { value: 'yearly', rule: 'FREQ=YEARLY', label: (due) => (due ? `Every year on ${monthDayFmt.format(due)}` : 'Every year on the due date') },
  { value: 'custom', rule: null, label: () => 'Custom rule…' },
];

export const browserTimeZone = () => {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; } catch { return 'UTC'; }
};

/** RRULE text -> {FREQ: 'WEEKLY', BYDAY: ['MO'], …}; an `RRULE:` prefix is allowed. */
export function parseRule(rule) {
  const parts = {};
  for (const piece of String(rule || '').trim().replace(/^RRULE:/i, '').split(';')) {
    const [key, value] = piece.split('=');
    if (!key || value === undefined) continue;
    parts[key.trim().toUpperCase()] = value.trim().toUpperCase();
  }
  return parts;
}

const normalise = (rule) => Object.entries(parseRule(rule)).map(([k, v]) => `${k}=${v}`).sort().join(';');

export function choiceForRule(rule) {
  if (!rule) return '';
  const key = normalise(rule);
  const match = CHOICES.find((c) => c.rule && normalise(c.rule) === key);
  return match ? match.value : 'custom';
}

function ordinalDay(n) {
  const rem = n % 100;
  const suffix = rem >= 11 && rem <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] || 'th');
  return `${n}${suffix}`;
}

const list = (items) => (items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`);

function dayWords(byday) {
  const days = byday.split(',');
  const plain = days.every((d) => WEEKDAYS.includes(d));
  if (plain && days.length === 5 && WEEKDAYS.slice(0, 5).every((d) => days.includes(d))) return 'weekday';
  if (plain) return list(WEEKDAYS.filter((d) => days.includes(d)).map((d) => DAY_NAME[d]));
  return list(days.map((d) => {
    const m = /^([+-]?\d+)?([A-Z]{2})$/.exec(d);
    if (!m || !DAY_NAME[m[2]]) return d;
    const n = m[1] ? String(parseInt(m[1], 10)) : '';
    return n ? `${ORDINAL[n] || `${n}.`} ${DAY_NAME[m[2]]}` : DAY_NAME[m[2]];
  }));
}

function monthDayWords(bymonthday) {
  return list(bymonthday.split(',').map((d) => {
    const n = parseInt(d, 10);
    if (n === -1) return 'last day';
    if (n < 0) return `${ordinalDay(-n)} to last day`;
    return ordinalDay(n);
  }));
}

/**
 * A recurrence in words, e.g. "every Monday and Wednesday", "every month on the last day".
 * `dueIso` stands in for what the rule leaves to the due date (the weekday of FREQ=WEEKLY).
 */
export function describeRecurrence(rec, dueIso) {
  if (!rec || !rec.rule) return '';
  const r = parseRule(rec.rule);
  const due = dueIso ? new Date(dueIso) : null;
  const n = parseInt(r.INTERVAL || '1', 10) || 1;
  const every = (unit, units) => (n === 1 ? `every ${unit}` : `every ${n} ${units}`);
  let words;
  if (r.BYSETPOS) {
    words = `${every(r.FREQ === 'YEARLY' ? 'year' : r.FREQ === 'MONTHLY' ? 'month' : 'week', r.FREQ === 'YEARLY' ? 'years' : r.FREQ === 'MONTHLY' ? 'months' : 'weeks')}`
      + ` on the ${list(r.BYSETPOS.split(',').map((p) => ORDINAL[String(parseInt(p, 10))] || p))} ${r.BYDAY ? dayWords(r.BYDAY) : 'day'}`;
  } else if (r.FREQ === 'DAILY') {
    words = every('day', 'days');
    if (r.BYDAY) words += ` on ${dayWords(r.BYDAY)}`;
  } else if (r.FREQ === 'WEEKLY') {
    const days = r.BYDAY ? dayWords(r.BYDAY) : (due ? DAY_NAME[JS_DAY[due.getDay()]] : '');
    if (n === 1) words = days ? `every ${days}` : 'every week';
    else words = `every ${n} weeks${days ? ` on ${days === 'weekday' ? 'weekdays' : days}` : ''}`;
  } else if (r.FREQ === 'MONTHLY') {
    words = every('month', 'months');
    if (r.BYMONTHDAY) words += ` on the ${monthDayWords(r.BYMONTHDAY)}`;
    else if (r.BYDAY) words += ` on the ${dayWords(r.BYDAY)}`;
    else if (due) words += ` on the ${ordinalDay(due.getDate())}`;
  } else if (r.FREQ === 'YEARLY') {
    words = every('year', 'years');
    const months = r.BYMONTH ? r.BYMONTH.split(',').map((m) => monthFmt.format(new Date(2000, parseInt(m, 10) - 1, 1))) : null;
    if (r.BYDAY) words += ` on the ${dayWords(r.BYDAY)}${months ? ` of ${list(months)}` : ''}`;
    else if (r.BYMONTHDAY) words += ` on the ${monthDayWords(r.BYMONTHDAY)}${months ? ` of ${list(months)}` : ''}`;
    else if (months && due) words += ` on ${list(months)} ${due.getDate()}`;
    else if (due) words += ` on ${monthDayFmt.format(due)}`;
  } else {
    return `repeats (${rec.rule})`;
  }
  if (r.COUNT) words += `, ${r.COUNT} time${r.COUNT === '1' ? '' : 's'} left`;
  if (r.UNTIL) {
    const m = /^(\d{4})(\d{2})(\d{2})/.exec(r.UNTIL);
    if (m) words += `, until ${untilFmt.format(new Date(+m[1], +m[2] - 1, +m[3]))}`;
  }
  if (rec.basis === 'completion') words += ', counted from completion';
  return words;
}

/**
 * The "Repeat" fields of a task form: the quick choices, a custom rule, and the basis.
 * Named `repeat`, `rrule` and `basis`; `readRecurrence` turns them back into the API's object.
 */
export function recurrenceFields(prefix, rec, dueIso) {
  const selectId = nextId(`${prefix}-repeat`);
  const ruleId = nextId(`${prefix}-rrule`);
  const choice = choiceForRule(rec && rec.rule);
  const due = dueIso ? new Date(dueIso) : null;
  const select = h('select', { id: selectId, name: 'repeat', dataset: { testid: `${prefix}-repeat` } },
    ...CHOICES.map((c) => h('option', { value: c.value, text: c.label(due) })));
  select.value = choice;
  const rule = h('input', {
    id: ruleId, name: 'rrule', type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'FREQ=WEEKLY;BYDAY=MO,WE',
    value: choice === 'custom' ? rec.rule : '', 'aria-describedby': `${ruleId}-hint`, dataset: { testid: `${prefix}-rrule` },
  });
  const basis = h('fieldset', { class: 'basis' },
    h('legend', { class: 'visually-hidden', text: 'Count the next due date' }),
    ...[['due', 'From due date'], ['completion', 'From completion']].map(([value, label]) => h('label', { class: 'check' },
      h('input', { type: 'radio', name: 'basis', value, checked: (rec ? rec.basis || 'due' : 'due') === value, dataset: { testid: `${prefix}-basis-${value}` } }),
      h('span', { text: label }),
    )),
  );
  const custom = h('div', { class: 'repeat-custom', hidden: choice !== 'custom' },
    h('label', { for: ruleId, text: 'Rule (RFC 5545 RRULE)' }), rule,
    h('p', { class: 'hint', id: `${ruleId}-hint`, text: 'For example FREQ=MONTHLY;BYDAY=-1FR (the last Friday of every month).' }),
  );
  const extra = h('div', { class: 'repeat-extra', hidden: !choice }, custom, basis);
  const wrap = h('div', { class: 'field field-repeat', dataset: { timezone: (rec && rec.timezone) || '' } },
    h('label', { for: selectId, text: 'Repeat' }), select, extra,
    h('p', { class: 'field-error', dataset: { errorFor: 'recurrence' } }),
  );
  select.addEventListener('change', () => {
    extra.hidden = !select.value;
    custom.hidden = select.value !== 'custom';
    if (select.value === 'custom') rule.focus();
  });
  return wrap;
}

/** Renames the quick choices after the due date ("Every week on Friday"). */
export function relabelChoices(form, dueIso) {
  const select = form.elements.repeat;
  if (!select) return;
  const due = dueIso ? new Date(dueIso) : null;
  for (const opt of select.options) {
    const c = CHOICES.find((x) => x.value === opt.value);
    if (c) opt.textContent = c.label(due && !Number.isNaN(due.getTime()) ? due : null);
  }
}

/** The form's recurrence: null (does not repeat) or {rule, basis, timezone}; '' rule when custom is empty. */
export function readRecurrence(form) {
  const select = form.elements.repeat;
  if (!select || !select.value) return null;
  const c = CHOICES.find((x) => x.value === select.value);
  const rule = select.value === 'custom' ? form.elements.rrule.value.trim() : c.rule;
  const checked = form.querySelector('input[name="basis"]:checked');
  const wrap = select.closest('.field-repeat');
  const timezone = (wrap && wrap.dataset.timezone) || browserTimeZone();
  return { rule, basis: checked ? checked.value : 'due', timezone };
}

export const sameRecurrence = (a, b) => (!a && !b)
  || (!!a && !!b && normalise(a.rule) === normalise(b.rule) && (a.basis || 'due') === (b.basis || 'due') && (a.timezone || 'UTC') === (b.timezone || 'UTC'));

/** What is wrong with a recurrence before it is sent, or null. */
export function recurrenceProblem(rec, dueIso) {
  if (!rec) return null;
  if (!rec.rule) return 'Write a rule, for example FREQ=WEEKLY;BYDAY=MO,WE.';
  if (!dueIso) return 'A repeating task needs a due date: its first occurrence.';
  return null;
}

/** Back to "Does not repeat", counted from the due date (the form is ready for the next task). */
export function resetRecurrenceFields(form) {
  const select = form.elements.repeat;
  if (!select) return;
  select.value = '';
  form.elements.rrule.value = '';
  const due = form.querySelector('input[name="basis"][value="due"]');
  if (due) due.checked = true;
  select.dispatchEvent(new Event('change'));
}
