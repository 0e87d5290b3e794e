// API client: same-origin JSON requests with the bearer token, errors as ApiError.
import { state, FIELD_LABEL } from './state.js';
import { humanMessage, humanDetail } from './messages.js';

export class ApiError extends Error {
  constructor(status, detail, res) {
    const { message, fields } = describeDetail(status, detail, res);
    super(message);
    this.status = status;
    this.detail = detail;
    this.fields = fields; // array of [fieldName|null, message]
  }
}

function describeDetail(status, detail, res) {
  const fields = [];
  let message;
  if (Array.isArray(detail)) {
    const parts = [];
    for (const item of detail) {
      const loc = Array.isArray(item && item.loc) ? item.loc : [];
      const field = loc.length > 1 ? String(loc[1]) : null;
      const raw = String((item && (item.msg || item.message)) || 'Invalid value');
      const msg = humanMessage(loc.length ? String(loc[loc.length - 1]) : null, raw, loc[0] || null);
      fields.push([field, msg]);
      parts.push(field ? `${FIELD_LABEL[field] || field}: ${msg}` : msg);
    }
    message = parts.join(' ') || 'The request was not valid.';
  } else if (typeof detail === 'string' && detail.trim()) {
    message = humanDetail(status, detail) || detail;
  } else if (detail && typeof detail === 'object') {
    message = String(detail.message || detail.msg || JSON.stringify(detail));
  } else {
    message = fallbackMessage(status);
  }
  if (status === 429) {
    const retry = res && parseInt(res.headers.get('Retry-After') || '', 10);
    if (retry > 0) message += ` Please wait ${retry} second${retry === 1 ? '' : 's'} and try again.`;
  }
  if (status >= 500 && typeof detail === 'string') message = `Server error: ${detail}. Please try again.`;
  return { message, fields };
}

function fallbackMessage(status) {
  if (status === 0) return 'Could not reach the server. Check your connection and try again.';
  if (status === 401) return 'Please log in again.';
  if (status === 403) return 'You are not allowed to do that.';
  if (status === 404) return 'Not found.';
  if (status === 413) return 'That is too large to save.';
  if (status === 429) return 'Too many attempts.';
  if (status >= 500) return `Server error (${status}). Please try again.`;
  return `Request failed (${status}).`;
}

let sessionEnded = () => {};
/** Called with a message when the server refuses the session (401, or a disabled account). */
export function onSessionEnded(handler) {
  sessionEnded = handler;
}

export async function api(method, path, { body, auth = true, signal, headers: extra = {}, cache } = {}) {
  const headers = { Accept: 'application/json', ...extra };
  if (auth) {
    if (!state.auth) throw new ApiError(401, 'Please log in.');
    headers.Authorization = `Bearer ${state.auth.token}`;
  }
  const init = { method, headers, signal };
  if (cache) init.cache = cache;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, null);
  }
  let data = null;
  if (res.status !== 204) {
    const text = await res.text();
    if (text) {
      try { data = JSON.parse(text); } catch { data = null; }
    }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data && typeof data === 'object' ? data.detail : null, res);
    if (auth && (res.status === 401 || (res.status === 403 && err.message === 'Account is disabled'))) {
      sessionEnded(res.status === 401
        ? `Your session has ended (${err.message}). Please log in again.`
        : `${err.message}. Please contact support.`);
    }
    throw err;
  }
  return { data, res };
}

export const userPath = (suffix) => `/api/${encodeURIComponent(state.auth.user_id)}${suffix}`;
export const taskPath = (id, extra = '') => userPath(`/tasks/${encodeURIComponent(id)}${extra}`);
export const catPath = (id) => userPath(`/categories/${encodeURIComponent(id)}`);
