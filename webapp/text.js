// @ts-check
/**
 * How long a status counts as, by Mastodon's rules (shared::text::countable_length on the
 * server): grapheme clusters; every http(s) URL counts as 23; a remote mention
 * `@user@domain` counts as `@user`.
 */

export const URL_LENGTH = 23;

// A URL starts at a word boundary with http(s)://, runs to whitespace, and leaves trailing
// punctuation outside (as the server's scanner does).
const URL_RE = /(^|[^\w/@])(https?:\/\/[^\s<>"]*[^\s<>".,;:!?)\]'])/giu;
const REMOTE_MENTION_RE = /(^|[^\w/])@(\w+)@[a-z0-9.-]*[a-z0-9]/giu;

/** @type {Intl.Segmenter | null} */
const segmenter = typeof Intl !== 'undefined' && 'Segmenter' in Intl ? new Intl.Segmenter() : null;

/**
 * @param {string} text
 * @returns {number}
 */
export function countableLength(text) {
  const countable = text
    .replace(/\r\n?/g, '\n')
    .replace(URL_RE, (_, lead) => lead + 'x'.repeat(URL_LENGTH))
    .replace(REMOTE_MENTION_RE, '$1@$2');
  if (!segmenter) return [...countable].length;
  let n = 0;
  for (const _ of segmenter.segment(countable)) n++;
  return n;
}
