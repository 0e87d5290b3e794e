// The web app as a daily planner: truthful completing, a real undo of delete, quick add, the
// views, dates in words, the keyboard, the phone, and accessibility checked by axe-core.
// Run through e2e/run.sh planner.spec.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  useBrowser, openAs, signUpViaApi, api, tokenOf, expectTitles, row, eventually, shot, checkAccessibility,
  noHorizontalScroll, PHONE, ARTIFACTS, saveForReadme,
} from './lib.mjs';

const PHONE_SIZE = PHONE;

/** Controls on screen smaller than 44 px either way (a radio or checkbox counts by its label). */
function smallTargets(page) {
  return page.evaluate(() => Array.from(document.querySelectorAll('#app-view button, #app-view input, #app-view select, #app-view a, #app-view summary, .topbar button'))
      .filter((el) => el.offsetParent !== null && getComputedStyle(el).visibility !== 'hidden')
      // a radio or checkbox drawn by its label is hit through the label
      .map((el) => ({ el, r: (el.type === 'radio' || el.type === 'checkbox') && el.labels && el.labels.length && !el.classList.contains('task-toggle') ? el.labels[0].getBoundingClientRect() : el.getBoundingClientRect() }))
      .filter(({ r }) => r.width > 0 && (r.width < 44 || r.height < 44))
      .map(({ el, r }) => `${el.tagName}.${el.className}[${el.dataset.testid || el.id || el.textContent.trim().slice(0, 20)}] ${Math.round(r.width)}×${Math.round(r.height)}`));
}

useBrowser();

test('stale tab: ticking a task another tab completed keeps it completed, with a notice', async () => {
  const user = await signUpViaApi('stale');
  const base = `/api/${user.user_id}`;
  const { data: task } = await api(tokenOf(user), 'POST', `${base}/tasks`, { title: 'Water the plants' });
  const a = await openAs(user);
  // page B hears nothing live: it stays as stale as a tab on a flaky network
  const b = await openAs(user, undefined, '', { setup: (ctx) => ctx.context.route('**/events?**', (r) => r.abort()) });
  try {
    await expectTitles(a.page, ['Water the plants']);
    await expectTitles(b.page, ['Water the plants']);
    await row(a.page, 'Water the plants').getByTestId('task-toggle').click();
    await eventually(async () => assert.equal((await api(tokenOf(user), 'GET', `${base}/tasks/${task.id}`)).data.completed, true));
    assert.equal(await row(b.page, 'Water the plants').getByTestId('task-toggle').isChecked(), false, 'B is stale');

    await row(b.page, 'Water the plants').getByTestId('task-toggle').click();
    const toast = b.page.getByTestId('toast');
    await toast.waitFor({ state: 'visible' });
    assert.match(await toast.textContent(), /already completed on another device/);
    assert.equal(await row(b.page, 'Water the plants').getByTestId('task-toggle').isChecked(), true);
    const { data: after } = await api(tokenOf(user), 'GET', `${base}/tasks/${task.id}`);
    assert.equal(after.completed, true, 'the stale click did not re-open it');

    // a task edited elsewhere is not ticked blindly: B shows the latest and says so
    const { data: other } = await api(tokenOf(user), 'POST', `${base}/tasks`, { title: 'Read a book' });
    await b.page.reload();
    await expectTitles(b.page, ['Read a book', 'Water the plants']);
    await api(tokenOf(user), 'PATCH', `${base}/tasks/${other.id}`, { title: 'Read two books' });
    await row(b.page, 'Read a book').getByTestId('task-toggle').click();
    await eventually(async () => assert.match(await toast.textContent(), /changed on another device, so nothing was changed/));
    await expectTitles(b.page, ['Read two books', 'Water the plants']);
    assert.equal((await api(tokenOf(user), 'GET', `${base}/tasks/${other.id}`)).data.completed, false);
    await shot(b.page, 'planner-stale-tab');
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test('delete then undo restores the same task (same id, same place); the DELETE goes when the window closes', async () => {
  const user = await signUpViaApi('undo');
  const base = `/api/${user.user_id}`;
  for (const title of ['First', 'Second', 'Third']) await api(tokenOf(user), 'POST', `${base}/tasks`, { title });
  const { data: before } = await api(tokenOf(user), 'GET', `${base}/tasks`);
  const second = before.find((t) => t.title === 'Second');
  const { context, page, problems } = await openAs(user);
  try {
    await expectTitles(page, ['Third', 'Second', 'First']);
    const deletes = [];
    page.on('request', (r) => { if (r.method() === 'DELETE') deletes.push(r.url()); });
    await row(page, 'Second').getByTestId('task-delete').click();
    await expectTitles(page, ['Third', 'First']);
    assert.deepEqual(deletes, [], 'nothing is sent while Undo is offered');
    await page.getByTestId('toast-undo').click();
    await expectTitles(page, ['Third', 'Second', 'First']);
    const { data: again } = await api(tokenOf(user), 'GET', `${base}/tasks/${second.id}`);
    assert.equal(again.id, second.id);
    assert.equal(again.created_at, second.created_at);
    assert.equal(await page.locator(`[data-testid="task-item"][data-id="${second.id}"]`).count(), 1);

    // dismissing the toast closes the window: now it is deleted
    await row(page, 'Second').getByTestId('task-delete').click();
    await page.getByTestId('toast').getByRole('button', { name: 'Dismiss' }).click();
    await eventually(async () => {
      const { data } = await api(tokenOf(user), 'GET', `${base}/tasks`);
      assert.deepEqual(data.map((t) => t.title), ['Third', 'First']);
    });
    assert.equal(deletes.length, 1);

    // closing the page with a delete still undoable sends it (fetch keepalive on pagehide)
    await row(page, 'First').getByTestId('task-delete').click();
    await expectTitles(page, ['Third']);
    await page.close({ runBeforeUnload: true });
    await eventually(async () => {
      const { data } = await api(tokenOf(user), 'GET', `${base}/tasks`);
      assert.deepEqual(data.map((t) => t.title), ['Third']);
    });
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

const DAY = 86400000;
/** Local (the context's UTC) instants: `days` from today at `h:m`, or the day's end (a date-only due date). */
const at = (days, h, m = 0) => { const d = new Date(); d.setDate(d.getDate() + days); d.setHours(h, m, 0, 0); return d.toISOString(); };
const endOf = (days) => { const d = new Date(); d.setDate(d.getDate() + days); d.setHours(23, 59, 59, 999); return d.toISOString(); };

test('quick add: "Pay rent tomorrow 9am #Home !high" shows what it understood, then creates that task', async () => {
  const user = await signUpViaApi('quick');
  const base = `/api/${user.user_id}`;
  const { data: home } = await api(tokenOf(user), 'POST', `${base}/categories`, { name: 'Home', color: '#16A34A' });
  const { context, page, problems } = await openAs(user);
  try {
    await page.getByTestId('view-category').filter({ hasText: 'Home' }).waitFor();
    const line = page.getByTestId('new-title');
    await line.fill('Pay rent tomorrow 9am #Home !high');
    // understood before Enter
    assert.equal(await page.getByTestId('quick-date').textContent(), 'Tomorrow 9:00 AM');
    assert.equal(await page.getByTestId('quick-category').textContent(), 'Home');
    assert.equal(await page.getByTestId('quick-priority').textContent(), 'High priority');
    await shot(page, 'planner-quick-add');
    await line.press('Enter');
    await expectTitles(page, ['Pay rent']);
    assert.equal(await line.inputValue(), '');
    const { data } = await api(tokenOf(user), 'GET', `${base}/tasks`);
    assert.equal(data.length, 1);
    assert.equal(data[0].title, 'Pay rent');
    assert.equal(data[0].priority, 'high');
    assert.equal(data[0].category_id, home.id);
    assert.equal(Date.parse(data[0].due_date), Date.parse(at(1, 9)));
    assert.equal(await row(page, 'Pay rent').getByTestId('task-due').textContent(), 'Due Tomorrow 9:00 AM');

    // recurrence words and a date-only due date; a # that is no category is a tag
    await line.fill('Gym every monday #fitness');
    assert.match(await page.getByTestId('quick-repeat').textContent(), /^Repeats every Monday/);
    await line.press('Enter');
    await expectTitles(page, ['Gym', 'Pay rent']);
    const { data: gym } = await api(tokenOf(user), 'GET', `${base}/tasks?q=Gym`);
    assert.deepEqual(gym[0].recurrence, { rule: 'FREQ=WEEKLY;BYDAY=MO', basis: 'due', timezone: 'UTC' });
    assert.deepEqual(gym[0].tags, ['fitness']);
    const due = new Date(gym[0].due_date);
    assert.equal(due.getUTCDay(), 1);
    assert.equal(gym[0].due_date.slice(11, 23), '23:59:59.999', 'date-only: the end of that day');
    assert.equal(gym[0].category_id, null);

    // only a date: the title is still needed, said in our words
    await line.fill('tomorrow !high');
    await line.press('Enter');
    assert.match(await page.locator('#new-title-error').textContent(), /what the task is/);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('views: Today has overdue and due today, not next week; Upcoming groups by day; categories with counts', async () => {
  const user = await signUpViaApi('views');
  const base = `/api/${user.user_id}`;
  const post = async (b) => (await api(tokenOf(user), 'POST', `${base}/tasks`, b)).data;
  const { data: work } = await api(tokenOf(user), 'POST', `${base}/categories`, { name: 'Work', color: '#2563EB' });
  await post({ title: 'Overdue report', due_date: endOf(-3), category_id: work.id });
  await post({ title: 'Due today', due_date: at(0, 23, 30) });
  await post({ title: 'Next week thing', due_date: endOf(7) });
  await post({ title: 'Tomorrow call', due_date: at(1, 10), category_id: work.id });
  await post({ title: 'No date at all' });
  await post({ title: 'Done today', due_date: endOf(0), completed: true });
  const { context, page, problems } = await openAs(user, undefined, '#view=today');
  try {
    // what is left to do: the task done today is not in Today
    await expectTitles(page, ['Overdue report', 'Due today']);
    assert.equal(await page.getByTestId('view-title').textContent(), 'Today');
    assert.equal(await page.getByTestId('view-today').getAttribute('aria-current'), 'page');
    assert.equal(await row(page, 'Overdue report').getByTestId('task-overdue').textContent(), '3 days overdue');
    assert.equal(await row(page, 'Overdue report').getByTestId('task-due').textContent(), 'Due Nov 29'.replace('Nov 29', await page.evaluate(() => new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' }).format(new Date(Date.now() - 3 * 86400000)))));
    assert.equal(await row(page, 'Due today').getByTestId('task-due').textContent(), 'Due Today 11:30 PM');
    assert.equal(await page.getByTestId('completed-toggle').count(), 0);
    // counts of open tasks per view
    await eventually(async () => assert.equal(await page.locator('[data-count="today"]').textContent(), '2'));
    assert.equal(await page.locator('[data-count="all"]').textContent(), '5');
    assert.equal(await page.locator(`[data-count="cat:${work.id}"]`).textContent(), '2');
    await checkAccessibility(page, 'Today');
    await shot(page, 'planner-today');

    await page.getByTestId('view-upcoming').click();
    await expectTitles(page, ['Due today', 'Tomorrow call', 'Next week thing']);
    const heads = await page.getByTestId('day-heading').allTextContents();
    assert.equal(heads.length, 3);
    assert.match(heads[0], /^Today · /);
    assert.match(heads[1], /^Tomorrow · /);
    assert.match(page.url(), /view=upcoming/);
    await checkAccessibility(page, 'Upcoming');

    await page.getByTestId('view-all').click();
    await expectTitles(page, ['No date at all', 'Tomorrow call', 'Next week thing', 'Due today', 'Overdue report', 'Done today']);
    // in All, the completed one is folded away at the end, and unfolds on request (remembered)
    assert.equal(await row(page, 'Done today').isVisible(), false);
    await page.getByTestId('completed-toggle').click();
    assert.equal(await row(page, 'Done today').isVisible(), true);
    assert.equal(await page.getByTestId('completed-toggle').getAttribute('aria-expanded'), 'true');
    await page.reload();
    await expectTitles(page, ['No date at all', 'Tomorrow call', 'Next week thing', 'Due today', 'Overdue report', 'Done today']);
    assert.equal(await row(page, 'Done today').isVisible(), true);
    await page.getByTestId('completed-toggle').click();
    assert.equal(await row(page, 'Done today').isVisible(), false);
    await checkAccessibility(page, 'All tasks');

    await page.getByTestId('view-category').filter({ hasText: 'Work' }).click();
    await expectTitles(page, ['Tomorrow call', 'Overdue report']);
    assert.equal(await page.getByTestId('view-title').textContent(), 'Work');
    await checkAccessibility(page, 'the Work category');

    // the editor: quick picks and a date-only due date; default priority shows no badge
    assert.equal(await row(page, 'Tomorrow call').getByTestId('task-priority').count(), 0);
    await row(page, 'Tomorrow call').getByTestId('task-edit').click();
    const form = page.getByTestId('task-edit-form');
    await checkAccessibility(page, 'the editor');
    await form.getByTestId('edit-due-next-week').click();
    await form.getByTestId('edit-due-time').fill('');
    await form.getByTestId('edit-save').click();
    await eventually(async () => assert.match(await row(page, 'Tomorrow call').getByTestId('task-due').textContent(), /^Due (Monday|Tomorrow|Dec|Jan|[A-Z][a-z]{2} \d)/));
    const { data: moved } = await api(tokenOf(user), 'GET', `${base}/tasks?q=Tomorrow`);
    const d = new Date(moved[0].due_date);
    assert.equal(d.getUTCDay(), 1, 'next week starts on Monday');
    assert.equal(moved[0].due_date.slice(11, 23), '23:59:59.999');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('keyboard: ? shows the shortcuts; j/k move, x completes, e edits, # picks the category', async () => {
  const user = await signUpViaApi('keys');
  const base = `/api/${user.user_id}`;
  for (const title of ['Alpha', 'Beta', 'Gamma']) await api(tokenOf(user), 'POST', `${base}/tasks`, { title });
  const { context, page, problems } = await openAs(user);
  try {
    await expectTitles(page, ['Gamma', 'Beta', 'Alpha']);
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await page.keyboard.press('?');
    await page.getByTestId('shortcuts').waitFor({ state: 'visible' });
    await checkAccessibility(page, 'the shortcut sheet');
    await page.keyboard.press('Escape');
    await page.getByTestId('shortcuts').waitFor({ state: 'hidden' });
    const focusedTitle = () => page.evaluate(() => document.activeElement.closest('li[data-id]')?.querySelector('[data-testid="task-title"]').textContent);
    await page.keyboard.press('j');
    assert.equal(await focusedTitle(), 'Gamma');
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    assert.equal(await focusedTitle(), 'Alpha');
    await page.keyboard.press('k');
    assert.equal(await focusedTitle(), 'Beta');
    await page.keyboard.press('x');
    await eventually(async () => assert.equal((await api(tokenOf(user), 'GET', `${base}/tasks?q=Beta`)).data[0].completed, true));
    await page.keyboard.press('e');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'edit-title');
    await page.keyboard.press('Escape');
    await page.keyboard.press('#');
    assert.equal(await page.evaluate(() => document.activeElement.name), 'category_id');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('phone (390×844): the first task is above the fold, adding is one tap away, targets are 44 px', async () => {
  const user = await signUpViaApi('phone');
  const base = `/api/${user.user_id}`;
  await api(tokenOf(user), 'POST', `${base}/categories`, { name: 'Home', color: '#16A34A' });
  for (const [title, days] of [['Book the vet', 4], ['Call the bank', 1], ['Water the plants', 0]]) {
    await api(tokenOf(user), 'POST', `${base}/tasks`, { title, due_date: endOf(days), priority: days === 1 ? 'high' : 'medium' });
  }
  const { context, page, problems } = await openAs(user, PHONE_SIZE);
  try {
    await expectTitles(page, ['Water the plants', 'Call the bank', 'Book the vet']);
    const first = await row(page, 'Water the plants').boundingBox();
    assert.ok(first && first.y + first.height <= 844, `first task inside the first screen: ${JSON.stringify(first)}`);
    await checkAccessibility(page, 'the phone list');
    await shot(page, 'planner-phone');
    // every control on screen a finger can hit
    assert.deepEqual(await smallTargets(page), [], 'controls under 44 px');
    // the menu of views
    await page.getByTestId('views-toggle').click();
    await page.getByTestId('view-today').click();
    await expectTitles(page, ['Water the plants']);
    // the floating button opens the quick add
    await page.getByTestId('fab').click();
    await page.getByTestId('new-title').fill('Buy stamps tomorrow');
    await page.getByTestId('new-title').press('Enter');
    await eventually(async () => assert.equal((await api(tokenOf(user), 'GET', `${base}/tasks?q=stamps`)).data.length, 1));
    // the editor fits the width
    await page.getByTestId('view-all').evaluate((a) => a.click());
    await expectTitles(page, ['Buy stamps', 'Water the plants', 'Call the bank', 'Book the vet']);
    await row(page, 'Call the bank').getByTestId('task-edit').click();
    await noHorizontalScroll(page);
    assert.deepEqual(await smallTargets(page), [], 'controls of the editor under 44 px');
    const formBox = await page.getByTestId('task-edit-form').boundingBox();
    assert.ok(formBox.x >= 0 && formBox.x + formBox.width <= 390, `edit form within 390 px: ${JSON.stringify(formBox)}`);
    await checkAccessibility(page, 'the phone editor');
    await shot(page, 'planner-phone-edit');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('screenshots of Today, Upcoming and the phone for the README', async () => {
  const user = await signUpViaApi('planner-shot', 'Ada Lovelace', 'ada.planner@example.com');
  const base = `/api/${user.user_id}`;
  const cat = {};
  for (const [name, color] of [['Work', '#2563EB'], ['Home', '#16A34A'], ['Errands', '#D97706']]) {
    cat[name] = (await api(tokenOf(user), 'POST', `${base}/categories`, { name, color })).data.id;
  }
  const post = (b) => api(tokenOf(user), 'POST', `${base}/tasks`, b);
  await post({ title: 'Pay the electricity bill', priority: 'high', category_id: cat.Home, due_date: endOf(-2), description: 'Reference number is on the last letter.' });
  await post({ title: 'Review pull request #42', category_id: cat.Work, due_date: at(0, 15), tags: ['Code review'] });
  await post({ title: 'Stand-up notes', category_id: cat.Work, due_date: at(0, 9, 30), recurrence: { rule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR', timezone: 'UTC' } });
  await post({ title: 'Water the plants', category_id: cat.Home, due_date: endOf(0), recurrence: { rule: 'FREQ=WEEKLY;BYDAY=MO,TH', timezone: 'UTC' } });
  await post({ title: 'Buy birthday present for Sam', category_id: cat.Errands, due_date: endOf(1), tags: ['Family'] });
  await post({ title: 'Prepare quarterly report', priority: 'high', category_id: cat.Work, due_date: at(2, 17), description: 'Revenue, churn and hiring numbers for Q3.' });
  await post({ title: 'Renew passport', category_id: cat.Errands, due_date: endOf(9) });
  await post({ title: 'Book dentist appointment', priority: 'low', category_id: cat.Home, due_date: endOf(0), completed: true });

  const desk = await openAs(user, { width: 1280, height: 760 }, '#view=today');
  try {
    await expectTitles(desk.page, ['Pay the electricity bill', 'Stand-up notes', 'Review pull request #42', 'Water the plants']);
    await eventually(async () => assert.equal(await desk.page.locator('[data-count="today"]').textContent(), '4'));
    await desk.page.mouse.move(0, 0);
    const today = join(ARTIFACTS, '80-today.png');
    await desk.page.screenshot({ path: today });
    saveForReadme(today, 'screenshot-today.png');

    await desk.page.getByTestId('view-upcoming').click();
    await eventually(async () => assert.equal((await desk.page.getByTestId('day-heading').count()) >= 4, true));
    await desk.page.getByTestId('new-title').fill('Call mum tomorrow 5pm #Home !high');
    await desk.page.mouse.move(0, 0);
    const upcoming = join(ARTIFACTS, '81-upcoming.png');
    await desk.page.screenshot({ path: upcoming });
    saveForReadme(upcoming, 'screenshot-upcoming.png');
    assert.deepEqual(desk.problems, []);
  } finally {
    await desk.context.close();
  }

  const phone = await openAs(user, PHONE_SIZE, '#view=today');
  try {
    await expectTitles(phone.page, ['Pay the electricity bill', 'Stand-up notes', 'Review pull request #42', 'Water the plants']);
    const file = join(ARTIFACTS, '82-phone-today.png');
    await phone.page.screenshot({ path: file });
    saveForReadme(file, 'screenshot-phone-today.png');
    assert.deepEqual(phone.problems, []);
  } finally {
    await phone.context.close();
  }
});

test('an edit saved over a change made elsewhere is refused first (If-Match), then applies only what was changed', async () => {
  const user = await signUpViaApi('edit-conflict');
  const base = `/api/${user.user_id}`;
  const { data: task } = await api(tokenOf(user), 'POST', `${base}/tasks`, { title: 'Plan the party', priority: 'low' });
  const { context, page, problems } = await openAs(user, undefined, '', { setup: (ctx) => ctx.context.route('**/events?**', (r) => r.abort()) });
  try {
    await expectTitles(page, ['Plan the party']);
    await row(page, 'Plan the party').getByTestId('task-edit').click();
    const form = page.getByTestId('task-edit-form');
    await form.getByTestId('edit-description').fill('Balloons and cake');
    await page.waitForTimeout(200); // the editor has read its version
    await api(tokenOf(user), 'PATCH', `${base}/tasks/${task.id}`, { title: 'Plan the surprise party' });
    await form.getByTestId('edit-save').click();
    await eventually(async () => assert.match(await form.locator('[data-error-for="_form"]').textContent(), /changed on another device while you were editing/));
    assert.equal(await form.getByTestId('edit-description').inputValue(), 'Balloons and cake', 'what was typed is kept');
    assert.equal((await api(tokenOf(user), 'GET', `${base}/tasks/${task.id}`)).data.description, null, 'nothing was written');
    await form.getByTestId('edit-save').click();
    await expectTitles(page, ['Plan the surprise party']);
    const { data: after } = await api(tokenOf(user), 'GET', `${base}/tasks/${task.id}`);
    assert.equal(after.title, 'Plan the surprise party', 'the other change is kept: only the description was sent');
    assert.equal(after.description, 'Balloons and cake');
    assert.equal(after.priority, 'low');
    assert.deepEqual(problems.filter((p) => !/ERR_FAILED|events/.test(p)), []);
  } finally {
    await context.close();
  }
});
