// Shared helpers of the browser tests: one Chromium per spec file, pages, API calls.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:8000').replace(/\/+$/, '');
export const APP_URL = `${BASE_URL}/app/`;
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const DOCS = fileURLToPath(new URL('../docs/', import.meta.url));
const AXE = fileURLToPath(new URL('./vendor/axe-core/axe.min.js', import.meta.url));
export const PASSWORD = 'correct horse battery';
export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 390, height: 844 };

mkdirSync(ARTIFACTS, { recursive: true });

let browser;
let profileDir;

/** Starts Chromium before the tests of the file that calls it, and stops it after them. */
export function useBrowser() {
  before(async () => {
    profileDir = mkdtempSync(join(tmpdir(), 'taskapi-e2e-'));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--disable-dev-shm-usage',
      ],
    });
  });
  after(async () => {
    if (browser) await browser.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  });
}

/** Copies an artifact into docs/ when SAVE_README_SCREENSHOT=1 (the README's pictures). */
export function saveForReadme(artifact, docsName) {
  if (process.env.SAVE_README_SCREENSHOT !== '1') return;
  mkdirSync(DOCS, { recursive: true });
  copyFileSync(artifact, join(DOCS, docsName));
}

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Retries `fn` until it stops throwing (bounded by `timeout`). */
export async function eventually(fn, { timeout = 8000, interval = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let lastErr;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > deadline) {
      const err = new Error(`timed out waiting for ${what}: ${lastErr && lastErr.message}`);
      err.cause = lastErr;
      throw err;
    }
    await sleep(interval);
  }
}

export const uniqueEmail = (tag) => `e2e-${tag}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}@example.com`;

export async function newPage(viewport = DESKTOP) {
  const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: 'UTC', reducedMotion: 'reduce' });
  const page = await context.newPage();
  page.setDefaultTimeout(8000);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' && !/status of (401|403|404|409|412|422)/.test(m.text())) problems.push(`console: ${m.text()}`); });
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (!['127.0.0.1', 'localhost'].includes(u.hostname) && !u.protocol.startsWith('data')) problems.push(`off-host request: ${r.url()}`);
  });
  return { context, page, problems };
}

export async function shot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

export async function titles(page) {
  return page.$$eval('[data-testid="task-list"] > li [data-testid="task-title"]', (els) => els.map((e) => e.textContent));
}

export async function expectTitles(page, expected) {
  await eventually(async () => assert.deepEqual(await titles(page), expected), { what: `titles ${JSON.stringify(expected)}` });
}

export function row(page, title) {
  return page.locator('[data-testid="task-item"]', { has: page.locator('[data-testid="task-title"]', { hasText: new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) });
}

export async function signUpInUi(page, { name = 'Ada Lovelace', email = uniqueEmail('ui') } = {}) {
  await page.goto(APP_URL);
  await page.getByTestId('show-signup').click();
  await page.getByLabel('Name').fill(name);
  await page.locator('#signup-email').fill(email);
  await page.locator('#signup-password').fill(PASSWORD);
  await page.getByTestId('signup-submit').click();
  await page.getByTestId('app-view').waitFor({ state: 'visible' });
  return email;
}

/** Opens the new-task form's details (description, priority, due date …) when they are folded. */
export async function openDetails(page) {
  await page.evaluate(() => {
    const b = document.getElementById('task-details-toggle');
    if (b.getAttribute('aria-expanded') !== 'true') b.click();
  });
}

/** Unfolds "Manage categories and tags" in the side panel. */
export async function openManage(page) {
  await page.evaluate(() => { document.getElementById('manage').open = true; });
}

export async function addTaskInUi(page, { title, description = '', priority = 'medium', due = '', category = '' }) {
  const before = (await titles(page)).length;
  await openDetails(page);
  await page.getByTestId('new-title').fill(title);
  await page.getByTestId('new-description').fill(description);
  await page.getByTestId('new-priority').selectOption(priority);
  await fillDue(page, 'new', due);
  if (category) await page.getByTestId('new-category').selectOption({ label: category });
  await page.getByTestId('add-task').click();
  await eventually(async () => assert.ok((await titles(page)).includes(title) && (await titles(page)).length === before + 1), { what: `task "${title}" to appear` });
}

/** Fills the date and time inputs of a task form from 'YYYY-MM-DDTHH:MM' (or 'YYYY-MM-DD', or ''). */
export async function fillDue(scope, prefix, value) {
  const [day = '', time = ''] = (value || '').split('T');
  await scope.getByTestId(`${prefix}-due`).fill(day);
  await scope.getByTestId(`${prefix}-due-time`).fill(time);
}

/** datetime-local value `days` from now (UTC, the context's time zone). */
export function localInput(days) {
  const d = new Date(Date.now() + days * 86400000);
  return d.toISOString().slice(0, 16);
}

export async function api(token, method, path, body) {
  const res = await fetch(`${BASE_URL}${path}`, {
    method,
    headers: { Authorization: token ? `Bearer ${token}` : '', ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error(`${method} ${path} -> ${res.status} ${text}`);
  return { data, res };
}

export async function signUpViaApi(tag, name = 'Grace Hopper', preferredEmail = null) {
  if (preferredEmail) {
    try {
      return (await api(null, 'POST', '/api/auth/signup', { email: preferredEmail, password: PASSWORD, name })).data;
    } catch { /* taken on a shared server: fall back to a unique address */ }
  }
  const { data } = await api(null, 'POST', '/api/auth/signup', { email: uniqueEmail(tag), password: PASSWORD, name });
  return data;
}

/** Opens the app already logged in as `user` (token put where the app keeps it). */
export async function openAs(user, viewport = DESKTOP, hash = '', { setup = null, appUrl = APP_URL } = {}) {
  const ctx = await newPage(viewport);
  if (setup) await setup(ctx);
  const auth = { token: user.access_token || user.token, user_id: user.user_id, email: user.email, name: user.name ?? null };
  await ctx.page.addInitScript((a) => {
    if (!sessionStorage.getItem('seeded')) {
      localStorage.setItem('taskapi.auth', a);
      sessionStorage.setItem('seeded', '1');
    }
  }, JSON.stringify(auth));
  await ctx.page.goto(appUrl + hash);
  await ctx.page.getByTestId('app-view').waitFor({ state: 'visible' });
  return ctx;
}

export async function noHorizontalScroll(page) {
  const m = await page.evaluate(() => ({
    doc: document.documentElement.scrollWidth,
    body: document.body.scrollWidth,
    vw: document.documentElement.clientWidth,
  }));
  assert.ok(m.doc <= m.vw && m.body <= m.vw, `page is wider than the screen: ${JSON.stringify(m)}`);
}


export const tokenOf = (user) => user.access_token || user.token;

/**
 * Runs axe-core (vendored in e2e/vendor/axe-core; the test injects it, the app never ships it) on
 * the page as it is and
 * fails on any serious or critical violation, naming the rule and the first elements.
 */
export async function checkAccessibility(page, label) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.addScriptTag({ path: AXE });
  }
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.join(', ')}`), [], `accessibility of ${label}`);
  return violations;
}
