// Signing in and up: the stored session, the auth screens, and the account name.
import { state, els, AUTH_KEY } from './state.js';
import { $, setBusy, announce } from './dom.js';
import { api } from './api.js';
import { clearErrors, setFieldError, showErrors } from './forms.js';
import { showListError } from './task-list.js';

export function readStoredAuth() {
  try {
    const a = JSON.parse(localStorage.getItem(AUTH_KEY) || 'null');
    if (!a || typeof a.token !== 'string' || !a.token || typeof a.user_id !== 'string' || !a.user_id) return null;
    return a;
  } catch {
    return null;
  }
}

function storeAuth(data, extra = {}) {
  const token = data.access_token || data.token;
  const expiresIn = Number(data.expires_in);
  state.auth = {
    token,
    user_id: String(data.user_id),
    email: data.email || extra.email || '',
    name: data.name ?? extra.name ?? null,
    expires_at: expiresIn > 0 ? Date.now() + expiresIn * 1000 : null,
  };
  try { localStorage.setItem(AUTH_KEY, JSON.stringify(state.auth)); } catch { /* private mode: keep in memory */ }
}

export function clearAuth() {
  state.auth = null;
  try { localStorage.removeItem(AUTH_KEY); } catch { /* ignore */ }
}

export function showAuth(mode, notice) {
  els.appView.hidden = true;
  els.account.hidden = true;
  els.authView.hidden = false;
  document.title = mode === 'signup' ? 'Create account · Tasks' : 'Log in · Tasks';
  els.authHeading.textContent = mode === 'signup' ? 'Create your account' : 'Log in';
  els.authIntro.textContent = mode === 'signup'
    ? 'Sign up to start keeping your tasks in one place.'
    : 'Welcome back. Log in to see your tasks.';
  els.loginForm.hidden = mode !== 'login';
  els.signupForm.hidden = mode !== 'signup';
  clearErrors(els.loginForm);
  clearErrors(els.signupForm);
  els.authNotice.textContent = notice || '';
  els.authNotice.hidden = !notice;
  const form = mode === 'signup' ? els.signupForm : els.loginForm;
  const first = mode === 'signup' ? $('#signup-name') : $('#login-email');
  if (mode === 'login' && !first.value) first.focus();
  else if (mode === 'signup') first.focus();
  else $('input[type="password"]', form).focus();
}

export function renderAccount() {
  const a = state.auth;
  if (!a) return;
  els.accountName.textContent = a.name ? `${a.name} · ${a.email}` : a.email;
}

export async function refreshMe() {
  try {
    const { data } = await api('GET', '/api/auth/me');
    if (!state.auth || !data) return;
    state.auth.email = data.email || state.auth.email;
    state.auth.name = data.name ?? null;
    try { localStorage.setItem(AUTH_KEY, JSON.stringify(state.auth)); } catch { /* ignore */ }
    renderAccount();
  } catch (e) {
    if (e.status !== 401) showListError(`Could not load your account: ${e.message}`);
  }
}

let enterApp = () => {};

async function onLogin(ev) {
  ev.preventDefault();
  const form = els.loginForm;
  if (form.classList.contains('is-busy')) return;
  clearErrors(form);
  els.authNotice.hidden = true;
  const email = form.elements.email.value.trim();
  const password = form.elements.password.value;
  let bad = false;
  if (!email) { setFieldError(form, 'email', 'Enter your email address.'); bad = true; }
  if (!password) { setFieldError(form, 'password', 'Enter your password.'); bad = true; }
  if (bad) { $('[aria-invalid="true"]', form).focus(); return; }
  setBusy(form, true);
  try {
    const { data } = await api('POST', '/api/auth/login', { body: { email, password }, auth: false });
    storeAuth(data, { email });
    form.reset();
    enterApp();
    announce('Logged in.');
  } catch (e) {
    showErrors(form, e);
  } finally {
    setBusy(form, false);
  }
}

async function onSignup(ev) {
  ev.preventDefault();
  const form = els.signupForm;
  if (form.classList.contains('is-busy')) return;
  clearErrors(form);
  els.authNotice.hidden = true;
  const name = form.elements.name.value.trim();
  const email = form.elements.email.value.trim();
  const password = form.elements.password.value;
  let bad = false;
  if (!email) { setFieldError(form, 'email', 'Enter your email address.'); bad = true; }
  if (!password) { setFieldError(form, 'password', 'Choose a password of at least 8 characters.'); bad = true; }
  if (bad) { $('[aria-invalid="true"]', form).focus(); return; }
  const body = { email, password };
  if (name) body.name = name;
  setBusy(form, true);
  try {
    const { data } = await api('POST', '/api/auth/signup', { body, auth: false });
    storeAuth(data, { email, name: name || null });
    form.reset();
    enterApp();
    announce('Account created. You are logged in.');
  } catch (e) {
    showErrors(form, e, { statusField: { 409: 'email' } });
  } finally {
    setBusy(form, false);
  }
}

/** Wires the auth screens; `onEnter` opens the app once a session exists. */
export function initAuth({ onEnter }) {
  enterApp = onEnter;
  els.loginForm.addEventListener('submit', onLogin);
  els.signupForm.addEventListener('submit', onSignup);
  for (const b of document.querySelectorAll('[data-show]')) {
    b.addEventListener('click', () => showAuth(b.dataset.show, ''));
  }
}
