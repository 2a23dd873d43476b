// @ts-check
/**
 * The app as a client of Starling's public Mastodon API: requests with the signed-in token,
 * OAuth (an app registered once per browser, authorization code with PKCE), sign-up with the
 * app's own token, log-out by revocation, and the streaming API over a WebSocket.
 */

/** @typedef {import('./wire').Account} Account */
/** @typedef {import('./wire').Application} Application */
/** @typedef {import('./wire').Token} Token */
/** @typedef {import('./wire').Instance} Instance */
/** @typedef {{client_id: string, client_secret: string, redirect_uri: string}} AppKeys */

const TOKEN = 'starling.token';
const APP = 'starling.app';
const PKCE = 'starling.pkce';
export const SCOPES = 'read write follow push';

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** @returns {string | null} */
export function token() {
  return localStorage.getItem(TOKEN);
}

/**
 * One API request. `body`: an object (sent as JSON), FormData or URLSearchParams.
 * @param {string} method
 * @param {string} path
 * @param {any} [body]
 * @param {string | null} [bearer] another token than the signed-in one
 * @returns {Promise<any>}
 */
export async function api(method, path, body, bearer) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  const auth = bearer === undefined ? token() : bearer;
  if (auth) headers.Authorization = `Bearer ${auth}`;
  let payload;
  if (body instanceof FormData || body instanceof URLSearchParams) payload = body;
  else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const response = await fetch(path, { method, headers, body: payload });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiError(response.status, (data && (data.error_description || data.error)) || response.statusText);
  return data;
}

/** @param {string} path */
export const get = (path) => api('GET', path);
/** @param {string} path @param {any} [body] */
export const post = (path, body) => api('POST', path, body ?? {});
/** @param {string} path @param {any} [body] */
export const put = (path, body) => api('PUT', path, body ?? {});
/** @param {string} path */
export const del = (path) => api('DELETE', path);

/** @type {Promise<Instance> | null} */
let instancePromise = null;
/** The instance's metadata (`/api/v2/instance`), fetched once. @returns {Promise<Instance>} */
export function instance() {
  instancePromise ??= api('GET', '/api/v2/instance', undefined, null);
  return instancePromise;
}

/** @param {Uint8Array} bytes */
function base64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * This browser's OAuth app and a token of the app's own (client credentials), registering the
 * app when there is none yet or the server no longer knows it.
 * @returns {Promise<{app: AppKeys, appToken: string}>}
 */
export async function ensureApp() {
  const redirect_uri = `${location.origin}/web/callback`;
  /** @type {AppKeys | null} */
  let app = JSON.parse(localStorage.getItem(APP) || 'null');
  if (app && app.redirect_uri === redirect_uri) {
    try {
      /** @type {Token} */
      const t = await clientToken(app);
      return { app, appToken: t.access_token };
    } catch {
      app = null;
    }
  }
  /** @type {Application} */
  const registered = await api('POST', '/api/v1/apps', { client_name: 'Starling Web', redirect_uris: redirect_uri, scopes: SCOPES, website: location.origin }, null);
  app = { client_id: registered.client_id || '', client_secret: registered.client_secret || '', redirect_uri };
  localStorage.setItem(APP, JSON.stringify(app));
  const t = await clientToken(app);
  return { app, appToken: t.access_token };
}

/** @param {AppKeys} app @returns {Promise<Token>} */
function clientToken(app) {
  return api('POST', '/oauth/token', { grant_type: 'client_credentials', client_id: app.client_id, client_secret: app.client_secret, scope: SCOPES }, null);
}

/** Sends the browser to the login and consent page (authorization code with PKCE). */
export async function beginLogin() {
  const { app } = await ensureApp();
  const verifier = randomString();
  const state = randomString();
  const params = new URLSearchParams({ response_type: 'code', client_id: app.client_id, redirect_uri: app.redirect_uri, scope: SCOPES, state });
  if (crypto.subtle) {
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
    params.set('code_challenge', base64url(new Uint8Array(digest)));
    params.set('code_challenge_method', 'S256');
  }
  sessionStorage.setItem(PKCE, JSON.stringify({ verifier, state }));
  location.assign(`/oauth/authorize?${params}`);
}

/**
 * Exchanges the code the consent page sent back for a token.
 * @param {URLSearchParams} query
 */
export async function finishLogin(query) {
  const saved = JSON.parse(sessionStorage.getItem(PKCE) || 'null');
  sessionStorage.removeItem(PKCE);
  if (query.get('error')) throw new Error(query.get('error') === 'access_denied' ? 'You denied access.' : `Login failed: ${query.get('error')}`);
  if (!saved || saved.state !== query.get('state')) throw new Error('This login link is stale: log in again.');
  const app = JSON.parse(localStorage.getItem(APP) || 'null');
  /** @type {Token} */
  const t = await api(
    'POST',
    '/oauth/token',
    { grant_type: 'authorization_code', code: query.get('code'), redirect_uri: app.redirect_uri, client_id: app.client_id, client_secret: app.client_secret, code_verifier: saved.verifier },
    null,
  );
  localStorage.setItem(TOKEN, t.access_token);
}

/**
 * Creates an account with the app's token and signs in with the token it returns.
 * @param {{username: string, email: string, password: string, reason?: string}} form
 */
export async function signUp(form) {
  const { appToken } = await ensureApp();
  /** @type {Token} */
  const t = await api('POST', '/api/v1/accounts', { ...form, agreement: true, locale: navigator.language.slice(0, 2) || 'en' }, appToken);
  localStorage.setItem(TOKEN, t.access_token);
}

/** Revokes the token and forgets it. */
export async function logout() {
  const t = token();
  const app = JSON.parse(localStorage.getItem(APP) || 'null');
  localStorage.removeItem(TOKEN);
  if (t && app) {
    try {
      await api('POST', '/oauth/revoke', { client_id: app.client_id, client_secret: app.client_secret, token: t }, null);
    } catch {
      // The token is forgotten either way.
    }
  }
}

/**
 * The signed-in user's stream (`user`: home updates and notifications), reconnecting with
 * back-off. Returns a function that closes it.
 * @param {(event: string, payload: any) => void} onEvent
 * @param {(open: boolean) => void} [onState]
 */
export function stream(onEvent, onState) {
  let closed = false;
  let delay = 1000;
  /** @type {WebSocket | null} */
  let socket = null;
  const connect = async () => {
    const t = token();
    if (closed || !t) return;
    const info = await instance().catch(() => null);
    const base = info?.configuration?.urls?.streaming || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
    socket = new WebSocket(`${base}/api/v1/streaming?stream=user`, t);
    socket.onopen = () => {
      delay = 1000;
      onState?.(true);
    };
    socket.onmessage = (message) => {
      try {
        const data = JSON.parse(message.data);
        const payload = typeof data.payload === 'string' && data.payload.startsWith('{') ? JSON.parse(data.payload) : data.payload;
        onEvent(data.event, payload);
      } catch {
        // Not an event: ignore.
      }
    };
    socket.onclose = () => {
      onState?.(false);
      if (!closed) setTimeout(connect, (delay = Math.min(delay * 2, 30000)));
    };
  };
  connect();
  return () => {
    closed = true;
    socket?.close();
  };
}
