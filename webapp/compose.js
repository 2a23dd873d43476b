// @ts-check
/**
 * The composer: text with Mastodon's character count, content warning, visibility, up to four
 * images with alt text (`/api/v2/media`), a poll; for new posts, replies and edits.
 */
import { h, announce } from './view.js';
import { api, get, instance } from './api.js';
import { countableLength } from './text.js';

/** @typedef {import('./wire').Status} Status */
/** @typedef {import('./wire').MediaAttachment} MediaAttachment */
/** @typedef {import('./wire').StatusSource} StatusSource */

/**
 * @typedef {object} ComposeOptions
 * @property {Status} [replyTo]
 * @property {Status} [edit]
 * @property {string} [mentionPrefix] text the box starts with (the mentions of a reply)
 * @property {(status: Status) => void} onDone
 * @property {() => void} [onCancel]
 */

let serial = 0;

/**
 * @param {ComposeOptions} options
 * @returns {HTMLFormElement}
 */
export function composer(options) {
  const id = `c${++serial}`;
  let max = 500;
  let maxMedia = 4;
  /** @type {{file: File | null, existing: MediaAttachment | null, alt: HTMLInputElement, node: HTMLElement}[]} */
  const attachments = [];
  const edit = options.edit;
  const text = h('textarea', { id: `${id}-text`, name: 'status', rows: '3', required: true, 'aria-describedby': `${id}-count`, value: options.mentionPrefix || '' });
  const counter = h('span', { id: `${id}-count`, class: 'counter', 'aria-live': 'polite' }, '');
  const cwToggle = h('input', { type: 'checkbox', id: `${id}-cwon` });
  const cw = h('input', { id: `${id}-cw`, name: 'spoiler_text', placeholder: 'Content warning', hidden: true, 'aria-label': 'Content warning' });
  const visibility = h(
    'select',
    { id: `${id}-vis`, name: 'visibility', disabled: !!edit },
    h('option', { value: 'public' }, 'Public'),
    h('option', { value: 'unlisted' }, 'Unlisted'),
    h('option', { value: 'private' }, 'Followers only'),
    h('option', { value: 'direct' }, 'Mentioned people only'),
  );
  const files = h('input', { type: 'file', id: `${id}-files`, accept: 'image/*', multiple: true, class: 'visually-hidden' });
  const mediaList = h('ul', { class: 'attachments', 'aria-label': 'Attachments' });
  const pollToggle = h('input', { type: 'checkbox', id: `${id}-pollon`, disabled: !!edit });
  const pollOptions = [0, 1, 2, 3].map((i) => h('input', { name: `poll-${i}`, 'aria-label': `Poll choice ${i + 1}`, placeholder: `Choice ${i + 1}`, maxlength: '50' }));
  const pollExpiry = h(
    'select',
    { 'aria-label': 'Poll length' },
    h('option', { value: '300' }, '5 minutes'),
    h('option', { value: '3600' }, '1 hour'),
    h('option', { value: '86400', selected: true }, '1 day'),
    h('option', { value: '604800' }, '7 days'),
  );
  const pollMultiple = h('input', { type: 'checkbox', id: `${id}-multi` });
  const poll = h('fieldset', { class: 'poll-edit', hidden: true }, h('legend', null, 'Poll'), pollOptions, h('div', { class: 'row' }, pollExpiry, h('label', { for: `${id}-multi` }, pollMultiple, ' Multiple choice')));
  const submit = h('button', { type: 'submit' }, edit ? 'Save' : options.replyTo ? 'Reply' : 'Post');
  const error = h('p', { class: 'error', role: 'alert' });

  const update = () => {
    const used = countableLength(text.value) + (cwToggle.checked ? countableLength(cw.value) : 0);
    const left = max - used;
    counter.textContent = String(left);
    counter.classList.toggle('over', left < 0);
    counter.setAttribute('aria-label', `${left} characters left`);
    submit.disabled = left < 0;
  };
  instance()
    .then((i) => {
      max = i.configuration.statuses.max_characters;
      maxMedia = i.configuration.statuses.max_media_attachments;
      update();
    })
    .catch(() => {});
  text.addEventListener('input', update);
  cw.addEventListener('input', update);
  cwToggle.addEventListener('change', () => {
    cw.hidden = !cwToggle.checked;
    if (cwToggle.checked) cw.focus();
    update();
  });
  pollToggle.addEventListener('change', () => {
    poll.hidden = !pollToggle.checked;
    files.disabled = pollToggle.checked;
    if (pollToggle.checked) pollOptions[0].focus();
  });

  /** @param {File | null} file @param {MediaAttachment | null} existing */
  const addAttachment = (file, existing) => {
    const alt = h('input', { 'aria-label': `Description (alt text) for ${file ? file.name : 'image'}`, placeholder: 'Describe this for people who cannot see it', value: existing?.description || '', maxlength: '1500' });
    const preview = h('img', { alt: '', src: file ? URL.createObjectURL(file) : existing?.preview_url || '' });
    /** @type {any} */
    const entry = { file, existing, alt };
    const node = h(
      'li',
      null,
      preview,
      alt,
      h('button', {
        type: 'button',
        class: 'small secondary',
        'aria-label': 'Remove attachment',
        onclick: () => {
          attachments.splice(attachments.indexOf(entry), 1);
          node.remove();
          pollToggle.disabled = !!edit || attachments.length > 0;
        },
      }, '✕'),
    );
    entry.node = node;
    attachments.push(entry);
    mediaList.append(node);
    pollToggle.disabled = true;
  };
  files.addEventListener('change', () => {
    for (const file of files.files || []) {
      if (attachments.length >= maxMedia) {
        announce(`At most ${maxMedia} images`);
        break;
      }
      addAttachment(file, null);
    }
    files.value = '';
  });

  if (edit) {
    for (const m of edit.media_attachments) addAttachment(null, m);
    get(`/api/v1/statuses/${edit.id}/source`)
      .then((/** @type {StatusSource} */ source) => {
        text.value = source.text;
        if (source.spoiler_text) {
          cwToggle.checked = true;
          cw.hidden = false;
          cw.value = source.spoiler_text;
        }
        update();
      })
      .catch(() => {});
    visibility.value = edit.visibility;
  } else if (options.replyTo) {
    visibility.value = options.replyTo.visibility === 'public' ? 'public' : options.replyTo.visibility;
    if (options.replyTo.spoiler_text) {
      cwToggle.checked = true;
      cw.hidden = false;
      cw.value = options.replyTo.spoiler_text;
    }
  }

  /** Uploads new files (with their alt text), waits for processing; returns the ids in order. */
  const upload = async () => {
    const ids = [];
    for (const a of attachments) {
      if (a.existing) {
        if ((a.existing.description || '') !== a.alt.value) await api('PUT', `/api/v1/media/${a.existing.id}`, { description: a.alt.value });
        ids.push(a.existing.id);
        continue;
      }
      const form = new FormData();
      form.append('file', /** @type {File} */ (a.file));
      if (a.alt.value) form.append('description', a.alt.value);
      /** @type {MediaAttachment} */
      let media = await api('POST', '/api/v2/media', form);
      for (let tries = 0; !media.url && tries < 30; tries++) {
        await new Promise((r) => setTimeout(r, 500));
        media = await get(`/api/v1/media/${media.id}`);
      }
      ids.push(media.id);
    }
    return ids;
  };

  const form = h(
    'form',
    {
      class: 'compose card',
      'aria-label': edit ? 'Edit post' : options.replyTo ? 'Reply' : 'New post',
      onsubmit: async (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        error.textContent = '';
        submit.disabled = true;
        submit.setAttribute('aria-busy', 'true');
        try {
          const media_ids = await upload();
          /** @type {Record<string, any>} */
          const body = { status: text.value, spoiler_text: cwToggle.checked ? cw.value : '', sensitive: cwToggle.checked && !!cw.value, media_ids };
          if (!edit) {
            body.visibility = visibility.value;
            if (options.replyTo) body.in_reply_to_id = options.replyTo.id;
            if (pollToggle.checked) {
              const choices = pollOptions.map((o) => o.value.trim()).filter(Boolean);
              if (choices.length < 2) throw new Error('A poll needs at least two choices.');
              body.poll = { options: choices, expires_in: Number(pollExpiry.value), multiple: pollMultiple.checked };
              delete body.media_ids;
            }
          }
          /** @type {Status} */
          const status = edit ? await api('PUT', `/api/v1/statuses/${edit.id}`, body) : await api('POST', '/api/v1/statuses', body);
          announce(edit ? 'Saved' : 'Posted');
          if (!edit) {
            text.value = options.mentionPrefix || '';
            cw.value = '';
            cwToggle.checked = false;
            cw.hidden = true;
            for (const a of attachments.splice(0)) a.node.remove();
            pollToggle.checked = false;
            poll.hidden = true;
            pollToggle.disabled = false;
            files.disabled = false;
            for (const o of pollOptions) o.value = '';
          }
          update();
          options.onDone(status);
        } catch (err) {
          error.textContent = String(/** @type {Error} */ (err).message);
        } finally {
          submit.removeAttribute('aria-busy');
          submit.disabled = false;
          update();
        }
      },
    },
    h('label', { for: `${id}-text`, class: 'visually-hidden' }, options.replyTo ? `Reply to @${options.replyTo.account.acct}` : 'What is on your mind?'),
    cw,
    text,
    mediaList,
    poll,
    error,
    h(
      'div',
      { class: 'row tools' },
      h('label', { for: `${id}-files`, class: 'tool', title: 'Add images' }, h('span', { 'aria-hidden': 'true' }, '＋'), ' Images', files),
      h('label', { for: `${id}-pollon`, class: 'tool', title: 'Poll' }, pollToggle, ' Poll'),
      h('label', { for: `${id}-cwon`, class: 'tool', title: 'Content warning' }, cwToggle, ' CW'),
      h('label', { for: `${id}-vis`, class: 'visually-hidden' }, 'Visibility'),
      visibility,
      h('span', { class: 'spacer' }),
      counter,
      options.onCancel ? h('button', { type: 'button', class: 'secondary', onclick: options.onCancel }, 'Cancel') : null,
      submit,
    ),
  );
  form.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) form.requestSubmit();
    if (e.key === 'Escape' && options.onCancel) options.onCancel();
  });
  update();
  return form;
}
