// Browser tests of tags, subtasks and recurring tasks (SPEC §10) in the web app.
// Run through e2e/run.sh, or by hand: BASE_URL=http://127.0.0.1:8000 node --test organise.spec.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  ARTIFACTS, DESKTOP, PHONE, useBrowser, saveForReadme, shot, titles, expectTitles, row, addTaskInUi,
  api, signUpViaApi, openAs, noHorizontalScroll, eventually, openDetails, openManage, fillDue,
} from './lib.mjs';

useBrowser();

const DAY = 86400000;
const tokenOf = (user) => user.access_token || user.token;
const tagsOf = (page, title) => row(page, title).getByTestId('task-tag').allTextContents();

/** The next Monday at 09:00 UTC, at least a day away. */
function nextMonday9() {
  const d = new Date(Date.now() + DAY);
  d.setUTCHours(9, 0, 0, 0);
  d.setUTCDate(d.getUTCDate() + ((8 - d.getUTCDay()) % 7));
  return d;
}

test('tags: add with autocomplete, filter by a chip, rename and delete beside the categories', async () => {
  const user = await signUpViaApi('tags');
  const base = `/api/${user.user_id}`;
  await api(tokenOf(user), 'POST', `${base}/tasks`, { title: 'Water the plants', tags: ['Home'] });
  const { context, page, problems } = await openAs(user);
  try {
    await openDetails(page);
    await openManage(page);
    // the user's tags are offered while typing, and listed in the tag panel with their counts
    await eventually(async () => assert.deepEqual(await page.locator('#tag-options option').evaluateAll((o) => o.map((x) => x.value)), ['Home']));
    assert.deepEqual(await page.getByTestId('tag-name').allTextContents(), ['Home']);
    assert.equal(await page.getByTestId('tag-count').textContent(), '1');

    // Enter adds a tag as a chip; a second spelling of a tag is stored as the first one (SPEC §10)
    const input = page.getByTestId('new-tag-input');
    await input.fill('home');
    await input.press('Enter');
    await input.fill('Plumbing');
    await input.press('Enter');
    assert.deepEqual(await page.getByTestId('new-tag-chips').locator('li > span').allTextContents(), ['home', 'Plumbing']);
    assert.equal(await page.getByTestId('new-title').inputValue(), '', 'Enter in the tag field does not submit the form');
    await addTaskInUi(page, { title: 'Fix the sink' });
    assert.deepEqual(await tagsOf(page, 'Fix the sink'), ['Home', 'Plumbing']);
    assert.equal(await page.getByTestId('new-tag-chips').locator('li').count(), 0, 'the form is cleared for the next task');
    await addTaskInUi(page, { title: 'Call mum' });
    await page.getByTestId('new-tag-input').fill('Family');
    await page.getByTestId('new-tag-input').press('Enter');
    await addTaskInUi(page, { title: 'Visit grandma' });
    await expectTitles(page, ['Visit grandma', 'Call mum', 'Fix the sink', 'Water the plants']);
    assert.deepEqual(await tagsOf(page, 'Visit grandma'), ['Family']);
    await eventually(async () => assert.deepEqual(await page.getByTestId('tag-name').allTextContents(), ['Family', 'Home', 'Plumbing']));

    // a click on a chip filters the list by that tag, through the API's tag= filter
    await row(page, 'Fix the sink').getByTestId('task-tag').filter({ hasText: 'Home' }).click();
    await expectTitles(page, ['Fix the sink', 'Water the plants']);
    assert.match(page.url(), /tag=Home/);
    assert.deepEqual(await page.getByTestId('tag-filter-chip').allTextContents(), ['Home ×']);
    assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'tag-filter-chip', 'focus goes to the filter the chip made');
    const { data: tagged } = await api(tokenOf(user), 'GET', `${base}/tasks?tag=home`);
    assert.deepEqual(tagged.map((t) => t.title).sort(), ['Fix the sink', 'Water the plants']);
    // a second chip narrows it further (every named tag must be on the task)
    await row(page, 'Fix the sink').getByTestId('task-tag').filter({ hasText: 'Plumbing' }).click();
    await expectTitles(page, ['Fix the sink']);
    await shot(page, '70-tag-filter');
    // the filter survives a reload (it is in the URL)
    await page.reload();
    await expectTitles(page, ['Fix the sink']);
    await page.getByTestId('tag-filter-chip').filter({ hasText: 'Plumbing' }).click();
    await page.getByTestId('tag-filter-chip').filter({ hasText: 'Home' }).click();
    await expectTitles(page, ['Visit grandma', 'Call mum', 'Fix the sink', 'Water the plants']);
    assert.equal(await page.getByTestId('tag-filter').isVisible(), false);

    // rename in the tag panel: every task follows
    const home = page.getByTestId('tag-item').filter({ hasText: 'Home' });
    await home.getByTestId('tag-rename').click();
    await page.getByTestId('tag-rename-input').fill('House');
    await page.getByTestId('tag-rename-input').press('Enter');
    await eventually(async () => assert.deepEqual(await page.getByTestId('tag-name').allTextContents(), ['Family', 'House', 'Plumbing']));
    await eventually(async () => assert.deepEqual(await tagsOf(page, 'Water the plants'), ['House']));
    assert.deepEqual(await tagsOf(page, 'Fix the sink'), ['House', 'Plumbing']);

    // delete, after a confirmation: the tag comes off its tasks, the tasks stay
    await page.getByTestId('tag-item').filter({ hasText: 'Family' }).getByTestId('tag-delete').click();
    await page.getByTestId('tag-confirm-delete').click();
    await eventually(async () => assert.deepEqual(await page.getByTestId('tag-name').allTextContents(), ['House', 'Plumbing']));
    await eventually(async () => assert.deepEqual(await tagsOf(page, 'Visit grandma'), []));
    const { data: tags } = await api(tokenOf(user), 'GET', `${base}/tags`);
    assert.deepEqual(tags, [{ name: 'House', count: 2 }, { name: 'Plumbing', count: 1 }]);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('subtasks: add two, check one off, the parent shows 1/2; top-level only', async () => {
  const user = await signUpViaApi('subtasks');
  const base = `/api/${user.user_id}`;
  const { data: parent } = await api(tokenOf(user), 'POST', `${base}/tasks`, { title: 'Plan the trip' });
  await api(tokenOf(user), 'POST', `${base}/tasks`, { title: 'Renew passport' });
  const { context, page, problems } = await openAs(user);
  try {
    await openDetails(page);
    await openManage(page);
    await expectTitles(page, ['Renew passport', 'Plan the trip']);
    const trip = row(page, 'Plan the trip');
    assert.equal(await trip.getByTestId('task-progress').count(), 0, 'no progress without subtasks');

    await trip.getByTestId('task-add-subtask').click();
    const input = trip.getByTestId('subtask-title-input');
    assert.equal(await input.evaluate((el) => el === document.activeElement), true, 'the new subtask field gets focus');
    await input.fill('Book flights');
    await input.press('Enter');
    await eventually(async () => assert.deepEqual(await trip.getByTestId('subtask-title').allTextContents(), ['Book flights']));
    await input.fill('Pack bags');
    await input.press('Enter');
    await eventually(async () => assert.deepEqual(await trip.getByTestId('subtask-title').allTextContents(), ['Book flights', 'Pack bags']));
    assert.match(await trip.getByTestId('task-progress').textContent(), /^0\/2/);
    await input.press('Escape');
    assert.equal(await trip.getByTestId('subtask-form').count(), 0);

    // check one off, by keyboard
    await trip.getByTestId('subtask-item').filter({ hasText: 'Book flights' }).getByTestId('subtask-toggle').focus();
    await page.keyboard.press('Space');
    await eventually(async () => assert.match(await trip.getByTestId('task-progress').textContent(), /^1\/2 subtasks done$/));
    assert.equal(await page.evaluate(() => document.activeElement.closest('[data-testid="subtask-item"]').textContent), 'Book flights×', 'focus stays on its checkbox');
    assert.equal(await trip.getByTestId('subtask-item').filter({ hasText: 'Book flights' }).getByTestId('subtask-toggle').isChecked(), true);
    const { data: subs } = await api(tokenOf(user), 'GET', `${base}/tasks?parent_id=${parent.id}&sort=title`);
    assert.deepEqual(subs.map((s) => [s.title, s.completed, s.parent_id]), [['Book flights', true, parent.id], ['Pack bags', false, parent.id]]);
    await shot(page, '71-subtasks');

    // after a reload the subtasks are under their parent, not loose rows
    await page.reload();
    await expectTitles(page, ['Renew passport', 'Plan the trip']);
    await eventually(async () => assert.match(await row(page, 'Plan the trip').getByTestId('task-progress').textContent(), /^1\/2/));
    assert.equal(await page.getByTestId('task-count').textContent(), '(4)', 'the count is of every task that matches');

    // a search that finds only a subtask shows it as a row that names its parent
    await page.getByTestId('filter-q').fill('pack');
    await expectTitles(page, ['Pack bags']);
    await eventually(async () => assert.equal(await row(page, 'Pack bags').getByTestId('task-parent').textContent(), 'Subtask of “Plan the trip”'));
    assert.equal(await row(page, 'Pack bags').getByTestId('task-add-subtask').count(), 0, 'one level only');

    // top-level only: parent_id=null
    await page.getByTestId('filter-q').fill('');
    await page.getByTestId('filter-top-level').click();
    await expectTitles(page, ['Renew passport', 'Plan the trip']);
    assert.match(page.url(), /top=1/);
    await eventually(async () => assert.equal(await page.getByTestId('task-count').textContent(), '(2)'));
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('recurrence: repeat weekly, complete, the due date moves a week', async () => {
  const user = await signUpViaApi('repeat');
  const base = `/api/${user.user_id}`;
  const due = nextMonday9();
  const { data: task } = await api(tokenOf(user), 'POST', `${base}/tasks`, { title: 'Water the plants', due_date: due.toISOString() });
  await api(tokenOf(user), 'POST', `${base}/tasks`, {
    title: 'Gym', due_date: due.toISOString(), recurrence: { rule: 'FREQ=WEEKLY;BYDAY=MO,WE', timezone: 'UTC' },
  });
  const { context, page, problems } = await openAs(user);
  try {
    await openDetails(page);
    await openManage(page);
    await expectTitles(page, ['Gym', 'Water the plants']);
    // the rule in words
    assert.equal(await row(page, 'Gym').getByTestId('task-recurrence').textContent(), 'Repeats every Monday and Wednesday');

    // make it repeat weekly in the editor: the choice is named after the due date
    await row(page, 'Water the plants').getByTestId('task-edit').click();
    const form = page.getByTestId('task-edit-form');
    const repeat = form.getByTestId('edit-repeat');
    assert.equal(await repeat.locator('option[value="weekly"]').textContent(), 'Every week on Monday');
    await repeat.selectOption('weekly');
    assert.equal(await form.getByTestId('edit-basis-due').isChecked(), true, 'from the due date by default');
    await shot(page, '72-recurrence-editor');
    await form.getByTestId('edit-save').click();
    await eventually(async () => assert.equal(await row(page, 'Water the plants').getByTestId('task-recurrence').textContent(), 'Repeats every Monday'));
    const { data: saved } = await api(tokenOf(user), 'GET', `${base}/tasks/${task.id}`);
    assert.deepEqual(saved.recurrence, { rule: 'FREQ=WEEKLY', basis: 'due', timezone: 'UTC' });

    // completing moves it to the next week instead of completing it
    await row(page, 'Water the plants').getByTestId('task-toggle').click();
    const weekLater = new Date(due.getTime() + 7 * DAY);
    await eventually(async () => {
      const shown = await row(page, 'Water the plants').locator('[data-testid="task-due"] time').getAttribute('datetime');
      assert.equal(Date.parse(shown), weekLater.getTime());
    }, { what: 'the due date a week later' });
    assert.equal(await row(page, 'Water the plants').getByTestId('task-toggle').isChecked(), false);
    assert.match(await page.getByTestId('toast').textContent(), /next due Mon, \w+ \d+, \d{4}, 9:00\sAM/);
    const { data: moved } = await api(tokenOf(user), 'GET', `${base}/tasks/${task.id}`);
    assert.equal(Date.parse(moved.due_date), weekLater.getTime());
    assert.equal(moved.completed, false);
    assert.equal(moved.completed_at, null);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('recurrence in the new-task form: quick choices, from completion, a custom rule, and what is refused', async () => {
  const user = await signUpViaApi('repeat-new');
  const base = `/api/${user.user_id}`;
  const { context, page, problems } = await openAs(user);
  try {
    await openDetails(page);
    await openManage(page);
    // a repeating task needs a due date: said before anything is sent
    await page.getByTestId('new-title').fill('Pay rent');
    await page.getByTestId('new-repeat').selectOption('month-end');
    await page.getByTestId('add-task').click();
    await eventually(async () => assert.match(await page.locator('#task-form [data-error-for="recurrence"]').textContent(), /needs a due date/));
    assert.deepEqual(await titles(page), []);

    await fillDue(page, 'new', new Date(Date.now() + 3 * DAY).toISOString().slice(0, 16));
    await page.getByTestId('new-basis-completion').check();
    await page.getByTestId('add-task').click();
    await expectTitles(page, ['Pay rent']);
    assert.equal(await row(page, 'Pay rent').getByTestId('task-recurrence').textContent(), 'Repeats every month on the last day, counted from completion');
    const { data: [rent] } = await api(tokenOf(user), 'GET', `${base}/tasks`);
    assert.deepEqual(rent.recurrence, { rule: 'FREQ=MONTHLY;BYMONTHDAY=-1', basis: 'completion', timezone: 'UTC' });
    assert.equal(await page.getByTestId('new-repeat').inputValue(), '', 'the form is cleared for the next task');

    // a custom rule; the API's 422 on a rule it does not take is shown next to Repeat
    await page.getByTestId('new-title').fill('Team lunch');
    await fillDue(page, 'new', new Date(Date.now() + 3 * DAY).toISOString().slice(0, 16));
    await page.getByTestId('new-repeat').selectOption('custom');
    await page.getByTestId('new-rrule').fill('FREQ=HOURLY');
    await page.getByTestId('add-task').click();
    await eventually(async () => assert.notEqual(await page.locator('#task-form [data-error-for="recurrence"]').textContent(), ''));
    await page.getByTestId('new-rrule').fill('FREQ=MONTHLY;BYDAY=-1FR');
    await page.getByTestId('add-task').click();
    await expectTitles(page, ['Team lunch', 'Pay rent']);
    assert.equal(await row(page, 'Team lunch').getByTestId('task-recurrence').textContent(), 'Repeats every month on the last Friday');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('screenshots of tags, subtasks and recurrence, on a desktop and a phone', async () => {
  const user = await signUpViaApi('organise-shot', 'Ada Lovelace', 'ada.organised@example.com');
  const token = tokenOf(user);
  const base = `/api/${user.user_id}`;
  const cat = {};
  for (const [name, color] of [['Work', '#2563EB'], ['Home', '#16A34A']]) {
    cat[name] = (await api(token, 'POST', `${base}/categories`, { name, color })).data.id;
  }
  const at = (days, hour) => { const d = new Date(Date.now() + days * DAY); d.setUTCHours(hour, 0, 0, 0); return d.toISOString(); };
  const post = async (body) => (await api(token, 'POST', `${base}/tasks`, body)).data;
  await post({ title: 'Pay rent', priority: 'high', category_id: cat.Home, tags: ['Bills'], due_date: at(5, 9), recurrence: { rule: 'FREQ=MONTHLY;BYMONTHDAY=-1', timezone: 'UTC' } });
  await post({ title: 'Water the plants', category_id: cat.Home, tags: ['Garden'], due_date: at(1, 8), recurrence: { rule: 'FREQ=WEEKLY;BYDAY=MO,TH', timezone: 'UTC' } });
  const launch = await post({ title: 'Launch the new website', priority: 'high', category_id: cat.Work, tags: ['Launch', 'Web'], due_date: at(4, 16) });
  for (const [title, completed] of [['Write the copy', true], ['Check links on a phone', true], ['Point the domain', false], ['Tell the newsletter', false]]) {
    await post({ title, parent_id: launch.id, completed });
  }
  await post({ title: 'Stand-up notes', category_id: cat.Work, tags: ['Meetings'], due_date: at(1, 9), recurrence: { rule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR', timezone: 'UTC' } });

  const { context, page, problems } = await openAs(user, { width: 1280, height: 1040 });
  try {
    await openDetails(page);
    await openManage(page);
    await expectTitles(page, ['Stand-up notes', 'Launch the new website', 'Water the plants', 'Pay rent']);
    await eventually(async () => assert.match(await row(page, 'Launch the new website').getByTestId('task-progress').textContent(), /^2\/4/));
    await page.getByTestId('tag-name').first().waitFor();
    await page.mouse.move(0, 0);
    const overview = join(ARTIFACTS, '80-organised.png');
    await page.screenshot({ path: overview });
    saveForReadme(overview, 'screenshot-organised.png');

    await row(page, 'Pay rent').getByTestId('task-edit').click();
    await page.getByTestId('task-edit-form').waitFor();
    const editing = page.locator('li.is-editing');
    await editing.scrollIntoViewIfNeeded();
    await page.evaluate(() => document.activeElement.blur());
    await page.mouse.move(0, 0);
    const editor = join(ARTIFACTS, '81-recurrence-editor.png');
    await editing.screenshot({ path: editor });
    saveForReadme(editor, 'screenshot-recurrence.png');
    await page.getByTestId('edit-cancel').click();
  } finally {
    await context.close();
  }

  const phone = await openAs(user, PHONE, '#tag=Launch');
  try {
    await expectTitles(phone.page, ['Launch the new website']);
    await eventually(async () => assert.match(await row(phone.page, 'Launch the new website').getByTestId('task-progress').textContent(), /^2\/4/));
    await noHorizontalScroll(phone.page);
    await row(phone.page, 'Launch the new website').scrollIntoViewIfNeeded();
    const file = join(ARTIFACTS, '82-phone-subtasks.png');
    await phone.page.screenshot({ path: file });
    saveForReadme(file, 'screenshot-phone.png');
    // the editor with tags and recurrence fits a phone
    await row(phone.page, 'Launch the new website').getByTestId('task-edit').click();
    await phone.page.getByTestId('task-edit-form').waitFor();
    await phone.page.getByTestId('edit-repeat').selectOption('custom');
    await noHorizontalScroll(phone.page);
    await shot(phone.page, '83-phone-editor');
    assert.deepEqual(phone.problems, []);
  } finally {
    await phone.context.close();
  }
  assert.deepEqual(problems, []);
});
