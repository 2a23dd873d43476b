//! The HTTP surface: the route table, request extractors Mastodon clients need (form or JSON
//! bodies, `foo[]` arrays), paginated responses with `Link`, and the middleware stack.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde::de::DeserializeOwned;
use shared::id::Id;
use shared::page::{PageRequest, link_header};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::CorsLayer;
use tower_http::normalize_path::NormalizePath;
use tower_http::trace::TraceLayer;

use crate::error::{ApiError, ApiResult};
use crate::{App, accounts, instance, notifications, oauth, statuses, streaming, timelines};

/// Largest request body accepted outside media uploads.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Builds the route table.
pub fn router(app: App) -> Router {
    let api = Router::new()
        .route("/api/v1/instance", get(instance::v1))
        .route("/api/v2/instance", get(instance::v2))
        .route("/api/v1/custom_emojis", get(instance::custom_emojis))
        .route("/api/v1/preferences", get(instance::preferences))
        .route("/.well-known/oauth-authorization-server", get(instance::oauth_metadata))
        .route("/.well-known/nodeinfo", get(instance::nodeinfo_links))
        .route("/nodeinfo/2.0", get(instance::nodeinfo))
        .route("/api/starling/v1/keys", get(oauth::public_keys))
        .route("/api/starling/v1/revocations", get(oauth::revocations))
        .route("/api/v1/apps", post(oauth::create_app))
        .route("/api/v1/apps/verify_credentials", get(oauth::verify_app))
        .route("/oauth/authorize", get(oauth::authorize_page).post(oauth::authorize_submit))
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/revoke", post(oauth::revoke))
        .route("/api/v1/accounts", post(accounts::register))
        .route("/api/v1/accounts/verify_credentials", get(accounts::verify_credentials))
        .route("/api/v1/accounts/update_credentials", axum::routing::patch(accounts::update_credentials))
        .route("/api/v1/accounts/lookup", get(accounts::lookup))
        .route("/api/v1/accounts/relationships", get(accounts::relationships))
        .route("/api/v1/accounts/{id}", get(accounts::show))
        .route("/api/v1/accounts/{id}/statuses", get(timelines::account_statuses))
        .route("/api/v1/accounts/{id}/follow", post(accounts::follow))
        .route("/api/v1/accounts/{id}/unfollow", post(accounts::unfollow))
        .route("/api/v1/accounts/{id}/followers", get(accounts::followers))
        .route("/api/v1/accounts/{id}/following", get(accounts::following))
        .route("/api/v1/statuses", post(statuses::create))
        .route("/api/v1/statuses/{id}", get(statuses::show).put(statuses::edit).delete(statuses::delete))
        .route("/api/v1/statuses/{id}/history", get(statuses::history))
        .route("/api/v1/statuses/{id}/source", get(statuses::source))
        .route("/api/v1/statuses/{id}/context", get(statuses::context))
        .route("/api/v1/statuses/{id}/favourite", post(statuses::favourite))
        .route("/api/v1/statuses/{id}/unfavourite", post(statuses::unfavourite))
        .route("/api/v1/statuses/{id}/reblog", post(statuses::reblog))
        .route("/api/v1/statuses/{id}/unreblog", post(statuses::unreblog))
        .route("/api/v1/statuses/{id}/bookmark", post(statuses::bookmark))
        .route("/api/v1/statuses/{id}/unbookmark", post(statuses::unbookmark))
        .route("/api/v1/statuses/{id}/favourited_by", get(statuses::favourited_by))
        .route("/api/v1/statuses/{id}/reblogged_by", get(statuses::reblogged_by))
        .route("/api/v1/bookmarks", get(statuses::bookmarks))
        .route("/api/v1/favourites", get(statuses::favourites))
        .route("/api/v1/timelines/home", get(timelines::home))
        .route("/api/starling/v1/timelines/home/version", get(timelines::home_version))
        .route("/api/v1/timelines/public", get(timelines::public))
        .route("/api/v1/timelines/tag/{hashtag}", get(timelines::tag))
        .merge(notifications_and_streaming())
        .route("/health", get(|| async { "ok" }))
        .merge(crate::ops::routes())
        .route("/avatars/original/missing.png", get(missing_image))
        .route("/headers/original/missing.png", get(missing_image))
        .merge(crate::search::routes())
        .merge(crate::push::routes())
        .merge(crate::media::routes(&app));
    let api = api
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async {
            (StatusCode::METHOD_NOT_ALLOWED, Json(shared::wire::Error { error: "Method not allowed".into(), error_description: None }))
        })
        .layer(axum::middleware::from_fn_with_state(app.clone(), crate::ratelimit::limit))
        // Enforced where bodies are read ([`Input`]), so an oversized one gets the error envelope.
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(CorsLayer::permissive().expose_headers([
            header::LINK,
            header::HeaderName::from_static("x-ratelimit-limit"),
            header::HeaderName::from_static("x-ratelimit-remaining"),
            header::HeaderName::from_static("x-ratelimit-reset"),
        ]))
        .layer(CatchPanicLayer::custom(|_| ApiError::internal("handler panicked").into_response()))
        .layer(axum::middleware::from_fn_with_state(app.clone(), crate::ops::track))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let route = req.extensions().get::<MatchedPath>().map_or("", MatchedPath::as_str).to_owned();
            tracing::info_span!("request", method = %req.method(), route, user = tracing::field::Empty)
        }))
        .with_state(app);
    // Rails routes `/api/v1/instance/` like `/api/v1/instance`, and clients (Mastodon.py) rely on it.
    // Trimmed before routing, so it wraps the finished router.
    Router::new().fallback_service(NormalizePath::trim_trailing_slash(api))
}

/// Notifications, read markers and the streaming API.
fn notifications_and_streaming() -> Router<App> {
    Router::new()
        .route("/api/v1/notifications", get(notifications::list))
        .route("/api/v1/notifications/unread_count", get(notifications::unread_count))
        .route("/api/v1/notifications/clear", post(notifications::clear))
        .route("/api/v1/notifications/{id}", get(notifications::show))
        .route("/api/v1/notifications/{id}/dismiss", post(notifications::dismiss))
        .route("/api/v1/markers", get(notifications::markers).post(notifications::save_markers))
        .route("/api/v1/streaming", get(streaming::websocket))
        .route("/api/v1/streaming/", get(streaming::websocket))
        .route("/api/v1/streaming/health", get(streaming::health))
        .route("/api/v1/streaming/user", get(streaming::user))
        .route("/api/v1/streaming/user/notification", get(streaming::user_notification))
        .route("/api/v1/streaming/public", get(streaming::public))
        .route("/api/v1/streaming/public/local", get(streaming::public_local))
        .route("/api/v1/streaming/public/remote", get(streaming::public_remote))
        .route("/api/v1/streaming/hashtag", get(streaming::hashtag))
        .route("/api/v1/streaming/hashtag/local", get(streaming::hashtag_local))
}

/// The placeholder avatar and header Mastodon serves for accounts without one.
async fn missing_image() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "public, max-age=86400")], include_bytes!("missing.png").as_slice())
}

/// Query parameters, with Mastodon's `name[]=a&name[]=b` arrays.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        serde_html_form::from_str(query).map(Params).map_err(|e| ApiError::BadRequest(format!("Invalid query parameters: {e}")))
    }
}

/// A request body as JSON or form-urlencoded (what Mastodon clients send); empty means `{}`.
pub struct Input<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Input<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::invalid("Request body is too large")
            } else {
                ApiError::BadRequest("Could not read the request body".into())
            }
        })?;
        parse_body(&content_type, &bytes).map(Input)
    }
}

/// Decodes a body by content type.
pub fn parse_body<T: DeserializeOwned>(content_type: &str, bytes: &[u8]) -> ApiResult<T> {
    if content_type.starts_with("application/json") {
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { bytes };
        serde_json::from_slice(bytes).map_err(|e| ApiError::invalid(format!("Invalid JSON body: {e}")))
    } else if content_type.starts_with("multipart/form-data") {
        let pairs = multipart_fields(content_type, bytes)?;
        serde_html_form::from_str(&serde_html_form::to_string(&pairs).map_err(ApiError::internal)?)
            .map_err(|e| ApiError::invalid(format!("Invalid form body: {e}")))
    } else {
        let text = std::str::from_utf8(bytes).map_err(|_| ApiError::BadRequest("Body is not UTF-8".into()))?;
        serde_html_form::from_str(text).map_err(|e| ApiError::invalid(format!("Invalid form body: {e}")))
    }
}

/// Text fields of a multipart body (files are refused here; media have their own route).
fn multipart_fields(content_type: &str, body: &[u8]) -> ApiResult<Vec<(String, String)>> {
    let boundary = content_type
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .next()
        .map(|b| b.trim_matches('"'))
        .ok_or_else(|| ApiError::BadRequest("Multipart body without boundary".into()))?;
    let text = String::from_utf8_lossy(body);
    let delimiter = format!("--{boundary}");
    let mut fields = Vec::new();
    for part in text.split(delimiter.as_str()).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let part = part.strip_prefix("\r\n").unwrap_or(part);
        let Some((head, value)) = part.split_once("\r\n\r\n") else { continue };
        let name = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))
            .and_then(|l| l.split(';').find_map(|p| p.trim().strip_prefix("name=")))
            .map(|n| n.trim_matches('"').to_owned());
        if head.contains("filename=") {
            return Err(ApiError::invalid("File uploads are not accepted on this endpoint"));
        }
        if let Some(name) = name {
            fields.push((name, value.strip_suffix("\r\n").unwrap_or(value).to_owned()));
        }
    }
    Ok(fields)
}

/// The raw pagination parameters every list endpoint takes.
#[derive(Debug, Default, serde::Deserialize)]
pub struct PageParams {
    #[serde(default)]
    max_id: Option<String>,
    #[serde(default)]
    since_id: Option<String>,
    #[serde(default)]
    min_id: Option<String>,
    #[serde(default)]
    limit: Option<String>,
}

impl PageParams {
    /// Parses the cursors, ignoring empty values as Mastodon does.
    pub fn request(&self, default: usize, max: usize) -> ApiResult<PageRequest> {
        let id = |v: &Option<String>| -> ApiResult<Option<Id>> {
            match v.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(s) => s.parse().map(Some).map_err(|_| ApiError::BadRequest(format!("Invalid pagination id {s:?}"))),
            }
        };
        let limit = match self.limit.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(s.parse::<u64>().map_err(|_| ApiError::BadRequest("Invalid limit".into()))?),
        };
        Ok(PageRequest::new(id(&self.max_id)?, id(&self.since_id)?, id(&self.min_id)?, limit, default, max))
    }
}

/// The request's path and query, for `Link` headers.
pub struct RequestUrl {
    path: String,
    params: Vec<(String, String)>,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestUrl {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let params = serde_html_form::from_str(parts.uri.query().unwrap_or("")).unwrap_or_default();
        Ok(RequestUrl { path: parts.uri.path().to_owned(), params })
    }
}

/// A page of results with its `Link` header (cursors are the newest and oldest entries').
pub struct Paged<T> {
    items: Vec<T>,
    link: Option<String>,
}

impl<T> Paged<T> {
    /// Builds a page; `cursors` are the pagination ids of `items`, newest first.
    pub fn new(app: &App, url: &RequestUrl, items: Vec<T>, cursors: &[Id]) -> Self {
        let link = match (cursors.first(), cursors.last()) {
            (Some(newest), Some(oldest)) => Some(link_header(&format!("{}{}", app.config.instance.base_url, url.path), &url.params, *newest, *oldest)),
            _ => None,
        };
        Paged { items, link }
    }
}

impl<T: Serialize> IntoResponse for Paged<T> {
    fn into_response(self) -> Response {
        let mut headers = HeaderMap::new();
        if let Some(link) = self.link.and_then(|l| HeaderValue::from_str(&l).ok()) {
            headers.insert(header::LINK, link);
        }
        (headers, Json(self.items)).into_response()
    }
}

/// Parses an id from a path segment; anything else is simply not found.
pub fn path_id(raw: &str) -> ApiResult<Id> {
    raw.parse().map_err(|_| ApiError::NotFound)
}

/// Accepts `true`/`false`/`1`/`0`/`on`/`off` as clients send them in forms.
pub fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Bool(bool),
        Text(String),
        Int(i64),
    }
    let raw: Option<Raw> = serde::Deserialize::deserialize(d)?;
    Ok(match raw {
        None => None,
        Some(Raw::Bool(b)) => Some(b),
        Some(Raw::Int(i)) => Some(i != 0),
        Some(Raw::Text(t)) => match t.to_ascii_lowercase().as_str() {
            "true" | "1" | "on" | "yes" | "t" => Some(true),
            "" => None,
            _ => Some(false),
        },
    })
}

/// A body as flat `key=value` pairs in bracket notation, whatever its encoding: JSON objects
/// are flattened (`{"source":{"privacy":"x"}}` → `source[privacy]=x`), so endpoints with nested
/// Rails-style parameters parse one shape.
pub struct FlatInput(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for FlatInput {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"));
        if is_json {
            let Input(value) = Input::<serde_json::Value>::from_request(req, state).await?;
            let mut pairs = Vec::new();
            flatten_json(&value, String::new(), &mut pairs);
            Ok(FlatInput(pairs))
        } else {
            Input::<Vec<(String, String)>>::from_request(req, state).await.map(|Input(pairs)| FlatInput(pairs))
        }
    }
}

fn flatten_json(value: &serde_json::Value, prefix: String, out: &mut Vec<(String, String)>) {
    use serde_json::Value;
    let child = |key: &str| if prefix.is_empty() { key.to_owned() } else { format!("{prefix}[{key}]") };
    match value {
        Value::Object(map) => map.iter().for_each(|(k, v)| flatten_json(v, child(k), out)),
        Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| flatten_json(v, child(&i.to_string()), out)),
        Value::Null => {}
        Value::String(s) => out.push((prefix, s.clone())),
        other => out.push((prefix, other.to_string())),
    }
}

/// Reads a form boolean as Rails does.
pub fn truthy(value: &str) -> bool {
    matches!(value.to_ascii_lowercase().as_str(), "true" | "1" | "on" | "yes" | "t")
}
