// The quick-add parser without a browser: what one line of text becomes.
// Run through e2e/run.sh, or by hand: TZ=UTC node --test quick-add.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQuickAdd } from '../web/js/quick-add-parse.js';

// local times, as the page reads them: Wednesday 2 December 2026, 10:00
const NOW = new Date(2026, 11, 2, 10, 0);
const CATS = [{ id: 'c-home', name: 'Home' }, { id: 'c-work', name: 'Work' }];
const parse = (text) => parseQuickAdd(text, { categories: CATS, now: NOW, timezone: 'Europe/Paris' });
const local = (y, mo, d, h = 23, mi = 59, s = 59, ms = 999) => new Date(y, mo, d, h, mi, s, ms).toISOString();

test('the example of the issue: date, time, category, priority', () => {
  const r = parse('Pay rent tomorrow 9am #Home !high');
  assert.equal(r.title, 'Pay rent');
  assert.equal(r.due, local(2026, 11, 3, 9, 0, 0, 0));
  assert.equal(r.dateOnly, false);
  assert.equal(r.categoryId, 'c-home');
  assert.equal(r.priority, 'high');
  assert.deepEqual(r.tags, []);
  assert.deepEqual(r.found.map((f) => f.kind), ['date', 'category', 'priority']);
});

test('dates in words, date-only unless a time is given', () => {
  const cases = [
    ['Call mum tomorrow 5pm', 'Call mum', local(2026, 11, 3, 17, 0, 0, 0)],
    ['Call mum tomorrow at 5:30 pm', 'Call mum', local(2026, 11, 3, 17, 30, 0, 0)],
    ['Dentist today', 'Dentist', local(2026, 11, 2)],
    ['Dentist friday', 'Dentist', local(2026, 11, 4)],
    ['Dentist on mon', 'Dentist', local(2026, 11, 7)],
    ['Dentist next week', 'Dentist', local(2026, 11, 7)],
    ['Taxes in 3 days', 'Taxes', local(2026, 11, 5)],
    ['Party dec 24 8pm', 'Party', local(2026, 11, 24, 20, 0, 0, 0)],
    ['Party 3 jan', 'Party', local(2027, 0, 3)],
    ['Report 2026-12-20 17:00', 'Report', local(2026, 11, 20, 17, 0, 0, 0)],
    ['Stretch 9am', 'Stretch', local(2026, 11, 3, 9, 0, 0, 0)], // 9am has passed today
    ['Stretch 6pm', 'Stretch', local(2026, 11, 2, 18, 0, 0, 0)],
  ];
  for (const [text, title, due] of cases) {
    const r = parse(text);
    assert.equal(r.title, title, text);
    assert.equal(r.due, due, text);
  }
});

test('words that only look like dates stay in the title', () => {
  for (const text of ['Buy 2 apples', 'Enjoy the sun', 'Read "tomorrow never dies"', 'May the force', 'Review pull request #42']) {
    const r = parse(text);
    assert.equal(r.due, undefined, text);
  }
  assert.equal(parse('Read "tomorrow never dies"').title, 'Read tomorrow never dies');
});

test('tags and priorities; a # that is no category is a tag', () => {
  const r = parse('Plan trip #travel #Work #Travel !low');
  assert.equal(r.title, 'Plan trip');
  assert.equal(r.categoryId, 'c-work');
  assert.deepEqual(r.tags, ['travel']);
  assert.equal(r.priority, 'low');
});

test('recurrence words', () => {
  const cases = [
    ['Gym every monday', 'FREQ=WEEKLY;BYDAY=MO', local(2026, 11, 7)],
    ['Gym every mon and thu 7am', 'FREQ=WEEKLY;BYDAY=MO,TH', local(2026, 11, 3, 7, 0, 0, 0)],
    ['Stand-up every weekday 9:30', 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR', local(2026, 11, 3, 9, 30, 0, 0)], // 9:30 today has passed
    ['Stand-up every weekday 11:00', 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR', local(2026, 11, 2, 11, 0, 0, 0)],
    ['Water plants every 3 days', 'FREQ=DAILY;INTERVAL=3', local(2026, 11, 2)],
    ['Rent monthly dec 31', 'FREQ=MONTHLY', local(2026, 11, 31)],
    ['Review every other week friday', 'FREQ=WEEKLY;INTERVAL=2', local(2026, 11, 4)],
  ];
  for (const [text, rule, due] of cases) {
    const r = parse(text);
    assert.deepEqual(r.recurrence, { rule, basis: 'due', timezone: 'Europe/Paris' }, text);
    assert.equal(r.due, due, text);
    assert.ok(r.found.some((f) => f.kind === 'repeat'), text);
  }
  assert.equal(parse('Gym every monday').title, 'Gym');
});
