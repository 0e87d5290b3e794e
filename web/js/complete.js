// Completing a task truthfully: the request says the state the person asked for (`completed`),
// and only for the version of the task on screen (`If-Match`). A tab that is behind never
// reverses what another did; it shows what happened instead.
import { api, taskPath } from './api.js';

/**
 * Sets `completed` of `shown` (the task as the page shows it) to `wanted`.
 * Returns `{task, outcome}`: outcome is 'done' (our change was made), 'already' (it was already
 * so: done elsewhere) or 'conflict' (the task changed elsewhere; nothing was written).
 */
export async function setCompleted(shown, wanted) {
  // the current version and its ETag; no-store so that a cached copy never stands for it
  const { data: current, res } = await api('GET', taskPath(shown.id), { cache: 'no-store' });
  if (current.updated_at !== shown.updated_at) {
    return { task: current, outcome: current.completed === wanted ? 'already' : 'conflict' };
  }
  if (current.completed === wanted) return { task: current, outcome: 'already' };
  const etag = res.headers.get('ETag');
  try {
    const { data } = await api('PATCH', taskPath(shown.id), {
      body: { completed: wanted },
      headers: etag ? { 'If-Match': etag } : {},
    });
    return { task: data, outcome: 'done' };
  } catch (e) {
    if (e.status !== 412) throw e;
    // changed between our read and our write
    const { data: latest } = await api('GET', taskPath(shown.id), { cache: 'no-store' });
    return { task: latest, outcome: latest.completed === wanted ? 'already' : 'conflict' };
  }
}
