// One task as a row of the list.
import { state, els, PRIORITY_LABEL } from './state.js';
import { $, h, safeColor } from './dom.js';
import { dateFmt, formatDue, isOverdue } from './dates.js';
import { showToast } from './toast.js';

export function rowFor(id) {
  return els.list.querySelector(`li[data-id="${CSS.escape(id)}"]`);
}

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

  const meta = h('div', { class: 'task-meta' },
    h('span', { class: `badge badge-${t.priority}`, dataset: { testid: 'task-priority' }, text: PRIORITY_LABEL[t.priority] || t.priority }),
  );
  if (t.due_date) {
    const due = h('span', { class: overdue ? 'due due-overdue' : 'due', dataset: { testid: 'task-due' } },
      'Due ',
      h('time', { datetime: t.due_date, title: `Due ${dateFmt.format(new Date(t.due_date))}`, text: formatDue(t.due_date, now) }),
    );
    meta.append(due);
    if (overdue) meta.append(h('span', { class: 'badge badge-overdue', dataset: { testid: 'task-overdue' }, text: 'Overdue' }));
  }
  const cat = t.category_id ? state.catById.get(t.category_id) : null;
  if (cat) {
    meta.append(h('span', { class: 'chip', dataset: { cat: cat.id, testid: 'task-category' }, style: `--chip:${safeColor(cat.color)}` },
      h('span', { class: 'visually-hidden', text: 'Category: ' }), cat.name));
  }

  const body = h('div', { class: 'task-body' },
    h('span', { class: 'task-title', id: titleId, dataset: { action: 'edit-title', testid: 'task-title' }, text: t.title }),
    h('span', { class: 'visually-hidden', id: `${titleId}-state`, text: t.completed ? 'completed' : (overdue ? 'overdue' : 'not completed') }),
    t.description ? h('p', { class: 'task-desc', dataset: { testid: 'task-description' }, text: t.description }) : null,
    meta,
  );

  const actions = h('div', { class: 'task-actions' },
    h('button', { type: 'button', class: 'btn btn-small btn-ghost', dataset: { action: 'edit', focus: 'edit', testid: 'task-edit' }, 'aria-label': `Edit “${t.title}”`, text: 'Edit' }),
    h('button', { type: 'button', class: 'btn btn-small btn-ghost btn-danger', dataset: { action: 'delete', focus: 'delete', testid: 'task-delete' }, 'aria-label': `Delete “${t.title}”`, text: 'Delete' }),
  );

  return h('li', { class: cls.join(' '), dataset: { id: t.id, testid: 'task-item' } },
    toggle, body, actions,
    h('p', { class: 'row-error', role: 'alert', dataset: { testid: 'task-error' } }),
  );
}

export function showRowError(id, msg) {
  const row = rowFor(id);
  if (row) {
    const slot = $('.row-error', row);
    if (slot) { slot.textContent = msg; return; }
  }
  showToast(msg);
}
