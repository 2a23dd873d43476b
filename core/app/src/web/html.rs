//! The markup of the public pages: one layout (meta, landmarks, a small stylesheet that works
//! at phone width), statuses as `<article>`s. Text from users is escaped here; status
//! `content` is the server's own sanitised rendering (shared::text) and is used as is.

use std::fmt::Write as _;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::text::escape_html as esc;
use shared::wire;

/// How long the edge and browsers may keep a page, and serve it stale while refreshing:
/// pages hold only what anyone may read, so a shared cache is safe; a new post shows within
/// a minute.
pub const CACHE_CONTROL: &str = "public, max-age=30, stale-while-revalidate=30";

/// What a page says about itself for link previews and crawlers.
pub struct Meta<'a> {
    /// `<title>` and `og:title`.
    pub title: String,
    /// `og:description` (plain text).
    pub description: String,
    /// `og:type`: `website`, `profile`, `article`.
    pub kind: &'a str,
    /// The canonical URL of the page.
    pub url: String,
    /// `og:image`, when there is one.
    pub image: Option<String>,
    /// A large picture (`twitter:card` `summary_large_image`) rather than an avatar.
    pub large_image: bool,
    /// The API entity this page shows (`rel="alternate"`).
    pub alternate: Option<String>,
}

/// A whole page with its security and cache headers.
pub fn page(status: StatusCode, site: &str, meta: &Meta<'_>, body: &str) -> Response {
    let mut head = String::with_capacity(2048);
    let _ = write!(
        head,
        "<meta property=\"og:site_name\" content=\"{site}\"><meta property=\"og:type\" content=\"{kind}\">\
         <meta property=\"og:title\" content=\"{title}\"><meta property=\"og:description\" content=\"{description}\">\
         <meta name=\"description\" content=\"{description}\"><meta property=\"og:url\" content=\"{url}\">\
         <link rel=\"canonical\" href=\"{url}\"><meta name=\"twitter:card\" content=\"{card}\">\
         <meta name=\"twitter:title\" content=\"{title}\"><meta name=\"twitter:description\" content=\"{description}\">",
        site = esc(site),
        kind = esc(meta.kind),
        title = esc(&meta.title),
        description = esc(&meta.description),
        url = esc(&meta.url),
        card = if meta.large_image { "summary_large_image" } else { "summary" },
    );
    if let Some(image) = &meta.image {
        let _ = write!(head, "<meta property=\"og:image\" content=\"{0}\"><meta name=\"twitter:image\" content=\"{0}\">", esc(image));
    }
    if let Some(alternate) = &meta.alternate {
        let _ = write!(head, "<link rel=\"alternate\" type=\"application/json\" href=\"{}\">", esc(alternate));
    }
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{title}</title>{head}<style>{STYLE}</style></head>\
         <body><header class=\"site\"><a href=\"/\">{site}</a><nav aria-label=\"Account\"><a href=\"/web/login\">Log in</a><a href=\"/web/signup\">Sign up</a></nav></header><main>{body}</main></body></html>",
        title = esc(&meta.title),
        site = esc(site),
    );
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; img-src * data:; media-src *; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    let cache = if status.is_success() { CACHE_CONTROL } else { "public, max-age=10" };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    (status, headers, html).into_response()
}

const STYLE: &str = "\
:root{color-scheme:light dark;--fg:#1c1c28;--bg:#f4f4f8;--card:#fff;--muted:#5f5f73;--accent:#4a3fd0}\
@media (prefers-color-scheme:dark){:root{--fg:#ececf4;--bg:#15151c;--card:#20202a;--muted:#a6a6b8;--accent:#a99fff}}\
body{font-family:system-ui,sans-serif;background:var(--bg);color:var(--fg);margin:0;line-height:1.5}\
a{color:var(--accent)}header.site{padding:.8rem 1rem;font-weight:700;max-width:40rem;margin:0 auto;display:flex;justify-content:space-between;align-items:center;gap:1rem}\
header.site nav{display:flex;gap:1rem;font-weight:600}\
header.site a{text-decoration:none;font-size:1.2rem}main{max-width:40rem;margin:0 auto;padding:0 .75rem 3rem}\
article,section.card{background:var(--card);border-radius:10px;padding:1rem;margin:.75rem 0;overflow-wrap:anywhere}\
article.focus{outline:2px solid var(--accent)}.by{display:flex;gap:.6rem;align-items:center}\
.by img{width:46px;height:46px;border-radius:8px}.by .who{display:flex;flex-direction:column}\
.muted,.by .acct,footer.meta{color:var(--muted);font-size:.9rem}footer.meta{display:flex;gap:1rem;flex-wrap:wrap}\
.media{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:.4rem;margin-top:.5rem}\
.media img,.media video{width:100%;border-radius:6px}.banner{width:100%;max-height:12rem;object-fit:cover;border-radius:10px}\
.avatar{width:96px;height:96px;border-radius:12px;margin-top:-48px;border:3px solid var(--card)}\
dl.fields{display:grid;grid-template-columns:auto 1fr;gap:.2rem 1rem}dl.fields dt{font-weight:600}\
nav.pages{display:flex;justify-content:space-between;margin:1rem 0}h1,h2{line-height:1.25}";

/// A status as an `<article>`: author, content (behind its warning), media with alt text,
/// time (linking to its page) and counts. `focus` marks the status a page is about.
pub fn status(out: &mut String, s: &wire::Status, focus: bool) {
    let shown = s.reblog.as_deref().unwrap_or(s);
    let a = &shown.account;
    let _ = write!(out, "<article{}>", if focus { " class=\"focus\"" } else { "" });
    if s.reblog.is_some() {
        let _ = write!(out, "<p class=\"muted\">{} boosted</p>", esc(display_name(&s.account)));
    }
    let _ = write!(
        out,
        "<div class=\"by\"><img src=\"{avatar}\" alt=\"\" loading=\"lazy\"><div class=\"who\"><a href=\"{url}\"><strong>{name}</strong></a>\
         <span class=\"acct\">@{acct}</span></div></div>",
        avatar = esc(&a.avatar_static),
        url = esc(&a.url),
        name = esc(display_name(a)),
        acct = esc(&a.acct),
    );
    let mut inner = String::new();
    inner.push_str(&shown.content);
    media(&mut inner, &shown.media_attachments);
    let sensitive_media = shown.sensitive && !shown.media_attachments.is_empty();
    if shown.spoiler_text.is_empty() && !sensitive_media {
        out.push_str(&inner);
    } else {
        let warning = if shown.spoiler_text.is_empty() { "Sensitive content".to_owned() } else { esc(&shown.spoiler_text) };
        let _ = write!(out, "<details><summary>{warning}</summary>{inner}</details>");
    }
    let link = shown.url.clone().unwrap_or_default();
    let _ = write!(
        out,
        "<footer class=\"meta\"><a href=\"{link}\"><time datetime=\"{at}\">{at_short}</time></a>\
         <span>{replies} replies</span><span>{boosts} boosts</span><span>{favs} favourites</span></footer></article>",
        link = esc(&link),
        at = esc(&shown.created_at),
        at_short = esc(shown.created_at.get(..16).unwrap_or(&shown.created_at).replace('T', " ").as_str()),
        replies = shown.replies_count,
        boosts = shown.reblogs_count,
        favs = shown.favourites_count,
    );
}

/// The attachments: pictures with their descriptions as alt text, videos with controls.
fn media(out: &mut String, attachments: &[wire::MediaAttachment]) {
    if attachments.is_empty() {
        return;
    }
    out.push_str("<div class=\"media\">");
    for m in attachments {
        let alt = esc(m.description.as_deref().unwrap_or(""));
        let url = esc(m.url.as_deref().unwrap_or(""));
        let preview = esc(m.preview_url.as_deref().or(m.url.as_deref()).unwrap_or(""));
        match m.kind.as_str() {
            "video" | "gifv" => {
                let _ = write!(out, "<video src=\"{url}\" poster=\"{preview}\" controls preload=\"none\" aria-label=\"{alt}\"></video>");
            }
            _ => {
                let _ = write!(out, "<a href=\"{url}\"><img src=\"{preview}\" alt=\"{alt}\" loading=\"lazy\"></a>");
            }
        }
    }
    out.push_str("</div>");
}

/// An account's display name, or its username when it has none.
pub fn display_name(a: &wire::Account) -> &str {
    if a.display_name.trim().is_empty() { &a.username } else { &a.display_name }
}

/// Plain text of status HTML for descriptions: tags dropped, entities kept readable, cut at
/// about 200 characters.
pub fn plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut tag: Option<String> = None;
    for c in html.chars() {
        match (&mut tag, c) {
            (None, '<') => tag = Some(String::new()),
            (Some(name), '>') => {
                // Paragraphs and line breaks separate words; inline tags (links) do not.
                let name = name.trim_start_matches('/').split_whitespace().next().unwrap_or("").to_ascii_lowercase();
                if matches!(name.as_str(), "p" | "br" | "br/" | "div" | "li") {
                    out.push(' ');
                }
                tag = None;
            }
            (Some(name), c) => name.push(c),
            (None, c) => out.push(c),
        }
    }
    let text = out.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'");
    let words: Vec<&str> = text.split_whitespace().collect();
    let joined = words.join(" ");
    if joined.chars().count() > 200 { format!("{}…", joined.chars().take(199).collect::<String>()) } else { joined }
}

/// A list of statuses, or a line saying there are none.
pub fn statuses(out: &mut String, list: &[wire::Status], none: &str) {
    if list.is_empty() {
        let _ = write!(out, "<p class=\"muted\">{}</p>", esc(none));
    }
    for s in list {
        status(out, s, false);
    }
}

/// The link to the next (older) page, when there is one.
pub fn older(out: &mut String, path: &str, older: Option<shared::id::Id>) {
    if let Some(id) = older {
        let _ = write!(out, "<nav class=\"pages\" aria-label=\"Pages\"><span></span><a href=\"{}?max_id={id}\" rel=\"next\">Older posts</a></nav>", esc(path));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_plain_and_short() {
        assert_eq!(plain("<p>Hello <a href=\"x\">#<span>tag</span></a> &amp; more</p><p>next</p>"), "Hello #tag & more next");
        let long = format!("<p>{}</p>", "word ".repeat(100));
        let cut = plain(&long);
        assert!(cut.chars().count() <= 200 && cut.ends_with('…'), "{cut}");
    }
}
