// Dates: showing due dates and converting them to and from <input type="datetime-local">.

export const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const weekdayDateFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: 'numeric', minute: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: 'numeric', minute: '2-digit' });

/** A due date near `now` with its weekday, one further away with its year. */
export function formatDue(iso, now) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const diff = d.getTime() - now;
  return Math.abs(diff) < 6 * 86400000 ? dayFmt.format(d) : dateFmt.format(d);
}

/** A due date with its weekday and year ("Mon, Dec 14, 2026, 9:00 AM"): the next one of a series. */
export const formatNextDue = (iso) => weekdayDateFmt.format(new Date(iso));

const pad = (n) => String(n).padStart(2, '0');

/** RFC 3339 -> value for <input type="datetime-local"> (local time). */
export function toLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** datetime-local value -> RFC 3339 UTC; null when empty, undefined when invalid. */
export function fromLocalInput(v) {
  if (!v) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export const isOverdue = (t, now) => !t.completed && !!t.due_date && new Date(t.due_date).getTime() < now;
