// End-to-end tests of the web app at /app/, driving Debian's Chromium.
// Run through e2e/run.sh, or by hand: BASE_URL=http://127.0.0.1:8000 node --test app.spec.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  APP_URL, ARTIFACTS, PASSWORD, DESKTOP, PHONE, useBrowser, saveForReadme, newPage, shot, titles,
  expectTitles, row, signUpInUi, addTaskInUi, localInput, api, signUpViaApi, openAs, noHorizontalScroll,
  eventually, uniqueEmail, openDetails, openManage,
} from './lib.mjs';

useBrowser();

// ---------------------------------------------------------------------------
// tests
// ---------------------------------------------------------------------------
test('main flow: sign up, add, complete, filter, edit, delete, reload, log out', async (t) => {
  const { context, page, problems } = await newPage();
  const email = uniqueEmail('flow');
  try {
    await t.test('app shell loads and asks to log in', async () => {
      const res = await page.goto(APP_URL);
      assert.equal(res.status(), 200);
      await page.getByTestId('login-form').waitFor({ state: 'visible' });
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Log in');
      await shot(page, '01-login');
    });

    await t.test('sign up', async () => {
      await signUpInUi(page, { name: 'Ada Lovelace', email });
      await eventually(async () => assert.match(await page.getByTestId('account-name').textContent(), new RegExp(email.replace(/[.]/g, '\\.'))));
      await page.getByTestId('empty-state').waitFor({ state: 'visible' });
      assert.match(await page.getByTestId('empty-state').textContent(), /No tasks yet/);
    });

    await t.test('add three tasks', async () => {
      await addTaskInUi(page, { title: 'Buy milk', priority: 'high', due: localInput(2) });
      await addTaskInUi(page, { title: 'Write report', description: 'Numbers for Q3', priority: 'medium' });
      await addTaskInUi(page, { title: 'Call plumber', priority: 'low', due: localInput(-1) });
      await expectTitles(page, ['Call plumber', 'Write report', 'Buy milk']);
      assert.equal(await page.getByTestId('task-count').textContent(), '(3)');
      // the form is ready for the next one
      assert.equal(await page.getByTestId('new-title').inputValue(), '');
      // overdue task stands out, the others do not
      await row(page, 'Call plumber').getByTestId('task-overdue').waitFor({ state: 'visible' });
      assert.match(await row(page, 'Call plumber').getAttribute('class'), /is-overdue/);
      assert.equal(await row(page, 'Buy milk').getByTestId('task-overdue').count(), 0);
      assert.equal(await row(page, 'Buy milk').getByTestId('task-priority').textContent(), 'High');
      assert.equal(await row(page, 'Write report').getByTestId('task-description').textContent(), 'Numbers for Q3');
      await shot(page, '02-three-tasks');
    });

    await t.test('complete one with one click', async () => {
      const toggle = row(page, 'Buy milk').getByTestId('task-toggle');
      await toggle.click();
      await eventually(async () => assert.match(await row(page, 'Buy milk').getAttribute('class'), /is-done/), { what: 'task marked done' });
      assert.equal(await row(page, 'Buy milk').getByTestId('task-toggle').isChecked(), true);
      await shot(page, '03-completed-one');
    });

    await t.test('filter to active: the completed task disappears', async () => {
      await page.getByTestId('filter-active').click();
      await expectTitles(page, ['Call plumber', 'Write report']);
      assert.equal(await page.getByTestId('task-count').textContent(), '(2)');
      assert.match(page.url(), /status=active/);
      await page.getByTestId('filter-completed').click();
      await expectTitles(page, ['Buy milk']);
      await page.getByTestId('filter-active').click();
      await expectTitles(page, ['Call plumber', 'Write report']);
      await shot(page, '04-filter-active');
    });

    await t.test('edit a title in place', async () => {
      await row(page, 'Write report').getByTestId('task-edit').click();
      const form = page.getByTestId('task-edit-form');
      await form.waitFor({ state: 'visible' });
      const input = form.getByTestId('edit-title');
      assert.equal(await input.inputValue(), 'Write report');
      assert.equal(await input.evaluate((el) => el === document.activeElement), true, 'the title field gets focus');
      await input.fill('Write quarterly report');
      await input.press('Enter');
      await expectTitles(page, ['Call plumber', 'Write quarterly report']);
      assert.equal(await page.getByTestId('task-edit-form').count(), 0);
      // description and priority were kept
      assert.equal(await row(page, 'Write quarterly report').getByTestId('task-description').textContent(), 'Numbers for Q3');
      await shot(page, '05-edited');
    });

    await t.test('delete one, undo, delete again', async () => {
      await row(page, 'Call plumber').getByTestId('task-delete').click();
      await expectTitles(page, ['Write quarterly report']);
      const toast = page.getByTestId('toast');
      await toast.waitFor({ state: 'visible' });
      assert.match(await toast.textContent(), /Deleted “Call plumber”/);
      await page.getByTestId('toast-undo').click();
      await expectTitles(page, ['Call plumber', 'Write quarterly report']);
      await row(page, 'Call plumber').getByTestId('task-delete').click();
      await expectTitles(page, ['Write quarterly report']);
      await shot(page, '06-deleted');
    });

    await t.test('reload keeps the login and the state', async () => {
      await page.reload();
      await page.getByTestId('app-view').waitFor({ state: 'visible' });
      await expectTitles(page, ['Write quarterly report']); // still filtered to active
      assert.equal(await page.locator('#status-active').isChecked(), true);
      await page.getByTestId('filter-all').click();
      await expectTitles(page, ['Write quarterly report', 'Buy milk']);
      assert.equal(await row(page, 'Buy milk').getByTestId('task-toggle').isChecked(), true);
      assert.equal(await row(page, 'Write quarterly report').getByTestId('task-toggle').isChecked(), false);
      // the server agrees
      const auth = JSON.parse(await page.evaluate(() => localStorage.getItem('taskapi.auth')));
      const { data, res } = await api(auth.token, 'GET', `/api/${auth.user_id}/tasks`);
      assert.equal(res.headers.get('x-total-count'), '2');
      assert.deepEqual(data.map((x) => [x.title, x.completed]).sort(), [['Buy milk', true], ['Write quarterly report', false]]);
      await shot(page, '07-after-reload');
    });

    await t.test('log out, and stay logged out after a reload', async () => {
      await page.getByTestId('logout').click();
      await page.getByTestId('login-form').waitFor({ state: 'visible' });
      assert.equal(await page.getByTestId('app-view').isVisible(), false);
      assert.equal(await page.evaluate(() => localStorage.getItem('taskapi.auth')), null);
      await page.reload();
      await page.getByTestId('login-form').waitFor({ state: 'visible' });
      await shot(page, '08-logged-out');
    });

    await t.test('log back in', async () => {
      await page.locator('#login-email').fill(email.toUpperCase());
      await page.locator('#login-password').fill(PASSWORD);
      await page.getByTestId('login-submit').click();
      await page.getByTestId('app-view').waitFor({ state: 'visible' });
      await expectTitles(page, ['Write quarterly report', 'Buy milk']);
    });

    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('API errors are shown next to what caused them', async (t) => {
  const { context, page, problems } = await newPage();
  try {
    const existing = await signUpViaApi('taken');
    await page.goto(APP_URL);
    await page.getByTestId('show-signup').click();

    await t.test('422 from signup: message next to the field named by loc[1]', async () => {
      await page.locator('#signup-email').fill('not-an-email');
      await page.locator('#signup-password').fill('short');
      await page.getByTestId('signup-submit').click();
      await eventually(async () => {
        assert.notEqual(await page.locator('#signup-password-error').textContent(), '');
        assert.notEqual(await page.locator('#signup-email-error').textContent(), '');
      }, { what: 'field errors' });
      assert.equal(await page.locator('#signup-password').getAttribute('aria-invalid'), 'true');
      // our words, not the API's ("String should have at least 8 characters")
      assert.equal(await page.locator('#signup-password-error').textContent(), 'Use at least 8 characters for your password — a short phrase works well.');
      assert.equal(await page.locator('#signup-email-error').textContent(), 'Enter an email address like name@example.com.');
      assert.match(await page.locator('#signup-password').getAttribute('aria-describedby'), /signup-password-error/);
      await shot(page, '10-signup-422');
    });

    await t.test('409 from signup: an account with this email exists, said next to the email', async () => {
      await page.locator('#signup-email').fill(existing.email);
      await page.locator('#signup-password').fill(PASSWORD);
      await page.getByTestId('signup-submit').click();
      await eventually(async () => assert.match(await page.locator('#signup-email-error').textContent(), /There is already an account with this email/));
      assert.equal(await page.locator('#signup-password-error').textContent(), '');
    });

    await t.test('401 from login: the detail in plain words', async () => {
      await page.getByTestId('show-login').click();
      await page.locator('#login-email').fill(existing.email);
      await page.locator('#login-password').fill('wrong password!');
      await page.getByTestId('login-submit').click();
      const slot = page.locator('#login-form [data-error-for="_form"]');
      await eventually(async () => assert.match(await slot.textContent(), /That email and password do not match an account/));
      await shot(page, '11-login-401');
    });

    await t.test('an empty title is refused before it is sent', async () => {
      await page.locator('#login-password').fill(PASSWORD);
      await page.getByTestId('login-submit').click();
      await page.getByTestId('app-view').waitFor({ state: 'visible' });
      await page.getByTestId('new-title').fill('   ');
      await page.getByTestId('add-task').click();
      await eventually(async () => assert.notEqual(await page.locator('#new-title-error').textContent(), ''));
      assert.equal(await page.evaluate(() => document.activeElement.id), 'new-title');
    });

    await t.test('a duplicate category name shows the 409 detail next to the name', async () => {
      await openManage(page);
      await page.getByTestId('new-category-name').fill('Work');
      await page.getByTestId('add-category').click();
      await page.getByTestId('category-item').filter({ hasText: 'Work' }).waitFor();
      await page.getByTestId('new-category-name').fill('work');
      await page.getByTestId('add-category').click();
      await eventually(async () => assert.match(await page.locator('#new-cat-name-error').textContent(), /already have a category with this name/));
      await shot(page, '12-category-409');
    });

    await t.test('a token the server refuses (401) sends you back to the login screen', async () => {
      await page.evaluate(() => {
        const a = JSON.parse(localStorage.getItem('taskapi.auth'));
        a.token = 'not-a-valid-token';
        localStorage.setItem('taskapi.auth', JSON.stringify(a));
      });
      await page.reload();
      await page.getByTestId('login-form').waitFor({ state: 'visible' });
      await eventually(async () => assert.match(await page.getByTestId('auth-notice').textContent(), /log in again/i));
      assert.equal(await page.evaluate(() => localStorage.getItem('taskapi.auth')), null);
      await shot(page, '13-session-ended');
    });

    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('categories: create, rename, recolour, delete; tasks show them', async () => {
  const user = await signUpViaApi('cats');
  const { context, page, problems } = await openAs(user);
  try {
    await openDetails(page);
    await openManage(page);
    for (const name of ['Home', 'Work']) {
      await page.getByTestId('new-category-name').fill(name);
      await page.getByTestId('add-category').click();
      await page.getByTestId('category-item').filter({ hasText: name }).waitFor();
    }
    assert.deepEqual(await page.getByTestId('category-name').allTextContents(), ['Home', 'Work']);
    await addTaskInUi(page, { title: 'Fix the sink', category: 'Home' });
    assert.equal(await row(page, 'Fix the sink').getByTestId('task-category').textContent(), 'Category: Home');

    // rename
    const home = page.getByTestId('category-item').filter({ hasText: 'Home' });
    await home.getByTestId('category-rename').click();
    await page.getByTestId('category-rename-input').fill('House');
    await page.getByTestId('category-rename-input').press('Enter');
    await eventually(async () => assert.deepEqual(await page.getByTestId('category-name').allTextContents(), ['House', 'Work']));
    await eventually(async () => assert.equal(await row(page, 'Fix the sink').getByTestId('task-category').textContent(), 'Category: House'));

    // recolour
    const house = page.getByTestId('category-item').filter({ hasText: 'House' });
    await house.getByTestId('category-color').fill('#16a34a');
    await eventually(async () => {
      const auth = JSON.parse(await page.evaluate(() => localStorage.getItem('taskapi.auth')));
      const { data } = await api(auth.token, 'GET', `/api/${auth.user_id}/categories`);
      assert.equal(data.find((c) => c.name === 'House').color.toUpperCase(), '#16A34A');
    }, { what: 'colour saved' });
    // The row is drawn again once the save (and the live change it causes) comes back.
    await eventually(async () =>
      assert.match(await row(page, 'Fix the sink').getByTestId('task-category').getAttribute('style'), /#16A34A/i),
    { what: 'row recoloured' });

    // filter by category
    await addTaskInUi(page, { title: 'Send invoice', category: 'Work' });
    await page.getByTestId('filter-category').selectOption({ label: 'House' });
    await expectTitles(page, ['Fix the sink']);
    await page.getByTestId('filter-category').selectOption({ label: 'Any category' });
    await expectTitles(page, ['Send invoice', 'Fix the sink']);

    // delete with confirmation; its task keeps existing without a category
    await page.getByTestId('category-item').filter({ hasText: 'House' }).getByTestId('category-delete').click();
    await page.getByTestId('category-confirm-delete').click();
    await eventually(async () => assert.deepEqual(await page.getByTestId('category-name').allTextContents(), ['Work']));
    await eventually(async () => assert.equal(await row(page, 'Fix the sink').getByTestId('task-category').count(), 0));
    await shot(page, '20-categories');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('keyboard only: add, complete, edit and cancel with visible focus', async () => {
  const user = await signUpViaApi('kbd');
  const { context, page, problems } = await openAs(user);
  try {
    await openDetails(page);
    await openManage(page);
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await page.keyboard.press('n');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'new-title');
    await page.keyboard.type('Water the plants');
    await page.keyboard.press('Enter');
    await expectTitles(page, ['Water the plants']);

    // Tab from the search box to the task's checkbox (bounded)
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'filter-q');
    let reached = false;
    for (let i = 0; i < 15 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement.dataset.testid === 'task-toggle');
    }
    assert.ok(reached, 'the task checkbox is reachable with Tab');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(outline, 'none', 'focused control shows a focus ring');
    await page.keyboard.press('Space');
    await eventually(async () => assert.match(await row(page, 'Water the plants').getAttribute('class'), /is-done(?!.*is-pending)/), { what: 'task saved as done' });
    assert.equal(await row(page, 'Water the plants').getByTestId('task-toggle').isChecked(), true);
    assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'task-toggle', 'focus stays on the checkbox');

    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'task-edit');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'edit-title');
    await page.keyboard.press('Escape');
    assert.equal(await page.getByTestId('task-edit-form').count(), 0);
    assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'task-edit', 'focus returns to Edit');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('Water the garden');
    await page.keyboard.press('Enter');
    await expectTitles(page, ['Water the garden']);
    await shot(page, '30-keyboard');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('1,000 tasks: paging, search and a fast full render', async () => {
  const user = await signUpViaApi('many');
  const token = user.access_token || user.token;
  const N = 1000;
  let next = 0;
  const worker = async () => {
    while (next < N) {
      const i = next++;
      await api(token, 'POST', `/api/${user.user_id}/tasks`, {
        title: `Task ${String(i).padStart(4, '0')}`,
        priority: ['low', 'medium', 'high'][i % 3],
        description: i % 10 === 0 ? `Every tenth task (${i})` : null,
        due_date: i % 7 === 0 ? new Date(Date.now() + (i - 500) * 3600000).toISOString() : null,
      });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));

  const { context, page, problems } = await openAs(user, DESKTOP, '#sort=title');
  try {
    await openDetails(page);
    await openManage(page);
    const info = page.getByTestId('page-info');
    await eventually(async () => assert.match(await info.textContent(), /^1–50 of 1,000/));
    assert.equal((await titles(page)).length, 50);
    assert.equal((await titles(page))[0], 'Task 0000');
    await page.getByTestId('page-next').click();
    await eventually(async () => assert.match(await info.textContent(), /^51–100 of 1,000 · page 2 of 20/));
    assert.equal((await titles(page))[0], 'Task 0050');
    await page.getByTestId('page-prev').click();
    await eventually(async () => assert.match(await info.textContent(), /^1–50 of 1,000/));

    // everything at once
    const started = Date.now();
    await page.getByTestId('page-size').selectOption('1000');
    await eventually(async () => assert.equal(await page.locator('[data-testid="task-list"] > li').count(), N), { timeout: 15000 });
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 5000, `1,000 tasks took ${elapsed} ms to show`);
    // the page stays responsive: a toggle near the end is quick
    const t0 = Date.now();
    await row(page, 'Task 0998').getByTestId('task-toggle').click();
    await eventually(async () => assert.match(await row(page, 'Task 0998').getAttribute('class'), /is-done/));
    const toggleMs = Date.now() - t0;
    assert.ok(toggleMs < 3000, `toggle took ${toggleMs} ms`);
    await shot(page, '40-thousand').catch(() => {}); // very tall page; best effort

    // search
    await page.getByTestId('filter-q').fill('every tenth task (99');
    await eventually(async () => assert.deepEqual(await titles(page), ['Task 0990']));
    assert.equal(await page.getByTestId('task-count').textContent(), '(1)');
    console.log(`# 1,000 tasks rendered in ${elapsed} ms; toggle round trip ${toggleMs} ms`);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('phone width (390px): no horizontal scroll', async () => {
  const user = await signUpViaApi('phone', 'Phone User With A Rather Long Name');
  const cats = await api(user.access_token || user.token, 'POST', `/api/${user.user_id}/categories`, { name: 'Errands and other things', color: '#D97706' });
  const token = user.access_token || user.token;
  await api(token, 'POST', `/api/${user.user_id}/tasks`, {
    title: 'A task with a very long title that should wrap nicely on a narrow phone screen without overflowing',
    description: 'Supercalifragilisticexpialidocious-and-a-long-unbroken-word-that-must-wrap-somewhere',
    priority: 'high', due_date: new Date(Date.now() - 86400000).toISOString(), category_id: cats.data.id,
  });
  await api(token, 'POST', `/api/${user.user_id}/tasks`, { title: 'Short one', priority: 'low' });

  const { context, page, problems } = await newPage(PHONE);
  try {
    await page.goto(APP_URL);
    await page.getByTestId('login-form').waitFor({ state: 'visible' });
    await noHorizontalScroll(page);
    await shot(page, '50-phone-login');

    await page.evaluate((a) => localStorage.setItem('taskapi.auth', a), JSON.stringify({ token, user_id: user.user_id, email: user.email, name: user.name }));
    await page.reload();
    await expectTitles(page, ['Short one', 'A task with a very long title that should wrap nicely on a narrow phone screen without overflowing']);
    await noHorizontalScroll(page);
    await shot(page, '51-phone-tasks');

    await row(page, 'Short one').getByTestId('task-edit').click();
    await page.getByTestId('task-edit-form').waitFor();
    await noHorizontalScroll(page);
    await shot(page, '52-phone-edit');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('desktop screenshot with sample data', async () => {
  const user = await signUpViaApi('shot', 'Ada Lovelace', 'ada@example.com');
  const token = user.access_token || user.token;
  const base = `/api/${user.user_id}`;
  const cat = {};
  for (const [name, color] of [['Work', '#2563EB'], ['Home', '#16A34A'], ['Errands', '#D97706']]) {
    cat[name] = (await api(token, 'POST', `${base}/categories`, { name, color })).data.id;
  }
  const day = 86400000;
  const iso = (ms) => new Date(Date.now() + ms).toISOString();
  const sample = [
    { title: 'Renew passport', priority: 'medium', category_id: cat.Errands, due_date: iso(20 * day) },
    { title: 'Book dentist appointment', priority: 'low', category_id: cat.Home, completed: true },
    { title: 'Pay electricity bill', priority: 'high', category_id: cat.Home, due_date: iso(-2 * day), description: 'Reference number is on the last letter.' },
    { title: 'Review pull request #42', priority: 'medium', category_id: cat.Work, due_date: iso(3 * 3600000) },
    { title: 'Prepare quarterly report', priority: 'high', category_id: cat.Work, due_date: iso(2 * day), description: 'Revenue, churn and hiring numbers for Q3.' },
    { title: 'Buy groceries', priority: 'low', category_id: cat.Errands, description: 'Milk, eggs, coffee, lemons.' },
  ];
  for (const s of sample) await api(token, 'POST', `${base}/tasks`, s);

  const { context, page, problems } = await openAs(user, { width: 1280, height: 1040 });
  try {
    await openDetails(page);
    await openManage(page);
    // open tasks first, the completed one in its folded group at the end
    await expectTitles(page, ['Buy groceries', 'Prepare quarterly report', 'Review pull request #42', 'Pay electricity bill', 'Renew passport', 'Book dentist appointment']);
    await page.getByTestId('category-name').first().waitFor();
    await page.mouse.move(0, 0);
    const file = join(ARTIFACTS, '60-desktop.png');
    await page.screenshot({ path: file });
    saveForReadme(file, 'screenshot.png');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
