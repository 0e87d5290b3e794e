// Quick add: one line such as "Call mum tomorrow 5pm #Home !high every Monday" read into a task.
// Understands dates and times in words, `#name` (a category when one has that name, else a tag),
// `!high` / `!low` / `!medium`, and repeat words ("every day", "every weekday", "every Monday",
// "every 2 weeks", "monthly"). Words in double quotes are kept in the title as they are.
// No DOM here: e2e/quick-add.test.mjs runs it without a browser.
import { endOfDay } from './dates.js';

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const RRULE_DAY = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];
const PRIORITY = { high: 'high', h: 'high', '1': 'high', low: 'low', l: 'low', '3': 'low', medium: 'medium', med: 'medium', m: 'medium', '2': 'medium' };
const UNIT = { day: 'DAILY', days: 'DAILY', week: 'WEEKLY', weeks: 'WEEKLY', month: 'MONTHLY', months: 'MONTHLY', year: 'YEARLY', years: 'YEARLY' };
const ADVERB = { daily: 'FREQ=DAILY', weekly: 'FREQ=WEEKLY', monthly: 'FREQ=MONTHLY', yearly: 'FREQ=YEARLY', annually: 'FREQ=YEARLY' };

const SHORT_DAYS = { sun: 0, mon: 1, tue: 2, tues: 2, wed: 3, thu: 4, thur: 4, thurs: 4, fri: 5, sat: 6 };
const MONTH_NAMES = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/**
 * 0 (Sunday) … 6 for a weekday name, else -1. Short forms ("mon") only where a day is expected
 * (after "every", "next", "on"), so that "Enjoy the sun" keeps its sun.
 */
function weekday(word, short = false) {
  const w = word.endsWith('s') && WEEKDAYS.includes(word.slice(0, -1)) ? word.slice(0, -1) : word; // "mondays"
  const i = WEEKDAYS.indexOf(w);
  if (i >= 0) return i;
  return short && w in SHORT_DAYS ? SHORT_DAYS[w] : -1;
}

/** 0 … 11 for "dec", "december", "sept", else -1. */
function month(word) {
  if (word.length < 3) return -1;
  return MONTH_NAMES.findIndex((name) => name.startsWith(word) && (word.length >= 3));
}

/** "5pm", "5:30pm", "17:00", "noon", "midnight" -> [hours, minutes], else null. */
function time(word, next) {
  if (word === 'noon') return [[12, 0], 1];
  if (word === 'midnight') return [[0, 0], 1];
  let m = /^(\d{1,2})(?::(\d{2}))?(am|pm|a|p)?$/.exec(word);
  let used = 1;
  if (m && !m[3] && (next === 'am' || next === 'pm')) { m = [m[0], m[1], m[2], next]; used = 2; }
  if (!m) return null;
  let h = +m[1];
  const min = m[2] ? +m[2] : 0;
  const mer = m[3];
  if (!mer && !m[2]) return null; // a bare number is not a time ("Buy 2 apples")
  if (min > 59) return null;
  if (mer) {
    if (h < 1 || h > 12) return null;
    if (mer.startsWith('p') && h !== 12) h += 12;
    if (mer.startsWith('a') && h === 12) h = 0;
  } else if (h > 23) return null;
  return [[h, min], used];
}

const addDays = (d, n) => { const x = new Date(d); x.setDate(x.getDate() + n); return x; };

/** The next `wd` (0 = Sunday) after today, or today when `includeToday`. */
function nextWeekday(now, wd, includeToday = false) {
  const diff = (wd - now.getDay() + 7) % 7;
  return addDays(now, diff === 0 && !includeToday ? 7 : diff);
}

/** Tries to read a date at words[i]; returns [Date, wordsUsed] or null. */
function date(words, i, now) {
  const w = words[i];
  const n1 = words[i + 1];
  if (w === 'today' || w === 'tod') return [now, 1];
  if (w === 'tonight') return [now, 1];
  if (w === 'tomorrow' || w === 'tmr' || w === 'tmrw') return [addDays(now, 1), 1];
  if (w === 'next' && n1 === 'week') return [nextWeekday(now, 1), 2];
  if (w === 'next' && n1 === 'month') { const d = new Date(now); d.setMonth(d.getMonth() + 1, 1); return [d, 2]; }
  if ((w === 'next' || w === 'on' || w === 'this') && n1 && weekday(n1, true) >= 0) return [nextWeekday(now, weekday(n1, true), w === 'this'), 2];
  if (WEEKDAYS.includes(w)) return [nextWeekday(now, weekday(w), true), 1];
  if (w === 'in' && /^\d+$/.test(n1 || '') && /^(day|days|week|weeks|month|months)$/.test(words[i + 2] || '')) {
    const n = +n1;
    const unit = words[i + 2];
    if (unit.startsWith('day')) return [addDays(now, n), 3];
    if (unit.startsWith('week')) return [addDays(now, 7 * n), 3];
    const d = new Date(now); d.setMonth(d.getMonth() + n); return [d, 3];
  }
  let m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(w);
  if (m) { const d = new Date(+m[1], +m[2] - 1, +m[3]); return Number.isNaN(d.getTime()) ? null : [d, 1]; }
  // "dec 14", "14 dec", "december 14th"
  const mi = month(w);
  if (mi >= 0 && /^\d{1,2}(st|nd|rd|th)?$/.test(n1 || '')) return [inYear(now, mi, parseInt(n1, 10)), 2];
  if (/^\d{1,2}(st|nd|rd|th)?$/.test(w) && n1 && month(n1) >= 0) return [inYear(now, month(n1), parseInt(w, 10)), 2];
  return null;
}

/** That day this year, or next year when it has passed. */
function inYear(now, mi, day) {
  const d = new Date(now.getFullYear(), mi, day);
  if (d < new Date(now.getFullYear(), now.getMonth(), now.getDate())) d.setFullYear(d.getFullYear() + 1);
  return d;
}

/**
 * Tries to read repeat words at words[i] ("every …", "daily"); returns [rule, wordsUsed, firstDay]
 * or null, where firstDay(includeToday) is the first day the rule names (null: any day).
 */
function repeat(words, i, now) {
  const w = words[i];
  if (ADVERB[w]) return [ADVERB[w], 1, null];
  if (w !== 'every') return null;
  const n1 = words[i + 1] || '';
  if (n1 === 'weekday' || n1 === 'weekdays') {
    const first = (today) => [1, 2, 3, 4, 5].map((d) => nextWeekday(now, d, today)).sort((a, b) => a - b)[0];
    return ['FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR', 2, first];
  }
  if (UNIT[n1]) return [`FREQ=${UNIT[n1]}`, 2, null];
  if (/^\d+$/.test(n1) && UNIT[words[i + 2] || '']) return [`FREQ=${UNIT[words[i + 2]]};INTERVAL=${+n1}`, 3, null];
  if (n1 === 'other' && UNIT[words[i + 2] || '']) return [`FREQ=${UNIT[words[i + 2]]};INTERVAL=2`, 3, null];
  // "every monday", "every mon and thu", "every tuesday, friday"
  const days = [];
  let j = i + 1;
  while (j < words.length) {
    const wd = weekday(words[j], true);
    if (wd >= 0) { days.push(wd); j++; continue; }
    if ((words[j] === 'and' || words[j] === ',') && days.length && weekday(words[j + 1] || '', true) >= 0) { j++; continue; }
    break;
  }
  if (!days.length) return null;
  const unique = [...new Set(days)];
  const first = (today) => unique.map((d) => nextWeekday(now, d, today)).sort((a, b) => a - b)[0];
  return [`FREQ=WEEKLY;BYDAY=${unique.map((d) => RRULE_DAY[d]).join(',')}`, j - i, first];
}

/**
 * Reads `text`. `categories` is [{id, name}]; `now` a Date. Returns
 * `{title, due, dateOnly, priority, categoryId, categoryName, tags, recurrence, found}` with only the
 * fields the text names set (others undefined), and `found`: what was understood, in order, as
 * `{kind: 'date'|'priority'|'category'|'tag'|'repeat', text}` for the preview.
 */
export function parseQuickAdd(text, { categories = [], now = new Date(), timezone = 'UTC' } = {}) {
  const out = { title: '', tags: [], found: [] };
  // split into words, keeping "quoted parts" whole and literal
  const pieces = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m;
  while ((m = re.exec(text))) pieces.push(m[1] !== undefined ? { raw: m[1], literal: true } : { raw: m[2], literal: false });
  const lower = pieces.map((p) => (p.literal ? '' : p.raw.toLowerCase().replace(/[.,;]+$/, '')));
  const keep = [];
  let day = null;
  let at = null;
  let firstDay = null;
  for (let i = 0; i < pieces.length; i++) {
    const p = pieces[i];
    if (p.literal) { keep.push(p.raw); continue; }
    const w = lower[i];
    if (/^#[^\s#]+$/.test(p.raw)) {
      const name = p.raw.slice(1);
      const cat = categories.find((c) => c.name.toLocaleLowerCase() === name.toLocaleLowerCase());
      if (cat && out.categoryId === undefined) {
        out.categoryId = cat.id;
        out.categoryName = cat.name;
        out.found.push({ kind: 'category', text: cat.name });
      } else if (!out.tags.some((t) => t.toLocaleLowerCase() === name.toLocaleLowerCase())) {
        out.tags.push(name);
        out.found.push({ kind: 'tag', text: name });
      }
      continue;
    }
    const pr = /^!(\w+)$/.exec(w);
    if (pr && PRIORITY[pr[1]]) {
      out.priority = PRIORITY[pr[1]];
      out.found.push({ kind: 'priority', text: out.priority });
      continue;
    }
    if (!out.recurrence) {
      const r = repeat(lower, i, now);
      if (r) {
        out.recurrence = { rule: r[0], basis: 'due', timezone };
        firstDay = r[2];
        out.found.push({ kind: 'repeat', text: pieces.slice(i, i + r[1]).map((x) => x.raw).join(' ') });
        i += r[1] - 1;
        continue;
      }
    }
    if (!day) {
      const d = date(lower, i, now);
      if (d) {
        day = d[0];
        if (lower[i] === 'tonight' && !at) at = [21, 0];
        i += d[1] - 1;
        continue;
      }
    }
    if (!at) {
      const skipAt = w === 'at' && time(lower[i + 1] || '', lower[i + 2]);
      const t = skipAt || time(w, lower[i + 1]);
      if (t) {
        at = t[0];
        i += t[1] - 1 + (skipAt ? 1 : 0);
        continue;
      }
    }
    keep.push(p.raw);
  }
  out.title = keep.join(' ').replace(/\s+/g, ' ').trim();
  let fromToday = false; // the day was not named: "5pm" is today, or tomorrow once it has passed
  if (!day && firstDay) { day = firstDay(true); fromToday = true; }
  if (!day) { day = at || out.recurrence ? now : null; fromToday = true; }
  if (day) {
    let d = new Date(day);
    if (at) {
      d.setHours(at[0], at[1], 0, 0);
      if (d <= now && fromToday) {
        d = firstDay ? new Date(firstDay(false)) : addDays(d, 1);
        d.setHours(at[0], at[1], 0, 0);
      }
      out.due = d.toISOString();
      out.dateOnly = false;
    } else {
      out.due = endOfDay(d).toISOString();
      out.dateOnly = true;
    }
    out.found.unshift({ kind: 'date', text: out.due });
  }
  return out;
}
