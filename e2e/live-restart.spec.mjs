// Live updates across a server restart: this file starts a server of its own (the binary run.sh
// built, a throwaway SQLite database), stops it under an open page and starts it again on the
// same port and database. The page shows it is offline meanwhile, then catches up by itself.
// Run through e2e/run.sh live-restart.spec.mjs.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useBrowser, openAs, titles, eventually, PASSWORD, uniqueEmail } from './lib.mjs';

useBrowser();

const BIN = process.env.TASKAPI_BIN || fileURLToPath(new URL('../target/debug/taskapi', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'taskapi-restart-'));
const SECRET = 'e2e-restart-secret-0123456789abcdef0123456789abcdef';
let server = null;
after(async () => { await stop(); rmSync(dir, { recursive: true, force: true }); });

const freePort = () => new Promise((resolve) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

async function start(port) {
  const log = openSync(join(dir, 'server.log'), 'a');
  server = spawn(BIN, ['serve'], {
    cwd: dir,
    env: { ...process.env, DATABASE_URL: `sqlite://${join(dir, 'e2e.db')}`, HOST: '127.0.0.1', PORT: String(port), BETTER_AUTH_SECRET: SECRET, RATE_LIMIT_SIGNUP_PER_MINUTE: '0' },
    stdio: ['ignore', log, log],
  });
  await eventually(async () => assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200), { timeout: 30000, what: 'the server to answer' });
}

async function stop() {
  if (!server || server.exitCode !== null) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGTERM');
  await exited;
}

async function call(base, token, method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} -> ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

test('live: after a server restart the page reconnects by itself and catches up', async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  await start(port);
  const user = await call(base, null, 'POST', '/api/auth/signup', { email: uniqueEmail('restart'), password: PASSWORD, name: 'Restart' });
  const token = user.access_token || user.token;
  await call(base, token, 'POST', `/api/${user.user_id}/tasks`, { title: 'Before the restart' });
  const { context, page } = await openAs(user, undefined, '', { appUrl: `${base}/app/` });
  try {
    await eventually(async () => assert.deepEqual(await titles(page), ['Before the restart']));
    await page.waitForTimeout(300); // the stream is open
    await stop();
    await page.getByTestId('live-status').waitFor({ state: 'visible', timeout: 10000 });
    await start(port);
    // a change after the restart arrives without a reload: EventSource reconnects, `ready`, sync
    await call(base, token, 'POST', `/api/${user.user_id}/tasks`, { title: 'After the restart' });
    await eventually(async () => assert.deepEqual(await titles(page), ['After the restart', 'Before the restart']), { timeout: 15000, what: 'the catch-up after the restart' });
    await page.getByTestId('live-status').waitFor({ state: 'hidden', timeout: 5000 });
    // and the stream is live again: the next change comes as an event
    await call(base, token, 'POST', `/api/${user.user_id}/tasks`, { title: 'Live again' });
    await eventually(async () => assert.equal((await titles(page))[0], 'Live again'), { timeout: 3000, what: 'a live change after the restart' });
  } finally {
    await context.close();
  }
});
