// @ts-check
/** A tiny view layer: `h()` builds DOM elements, `mount()` replaces a node's children. */

/**
 * @typedef {Node | string | number | null | undefined | false | any[]} Child
 */

/**
 * An element with attributes, listeners (`onclick`…), `html` (trusted markup from the
 * server's own sanitiser only), `value`/`checked` (properties) and children.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any> | null} [props]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value == null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'html') el.innerHTML = value;
    else if (key === 'value' || key === 'checked') /** @type {any} */ (el)[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/**
 * @param {Element} el
 * @param {Child[]} children
 */
function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/**
 * Replaces the children of `el`.
 * @param {Element} el
 * @param {...Child} children
 */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/**
 * Says something to screen readers (and shows it briefly).
 * @param {string} message
 */
export function announce(message) {
  const region = document.getElementById('announce');
  if (!region) return;
  region.textContent = message;
  clearTimeout(/** @type {any} */ (region).timer);
  /** @type {any} */ (region).timer = setTimeout(() => { region.textContent = ''; }, 4000);
}

/**
 * "5m", "3h", "2d" or a date: how long ago.
 * @param {string} iso
 */
export function ago(iso) {
  const secs = (Date.now() - Date.parse(iso)) / 1000;
  if (secs < 60) return 'now';
  if (secs < 3600) return `${Math.floor(secs / 60)}m`;
  if (secs < 86400) return `${Math.floor(secs / 3600)}h`;
  if (secs < 7 * 86400) return `${Math.floor(secs / 86400)}d`;
  return new Date(iso).toLocaleDateString();
}
