// The web app as a daily planner: truthful completing, a real undo of delete, quick add, the
// views, dates in words, the keyboard, the phone, and accessibility checked by axe-core.
// Run through e2e/run.sh planner.spec.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useBrowser, openAs, signUpViaApi, api, tokenOf, titles, expectTitles, row, eventually, shot,
} from './lib.mjs';

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
