//! Status text: what it references (mentions, hashtags, links), how long it counts as, and
//! the safe HTML Mastodon clients expect in a status's `content`.
//!
//! Mastodon defines these entities with Ruby regexes (`Account::MENTION_RE`, `Tag::HASHTAG_RE`,
//! twitter-text's URL extractor). This crate takes no regex dependency, so `scan` below is a
//! hand-written equivalent, and extraction, counting and rendering all walk its tokens: the link
//! that counts as 23 characters is the same link that gets rendered, and a `#` inside a URL is
//! never a hashtag for one and not for another.
//!
//! Every byte of user text leaves [`render_html`] escaped; the only markup in its output is the
//! fixed markup written here.

use std::collections::HashSet;

use unicode_segmentation::UnicodeSegmentation;

/// How many characters every `http(s)` URL counts as, whatever its real length (Mastodon's
/// `StatusLengthValidator::URL_PLACEHOLDER_CHARS`).
pub const URL_PLACEHOLDER_LENGTH: usize = 23;

/// Longest hashtag name, in characters, that [`is_valid_hashtag`] accepts and [`extract`] finds.
pub const MAX_HASHTAG_LENGTH: usize = 100;

/// How many characters of a URL (after its scheme and `www.`) stay visible in rendered HTML;
/// Mastodon's web client shows the rest as an ellipsis.
const URL_DISPLAY_LENGTH: usize = 30;

/// Characters Mastodon allows between the word characters of a hashtag (`HASHTAG_SEPARATORS`):
/// underscore, middle dot (Catalan `l·l`), katakana middle dot, and zero-width non-joiner
/// (needed to spell Persian words correctly).
const HASHTAG_SEPARATORS: [char; 4] = ['_', '\u{00B7}', '\u{30FB}', '\u{200C}'];

/// A mention as written in text: `@alice` or `@alice@example.org`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MentionRef {
    /// The local part, as written (case preserved).
    pub username: String,
    /// The domain after the second `@`, as written; `None` for a bare `@alice`.
    pub domain: Option<String>,
}

/// What a status text references, in order of first appearance, deduplicated (mentions
/// case-insensitively by username+domain; hashtags case-insensitively, keeping first spelling).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extracted {
    /// Accounts mentioned; `@alice` and `@alice@example.org` are different entries, since only
    /// the caller knows whether `example.org` is this server.
    pub mentions: Vec<MentionRef>,
    /// Hashtag names without the `#`, in the spelling of their first occurrence.
    pub hashtags: Vec<String>,
    /// `http(s)` URLs, exactly as written after trimming trailing punctuation.
    pub urls: Vec<String>,
}

/// How a mention resolves when rendering (`None` from the resolver = unknown account: render as
/// plain escaped text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MentionLink {
    /// The account's profile page, used as the link target.
    pub url: String,
    /// The name shown after the `@`: the bare username, as Mastodon shows it.
    pub username: String,
}

/// Finds the mentions, hashtags and URLs of a status text, in order of first appearance and
/// without duplicates.
///
/// Nothing inside a URL is extracted, so `https://example.org/@alice#top` yields one URL and no
/// mention or hashtag.
pub fn extract(text: &str) -> Extracted {
    let mut extracted = Extracted::default();
    let mut seen_mentions: HashSet<(String, Option<String>)> = HashSet::new();
    let mut seen_hashtags: HashSet<String> = HashSet::new();
    let mut seen_urls: HashSet<&str> = HashSet::new();

    for token in scan(text) {
        match token {
            Token::Text(_) => {}
            Token::Url(url) => {
                if seen_urls.insert(url) {
                    extracted.urls.push(url.to_owned());
                }
            }
            Token::Mention(mention) => {
                // Usernames are ASCII by construction; domains may be internationalised.
                let key = (mention.username.to_ascii_lowercase(), mention.domain.map(str::to_lowercase));
                if seen_mentions.insert(key) {
                    extracted.mentions.push(MentionRef { username: mention.username.to_owned(), domain: mention.domain.map(str::to_owned) });
                }
            }
            Token::Hashtag(name) => {
                if seen_hashtags.insert(normalize_hashtag(name)) {
                    extracted.hashtags.push(name.to_owned());
                }
            }
        }
    }
    extracted
}

/// Length as Mastodon counts it: grapheme clusters, every http(s) URL counts as 23
/// ([`URL_PLACEHOLDER_LENGTH`]), and a remote mention `@user@domain` counts only as `@user`.
///
/// The text is counted as given (no trimming), so callers should count what they will store.
pub fn countable_length(text: &str) -> usize {
    // Mastodon rewrites the text and counts the graphemes of the result rather than summing
    // per-token counts; doing the same keeps clusters that straddle a token boundary identical.
    let mut countable = String::with_capacity(text.len());
    for token in scan(text) {
        match token {
            Token::Text(text) => countable.push_str(text),
            Token::Url(_) => countable.extend(std::iter::repeat_n('x', URL_PLACEHOLDER_LENGTH)),
            Token::Mention(mention) => {
                countable.push('@');
                countable.push_str(mention.username);
            }
            Token::Hashtag(name) => {
                countable.push('#');
                countable.push_str(name);
            }
        }
    }
    countable.graphemes(true).count()
}

/// Renders plain status text as the safe HTML Mastodon sends in `content`.
///
/// - The text is trimmed, `\r\n` (and a lone `\r`) read as `\n`; blank text renders as `""`.
/// - Paragraphs are split on empty lines (`<p>…</p>`); single newlines become `<br />`.
/// - Everything written by the user is HTML-escaped (`& < > " '`), inside attributes too.
/// - URLs become `<a href="URL" target="_blank" rel="nofollow noopener noreferrer"
///   translate="no">` holding three spans: the scheme plus any `www.` (class `invisible`), the
///   next 30 characters (class `""`, or `ellipsis` when more follow), and the rest (class
///   `invisible`), as Mastodon's `TextFormatter.shortened_link` does.
/// - Hashtags become `<a href="{base_url}/tags/{tag}" class="mention hashtag"
///   rel="tag">#<span>{tag}</span></a>`, the tag percent-encoded in the link as Rails' route
///   helpers do; a trailing `/` on `base_url` is ignored.
/// - Mentions that `resolve` knows become `<span class="h-card" translate="no"><a href="{url}"
///   class="u-url mention">@<span>{username}</span></a></span>`; others stay as escaped text.
pub fn render_html(text: &str, base_url: &str, resolve: &dyn Fn(&MentionRef) -> Option<MentionLink>) -> String {
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
    let text = normalized.trim();
    if text.is_empty() {
        return String::new();
    }
    let base_url = base_url.trim_end_matches('/');

    // Entity markup never contains a newline, so paragraphs can be cut after rendering the
    // inline HTML, which is the order Mastodon uses (`rewrite`, then `simple_format`).
    let mut inline = String::with_capacity(text.len() * 2);
    for token in scan(text) {
        match token {
            Token::Text(text) => push_escaped(&mut inline, text),
            Token::Url(url) => push_url_link(&mut inline, url),
            Token::Hashtag(name) => push_hashtag_link(&mut inline, base_url, name),
            Token::Mention(mention) => {
                let target = MentionRef { username: mention.username.to_owned(), domain: mention.domain.map(str::to_owned) };
                match resolve(&target) {
                    Some(link) => push_mention_link(&mut inline, &link),
                    None => push_escaped(&mut inline, mention.source),
                }
            }
        }
    }

    let mut html = String::with_capacity(inline.len() + 32);
    let mut in_paragraph = false;
    for line in inline.split('\n') {
        if line.is_empty() {
            // Only a truly empty line breaks a paragraph, as in Rails' `simple_format`
            // (`/\n\n+/`); a line of spaces stays inside it.
            if in_paragraph {
                html.push_str("</p>");
                in_paragraph = false;
            }
            continue;
        }
        if in_paragraph {
            html.push_str("<br />");
        } else {
            html.push_str("<p>");
            in_paragraph = true;
        }
        html.push_str(line);
    }
    if in_paragraph {
        html.push_str("</p>");
    }
    html
}

/// Whether `name` (without the `#`) is a hashtag name Mastodon accepts (`Tag::HASHTAG_NAME_RE`):
/// Unicode letters, marks, digits and underscores, with `·`, `・` or a zero-width non-joiner
/// allowed between them; not all digits; at most [`MAX_HASHTAG_LENGTH`] characters.
pub fn is_valid_hashtag(name: &str) -> bool {
    !name.is_empty() && hashtag_name_len(name) == name.len() && name.chars().count() <= MAX_HASHTAG_LENGTH
}

/// Normalises a hashtag for look-ups and keys: Unicode-aware lowercase, so `#Rust` and `#rust`
/// are one tag.
pub fn normalize_hashtag(name: &str) -> String {
    name.to_lowercase()
}

/// One piece of status text. Pieces borrow from the scanned text and, concatenated, give it back
/// unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    /// Text that is not an entity.
    Text(&'a str),
    /// An `http(s)` URL, trailing punctuation excluded.
    Url(&'a str),
    /// `@username` or `@username@domain`.
    Mention(MentionToken<'a>),
    /// A hashtag's name; the `#` before it is part of the token.
    Hashtag(&'a str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MentionToken<'a> {
    /// The whole mention as written, `@` included, for rendering an unknown account verbatim.
    source: &'a str,
    username: &'a str,
    domain: Option<&'a str>,
}

/// Splits text into entities and the text between them.
///
/// Scanning left to right and taking the first entity that starts at a position is how Mastodon
/// resolves overlaps (`Extractor.remove_overlapping_entities` keeps the earliest start), and it is
/// what keeps mentions and hashtags inside URLs from being found.
fn scan(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut text_start = 0;
    let mut previous: Option<char> = None;
    let mut position = 0;

    while let Some(c) = text[position..].chars().next() {
        let found = match c {
            '@' => scan_mention(text, position, previous),
            '#' => scan_hashtag(text, position, previous),
            'h' | 'H' => scan_url(text, position, previous),
            _ => None,
        };
        match found {
            Some((token, end)) => {
                if text_start < position {
                    tokens.push(Token::Text(&text[text_start..position]));
                }
                tokens.push(token);
                previous = text[..end].chars().next_back();
                position = end;
                text_start = end;
            }
            None => {
                previous = Some(c);
                position += c.len_utf8();
            }
        }
    }
    if text_start < text.len() {
        tokens.push(Token::Text(&text[text_start..]));
    }
    tokens
}

/// A mention starting at the `@` at byte `at`, and the byte offset where it ends.
fn scan_mention(text: &str, at: usize, previous: Option<char>) -> Option<(Token<'_>, usize)> {
    // `(?<![=/[:word:]])` in Mastodon, plus `@` so that `@@alice` is not a mention either. The
    // word-character rule is what keeps `alice@example.org` (an e-mail address) out.
    if previous.is_some_and(|p| is_word_char(p) || matches!(p, '=' | '/' | '@')) {
        return None;
    }
    let username_start = at + 1;
    let username_end = username_start + username_len(&text[username_start..]);
    if username_end == username_start {
        return None;
    }
    let mut end = username_end;
    let mut domain = None;
    if text[username_end..].starts_with('@') {
        let domain_start = username_end + 1;
        let domain_end = domain_start + domain_len(&text[domain_start..]);
        if domain_end > domain_start {
            domain = Some(&text[domain_start..domain_end]);
            end = domain_end;
        }
    }
    let mention = MentionToken { source: &text[at..end], username: &text[username_start..username_end], domain };
    Some((Token::Mention(mention), end))
}

/// Byte length of the username at the start of `s`: `[a-z0-9_]+([a-z0-9_.-]+[a-z0-9_]+)?`,
/// case-insensitive, i.e. ASCII word characters with `.` and `-` allowed only inside.
fn username_len(s: &str) -> usize {
    let starts_well = s.as_bytes().first().is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
    if !starts_well {
        return 0;
    }
    let run = s.bytes().take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')).count();
    // The run is ASCII, so `run` is a character boundary.
    s[..run].trim_end_matches(['.', '-']).len()
}

/// Byte length of the domain at the start of `s`: `[[:word:]]+([.-]+[[:word:]]+)*`, i.e. word
/// characters (internationalised domains included) with `.` and `-` allowed only inside.
fn domain_len(s: &str) -> usize {
    if !s.chars().next().is_some_and(is_word_char) {
        return 0;
    }
    let run = s.char_indices().find(|&(_, c)| !(is_word_char(c) || matches!(c, '.' | '-'))).map_or(s.len(), |(i, _)| i);
    s[..run].trim_end_matches(['.', '-']).len()
}

/// A hashtag starting at the `#` at byte `at`, and the byte offset where it ends.
fn scan_hashtag(text: &str, at: usize, previous: Option<char>) -> Option<(Token<'_>, usize)> {
    // Mastodon's `(?<![=/)\p{Alnum}])`: not inside a word (`foo#bar`), a URL fragment
    // (`example.com/#top`), a query (`?a=#b`) or after a closing parenthesis. Marks and
    // underscores count as word characters here too, so an accented letter spelled with a
    // combining mark does not let a hashtag start mid-word.
    if previous.is_some_and(|p| is_word_char(p) || matches!(p, '=' | '/' | ')')) {
        return None;
    }
    let name_start = at + 1;
    let name_len = hashtag_name_len(&text[name_start..]);
    if name_len == 0 {
        return None;
    }
    let name = &text[name_start..name_start + name_len];
    // An over-long name is not a tag Mastodon would store, so it is neither linked nor
    // extracted; rendering and extraction must agree on that.
    if name.chars().count() > MAX_HASHTAG_LENGTH {
        return None;
    }
    Some((Token::Hashtag(name), name_start + name_len))
}

/// Byte length of the longest hashtag name at the start of `s`, 0 if none.
///
/// Mastodon's pattern is `FIRST|LAST`, where FIRST is word characters and separators that start
/// and end with a word character and hold a letter or separator strictly inside, and LAST is
/// word characters only, holding a letter. The regex engine's greedy choice works out to the
/// longest prefix matching either, which is what this computes in one pass.
fn hashtag_name_len(s: &str) -> usize {
    let mut longest = 0;
    let mut has_letter = false;
    // Separators other than `_`, which rule out LAST.
    let mut has_pure_separator = false;
    // A letter or separator after the first character and before the current one (FIRST).
    let mut letter_or_separator_inside = false;

    for (index, (offset, c)) in s.char_indices().enumerate() {
        let word = is_word_char(c);
        let separator = HASHTAG_SEPARATORS.contains(&c);
        // Separators only join word characters, so a name cannot start with one.
        let allowed = if index == 0 { word } else { word || separator };
        if !allowed {
            break;
        }
        let letter = c.is_alphabetic();
        has_letter |= letter;
        has_pure_separator |= separator && !word;
        if word && ((has_letter && !has_pure_separator) || letter_or_separator_inside) {
            longest = offset + c.len_utf8();
        }
        if index > 0 && (letter || separator) {
            letter_or_separator_inside = true;
        }
    }
    longest
}

/// A URL starting at byte `at`, and the byte offset where it ends.
fn scan_url(text: &str, at: usize, previous: Option<char>) -> Option<(Token<'_>, usize)> {
    // twitter-text's valid preceding characters: a URL glued to a word (`seehttps://…`) or
    // written as `@https://…`, `$https://…` or `#https://…` is not linked.
    if previous.is_some_and(|p| is_word_char(p) || matches!(p, '@' | '$' | '#')) {
        return None;
    }
    let len = url_len(&text[at..])?;
    Some((Token::Url(&text[at..at + len]), at + len))
}

/// Byte length of the `http(s)` URL at the start of `s`, if there is one.
fn url_len(s: &str) -> Option<usize> {
    let scheme_len = scheme_len(s)?;
    // Checked before looking for the URL's end: the host's first character survives trimming,
    // so every URL whose end is searched for is consumed, which keeps scanning linear even for
    // a long run like `http:///http:///…`.
    let host_starts_well = s[scheme_len..].chars().next().is_some_and(|c| c.is_alphanumeric() || c == '[');
    if !host_starts_well {
        return None;
    }
    // `<`, `>` and `"` cannot appear unencoded in a URL, and people write `<https://…>`.
    let run = s.find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"')).unwrap_or(s.len());
    let mut url = &s[..run];
    // Counted once and kept up to date, so that a URL followed by thousands of `)` is not
    // recounted for each one.
    let opening = url.matches('(').count();
    let mut closing = url.matches(')').count();
    while let Some(last) = url.chars().next_back() {
        let trailing = match last {
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '"' => true,
            // `(see https://en.wikipedia.org/wiki/Rust_(language))`: a `)` belongs to the URL
            // only while it closes a `(` inside it.
            ')' => closing > opening,
            _ => false,
        };
        if !trailing {
            break;
        }
        if last == ')' {
            closing -= 1;
        }
        url = &url[..url.len() - last.len_utf8()];
    }
    Some(url.len())
}

/// Byte length of `https://` or `http://` (any case) at the start of `s`.
fn scheme_len(s: &str) -> Option<usize> {
    ["https://", "http://"].into_iter().find(|scheme| s.get(..scheme.len()).is_some_and(|head| head.eq_ignore_ascii_case(scheme))).map(str::len)
}

/// Ruby's `[[:word:]]` in Unicode mode: letters, marks, digits and connector punctuation.
fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    c.is_alphanumeric() || is_connector_punctuation(c) || is_combining_mark(c)
}

/// General category Pc beyond ASCII `_`; std has no category lookup and the set is tiny.
fn is_connector_punctuation(c: char) -> bool {
    matches!(c, '\u{203F}' | '\u{2040}' | '\u{2054}' | '\u{FE33}' | '\u{FE34}' | '\u{FE4D}'..='\u{FE4F}' | '\u{FF3F}')
}

/// Whether `c` is a combining mark (Mn, Mc, Me), as in `é` spelled `e` + U+0301 or the vowel
/// signs of Indic scripts.
///
/// std has no general-category lookup and the crate takes no Unicode-table dependency, but marks
/// are what extend the grapheme cluster before them, which `unicode-segmentation` knows. The
/// non-mark characters that also extend a cluster (joiners, emoji modifiers, tag characters) are
/// excluded by hand.
fn is_combining_mark(c: char) -> bool {
    if matches!(c, '\u{200C}' | '\u{200D}' | '\u{1F3FB}'..='\u{1F3FF}' | '\u{E0000}'..='\u{E007F}') {
        return false;
    }
    let mut buffer = [0u8; 8];
    buffer[0] = b'a';
    let len = 1 + c.encode_utf8(&mut buffer[1..]).len();
    std::str::from_utf8(&buffer[..len]).is_ok_and(|pair| pair.graphemes(true).nth(1).is_none())
}

/// `text` with the five characters that matter in HTML text and attributes escaped, as Rails'
/// `h` / `ERB::Util.html_escape` does.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped(&mut out, text);
    out
}

/// Appends `text` HTML-escaped (see [`escape_html`]).
fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

/// Mastodon's `TextFormatter.shortened_link`.
fn push_url_link(out: &mut String, url: &str) {
    let prefix_len = invisible_prefix_len(url);
    let (prefix, rest) = url.split_at(prefix_len);
    // Ruby slices by character, not byte.
    let display_len = rest.char_indices().nth(URL_DISPLAY_LENGTH).map_or(rest.len(), |(i, _)| i);
    let (display, hidden) = rest.split_at(display_len);
    let display_class = if hidden.is_empty() { "" } else { "ellipsis" };

    out.push_str("<a href=\"");
    push_escaped(out, url);
    out.push_str("\" target=\"_blank\" rel=\"nofollow noopener noreferrer\" translate=\"no\"><span class=\"invisible\">");
    push_escaped(out, prefix);
    out.push_str("</span><span class=\"");
    out.push_str(display_class);
    out.push_str("\">");
    push_escaped(out, display);
    out.push_str("</span><span class=\"invisible\">");
    push_escaped(out, hidden);
    out.push_str("</span></a>");
}

/// Byte length of what Mastodon hides before a link's visible text: the scheme and a `www.`
/// (its `URL_PREFIX_REGEX`, `\A(https?://(www\.)?|xmpp:)`), matched case-insensitively here
/// because the scanner accepts `HTTPS://` too.
fn invisible_prefix_len(url: &str) -> usize {
    let scheme = scheme_len(url).unwrap_or(0);
    let has_www = url.get(scheme..scheme + 4).is_some_and(|head| head.eq_ignore_ascii_case("www."));
    if has_www { scheme + 4 } else { scheme }
}

fn push_hashtag_link(out: &mut String, base_url: &str, name: &str) {
    out.push_str("<a href=\"");
    push_escaped(out, base_url);
    out.push_str("/tags/");
    push_percent_encoded(out, name);
    out.push_str("\" class=\"mention hashtag\" rel=\"tag\">#<span>");
    push_escaped(out, name);
    out.push_str("</span></a>");
}

fn push_mention_link(out: &mut String, link: &MentionLink) {
    out.push_str("<span class=\"h-card\" translate=\"no\"><a href=\"");
    push_escaped(out, &link.url);
    out.push_str("\" class=\"u-url mention\">@<span>");
    push_escaped(out, &link.username);
    out.push_str("</span></a></span>");
}

/// Appends `segment` percent-encoded as a URL path segment, keeping only RFC 3986 unreserved
/// characters; the output needs no further HTML escaping.
fn push_percent_encoded(out: &mut String, segment: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0F)]));
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn local(username: &str) -> MentionRef {
        MentionRef { username: username.to_owned(), domain: None }
    }

    fn remote(username: &str, domain: &str) -> MentionRef {
        MentionRef { username: username.to_owned(), domain: Some(domain.to_owned()) }
    }

    fn mentions(text: &str) -> Vec<MentionRef> {
        extract(text).mentions
    }

    fn hashtags(text: &str) -> Vec<String> {
        extract(text).hashtags
    }

    fn urls(text: &str) -> Vec<String> {
        extract(text).urls
    }

    const BASE: &str = "https://starling.example";

    fn render(text: &str) -> String {
        render_html(text, BASE, &|_| None)
    }

    /// Knows `alice` locally and `bob@remote.example`, as a timeline's preloaded accounts would.
    fn render_with_accounts(text: &str) -> String {
        render_html(text, BASE, &|mention: &MentionRef| {
            let username = mention.username.to_ascii_lowercase();
            let domain = mention.domain.as_deref().map(str::to_ascii_lowercase);
            match (username.as_str(), domain.as_deref()) {
                ("alice", None) => Some(MentionLink { url: "https://starling.example/@alice".to_owned(), username: "alice".to_owned() }),
                ("bob", Some("remote.example")) => Some(MentionLink { url: "https://remote.example/@bob".to_owned(), username: "bob".to_owned() }),
                _ => None,
            }
        })
    }

    fn url_link(href: &str, prefix: &str, display: &str, class: &str, hidden: &str) -> String {
        format!(
            "<a href=\"{href}\" target=\"_blank\" rel=\"nofollow noopener noreferrer\" \
             translate=\"no\"><span class=\"invisible\">{prefix}</span><span class=\"{class}\">\
             {display}</span><span class=\"invisible\">{hidden}</span></a>"
        )
    }

    fn tag_link(href_tag: &str, tag: &str) -> String {
        format!(
            "<a href=\"https://starling.example/tags/{href_tag}\" class=\"mention hashtag\" \
             rel=\"tag\">#<span>{tag}</span></a>"
        )
    }

    // --- mentions ---

    #[test]
    fn local_mention_is_extracted() {
        assert_eq!(mentions("hi @alice"), vec![local("alice")]);
    }

    #[test]
    fn remote_mention_keeps_its_domain() {
        assert_eq!(mentions("hi @bob@remote.example!"), vec![remote("bob", "remote.example")]);
    }

    #[test]
    fn mention_at_start_of_text_is_extracted() {
        assert_eq!(mentions("@alice hello"), vec![local("alice")]);
    }

    #[test]
    fn email_address_is_not_a_mention() {
        assert_eq!(mentions("write to alice@example.org or a@b.c"), vec![]);
    }

    #[test]
    fn mention_after_punctuation_is_extracted() {
        assert_eq!(mentions("(@alice) \"@bob\""), vec![local("alice"), local("bob")]);
    }

    #[test]
    fn trailing_punctuation_is_not_part_of_a_mention() {
        assert_eq!(mentions("thanks @alice. and @bob.smith, and @carol-"), vec![local("alice"), local("bob.smith"), local("carol")]);
    }

    #[test]
    fn dots_and_dashes_inside_a_username_are_kept() {
        assert_eq!(mentions("@bob.smith-jones_2"), vec![local("bob.smith-jones_2")]);
    }

    #[test]
    fn trailing_dot_of_a_mention_domain_is_dropped() {
        assert_eq!(mentions("cc @bob@remote.example."), vec![remote("bob", "remote.example")]);
    }

    #[test]
    fn at_sign_without_a_domain_leaves_a_local_mention() {
        assert_eq!(mentions("@alice@ and @bob@-x"), vec![local("alice"), local("bob")]);
    }

    #[test]
    fn internationalised_mention_domain_is_kept() {
        assert_eq!(mentions("@bob@bücher.example"), vec![remote("bob", "bücher.example")]);
    }

    #[test]
    fn mentions_are_deduplicated_case_insensitively_keeping_first_spelling() {
        assert_eq!(mentions("@Alice @alice @ALICE @bob@Remote.Example @BOB@remote.example"), vec![local("Alice"), remote("bob", "Remote.Example")]);
    }

    #[test]
    fn local_and_remote_mentions_of_one_username_are_distinct() {
        assert_eq!(mentions("@bob @bob@remote.example"), vec![local("bob"), remote("bob", "remote.example")]);
    }

    #[test]
    fn mention_inside_url_is_not_extracted() {
        let found = extract("see https://remote.example/@alice");
        assert_eq!(found.mentions, vec![]);
        assert_eq!(found.urls, vec!["https://remote.example/@alice"]);
    }

    #[test]
    fn mention_after_slash_or_equals_is_not_extracted() {
        assert_eq!(mentions("remote.example/@alice ?u=@bob"), vec![]);
    }

    #[test]
    fn double_at_sign_is_not_a_mention() {
        assert_eq!(mentions("@@alice"), vec![]);
    }

    #[test]
    fn lone_at_sign_is_not_a_mention() {
        assert_eq!(mentions("meet @ noon, @.alice, @-bob"), vec![]);
    }

    // --- hashtags ---

    #[test]
    fn hashtag_is_extracted() {
        assert_eq!(hashtags("#rust is fun"), vec!["rust"]);
    }

    #[test]
    fn hashtags_are_deduplicated_keeping_first_spelling() {
        assert_eq!(hashtags("#RustLang #rustlang #RUSTLANG #go"), vec!["RustLang", "go"]);
    }

    #[test]
    fn hashtag_inside_url_is_not_extracted() {
        let found = extract("https://example.com/#anchor and https://example.com/page#top");
        assert_eq!(found.hashtags, Vec::<String>::new());
        assert_eq!(found.urls.len(), 2);
    }

    #[test]
    fn hashtag_after_slash_without_scheme_is_not_extracted() {
        assert_eq!(hashtags("example.com/#anchor"), Vec::<String>::new());
    }

    #[test]
    fn hashtag_inside_a_word_is_not_extracted() {
        assert_eq!(hashtags("foo#bar C#"), Vec::<String>::new());
    }

    #[test]
    fn hashtag_after_closing_parenthesis_or_equals_is_not_extracted() {
        assert_eq!(hashtags("(x)#y a=#b"), Vec::<String>::new());
    }

    #[test]
    fn all_digit_hashtag_is_not_extracted() {
        assert_eq!(hashtags("#2024 #1 but #2024rust"), vec!["2024rust"]);
    }

    #[test]
    fn hashtag_stops_at_punctuation() {
        assert_eq!(hashtags("#rust, #go! (#zig) #c-lang"), vec!["rust", "go", "zig", "c"]);
    }

    #[test]
    fn hashtag_after_punctuation_is_extracted() {
        assert_eq!(hashtags("(#rust) \"#go\" .#zig"), vec!["rust", "go", "zig"]);
    }

    #[test]
    fn unicode_hashtags_are_extracted() {
        assert_eq!(hashtags("#café #日本語 #München"), vec!["café", "日本語", "München"]);
    }

    #[test]
    fn hashtag_with_combining_marks_is_extracted_whole() {
        assert_eq!(hashtags("#cafe\u{301} #हिन्दी"), vec!["cafe\u{301}", "हिन्दी"]);
    }

    #[test]
    fn middle_dot_is_kept_inside_a_hashtag_but_not_at_its_end() {
        assert_eq!(hashtags("#paral·lel #rust· #ab・cd"), vec!["paral·lel", "rust", "ab・cd"]);
    }

    #[test]
    fn underscores_are_kept_in_hashtags() {
        assert_eq!(hashtags("#_rust_lang_ #1_2"), vec!["_rust_lang_", "1_2"]);
    }

    #[test]
    fn hashtag_over_one_hundred_characters_is_not_extracted() {
        let long = "a".repeat(MAX_HASHTAG_LENGTH + 1);
        assert_eq!(hashtags(&format!("#{long}")), Vec::<String>::new());
        let longest = "a".repeat(MAX_HASHTAG_LENGTH);
        assert_eq!(hashtags(&format!("#{longest}")), vec![longest]);
    }

    #[test]
    fn bare_hash_is_not_a_hashtag() {
        assert_eq!(hashtags("# heading ## and #!"), Vec::<String>::new());
    }

    // --- URLs ---

    #[test]
    fn url_is_extracted() {
        assert_eq!(urls("see https://example.org/a?b=c"), vec!["https://example.org/a?b=c"]);
    }

    #[test]
    fn plain_http_url_is_extracted() {
        assert_eq!(urls("http://example.org"), vec!["http://example.org"]);
    }

    #[test]
    fn uppercase_scheme_is_a_url() {
        assert_eq!(urls("HTTPS://EXAMPLE.ORG/X"), vec!["HTTPS://EXAMPLE.ORG/X"]);
    }

    #[test]
    fn trailing_punctuation_is_trimmed_from_urls() {
        assert_eq!(
            urls("https://a.example/1. https://a.example/2, https://a.example/3?! 'https://a.example/4'"),
            vec!["https://a.example/1", "https://a.example/2", "https://a.example/3", "https://a.example/4"]
        );
    }

    #[test]
    fn url_in_parentheses_leaves_the_closing_parenthesis() {
        assert_eq!(urls("(see https://a.example/x)."), vec!["https://a.example/x"]);
    }

    #[test]
    fn balanced_parenthesis_stays_in_url() {
        let url = "https://en.wikipedia.org/wiki/Rust_(programming_language)";
        assert_eq!(urls(url), vec![url]);
        assert_eq!(urls(&format!("(about {url}).")), vec![url]);
    }

    #[test]
    fn url_ends_at_angle_brackets_and_quotes() {
        assert_eq!(urls("<https://a.example/x> \"https://a.example/y\""), vec!["https://a.example/x", "https://a.example/y"]);
    }

    #[test]
    fn urls_are_deduplicated() {
        assert_eq!(urls("https://a.example https://a.example."), vec!["https://a.example"]);
    }

    #[test]
    fn scheme_without_host_is_not_a_url() {
        assert_eq!(urls("https:// http://. https:///path"), Vec::<String>::new());
    }

    #[test]
    fn url_glued_to_a_word_is_not_a_url() {
        assert_eq!(urls("seehttps://a.example"), Vec::<String>::new());
    }

    #[test]
    fn other_schemes_are_not_urls() {
        assert_eq!(urls("ftp://a.example mailto:a@b.example a.example"), Vec::<String>::new());
    }

    #[test]
    fn internationalised_url_is_kept_whole() {
        assert_eq!(urls("https://ja.wikipedia.org/wiki/日本 ok"), vec!["https://ja.wikipedia.org/wiki/日本"]);
    }

    #[test]
    fn extract_reports_everything_in_order_of_first_appearance() {
        let found = extract("@bob #two https://b.example @alice #one https://a.example @bob #two");
        assert_eq!(
            found,
            Extracted {
                mentions: vec![local("bob"), local("alice")],
                hashtags: vec!["two".to_owned(), "one".to_owned()],
                urls: vec!["https://b.example".to_owned(), "https://a.example".to_owned()],
            }
        );
    }

    #[test]
    fn empty_text_extracts_nothing() {
        assert_eq!(extract(""), Extracted::default());
    }

    // --- counting ---

    #[test]
    fn plain_text_counts_characters() {
        assert_eq!(countable_length("hello"), 5);
        assert_eq!(countable_length(""), 0);
    }

    #[test]
    fn url_counts_as_twenty_three_characters() {
        assert_eq!(countable_length("https://example.org/a/very/long/path/that/goes/on/and/on/and/on"), URL_PLACEHOLDER_LENGTH);
        assert_eq!(countable_length("see https://a.co"), 4 + URL_PLACEHOLDER_LENGTH);
    }

    #[test]
    fn trailing_punctuation_after_url_counts_normally() {
        assert_eq!(countable_length("https://a.example."), URL_PLACEHOLDER_LENGTH + 1);
    }

    #[test]
    fn emoji_with_skin_tone_counts_as_one() {
        assert_eq!(countable_length("👍🏽"), 1);
    }

    #[test]
    fn joined_emoji_and_flags_count_as_one() {
        assert_eq!(countable_length("👨‍👩‍👧"), 1);
        assert_eq!(countable_length("🇯🇵"), 1);
    }

    #[test]
    fn combining_accent_counts_as_one() {
        assert_eq!(countable_length("cafe\u{301}"), 4);
    }

    #[test]
    fn cjk_characters_count_one_each() {
        assert_eq!(countable_length("日本語"), 3);
    }

    #[test]
    fn remote_mention_counts_only_local_part() {
        assert_eq!(countable_length("@alice@a-very-long-domain.example"), "@alice".len());
    }

    #[test]
    fn local_mention_and_hashtag_count_in_full() {
        assert_eq!(countable_length("@alice #rust"), 12);
    }

    #[test]
    fn crlf_counts_as_one() {
        assert_eq!(countable_length("a\r\nb"), 3);
    }

    #[test]
    fn email_address_counts_in_full() {
        assert_eq!(countable_length("alice@example.org"), 17);
    }

    // --- hashtag names ---

    #[test]
    fn well_formed_hashtag_names_are_valid() {
        for name in ["rust", "Rust_lang", "café", "日本語", "2024rust", "rust2024", "_rust", "1_2", "a", "paral·lel", "cafe\u{301}"] {
            assert!(is_valid_hashtag(name), "{name} should be valid");
        }
    }

    #[test]
    fn malformed_hashtag_names_are_invalid() {
        for name in ["", "2024", "_", "_1", "rust!", "#rust", "rust·", "·rust", "has space", "c-lang", "<b>"] {
            assert!(!is_valid_hashtag(name), "{name} should be invalid");
        }
    }

    #[test]
    fn hashtag_name_may_be_one_hundred_characters_but_no_more() {
        assert!(is_valid_hashtag(&"é".repeat(MAX_HASHTAG_LENGTH)));
        assert!(!is_valid_hashtag(&"a".repeat(MAX_HASHTAG_LENGTH + 1)));
    }

    #[test]
    fn hashtags_normalise_to_unicode_lowercase() {
        assert_eq!(normalize_hashtag("RustLang"), "rustlang");
        assert_eq!(normalize_hashtag("MÜNCHEN"), "münchen");
        assert_eq!(normalize_hashtag("日本語"), "日本語");
    }

    // --- rendering ---

    #[test]
    fn plain_text_is_wrapped_in_a_paragraph() {
        assert_eq!(render("hello"), "<p>hello</p>");
    }

    #[test]
    fn paragraphs_and_line_breaks() {
        assert_eq!(render("a\nb\n\nc"), "<p>a<br />b</p><p>c</p>");
    }

    #[test]
    fn many_blank_lines_make_one_paragraph_break() {
        assert_eq!(render("a\n\n\n\nb"), "<p>a</p><p>b</p>");
    }

    #[test]
    fn crlf_is_treated_as_newline() {
        assert_eq!(render("a\r\nb\r\n\r\nc\rd"), "<p>a<br />b</p><p>c<br />d</p>");
    }

    #[test]
    fn surrounding_whitespace_is_trimmed() {
        assert_eq!(render("  \n\n hi there \n\n"), "<p>hi there</p>");
    }

    #[test]
    fn blank_text_renders_as_empty_string() {
        assert_eq!(render(""), "");
        assert_eq!(render(" \r\n\t "), "");
    }

    #[test]
    fn script_tags_are_escaped() {
        assert_eq!(render("<script>alert('x')</script>"), "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</p>");
    }

    #[test]
    fn ampersands_and_quotes_are_escaped() {
        assert_eq!(render("Tom & \"Jerry\""), "<p>Tom &amp; &quot;Jerry&quot;</p>");
    }

    #[test]
    fn url_is_rendered_as_a_link_with_hidden_scheme() {
        assert_eq!(
            render("see https://example.org/about"),
            format!("<p>see {}</p>", url_link("https://example.org/about", "https://", "example.org/about", "", ""))
        );
    }

    #[test]
    fn www_is_part_of_the_hidden_prefix() {
        assert_eq!(render("http://www.example.org"), format!("<p>{}</p>", url_link("http://www.example.org", "http://www.", "example.org", "", "")));
    }

    #[test]
    fn long_url_is_truncated_with_ellipsis() {
        let url = "https://example.org/0123456789abcdefghij/tail";
        assert_eq!(render(url), format!("<p>{}</p>", url_link(url, "https://", "example.org/0123456789abcdefgh", "ellipsis", "ij/tail")));
    }

    #[test]
    fn url_of_exactly_thirty_visible_characters_is_not_truncated() {
        let url = "https://example.org/0123456789abcdefgh";
        assert_eq!(render(url), format!("<p>{}</p>", url_link(url, "https://", "example.org/0123456789abcdefgh", "", "")));
    }

    #[test]
    fn url_truncation_counts_characters_not_bytes() {
        let url = "https://ja.example/日本語日本語日本語日本語日本語日本語日本語日本語";
        let html = render(url);
        assert!(html.contains("<span class=\"ellipsis\">ja.example/日本語日本語日本語日本語日本語日本語日</span>"));
        assert!(html.contains("<span class=\"invisible\">本語日本語</span>"));
    }

    #[test]
    fn special_characters_in_urls_are_escaped_in_href_and_text() {
        let html = render("https://a.example/?x=1&y='2'z");
        assert!(html.starts_with("<p><a href=\"https://a.example/?x=1&amp;y=&#39;2&#39;z\""));
        assert!(html.contains(">a.example/?x=1&amp;y=&#39;2&#39;z<"));
        assert!(!html.contains("'"));
    }

    #[test]
    fn markup_after_a_url_is_not_part_of_it() {
        assert_eq!(render("https://a.example<script>"), format!("<p>{}&lt;script&gt;</p>", url_link("https://a.example", "https://", "a.example", "", "")));
    }

    #[test]
    fn hashtag_is_rendered_as_a_tag_link() {
        assert_eq!(render("I like #Rust."), format!("<p>I like {}.</p>", tag_link("Rust", "Rust")));
    }

    #[test]
    fn unicode_hashtag_link_is_percent_encoded() {
        assert_eq!(render("#café"), format!("<p>{}</p>", tag_link("caf%C3%A9", "café")));
    }

    #[test]
    fn trailing_slash_of_base_url_is_not_doubled() {
        assert_eq!(render_html("#rust", "https://starling.example/", &|_| None), format!("<p>{}</p>", tag_link("rust", "rust")));
    }

    #[test]
    fn resolved_mention_is_rendered_as_an_h_card() {
        assert_eq!(
            render_with_accounts("hi @Alice!"),
            "<p>hi <span class=\"h-card\" translate=\"no\"><a href=\"https://starling.example/@alice\" \
             class=\"u-url mention\">@<span>alice</span></a></span>!</p>"
        );
    }

    #[test]
    fn remote_mention_is_resolved_with_its_domain_and_shown_without_it() {
        assert_eq!(
            render_with_accounts("@bob@remote.example"),
            "<p><span class=\"h-card\" translate=\"no\"><a href=\"https://remote.example/@bob\" \
             class=\"u-url mention\">@<span>bob</span></a></span></p>"
        );
    }

    #[test]
    fn unknown_mention_is_rendered_as_plain_text() {
        assert_eq!(render_with_accounts("@ghost@nowhere.example @bob"), "<p>@ghost@nowhere.example @bob</p>");
    }

    #[test]
    fn resolver_receives_the_mention_as_written() {
        let html = render_html("@Carol@Remote.Example", BASE, &|mention: &MentionRef| {
            assert_eq!(mention, &remote("Carol", "Remote.Example"));
            None
        });
        assert_eq!(html, "<p>@Carol@Remote.Example</p>");
    }

    #[test]
    fn mention_link_fields_are_escaped() {
        let html = render_html("@alice", BASE, &|_| Some(MentionLink { url: "https://x.example/\"><script>".to_owned(), username: "<b>alice</b>".to_owned() }));
        assert_eq!(
            html,
            "<p><span class=\"h-card\" translate=\"no\"><a href=\"https://x.example/&quot;&gt;&lt;script&gt;\" \
             class=\"u-url mention\">@<span>&lt;b&gt;alice&lt;/b&gt;</span></a></span></p>"
        );
    }

    #[test]
    fn email_address_is_rendered_as_text() {
        assert_eq!(render_with_accounts("alice@example.org"), "<p>alice@example.org</p>");
    }

    #[test]
    fn entities_inside_a_url_are_not_linked_separately() {
        let url = "https://a.example/@alice#rust";
        assert_eq!(render_with_accounts(url), format!("<p>{}</p>", url_link(url, "https://", "a.example/@alice#rust", "", "")));
    }

    #[test]
    fn a_whole_status_renders_like_mastodon() {
        let text = "Hello @alice!\r\nRead https://example.org/post & tell me.\r\n\r\n#Rust #Rust";
        assert_eq!(
            render_with_accounts(text),
            format!(
                "<p>Hello <span class=\"h-card\" translate=\"no\"><a href=\"https://starling.example/@alice\" \
                 class=\"u-url mention\">@<span>alice</span></a></span>!<br />Read {} &amp; tell me.</p>\
                 <p>{} {}</p>",
                url_link("https://example.org/post", "https://", "example.org/post", "", ""),
                tag_link("Rust", "Rust"),
                tag_link("Rust", "Rust"),
            )
        );
    }

    #[test]
    fn pathological_input_is_scanned_in_linear_time() {
        // Quadratic scanning would take minutes on these; linear takes milliseconds.
        let parentheses = format!("https://a.example/{}", ")".repeat(200_000));
        assert_eq!(urls(&parentheses), vec!["https://a.example/"]);
        let schemes = "http:///".repeat(50_000);
        assert_eq!(urls(&schemes), Vec::<String>::new());
        let hashes = format!("#{}", "1".repeat(200_000)).repeat(2);
        assert_eq!(hashtags(&hashes), Vec::<String>::new());
        let at_signs = "@a@b".repeat(50_000);
        assert_eq!(mentions(&at_signs), vec![remote("a", "b")]);
    }

    #[test]
    fn scanned_tokens_give_back_the_text_unchanged() {
        let text = "@a@b.c #x https://d.e/(f)) g@h #1 ## @ é#y\n\n";
        let joined: String = scan(text)
            .iter()
            .map(|token| match token {
                Token::Text(text) | Token::Url(text) => (*text).to_owned(),
                Token::Mention(mention) => mention.source.to_owned(),
                Token::Hashtag(name) => format!("#{name}"),
            })
            .collect();
        assert_eq!(joined, text);
    }
}
