// Live updates: two pages of one user; what one does shows in the other without a reload,
// and what is being typed stays. Run through e2e/run.sh live.spec.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, openAs, signUpViaApi, api, titles, expectTitles, row, addTaskInUi, eventually, shot } from './lib.mjs';

useBrowser();

const LIVE = { timeout: 3000 }; // "within a second", with room for a slow machine

test('live: a task added, edited and deleted in one page shows in the other without reload', async () => {
  const user = await signUpViaApi('live');
  const a = await openAs(user);
  const b = await openAs(user);
  try {
    // both pages are listening before anything happens
    await b.page.waitForFunction(() => document.querySelector('[data-testid="empty-state"]') && !document.querySelector('[data-testid="empty-state"]').hidden);
    await b.page.waitForTimeout(300);
    const navigations = [];
    b.page.on('framenavigated', (f) => { if (f === b.page.mainFrame()) navigations.push(f.url()); });

    // B is in the middle of typing a new task
    await b.page.getByTestId('new-title').fill('Half-typed idea');

    await addTaskInUi(a.page, { title: 'Seen everywhere' });
    await eventually(async () => assert.deepEqual(await titles(b.page), ['Seen everywhere']), { ...LIVE, what: 'the new task in page B' });
    assert.equal(await b.page.getByTestId('new-title').inputValue(), 'Half-typed idea', 'what B was typing is kept');

    // an edit in A
    await row(a.page, 'Seen everywhere').getByTestId('task-edit').click();
    await a.page.getByTestId('edit-title').fill('Seen and renamed');
    await a.page.getByTestId('edit-save').click();
    await expectTitles(a.page, ['Seen and renamed']);
    await eventually(async () => assert.deepEqual(await titles(b.page), ['Seen and renamed']), { ...LIVE, what: 'the rename in page B' });

    // completing in A
    await row(a.page, 'Seen and renamed').getByTestId('task-toggle').click();
    await eventually(async () => assert.equal(await row(b.page, 'Seen and renamed').getByTestId('task-toggle').isChecked(), true), { ...LIVE, what: 'the tick in page B' });

    // a deletion in A: sent when its undo window closes (here: the toast dismissed)
    await row(a.page, 'Seen and renamed').getByTestId('task-delete').click();
    await a.page.getByTestId('toast').getByRole('button', { name: 'Dismiss' }).click();
    await eventually(async () => assert.deepEqual(await titles(b.page), []), { ...LIVE, what: 'the deletion in page B' });
    assert.deepEqual(navigations, [], 'page B never reloaded');
    assert.equal(await b.page.getByTestId('new-title').inputValue(), 'Half-typed idea');
    assert.deepEqual(a.problems, []);
    assert.deepEqual(b.problems, []);
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test('live: an open editor keeps its text when its task changes elsewhere, and says so', async () => {
  const user = await signUpViaApi('live-edit');
  const token = user.access_token || user.token;
  const { data: one } = await api(token, 'POST', `/api/${user.user_id}/tasks`, { title: 'Being edited' });
  await api(token, 'POST', `/api/${user.user_id}/tasks`, { title: 'Other row' });
  const b = await openAs(user);
  try {
    await expectTitles(b.page, ['Other row', 'Being edited']);
    await b.page.waitForTimeout(300);
    await row(b.page, 'Being edited').getByTestId('task-edit').click();
    await b.page.getByTestId('edit-title').fill('My careful wording');
    const { data: other } = await api(token, 'GET', `/api/${user.user_id}/tasks?q=Other`);
    await api(token, 'PATCH', `/api/${user.user_id}/tasks/${other[0].id}`, { title: 'Other row, renamed' });
    await api(token, 'PATCH', `/api/${user.user_id}/tasks/${one.id}`, { description: 'changed on the phone' });
    await eventually(async () => assert.ok((await titles(b.page)).includes('Other row, renamed')), { ...LIVE, what: 'the other row to change' });
    await b.page.getByTestId('edit-live-notice').waitFor({ state: 'visible', timeout: 3000 });
    assert.match(await b.page.getByTestId('edit-live-notice').textContent(), /changed on another device/);
    assert.equal(await b.page.getByTestId('edit-title').inputValue(), 'My careful wording');
    assert.deepEqual(b.problems, []);
  } finally {
    await b.context.close();
  }
});

test('live: offline is shown quietly, and changes made meanwhile arrive on reconnect', async () => {
  const user = await signUpViaApi('live-offline');
  const token = user.access_token || user.token;
  const b = await openAs(user);
  try {
    await b.page.getByTestId('empty-state').waitFor({ state: 'visible' });
    await b.page.waitForTimeout(300);
    await b.context.setOffline(true);
    await b.page.getByTestId('live-status').waitFor({ state: 'visible', timeout: 5000 });
    await shot(b.page, 'live-offline');
    await api(token, 'POST', `/api/${user.user_id}/tasks`, { title: 'Made while away' });
    await b.context.setOffline(false);
    await eventually(async () => assert.deepEqual(await titles(b.page), ['Made while away']), { timeout: 10000, what: 'the catch-up after reconnecting' });
    await b.page.getByTestId('live-status').waitFor({ state: 'hidden', timeout: 8000 });
  } finally {
    await b.context.close();
  }
});
