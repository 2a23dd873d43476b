// @ts-check
/** A status as an `<article>` with its actions (reply, boost, favourite, bookmark, edit, delete). */
import { h, ago, announce } from './view.js';
import { post, del, ApiError } from './api.js';

/** @typedef {import('./wire').Status} Status */
/** @typedef {import('./wire').Account} Account */
/** @typedef {import('./wire').Poll} Poll */

/**
 * What a status view needs from the app.
 * @typedef {object} StatusContext
 * @property {Account | null} me
 * @property {(path: string) => void} go
 * @property {(status: Status) => void} [onReply]
 * @property {(status: Status) => void} [onEdit]
 */

/** @param {Account} a */
export const displayName = (a) => a.display_name || a.username;

/** @param {Account} a */
export const profilePath = (a) => `/web/@${a.acct}`;

/**
 * @param {Status} status
 * @param {StatusContext} ctx
 * @param {{focus?: boolean}} [options]
 * @returns {HTMLElement}
 */
export function statusView(status, ctx, options = {}) {
  const s = status.reblog || status;
  const mine = ctx.me != null && s.account.id === ctx.me.id;
  const headingId = `s-${status.id}-by`;
  const content = h('div', { class: 'content', lang: s.language || null, html: s.content, onclick: (/** @type {MouseEvent} */ e) => contentClick(e, s, ctx) });
  /** @type {HTMLElement} */
  let body = h('div', null, content, media(s), s.poll ? pollView(s.poll, s, ctx) : null, quoteView(s, ctx));
  if (s.spoiler_text) body = h('details', { class: 'cw' }, h('summary', null, s.spoiler_text, h('span', { class: 'muted' }, ' (show more)')), body);
  const article = h(
    'article',
    { class: options.focus ? 'status focus' : 'status', 'data-id': status.id, 'aria-labelledby': headingId, tabindex: '0' },
    status.reblog ? h('p', { class: 'muted boosted' }, '⇄ ', link(ctx, profilePath(status.account), displayName(status.account)), ' boosted') : null,
    h(
      'div',
      { class: 'by' },
      h('img', { src: s.account.avatar_static, alt: '', width: '46', height: '46', loading: 'lazy' }),
      h('div', { class: 'who' }, link(ctx, profilePath(s.account), h('strong', { id: headingId }, displayName(s.account))), h('span', { class: 'muted' }, `@${s.account.acct}`)),
      link(ctx, `/web/statuses/${s.id}`, h('time', { datetime: s.created_at, title: new Date(s.created_at).toLocaleString() }, ago(s.created_at)), 'when'),
    ),
    body,
    s.edited_at ? h('p', { class: 'muted small' }, 'Edited') : null,
    actions(status, s, ctx, mine),
  );
  return article;
}

/** Why a quote shows nothing, by its state. */
const QUOTE_HIDDEN = { revoked: 'The author removed this quote', deleted: 'The quoted post was deleted' };

/**
 * The post `s` quotes, small and read-only (its own quote, media and poll left out), or why it
 * is not shown.
 * @param {Status} s
 * @param {StatusContext} ctx
 * @returns {HTMLElement | null}
 */
function quoteView(s, ctx) {
  const quote = s.quote;
  if (!quote) return null;
  const quoted = quote.quoted_status;
  if (quote.state !== 'accepted' || !quoted) {
    return h('p', { class: 'quote muted small' }, QUOTE_HIDDEN[/** @type {'revoked' | 'deleted'} */ (quote.state)] || 'Quoted post unavailable');
  }
  return h(
    'blockquote',
    { class: 'quote', 'data-quoted': quoted.id },
    h(
      'p',
      { class: 'small' },
      link(ctx, profilePath(quoted.account), h('strong', null, displayName(quoted.account))),
      h('span', { class: 'muted' }, ` @${quoted.account.acct} · `),
      link(ctx, `/web/statuses/${quoted.id}`, 'open'),
    ),
    quoted.spoiler_text
      ? h('p', { class: 'muted small' }, quoted.spoiler_text)
      : h('div', { class: 'content', lang: quoted.language || null, html: quoted.content }),
  );
}

/**
 * @param {{go: (path: string) => void}} ctx
 * @param {string} path
 * @param {any} label
 * @param {string} [cls]
 */
export function link(ctx, path, label, cls) {
  return h('a', { href: path, class: cls || null, onclick: (/** @type {MouseEvent} */ e) => navigate(e, ctx, path) }, label);
}

/**
 * @param {MouseEvent} e
 * @param {{go: (path: string) => void}} ctx
 * @param {string} path
 */
function navigate(e, ctx, path) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  ctx.go(path);
}

/**
 * Links inside content: hashtags and mentions open in the app.
 * @param {MouseEvent} e
 * @param {Status} s
 * @param {StatusContext} ctx
 */
function contentClick(e, s, ctx) {
  const a = /** @type {HTMLElement} */ (e.target).closest('a');
  if (!a) return;
  if (a.classList.contains('hashtag')) {
    navigate(e, ctx, `/web/tags/${encodeURIComponent((a.textContent || '').replace(/^#/, ''))}`);
    return;
  }
  const mention = s.mentions.find((m) => m.url === a.getAttribute('href'));
  if (mention) navigate(e, ctx, `/web/@${mention.acct}`);
}

/** @param {Status} s */
function media(s) {
  if (!s.media_attachments.length) return null;
  return h(
    'div',
    { class: 'media' },
    s.media_attachments.map((m) =>
      m.type === 'image' || m.type === 'gifv'
        ? h('a', { href: m.url, target: '_blank', rel: 'noopener' }, h('img', { src: m.preview_url || m.url, alt: m.description || '', loading: 'lazy' }))
        : h('a', { href: m.url, target: '_blank', rel: 'noopener' }, m.description || `${m.type} attachment`),
    ),
  );
}

/**
 * @param {Poll} poll
 * @param {Status} s
 * @param {StatusContext} ctx
 */
function pollView(poll, s, ctx) {
  const total = poll.votes_count || 0;
  const canVote = ctx.me != null && s.account.id !== ctx.me.id && !poll.expired && !poll.voted;
  const name = `poll-${poll.id}-${Math.random().toString(36).slice(2, 6)}`;
  const form = h(
    'form',
    {
      class: 'poll',
      onsubmit: async (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        const choices = [...form.querySelectorAll('input:checked')].map((i) => Number(/** @type {HTMLInputElement} */ (i).value));
        if (!choices.length) return;
        try {
          const updated = await post(`/api/v1/polls/${poll.id}/votes`, { choices });
          form.replaceWith(pollView(updated, s, ctx));
          announce('Vote counted');
        } catch (err) {
          announce(String(/** @type {Error} */ (err).message));
        }
      },
    },
    h(
      'fieldset',
      null,
      h('legend', { class: 'muted small' }, poll.multiple ? 'Poll (choose any)' : 'Poll'),
      poll.options.map((o, i) => {
        const pct = total ? Math.round(((o.votes_count || 0) * 100) / total) : 0;
        const mine = poll.own_votes?.includes(i);
        return canVote
          ? h('label', { class: 'option' }, h('input', { type: poll.multiple ? 'checkbox' : 'radio', name, value: String(i) }), ` ${o.title}`)
          : h('div', { class: 'option result' }, h('span', null, `${o.title}${mine ? ' ✓' : ''}`), h('meter', { min: '0', max: '100', value: String(pct), 'aria-label': `${o.title}: ${pct}%` }), h('span', { class: 'muted' }, `${pct}%`));
      }),
    ),
    h('p', { class: 'muted small' }, `${total} vote${total === 1 ? '' : 's'}`, poll.expired ? ' · closed' : poll.expires_at ? ` · ends ${new Date(poll.expires_at).toLocaleString()}` : '', canVote ? ' ' : null, canVote ? h('button', { type: 'submit', class: 'small' }, 'Vote') : null),
  );
  return form;
}

/**
 * An action button's content: the icon (hidden from screen readers), its name for them, and the
 * visible count (part of the name, as the visible text must be).
 * @param {string} icon
 * @param {string} label
 * @param {number | null} count
 */
function actionLabel(icon, label, count) {
  return [h('span', { 'aria-hidden': 'true' }, icon), h('span', { class: 'visually-hidden' }, `${label} `), count != null ? h('span', { class: 'count' }, String(count)) : null];
}

/**
 * @param {Status} original the status as listed (maybe a boost)
 * @param {Status} s the status acted on
 * @param {StatusContext} ctx
 * @param {boolean} mine
 */
function actions(original, s, ctx, mine) {
  if (!ctx.me) return null;
  /**
   * A toggle button: POSTs `on`/`off` and re-renders the status from the answer.
   * @param {string} label
   * @param {boolean} pressed
   * @param {string} verb
   * @param {string} undo
   * @param {number | null} count
   * @param {string} icon
   */
  const toggle = (label, pressed, verb, undo, count, icon) =>
    h(
      'button',
      {
        type: 'button',
        class: 'act',
        'aria-pressed': String(pressed),
        'data-action': label,
        onclick: async (/** @type {Event} */ e) => {
          const button = /** @type {HTMLButtonElement} */ (e.currentTarget);
          button.disabled = true;
          try {
            /** @type {Status} */
            let updated = await post(`/api/v1/statuses/${s.id}/${pressed ? undo : verb}`);
            if (updated.reblog && verb === 'reblog') updated = updated.reblog;
            const article = button.closest('article');
            const next = original.reblog ? { ...original, reblog: updated } : updated;
            article?.replaceWith(statusView(next, ctx));
            /** @type {HTMLElement | null} */ (document.querySelector(`article[data-id="${original.id}"] button[data-action="${label}"]`))?.focus();
            announce(`${label}: ${pressed ? 'off' : 'on'}`);
          } catch (err) {
            button.disabled = false;
            announce(String(/** @type {Error} */ (err).message));
          }
        },
      },
      ...actionLabel(icon, label, count),
    );
  const canBoost = s.visibility === 'public' || s.visibility === 'unlisted' || (mine && s.visibility === 'private');
  return h(
    'div',
    { class: 'actions', role: 'group', 'aria-label': 'Actions' },
    h('button', { type: 'button', class: 'act', 'data-action': 'Reply', onclick: () => (ctx.onReply ? ctx.onReply(s) : ctx.go(`/web/statuses/${s.id}`)) }, ...actionLabel('↩', 'Reply', s.replies_count)),
    canBoost ? toggle('Boost', !!s.reblogged, 'reblog', 'unreblog', s.reblogs_count, '⇄') : null,
    toggle('Favourite', !!s.favourited, 'favourite', 'unfavourite', s.favourites_count, '★'),
    toggle('Bookmark', !!s.bookmarked, 'bookmark', 'unbookmark', null, '⚑'),
    mine && ctx.onEdit ? h('button', { type: 'button', class: 'act', 'data-action': 'Edit', onclick: () => ctx.onEdit?.(s) }, ...actionLabel('✎', 'Edit', null)) : null,
    mine
      ? h(
          'button',
          {
            type: 'button',
            class: 'act',
            'data-action': 'Delete',
            onclick: async (/** @type {Event} */ e) => {
              const article = /** @type {HTMLElement} */ (e.currentTarget).closest('article');
              if (!confirm('Delete this post?')) return;
              try {
                await del(`/api/v1/statuses/${s.id}`);
                article?.remove();
                announce('Post deleted');
              } catch (err) {
                announce(err instanceof ApiError ? err.message : 'Could not delete');
              }
            },
          },
          ...actionLabel('✕', 'Delete', null),
        )
      : null,
  );
}
