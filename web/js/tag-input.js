// The tag field of task forms: chips with a remove button, and a text input that
// autocompletes from the user's tags (a shared <datalist>). Enter or comma adds a tag.
import { h, nextId } from './dom.js';
import { tagKey, uniqueTags } from './filters.js';

const MAX_TAGS = 20; // SPEC §10
const MAX_LENGTH = 50;

/** Builds the field; `tagInputValue(form)` reads its tags back. */
export function tagField(prefix, tags = []) {
  const inputId = nextId(`${prefix}-tags`);
  const chips = h('ul', { class: 'tag-chips', 'aria-label': 'Tags of this task', dataset: { testid: `${prefix}-tag-chips` } });
  const input = h('input', {
    id: inputId, name: 'tag_entry', type: 'text', maxlength: String(MAX_LENGTH), autocomplete: 'off',
    list: 'tag-options', placeholder: 'Add a tag…', 'aria-describedby': `${inputId}-hint`,
    dataset: { testid: `${prefix}-tag-input` },
  });
  const wrap = h('div', { class: 'field field-tags' },
    h('label', { for: inputId, text: 'Tags' }),
    h('div', { class: 'tag-box' }, chips, input),
    h('p', { class: 'hint', id: `${inputId}-hint`, text: 'Enter or comma adds a tag.' }),
    h('p', { class: 'field-error', dataset: { errorFor: 'tags' } }),
  );
  wrap.tagValues = [];
  const render = () => {
    chips.replaceChildren(...wrap.tagValues.map((name) => h('li', { class: 'tag-chip is-static', dataset: { testid: 'form-tag' } },
      h('span', { text: name }),
      h('button', { type: 'button', class: 'tag-remove', 'aria-label': `Remove tag ${name}`, dataset: { tag: name }, text: '×' }),
    )));
  };
  wrap.setTags = (list) => { wrap.tagValues = uniqueTags(list).slice(0, MAX_TAGS); render(); };
  // Adds what is typed (commas split it); true when something was added.
  wrap.commitEntry = () => {
    const typed = input.value.split(',').map((s) => s.trim()).filter(Boolean);
    input.value = '';
    if (!typed.length) return false;
    wrap.setTags([...wrap.tagValues, ...typed]);
    return true;
  };
  input.addEventListener('keydown', (ev) => {
    if ((ev.key === 'Enter' || ev.key === ',') && input.value.trim()) {
      ev.preventDefault();
      ev.stopPropagation();
      wrap.commitEntry();
    } else if (ev.key === 'Backspace' && !input.value && wrap.tagValues.length) {
      wrap.setTags(wrap.tagValues.slice(0, -1));
    }
  });
  // picking an autocomplete suggestion fills the input: take it at once
  input.addEventListener('input', (ev) => {
    if (ev.inputType === 'insertReplacementText') wrap.commitEntry();
    else if (input.value.includes(',')) wrap.commitEntry();
  });
  chips.addEventListener('click', (ev) => {
    const b = ev.target instanceof Element ? ev.target.closest('.tag-remove') : null;
    if (!b) return;
    wrap.setTags(wrap.tagValues.filter((t) => tagKey(t) !== tagKey(b.dataset.tag)));
    input.focus();
  });
  wrap.setTags(tags);
  return wrap;
}

/** The tags of a form's tag field, with what is still typed in it. */
export function tagInputValue(form) {
  const wrap = form.querySelector('.field-tags');
  if (!wrap) return [];
  wrap.commitEntry();
  return wrap.tagValues.slice();
}

export function resetTagField(form) {
  const wrap = form.querySelector('.field-tags');
  if (wrap) wrap.setTags([]);
}

export const sameTags = (a, b) => {
  const ka = (a || []).map(tagKey).sort();
  const kb = (b || []).map(tagKey).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
};
