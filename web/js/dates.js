// Dates: due dates in words ("Today", "Tomorrow 9:00 AM", "Friday", "3 days overdue"), date-only
// due dates, and the date and time inputs of the task forms.
//
// A date-only due date is stored as the last millisecond of that day in the browser's time zone
// (23:59:59.999 local): it sorts after the day's timed tasks, becomes overdue when the day is over,
// and `due_before` the end of today finds it. Nothing the forms make has seconds, so that
// instant is the mark the app recognises.

export const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const fullDayFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'full' });
const weekdayDateFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: 'numeric', minute: '2-digit' });
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const weekdayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long' });
const shortWeekdayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
const monthDayFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const monthDayYearFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });

const DAY = 86400000;
const pad = (n) => String(n).padStart(2, '0');

/** Midnight (local) of the day `d` falls on. */
export function startOfDay(d) {
  const x = new Date(d);
  x.setHours(0, 0, 0, 0);
  return x;
}

/** The last millisecond (local) of the day `d` falls on: a date-only due date. */
export function endOfDay(d) {
  const x = new Date(d);
  x.setHours(23, 59, 59, 999);
  return x;
}

/** Whole calendar days from `now`'s day to `d`'s day (negative in the past), DST-proof. */
export function dayOffset(d, now = Date.now()) {
  const a = startOfDay(now);
  const b = startOfDay(d);
  return Math.round((Date.UTC(b.getFullYear(), b.getMonth(), b.getDate()) - Date.UTC(a.getFullYear(), a.getMonth(), a.getDate())) / DAY);
}

export function isDateOnly(iso) {
  if (!iso) return false;
  const d = new Date(iso);
  return d.getHours() === 23 && d.getMinutes() === 59 && d.getSeconds() === 59 && d.getMilliseconds() === 999;
}

/** "Today", "Tomorrow", "Yesterday", a weekday within the coming week, else "Dec 14" (with the year when not this one). */
export function dayWords(d, now = Date.now()) {
  const n = dayOffset(d, now);
  if (n === 0) return 'Today';
  if (n === 1) return 'Tomorrow';
  if (n === -1) return 'Yesterday';
  if (n > 1 && n < 7) return weekdayFmt.format(d);
  return d.getFullYear() === new Date(now).getFullYear() ? monthDayFmt.format(d) : monthDayYearFmt.format(d);
}

/** A due date the way a person says it: "Today", "Tomorrow 9:00 AM", "Friday", "Dec 14, 5:00 PM". */
export function formatDue(iso, now = Date.now()) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const day = dayWords(d, now);
  return isDateOnly(iso) ? day : `${day} ${timeFmt.format(d)}`;
}

/** "3 days overdue", "1 day overdue", or "Overdue" (earlier today), for a task not done in time. */
export function overdueWords(iso, now = Date.now()) {
  const n = -dayOffset(new Date(iso), now);
  if (n <= 0) return 'Overdue';
  return `${n} day${n === 1 ? '' : 's'} overdue`;
}

/** The full date for a tooltip: "Wednesday, December 2, 2026" or with its time. */
export const fullDue = (iso) => (isDateOnly(iso) ? fullDayFmt.format(new Date(iso)) : dateFmt.format(new Date(iso)));

/** A due date with its weekday and year ("Mon, Dec 14, 2026, 9:00 AM"): the next one of a series. */
export const formatNextDue = (iso) => (isDateOnly(iso) ? fullDayFmt.format(new Date(iso)) : weekdayDateFmt.format(new Date(iso)));

/** Short day label for the Upcoming view's groups: "Tomorrow · Thu, Dec 3". */
export function dayHeading(d, now = Date.now()) {
  const n = dayOffset(d, now);
  const date = `${shortWeekdayFmt.format(d)}, ${monthDayFmt.format(d)}`;
  if (n >= -1 && n <= 1) return `${dayWords(d, now)} · ${date}`;
  return n > 1 && n < 7 ? `${weekdayFmt.format(d)} · ${monthDayFmt.format(d)}` : date;
}

/** RFC 3339 -> the values of the date and time inputs (local); the time is '' for a date-only due date. */
export function toInputs(iso) {
  if (!iso) return { day: '', time: '' };
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return { day: '', time: '' };
  const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return { day, time: isDateOnly(iso) ? '' : `${pad(d.getHours())}:${pad(d.getMinutes())}` };
}

/** Date and time input values -> RFC 3339 UTC; null when no date, undefined when invalid. */
export function fromInputs(day, time) {
  if (!day) return time ? undefined : null;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return undefined;
  const d = new Date(+m[1], +m[2] - 1, +m[3]);
  if (time) {
    const t = /^(\d{2}):(\d{2})$/.exec(time);
    if (!t) return undefined;
    d.setHours(+t[1], +t[2], 0, 0);
  } else {
    d.setHours(23, 59, 59, 999);
  }
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** The value of a date input for `d` (local). */
export const dayInput = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

export const isOverdue = (t, now) => !t.completed && !!t.due_date && new Date(t.due_date).getTime() < now;
