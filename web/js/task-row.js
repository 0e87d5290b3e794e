// One task as a row of the list.
import { state, PRIORITY_LABEL } from './state.js';
import { h, safeColor } from './dom.js';
import { formatDue, fullDue, overdueWords, isOverdue, dayOffset } from './dates.js';
import { describeRecurrence } from './recurrence.js';
import { progressBadge, subtaskSection } from './subtasks.js';

export function taskRow(t, now = Date.now()) {
  const overdue = isOverdue(t, now);
  const cls = ['task', `prio-${t.priority}`];
  if (t.completed) cls.push('is-done');
  if (overdue) cls.push('is-overdue');
  if (state.pending.has(t.id)) cls.push('is-pending');

  const titleId = `t-${t.id}`;
  const toggle = h('input', {
    type: 'checkbox', class: 'task-toggle', checked: !!t.completed,
    'aria-labelledby': titleId, 'aria-describedby': `${titleId}-state`,
    dataset: { action: 'toggle', focus: 'toggle', testid: 'task-toggle' },
  });

  const topLevel = !t.parent_id;
  const meta = h('div', { class: 'task-meta' },
    topLevel ? progressBadge(t.id) : null,
    // medium is the default: only a priority that differs from it earns a badge
    t.priority !== 'medium' ? h('span', { class: `badge badge-${t.priority}`, dataset: { testid: 'task-priority' }, text: PRIORITY_LABEL[t.priority] || t.priority }) : null,
  );
  if (t.due_date) {
    const soon = !overdue && !t.completed && dayOffset(new Date(t.due_date), now) === 0;
    const due = h('span', { class: `due${overdue ? ' due-overdue' : ''}${soon ? ' due-today' : ''}`, dataset: { testid: 'task-due' } },
      h('span', { class: 'visually-hidden', text: 'Due ' }),
      h('time', { datetime: t.due_date, title: `Due ${fullDue(t.due_date)}`, text: formatDue(t.due_date, now) }),
    );
    meta.append(due);
    if (overdue) meta.append(h('span', { class: 'badge badge-overdue', dataset: { testid: 'task-overdue' }, text: overdueWords(t.due_date, now) }));
  }
  if (t.recurrence) {
    meta.append(h('span', { class: 'recurrence', dataset: { testid: 'task-recurrence' }, text: `Repeats ${describeRecurrence(t.recurrence, t.due_date)}` }));
  }
  const cat = t.category_id ? state.catById.get(t.category_id) : null;
  if (cat) {
    meta.append(h('span', { class: 'chip', dataset: { cat: cat.id, testid: 'task-category' }, style: `--chip:${safeColor(cat.color)}` },
      h('span', { class: 'visually-hidden', text: 'Category: ' }), cat.name));
  }
  for (const tag of t.tags || []) {
    meta.append(h('button', {
      type: 'button', class: 'tag-chip', 'aria-label': `Show tasks tagged ${tag}`,
      dataset: { action: 'filter-tag', tag, testid: 'task-tag' }, text: tag,
    }));
  }
  if (!topLevel) {
    const parentTitle = state.parentTitles.get(t.parent_id);
    meta.append(h('span', { class: 'subtask-of', dataset: { testid: 'task-parent' } },
      parentTitle ? `Subtask of “${parentTitle}”` : 'Subtask'));
  }

  const body = h('div', { class: 'task-body' },
    h('span', { class: 'task-title', id: titleId, dataset: { action: 'edit-title', testid: 'task-title' }, text: t.title }),
    h('span', { class: 'visually-hidden', id: `${titleId}-state`, text: t.completed ? 'completed' : (overdue ? 'overdue' : 'not completed') }),
    t.description ? h('p', { class: 'task-desc', dataset: { testid: 'task-description' }, text: t.description }) : null,
    meta,
    topLevel ? subtaskSection(t) : null,
  );

  const actions = h('div', { class: 'task-actions' },
    h('button', { type: 'button', class: 'btn btn-small btn-ghost', dataset: { action: 'edit', focus: 'edit', testid: 'task-edit' }, 'aria-label': `Edit “${t.title}”`, text: 'Edit' }),
    topLevel ? h('button', { type: 'button', class: 'btn btn-small btn-ghost', dataset: { action: 'add-subtask', focus: 'add-subtask', testid: 'task-add-subtask' }, 'aria-label': `Add a subtask to “${t.title}”`, text: 'Subtask' }) : null,
    h('button', { type: 'button', class: 'btn btn-small btn-ghost btn-danger', dataset: { action: 'delete', focus: 'delete', testid: 'task-delete' }, 'aria-label': `Delete “${t.title}”`, text: 'Delete' }),
  );

  return h('li', { class: cls.join(' '), dataset: { id: t.id, parent: t.parent_id || undefined, testid: 'task-item' } },
    toggle, body, actions,
    h('p', { class: 'row-error', role: 'alert', dataset: { testid: 'task-error' } }),
  );
}
