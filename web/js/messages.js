// Validation messages in our own words. The API's wording ("String should have at least 8
// characters") is written for programs; a person gets a sentence about the field they typed in.
// Anything not recognised keeps the API's text, which is still better than nothing.

const LIMIT = /(at least|at most) (\d+)/;

/** Our message for the API's `msg` about `field` (the last part of `loc`), or the API's own. */
export function humanMessage(field, msg, location = null) {
  const text = String(msg || '');
  const limit = LIMIT.exec(text);
  const n = limit ? +limit[2] : 0;
  const chars = `${n} character${n === 1 ? '' : 's'}`;
  const byField = {
    password: () => {
      if (/at least/.test(text)) return `Use at least ${chars} for your password — a short phrase works well.`;
      if (/at most/.test(text)) return `That password is too long: keep it to ${chars}.`;
      return null;
    },
    email: () => (/required/i.test(text) ? 'Enter your email address.' : 'Enter an email address like name@example.com.'),
    name: () => (/at most/.test(text) ? `Keep the name to ${chars}.` : /at least/.test(text) ? 'Give it a name.' : null),
    title: () => {
      if (/at least|required/i.test(text)) return 'Type what needs doing.';
      if (/at most/.test(text)) return `Keep the title to ${chars}; put the rest in the description.`;
      return null;
    },
    description: () => (/at most/.test(text) ? `The description is too long: keep it to ${chars}.` : null),
    due_date: () => 'Pick a date from the calendar (and a time, if you want one).',
    priority: () => 'Choose Low, Medium or High.',
    category_id: () => 'That category no longer exists. Pick another one, or none.',
    parent_id: () => 'This task cannot hold subtasks (it is a subtask itself, or was deleted).',
    color: () => 'Pick a colour from the colour picker.',
    tags: () => {
      if (/comma|control/.test(text)) return 'A tag cannot contain a comma; use a separate tag instead.';
      if (/at most 50/.test(text)) return 'Keep each tag to 50 characters.';
      if (/at most/.test(text)) return `A task can have at most ${n} tags.`;
      return null;
    },
    recurrence: () => 'A repeating task needs a due date: its first occurrence.',
    rule: () => 'That repeat rule is not one we can follow. Try one of the choices above.',
    timezone: () => 'That time zone is unknown. Pick one from the list.',
    q: () => 'Shorten the search a little.',
  };
  const fn = byField[field];
  const ours = fn ? fn() : null;
  if (ours) return ours;
  if (/NUL characters/.test(text)) return 'Remove the invisible control characters from this text.';
  if (/required/i.test(text)) return 'Fill this in.';
  if (/valid UUID/.test(text)) return 'That item no longer exists. Reload the page and try again.';
  if (location === 'header' && /If-Match/.test(field || '')) return 'This changed elsewhere. Reload to see the latest.';
  return text || 'Check this value.';
}

/** Our words for errors that are not about one field. */
export function humanDetail(status, detail) {
  const text = String(detail || '');
  if (status === 412 || /Precondition failed/.test(text)) return 'This changed on another device. It now shows its latest state; make your change again if you still want it.';
  if (/Email already registered/i.test(text)) return 'There is already an account with this email. Log in instead?';
  if (/Invalid (email or password|credentials)/i.test(text)) return 'That email and password do not match an account. Check them and try again.';
  if (/Category already exists/i.test(text)) return 'You already have a category with this name (names ignore upper and lower case).';
  return null;
}
