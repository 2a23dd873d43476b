// @ts-check
/** The app's pages: each renders into `main` and may take stream events while shown. */
import { h, mount, announce } from './view.js';
import { get, post, api, instance, beginLogin, finishLogin, signUp, ApiError } from './api.js';
import { statusView, link, displayName, profilePath } from './status.js';
import { composer } from './compose.js';

/** @typedef {import('./wire').Status} Status */
/** @typedef {import('./wire').Account} Account */
/** @typedef {import('./wire').Notification} Notification */
/** @typedef {import('./wire').Relationship} Relationship */
/** @typedef {import('./wire').Context} Context */
/** @typedef {import('./wire').Search} Search */

/**
 * What every page gets from the app.
 * @typedef {object} Ctx
 * @property {Account | null} me
 * @property {(path: string, replace?: boolean) => void} go
 * @property {HTMLElement} main
 * @property {(handler: ((event: string, payload: any) => void) | null) => void} live
 * @property {() => Promise<void>} refreshMe
 */

/**
 * The page's heading, focused on navigation so screen readers announce the new page.
 * @param {string} text
 */
function heading(text) {
  document.title = `${text} · ${document.querySelector('.brand')?.textContent || 'Starling'}`;
  return h('h1', { tabindex: '-1', class: 'page-title' }, text);
}

/**
 * @param {Ctx} ctx
 * @returns {import('./status.js').StatusContext}
 */
function statusCtx(ctx) {
  return {
    me: ctx.me,
    go: ctx.go,
    onReply: (s) => ctx.go(`/web/statuses/${s.id}?reply=1`),
    onEdit: (s) => {
      const article = document.querySelector(`article[data-id="${s.id}"]`) || document.querySelector(`article .content`)?.closest('article');
      const target = [...document.querySelectorAll('article.status')].find((a) => a.querySelector(`a[href="/web/statuses/${s.id}"]`)) || article;
      if (!target) return;
      const form = composer({
        edit: s,
        onDone: (updated) => form.replaceWith(statusView(updated, statusCtx(ctx))),
        onCancel: () => form.replaceWith(statusView(s, statusCtx(ctx))),
      });
      target.replaceWith(form);
      form.querySelector('textarea')?.focus();
    },
  };
}

/**
 * A paged list of statuses from `path`, with "Load more".
 * @param {Ctx} ctx
 * @param {string} path
 * @param {string} label
 * @param {string} empty
 */
function timeline(ctx, path, label, empty) {
  const feed = h('div', { class: 'feed', role: 'feed', 'aria-label': label, 'aria-busy': 'true' });
  // A feed holds articles only: messages go beside it.
  const note = h('div', { class: 'feed-note' });
  const more = h('button', { type: 'button', class: 'secondary more', hidden: true }, 'Load more');
  /** @type {string | null} */
  let maxId = null;
  const load = async () => {
    feed.setAttribute('aria-busy', 'true');
    try {
      const sep = path.includes('?') ? '&' : '?';
      /** @type {Status[]} */
      const page = await get(maxId ? `${path}${sep}max_id=${maxId}` : path);
      if (!maxId && !page.length) mount(note, h('p', { class: 'muted empty' }, empty));
      for (const s of page) feed.append(statusView(s, statusCtx(ctx)));
      maxId = page.length ? page[page.length - 1].id : maxId;
      more.hidden = page.length < 20;
    } catch (err) {
      mount(note, h('p', { class: 'error', role: 'alert' }, String(/** @type {Error} */ (err).message)));
    } finally {
      feed.removeAttribute('aria-busy');
      feed.hidden = !feed.children.length; // an empty feed is no feed
    }
  };
  more.addEventListener('click', load);
  load();
  /** @param {Status} s */
  const prepend = (s) => {
    if (feed.querySelector(`article[data-id="${s.id}"]`)) return;
    mount(note);
    feed.hidden = false;
    feed.prepend(statusView(s, statusCtx(ctx)));
  };
  /** @param {string} event @param {any} payload */
  const onEvent = (event, payload) => {
    if (event === 'update') prepend(payload);
    else if (event === 'delete') feed.querySelector(`article[data-id="${payload}"]`)?.remove();
    else if (event === 'status.update') feed.querySelector(`article[data-id="${payload.id}"]`)?.replaceWith(statusView(payload, statusCtx(ctx)));
  };
  return { node: h('div', null, note, feed, more), prepend, onEvent };
}

/** @param {Ctx} ctx */
export function home(ctx) {
  const list = timeline(ctx, '/api/v1/timelines/home', 'Home timeline', 'Nothing here yet: follow people, or write something.');
  const compose = composer({ onDone: (s) => list.prepend(s) });
  mount(ctx.main, heading('Home'), compose, list.node);
  ctx.live(list.onEvent);
}

/** @param {Ctx} ctx */
export function local(ctx) {
  const list = timeline(ctx, '/api/v1/timelines/public?local=true', 'Local timeline', 'Nobody here has posted publicly yet.');
  mount(ctx.main, heading('Local'), list.node);
}

/** @param {Ctx} ctx @param {string} tag */
export function tag(ctx, tag) {
  const list = timeline(ctx, `/api/v1/timelines/tag/${encodeURIComponent(tag)}`, `Posts tagged #${tag}`, 'No posts with this tag yet.');
  mount(ctx.main, heading(`#${tag}`), list.node);
}

/** @param {Ctx} ctx @param {string} path @param {string} title */
export function saved(ctx, path, title) {
  const list = timeline(ctx, path, title, `No ${title.toLowerCase()} yet.`);
  mount(ctx.main, heading(title), list.node);
}

const NOTIFICATION_TEXT = /** @type {Record<string, string>} */ ({
  favourite: 'favourited your post',
  reblog: 'boosted your post',
  follow: 'followed you',
  follow_request: 'asked to follow you',
  mention: 'mentioned you',
  poll: 'A poll has ended',
  status: 'posted',
  update: 'edited a post',
});

/** @param {Ctx} ctx */
export function notifications(ctx) {
  const list = h('div', { class: 'feed', role: 'feed', 'aria-label': 'Notifications', 'aria-busy': 'true' });
  const note = h('div', { class: 'feed-note' });
  /** @param {Notification} n */
  const item = (n) =>
    h(
      'article',
      { class: `notification ${n.type}`, 'data-id': n.id, tabindex: '0', 'aria-label': `${displayName(n.account)} ${NOTIFICATION_TEXT[n.type] || n.type}` },
      h('p', null, link(ctx, profilePath(n.account), h('strong', null, displayName(n.account))), ` ${NOTIFICATION_TEXT[n.type] || n.type}`),
      n.status ? h('div', { class: 'quoted' }, statusView(n.status, statusCtx(ctx))) : null,
    );
  get('/api/v1/notifications')
    .then((/** @type {Notification[]} */ page) => {
      if (!page.length) mount(note, h('p', { class: 'muted empty' }, 'No notifications yet.'));
      for (const n of page) list.append(item(n));
      list.removeAttribute('aria-busy');
      list.hidden = !list.children.length;
      if (page.length) post('/api/v1/markers', { notifications: { last_read_id: page[0].id } }).catch(() => {});
    })
    .catch((err) => mount(note, h('p', { class: 'error', role: 'alert' }, String(err.message))));
  mount(ctx.main, heading('Notifications'), note, list);
  ctx.live((event, payload) => {
    if (event !== 'notification' || list.querySelector(`article[data-id="${payload.id}"]`)) return;
    mount(note);
    list.hidden = false;
    list.prepend(item(payload));
  });
}

/** @param {Ctx} ctx @param {string} id @param {boolean} reply */
export async function thread(ctx, id, reply) {
  mount(ctx.main, heading('Thread'), h('p', { class: 'muted' }, 'Loading…'));
  try {
    /** @type {[Status, Context]} */
    const [status, context] = await Promise.all([get(`/api/v1/statuses/${id}`), get(`/api/v1/statuses/${id}/context`)]);
    const sctx = statusCtx(ctx);
    const mentions = ctx.me ? [status.account, ...status.mentions].map((a) => a.acct).filter((acct, i, all) => acct !== ctx.me?.acct && all.indexOf(acct) === i) : [];
    const replyBox = ctx.me
      ? composer({ replyTo: status, mentionPrefix: mentions.map((a) => `@${a} `).join(''), onDone: (s) => descendants.append(statusView(s, sctx)) })
      : null;
    const descendants = h('div', { class: 'descendants' }, context.descendants.map((s) => statusView(s, sctx)));
    const focus = statusView(status, { ...sctx, onReply: () => replyBox?.querySelector('textarea')?.focus() }, { focus: true });
    mount(ctx.main, heading('Thread'), h('div', { class: 'thread' }, context.ancestors.map((s) => statusView(s, sctx)), focus, replyBox, descendants));
    if (reply && replyBox) {
      const area = replyBox.querySelector('textarea');
      area?.focus();
      area?.setSelectionRange(area.value.length, area.value.length);
    }
  } catch (err) {
    mount(ctx.main, heading('Not found'), h('p', { class: 'error', role: 'alert' }, String(/** @type {Error} */ (err).message)));
  }
}

/** @param {Ctx} ctx @param {string} acct */
export async function profile(ctx, acct) {
  mount(ctx.main, heading(`@${acct}`), h('p', { class: 'muted' }, 'Loading…'));
  /** @type {Account} */
  let account;
  try {
    account = await get(`/api/v1/accounts/lookup?acct=${encodeURIComponent(acct)}`);
  } catch (err) {
    mount(ctx.main, heading('Not found'), h('p', { class: 'error', role: 'alert' }, `No account @${acct}.`));
    return;
  }
  const mine = ctx.me?.id === account.id;
  const buttons = h('div', { class: 'row' });
  /** @param {Relationship} rel */
  const showRelationship = (rel) => {
    /** @param {string} label @param {boolean} on @param {string} verb @param {string} undo @param {string} [cls] */
    const button = (label, on, verb, undo, cls) =>
      h('button', {
        type: 'button',
        class: cls || 'secondary',
        'aria-pressed': String(on),
        onclick: async () => {
          try {
            const updated = await post(`/api/v1/accounts/${account.id}/${on ? undo : verb}`);
            showRelationship(updated);
            announce(`${label}: ${on ? 'undone' : 'done'}`);
            /** @type {HTMLElement | null} */ (buttons.querySelector(`button[data-label="${label}"]`))?.focus();
          } catch (err) {
            announce(String(/** @type {Error} */ (err).message));
          }
        },
        'data-label': label,
      }, on ? { Follow: rel.requested ? 'Requested' : 'Unfollow', Mute: 'Unmute', Block: 'Unblock' }[label] : label);
    mount(
      buttons,
      button('Follow', rel.following || rel.requested, 'follow', 'unfollow', rel.following || rel.requested ? 'secondary' : 'primary'),
      button('Mute', rel.muting, 'mute', 'unmute'),
      button('Block', rel.blocking, 'block', 'unblock'),
      rel.followed_by ? h('span', { class: 'badge' }, 'Follows you') : null,
    );
  };
  if (ctx.me && !mine) get(`/api/v1/accounts/relationships?id[]=${account.id}`).then((/** @type {Relationship[]} */ r) => r[0] && showRelationship(r[0]));
  if (mine) mount(buttons, link(ctx, '/web/settings/profile', 'Edit profile', 'button secondary'));
  const list = timeline(ctx, `/api/v1/accounts/${account.id}/statuses`, `Posts by ${displayName(account)}`, 'No posts yet.');
  mount(
    ctx.main,
    h(
      'section',
      { class: 'card profile', 'aria-labelledby': 'profile-name' },
      h('img', { class: 'banner', src: account.header_static, alt: '' }),
      h('img', { class: 'avatar', src: account.avatar_static, alt: `${displayName(account)}'s avatar`, width: '96', height: '96' }),
      h('h1', { id: 'profile-name', tabindex: '-1', class: 'page-title' }, displayName(account)),
      h('p', { class: 'muted' }, `@${account.acct}`),
      h('div', { class: 'note', html: account.note }),
      account.fields.length ? h('dl', { class: 'fields' }, account.fields.map((f) => [h('dt', null, f.name), h('dd', { html: f.value })])) : null,
      h('p', { class: 'muted counts' }, `${account.statuses_count} posts · ${account.following_count} following · ${account.followers_count} followers`),
      ctx.me ? buttons : null,
    ),
    h('h2', null, 'Posts'),
    list.node,
  );
  document.title = `${displayName(account)} (@${account.acct})`;
}

/** @param {Ctx} ctx @param {string} q */
export async function search(ctx, q) {
  const input = h('input', { type: 'search', name: 'q', id: 'search-q', value: q, placeholder: 'People, #tags, posts', autocomplete: 'off' });
  const results = h('div', { class: 'results', 'aria-live': 'polite' });
  mount(
    ctx.main,
    heading('Search'),
    h(
      'form',
      { role: 'search', class: 'row', onsubmit: (/** @type {Event} */ e) => (e.preventDefault(), ctx.go(`/web/search?q=${encodeURIComponent(input.value)}`)) },
      h('label', { for: 'search-q', class: 'visually-hidden' }, 'Search'),
      input,
      h('button', { type: 'submit' }, 'Search'),
    ),
    results,
  );
  if (!q.trim()) {
    input.focus();
    return;
  }
  try {
    /** @type {Search} */
    const found = await get(`/api/v2/search?q=${encodeURIComponent(q)}&limit=20`);
    mount(
      results,
      h('h2', null, 'People'),
      found.accounts.length
        ? h('ul', { class: 'accounts' }, found.accounts.map((a) => h('li', null, link(ctx, profilePath(a), [h('img', { src: a.avatar_static, alt: '', width: '32', height: '32' }), ` ${displayName(a)} `, h('span', { class: 'muted' }, `@${a.acct}`)]))))
        : h('p', { class: 'muted' }, 'No people found.'),
      h('h2', null, 'Hashtags'),
      found.hashtags.length ? h('ul', { class: 'tags' }, found.hashtags.map((t) => h('li', null, link(ctx, `/web/tags/${encodeURIComponent(t.name)}`, `#${t.name}`)))) : h('p', { class: 'muted' }, 'No hashtags found.'),
      h('h2', null, 'Posts'),
      found.statuses.length ? h('div', { class: 'feed', role: 'feed', 'aria-label': 'Posts found' }, found.statuses.map((s) => statusView(s, statusCtx(ctx)))) : h('p', { class: 'muted' }, 'No posts found.'),
    );
  } catch (err) {
    mount(results, h('p', { class: 'error', role: 'alert' }, String(/** @type {Error} */ (err).message)));
  }
}

/** @param {Ctx} ctx */
export async function editProfile(ctx) {
  /** @type {Account} */
  const me = await get('/api/v1/accounts/verify_credentials');
  const field = (/** @type {string} */ id, /** @type {string} */ label, /** @type {HTMLElement} */ input) => h('div', { class: 'field' }, h('label', { for: id }, label), input);
  const name = h('input', { id: 'p-name', name: 'display_name', value: me.display_name, maxlength: '30' });
  const note = h('textarea', { id: 'p-note', name: 'note', rows: '4', value: me.source?.note ?? '', maxlength: '500' });
  const rows = [0, 1, 2, 3].map((i) => {
    const f = me.source?.fields?.[i] || me.fields[i];
    return [
      h('input', { name: `fields_attributes[${i}][name]`, 'aria-label': `Field ${i + 1} label`, placeholder: 'Label', value: f?.name || '' }),
      h('input', { name: `fields_attributes[${i}][value]`, 'aria-label': `Field ${i + 1} content`, placeholder: 'Content', value: f?.value || '' }),
    ];
  });
  const locked = h('input', { type: 'checkbox', id: 'p-locked', checked: me.locked });
  const status = h('p', { role: 'status' });
  // Avatar and header: a file replaces the picture (multipart), "Remove" deletes it.
  const picture = (/** @type {'avatar' | 'header'} */ kind, /** @type {string} */ label) => {
    const input = /** @type {HTMLInputElement} */ (h('input', { type: 'file', id: `p-${kind}`, name: kind, accept: 'image/png,image/jpeg,image/gif,image/webp' }));
    const preview = h('img', { class: `preview ${kind}`, src: me[kind], alt: `Current ${label.toLowerCase()}` });
    const remove = h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onclick: async () => {
          try {
            /** @type {Account} */
            const updated = await api('DELETE', `/api/v1/profile/${kind}`);
            preview.setAttribute('src', updated[kind]);
            input.value = '';
            await ctx.refreshMe();
            announce(`${label} removed`);
          } catch (err) {
            status.textContent = String(/** @type {Error} */ (err).message);
          }
        },
      },
      `Remove ${label.toLowerCase()}`,
    );
    return { input, row: h('div', { class: 'field' }, h('label', { for: `p-${kind}` }, label), preview, input, remove) };
  };
  const avatar = picture('avatar', 'Avatar');
  const header = picture('header', 'Header');
  const form = h(
    'form',
    {
      class: 'card settings',
      onsubmit: async (/** @type {Event} */ e) => {
        e.preventDefault();
        // Multipart, so pictures can go with the text fields.
        const body = new FormData();
        for (const { input } of [avatar, header]) {
          const file = input.files?.[0];
          if (file) body.set(input.name, file);
        }
        body.set('display_name', name.value);
        body.set('note', note.value);
        body.set('locked', String(locked.checked));
        rows.forEach(([label, value], i) => {
          body.set(`fields_attributes[${i}][name]`, label.value);
          body.set(`fields_attributes[${i}][value]`, value.value);
        });
        try {
          /** @type {Account} */
          const updated = await api('PATCH', '/api/v1/accounts/update_credentials', body);
          for (const [kind, { input, row }] of /** @type {const} */ ([['avatar', avatar], ['header', header]])) {
            row.querySelector('img')?.setAttribute('src', updated[kind]);
            input.value = '';
          }
          await ctx.refreshMe();
          status.textContent = 'Profile saved.';
          announce('Profile saved');
        } catch (err) {
          status.textContent = String(/** @type {Error} */ (err).message);
        }
      },
    },
    field('p-name', 'Display name', name),
    field('p-note', 'Bio', note),
    avatar.row,
    header.row,
    h('fieldset', null, h('legend', null, 'Profile fields'), rows.map((r) => h('div', { class: 'row' }, r))),
    h('div', { class: 'field' }, h('label', { for: 'p-locked' }, locked, ' Approve followers by hand')),
    h('div', { class: 'row' }, h('button', { type: 'submit' }, 'Save profile'), link(ctx, profilePath(me), 'View profile', 'button secondary')),
    status,
  );
  mount(ctx.main, heading('Edit profile'), form);
}

/** @param {Ctx} ctx */
export async function welcome(ctx) {
  const info = await instance().catch(() => null);
  mount(
    ctx.main,
    h(
      'section',
      { class: 'card hero' },
      heading(info?.title || 'Starling'),
      h('p', null, info?.description || ''),
      h('div', { class: 'row' }, h('button', { type: 'button', onclick: () => beginLogin().catch((e) => announce(e.message)) }, 'Log in'), link(ctx, '/web/signup', 'Sign up', 'button secondary')),
      h('p', { class: 'muted' }, h('a', { href: '/' }, 'Public posts'), ' can be read without an account.'),
    ),
  );
}

/** @param {Ctx} ctx */
export async function login(ctx) {
  mount(ctx.main, heading('Log in'), h('p', { class: 'muted' }, 'Taking you to the login page…'));
  try {
    await beginLogin();
  } catch (err) {
    mount(ctx.main, heading('Log in'), h('p', { class: 'error', role: 'alert' }, String(/** @type {Error} */ (err).message)));
  }
}

/** @param {Ctx} ctx */
export async function callback(ctx) {
  mount(ctx.main, heading('Logging in…'));
  try {
    await finishLogin(new URLSearchParams(location.search));
    await ctx.refreshMe();
    ctx.go('/web/home', true);
  } catch (err) {
    mount(ctx.main, heading('Log in failed'), h('p', { class: 'error', role: 'alert' }, String(/** @type {Error} */ (err).message)), link(ctx, '/web', 'Back'));
  }
}

/** @param {Ctx} ctx */
export async function signup(ctx) {
  const info = await instance();
  if (info.registrations && !info.registrations.enabled) {
    mount(ctx.main, heading('Sign up'), h('p', null, 'Sign-ups are closed on this server.'));
    return;
  }
  const field = (/** @type {string} */ id, /** @type {string} */ label, /** @type {Record<string, any>} */ props) =>
    h('div', { class: 'field' }, h('label', { for: id }, label), h('input', { id, name: id.slice(2), required: true, ...props }));
  const error = h('p', { class: 'error', role: 'alert' });
  const approval = info.registrations?.approval_required;
  const form = h(
    'form',
    {
      class: 'card settings',
      onsubmit: async (/** @type {Event} */ e) => {
        e.preventDefault();
        error.textContent = '';
        const data = new FormData(form);
        const button = /** @type {HTMLButtonElement} */ (form.querySelector('button[type=submit]'));
        button.disabled = true;
        try {
          await signUp({ username: String(data.get('username')), email: String(data.get('email')), password: String(data.get('password')), reason: approval ? String(data.get('reason') || '') : undefined });
          await ctx.refreshMe();
          ctx.go(ctx.me ? '/web/home' : '/web', true);
          if (!ctx.me) announce('Account created: a moderator will review it.');
        } catch (err) {
          error.textContent = err instanceof ApiError ? err.message : String(err);
        } finally {
          button.disabled = false;
        }
      },
    },
    field('s-username', 'Username', { autocomplete: 'username', pattern: '[A-Za-z0-9_]{1,30}', maxlength: '30' }),
    field('s-email', 'E-mail', { type: 'email', autocomplete: 'email' }),
    field('s-password', 'Password', { type: 'password', autocomplete: 'new-password', minlength: '8' }),
    approval ? h('div', { class: 'field' }, h('label', { for: 's-reason' }, 'Why do you want to join?'), h('textarea', { id: 's-reason', name: 'reason', rows: '2' })) : null,
    info.rules.length ? h('section', { 'aria-labelledby': 'rules-title' }, h('h2', { id: 'rules-title' }, 'Rules'), h('ol', { class: 'rules' }, info.rules.map((r) => h('li', null, r.text, r.hint ? h('div', { class: 'muted small' }, r.hint) : null)))) : null,
    h('div', { class: 'field' }, h('label', { for: 's-agree' }, h('input', { type: 'checkbox', id: 's-agree', name: 'agreement', required: true }), ' I agree to the rules and the terms of this server')),
    error,
    h('div', { class: 'row' }, h('button', { type: 'submit' }, 'Sign up'), h('button', { type: 'button', class: 'secondary', onclick: () => beginLogin() }, 'I have an account')),
  );
  mount(ctx.main, heading(`Sign up on ${info.title}`), form);
}
