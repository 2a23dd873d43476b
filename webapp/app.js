// @ts-check
/**
 * Starling's web app: the router (paths under /web), the navigation bar, the signed-in account
 * and the user stream feeding whichever page is shown.
 */
import { h, mount, announce } from './view.js';
import { get, token, logout, stream, ApiError } from './api.js';
import * as pages from './pages.js';

/** @typedef {import('./wire').Account} Account */

const root = /** @type {HTMLElement} */ (document.getElementById('app'));
const main = h('main', { id: 'main', tabindex: '-1' });
const nav = h('nav', { class: 'nav', 'aria-label': 'Main' });
const liveDot = h('span', { class: 'live', title: 'Live updates', 'aria-hidden': 'true' });

/** @type {((event: string, payload: any) => void) | null} */
let liveHandler = null;
/** @type {(() => void) | null} */
let closeStream = null;

/** @type {import('./pages.js').Ctx} */
const ctx = {
  me: null,
  main,
  go,
  live: (handler) => {
    liveHandler = handler;
  },
  refreshMe,
};

async function refreshMe() {
  if (!token()) {
    ctx.me = null;
  } else {
    try {
      ctx.me = await get('/api/v1/accounts/verify_credentials');
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        localStorage.removeItem('starling.token');
        ctx.me = null;
      } else {
        throw err;
      }
    }
  }
  renderNav();
  if (ctx.me && !closeStream) {
    closeStream = stream(
      (event, payload) => {
        if (event === 'notification') bumpNotifications();
        liveHandler?.(event, payload);
      },
      (open) => liveDot.classList.toggle('on', open),
    );
  } else if (!ctx.me && closeStream) {
    closeStream();
    closeStream = null;
  }
}

let unread = 0;
function bumpNotifications() {
  if (location.pathname === '/web/notifications') return;
  unread++;
  const badge = nav.querySelector('.unread');
  if (badge) {
    badge.textContent = String(unread);
    badge.removeAttribute('hidden');
  }
}

/**
 * @param {string} path
 * @param {string} label
 * @param {any} [extra]
 */
function navLink(path, label, extra) {
  const current = location.pathname === path || (path !== '/web/home' && location.pathname.startsWith(path));
  return h(
    'a',
    {
      href: path,
      'aria-current': current ? 'page' : null,
      onclick: (/** @type {MouseEvent} */ e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
        e.preventDefault();
        go(path);
      },
    },
    label,
    extra,
  );
}

function renderNav() {
  if (!ctx.me) {
    mount(nav, navLink('/web/login', 'Log in'), navLink('/web/signup', 'Sign up'));
    return;
  }
  const me = ctx.me;
  mount(
    nav,
    navLink('/web/home', 'Home'),
    navLink('/web/local', 'Local'),
    navLink('/web/notifications', 'Notifications', h('span', { class: 'unread badge', hidden: unread === 0, 'aria-label': `${unread} new` }, String(unread))),
    navLink('/web/search', 'Search'),
    navLink('/web/bookmarks', 'Bookmarks'),
    navLink(`/web/@${me.acct}`, 'Profile'),
    h(
      'button',
      {
        type: 'button',
        class: 'link',
        onclick: async () => {
          await logout();
          ctx.me = null;
          closeStream?.();
          closeStream = null;
          renderNav();
          go('/web', true);
          announce('Logged out');
        },
      },
      'Log out',
    ),
  );
}

/**
 * Shows the page for `path` (pushing it onto history unless `replace`).
 * @param {string} path
 * @param {boolean} [replace]
 */
function go(path, replace = false) {
  if (replace) history.replaceState(null, '', path);
  else if (path !== location.pathname + location.search) history.pushState(null, '', path);
  route();
}

async function route() {
  liveHandler = null;
  const path = location.pathname.replace(/\/+$/, '') || '/web';
  const query = new URLSearchParams(location.search);
  renderNav();
  main.classList.remove('error');
  /** @type {RegExpMatchArray | null} */
  let m;
  const signedIn = !!ctx.me;
  try {
    if (path === '/web/callback') await pages.callback(ctx);
    else if (path === '/web/login') signedIn ? go('/web/home', true) : await pages.login(ctx);
    else if (path === '/web/signup') signedIn ? go('/web/home', true) : await pages.signup(ctx);
    else if ((m = path.match(/^\/web\/@([^/]+)$/))) await pages.profile(ctx, decodeURIComponent(m[1]));
    else if ((m = path.match(/^\/web\/statuses\/([^/]+)$/))) await pages.thread(ctx, m[1], query.has('reply'));
    else if ((m = path.match(/^\/web\/tags\/([^/]+)$/))) pages.tag(ctx, decodeURIComponent(m[1]));
    else if (path === '/web/local') pages.local(ctx);
    else if (!signedIn) await pages.welcome(ctx);
    else if (path === '/web' || path === '/web/home') pages.home(ctx);
    else if (path === '/web/notifications') {
      unread = 0;
      renderNav();
      pages.notifications(ctx);
    } else if (path === '/web/search') await pages.search(ctx, query.get('q') || '');
    else if (path === '/web/bookmarks') pages.saved(ctx, '/api/v1/bookmarks', 'Bookmarks');
    else if (path === '/web/favourites') pages.saved(ctx, '/api/v1/favourites', 'Favourites');
    else if (path === '/web/settings/profile') await pages.editProfile(ctx);
    else mount(main, h('h1', { tabindex: '-1', class: 'page-title' }, 'Page not found'), h('p', null, h('a', { href: '/web' }, 'Go home')));
  } catch (err) {
    mount(main, h('h1', { tabindex: '-1', class: 'page-title' }, 'Something went wrong'), h('p', { class: 'error', role: 'alert' }, String(/** @type {Error} */ (err).message)));
  }
  const title = /** @type {HTMLElement | null} */ (main.querySelector('.page-title'));
  // The new page's heading takes focus, unless the page put it somewhere (a reply box).
  if (started && !main.contains(document.activeElement)) title?.focus({ preventScroll: false });
  started = true;
}
let started = false;

window.addEventListener('popstate', route);

// Keyboard: j/k move between posts, g h/n go home / to notifications, / searches.
let pendingG = false;
document.addEventListener('keydown', (e) => {
  const target = /** @type {HTMLElement} */ (e.target);
  if (e.ctrlKey || e.metaKey || e.altKey || target.closest('input, textarea, select, [contenteditable]')) return;
  if (pendingG) {
    pendingG = false;
    if (e.key === 'h') go('/web/home');
    if (e.key === 'n') go('/web/notifications');
    return;
  }
  if (e.key === 'g') pendingG = true;
  else if (e.key === '/') {
    e.preventDefault();
    go('/web/search');
  } else if (e.key === 'j' || e.key === 'k') {
    const posts = [...main.querySelectorAll('article')];
    const at = posts.indexOf(/** @type {HTMLElement} */ (document.activeElement?.closest('article')));
    const next = posts[e.key === 'j' ? at + 1 : Math.max(at - 1, 0)];
    next?.focus();
  }
});

const header = /** @type {HTMLElement} */ (document.querySelector('header.bar'));
header.append(liveDot, nav);
mount(root, main, h('div', { id: 'announce', class: 'toast', role: 'status', 'aria-live': 'polite' }));
refreshMe()
  .catch(() => renderNav())
  .then(route);
