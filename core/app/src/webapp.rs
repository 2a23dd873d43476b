//! Starling's signed-in web app: plain ES modules and a stylesheet under `webapp/` at the
//! repository root, embedded in the binary at compile time (`include_str!`), so a fresh
//! checkout's `cargo run -- serve` serves a working app with no JavaScript toolchain.
//!
//! The app is a client of the public Mastodon API like any other (OAuth app, authorization code
//! with PKCE, the streaming API): nothing here knows who is signed in. Two kinds of response:
//!
//! - the shell (`/web` and every path under it, so deep links and reloads work): a small HTML
//!   page naming the assets by their version, `Cache-Control: no-cache` (revalidated by ETag);
//! - the assets (`/web/assets/{version}/{file}`): `{version}` is a digest of every asset, so
//!   they are cached for a year as immutable, by browsers and by the edge (infra/'s CloudFront
//!   behaviour for `/web/assets/*`); another version answers 404, never today's bytes under an
//!   old name.

use std::fmt::Write as _;
use std::sync::OnceLock;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use shared::text::escape_html as esc;

use crate::App;

/// One embedded file: its name under `/web/assets/{version}/`, content type and bytes.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset { name: $name, content_type: $type, body: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../webapp/", $name)) }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file the app loads. A module missing here fails its import in the browser tests.
const ASSETS: &[Asset] = &[
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("view.js", JS),
    asset!("text.js", JS),
    asset!("status.js", JS),
    asset!("compose.js", JS),
    asset!("pages.js", JS),
    asset!("style.css", "text/css; charset=utf-8"),
];

/// The modules the shell preloads (the whole app: it is small), in import order.
const PRELOAD: &[&str] = &["api.js", "view.js", "text.js", "status.js", "compose.js", "pages.js"];

/// The digest of every asset (12 hex digits): the assets' URL segment and the shell's ETag.
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut hash = Sha256::new();
        for asset in ASSETS {
            hash.update(asset.name.as_bytes());
            hash.update([0]);
            hash.update(asset.body.as_bytes());
        }
        let mut hex = String::with_capacity(12);
        for byte in hash.finalize().iter().take(6) {
            let _ = write!(hex, "{byte:02x}");
        }
        hex
    })
}

/// The shell's and the assets' Content-Security-Policy: scripts and styles only from here;
/// the API and its stream may be on another origin (`urls.streaming`), pictures anywhere.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src * data: blob:; media-src * blob:; \
                   connect-src 'self' http: https: ws: wss:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// `GET /web`, `GET /web/{*path}`: the app shell. Paints the instance's name at once; the app's
/// modules (deferred) take over.
pub async fn shell(State(app): State<App>, request_headers: HeaderMap) -> Response {
    let version = version();
    let etag = format!("\"{version}\"");
    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    if request_headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    let title = esc(&app.config.instance.title);
    let base = format!("/web/assets/{version}");
    let mut preload = String::new();
    for module in PRELOAD {
        let _ = write!(preload, "<link rel=\"modulepreload\" href=\"{base}/{module}\">");
    }
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{title}</title>\
         <link rel=\"stylesheet\" href=\"{base}/style.css\"><script type=\"module\" src=\"{base}/app.js\"></script>{preload}</head>\
         <body><a class=\"skip\" href=\"#main\">Skip to content</a><header class=\"bar\"><a class=\"brand\" href=\"/web\">{title}</a></header>\
         <div id=\"app\"><main id=\"main\" tabindex=\"-1\"><p class=\"muted\">Loading…</p></main></div>\
         <noscript><p class=\"card\">This app needs JavaScript. The <a href=\"/\">public pages</a> work without it.</p></noscript></body></html>"
    );
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    (StatusCode::OK, headers, html).into_response()
}

/// `GET /web/assets/{version}/{file}`: an embedded asset, immutable for a year.
pub async fn asset(Path((asked, name)): Path<(String, String)>) -> Response {
    let found = ASSETS.iter().find(|a| a.name == name).filter(|_| asked == version());
    let Some(asset) = found else {
        return (StatusCode::NOT_FOUND, [(header::CACHE_CONTROL, "no-store")], "Not found").into_response();
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    (StatusCode::OK, headers, asset.body).into_response()
}
