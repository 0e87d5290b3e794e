// The web app's recurrence module without a browser: rules told in words, and the quick choices.
// Run through e2e/run.sh, or by hand: node --test recurrence-words.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeRecurrence, choiceForRule, CHOICES, recurrenceProblem } from '../web/js/recurrence.js';

const words = (rule, due = null, basis = 'due') => describeRecurrence({ rule, basis, timezone: 'UTC' }, due);
// local dates, as the page shows them: a Wednesday the 31st
const WED_31 = new Date(2025, 11, 31, 9, 0).toISOString();

test('rules in words', () => {
  const cases = [
    ['FREQ=DAILY', 'every day'],
    ['FREQ=DAILY;INTERVAL=3', 'every 3 days'],
    ['FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR', 'every weekday'],
    ['FREQ=WEEKLY;BYDAY=MO,WE', 'every Monday and Wednesday'],
    ['FREQ=WEEKLY;BYDAY=WE,MO', 'every Monday and Wednesday'],
    ['RRULE:freq=weekly;byday=mo,we,fr', 'every Monday, Wednesday and Friday'],
    ['FREQ=WEEKLY;INTERVAL=2;BYDAY=TU', 'every 2 weeks on Tuesday'],
    ['FREQ=WEEKLY', 'every Wednesday'],
    ['FREQ=MONTHLY', 'every month on the 31st'],
    ['FREQ=MONTHLY;BYMONTHDAY=-1', 'every month on the last day'],
    ['FREQ=MONTHLY;BYMONTHDAY=1,15', 'every month on the 1st and 15th'],
    ['FREQ=MONTHLY;BYDAY=-1FR', 'every month on the last Friday'],
    ['FREQ=MONTHLY;BYDAY=2TU', 'every month on the second Tuesday'],
    ['FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1', 'every month on the last weekday'],
    ['FREQ=MONTHLY;INTERVAL=3', 'every 3 months on the 31st'],
    ['FREQ=YEARLY', 'every year on December 31'],
    ['FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29', 'every year on the 29th of February'],
    ['FREQ=YEARLY;BYMONTH=11;BYDAY=4TH', 'every year on the fourth Thursday of November'],
    ['FREQ=DAILY;COUNT=2', 'every day, 2 times left'],
    ['FREQ=DAILY;COUNT=1', 'every day, 1 time left'],
  ];
  for (const [rule, expected] of cases) assert.equal(words(rule, WED_31), expected, rule);
  assert.match(words('FREQ=WEEKLY;UNTIL=20261231T235959Z', WED_31), /^every Wednesday, until Dec 31, 2026$/);
  assert.equal(words('FREQ=DAILY;INTERVAL=3', WED_31, 'completion'), 'every 3 days, counted from completion');
  assert.equal(describeRecurrence(null, WED_31), '');
});

test('quick choices: each rule is recognised again, anything else is a custom rule', () => {
  for (const c of CHOICES.filter((x) => x.rule)) assert.equal(choiceForRule(c.rule), c.value, c.rule);
  assert.equal(choiceForRule('RRULE:BYDAY=MO,TU,WE,TH,FR;FREQ=WEEKLY'), 'weekdays');
  assert.equal(choiceForRule('FREQ=WEEKLY;BYDAY=MO'), 'custom');
  assert.equal(choiceForRule(null), '');
  const due = new Date(2026, 1, 27, 9, 0); // a Friday
  const label = (v) => CHOICES.find((c) => c.value === v).label(due);
  assert.equal(label('weekly'), 'Every week on Friday');
  assert.equal(label('monthly'), 'Every month on the 27th');
  assert.equal(label('yearly'), 'Every year on February 27');
});

test('a repeating task needs a rule and a due date before it is sent', () => {
  assert.equal(recurrenceProblem(null, null), null);
  assert.match(recurrenceProblem({ rule: 'FREQ=DAILY' }, null), /needs a due date/);
  assert.match(recurrenceProblem({ rule: '' }, WED_31), /Write a rule/);
  assert.equal(recurrenceProblem({ rule: 'FREQ=DAILY' }, WED_31), null);
});
