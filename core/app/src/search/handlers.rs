//! The HTTP endpoints: thin handlers that extract, call the service, and render.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use shared::id::Id;
use shared::wire;

use crate::App;
use crate::auth::{MaybeAuth, Scope};
use crate::error::{ApiError, ApiResult};
use crate::http::{Params, flag};
use crate::policy::visibility;
use crate::ports::StatusSearch;
use crate::tags;

/// Longest query accepted, in bytes.
pub(crate) const MAX_QUERY_BYTES: usize = 512;
// The endpoints.

/// Query of `GET /api/v2/search`.
#[derive(Deserialize, Default)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "flag")]
    following: Option<bool>,
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default)]
    max_id: Option<String>,
    #[serde(default)]
    min_id: Option<String>,
    #[serde(default)]
    limit: Option<String>,
    #[serde(default)]
    offset: Option<String>,
    // Accepted and ignored: there is no federation to resolve against, and every hashtag is
    // reviewed.
    #[serde(default, rename = "resolve")]
    _resolve: Option<String>,
    #[serde(default, rename = "exclude_unreviewed")]
    _exclude_unreviewed: Option<String>,
}

/// What to search for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Accounts,
    Hashtags,
    Statuses,
}

/// Parses a bounded non-negative number parameter.
pub(crate) fn number(raw: Option<&str>, name: &str, default: usize, max: usize) -> ApiResult<usize> {
    match raw.map(str::trim) {
        None | Some("") => Ok(default),
        Some(s) => {
            let n: usize = s.parse().map_err(|_| ApiError::BadRequest(format!("Invalid {name}")))?;
            Ok(n.min(max))
        }
    }
}

pub(crate) fn optional_id(raw: Option<&str>, name: &str) -> ApiResult<Option<Id>> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| ApiError::BadRequest(format!("Invalid {name}"))),
    }
}

/// The query text, trimmed; too long is refused.
pub(crate) fn query_text(q: &str) -> ApiResult<&str> {
    let q = q.trim();
    if q.len() > MAX_QUERY_BYTES {
        return Err(ApiError::invalid(format!("Search query is too long (maximum is {MAX_QUERY_BYTES} bytes)")));
    }
    Ok(q)
}

/// Largest offset accepted (deeper pages are not useful and cost the index).
pub(crate) const MAX_OFFSET: usize = 10_000;

/// `GET /api/v2/search`.
pub async fn search(State(app): State<App>, auth: MaybeAuth, Params(p): Params<SearchParams>) -> ApiResult<Json<wire::Search>> {
    let viewer = auth.viewer(Scope::ReadSearch)?;
    let kinds: Vec<Kind> = match p.kind.as_deref().map(str::trim) {
        None | Some("") => vec![Kind::Accounts, Kind::Hashtags, Kind::Statuses],
        Some("accounts") => vec![Kind::Accounts],
        Some("hashtags") => vec![Kind::Hashtags],
        Some("statuses") => vec![Kind::Statuses],
        Some(_) => return Err(ApiError::invalid("Invalid search type: use accounts, hashtags or statuses")),
    };
    let limit = number(p.limit.as_deref(), "limit", 20, 40)?.max(1);
    let offset = number(p.offset.as_deref(), "offset", 0, MAX_OFFSET)?;
    let account_id = optional_id(p.account_id.as_deref(), "account_id")?;
    let max_id = optional_id(p.max_id.as_deref(), "max_id")?;
    let min_id = optional_id(p.min_id.as_deref(), "min_id")?;
    if offset > 0 && viewer.is_none() {
        // As Mastodon: paging through search results needs a signed-in user.
        return Err(ApiError::Unauthorized);
    }
    let q = query_text(&p.q)?;
    let mut out = wire::Search { accounts: Vec::new(), statuses: Vec::new(), hashtags: Vec::new() };
    if q.is_empty() {
        return Ok(Json(out));
    }
    let following = p.following == Some(true);
    if kinds.contains(&Kind::Accounts) {
        out.accounts = app.search_accounts(viewer, q, following, offset, limit).await?;
    }
    if kinds.contains(&Kind::Hashtags) {
        out.hashtags = app.search_hashtags(q, offset, limit).await?;
    }
    if kinds.contains(&Kind::Statuses)
        && let Some(reader) = viewer
    {
        let followed = visibility::searchable_authors(&app, reader).await?;
        let query = StatusSearch { text: q.to_owned(), reader, followed, author: account_id, max_id, min_id, offset, limit };
        let ids = app.search.statuses(&query).await?;
        out.statuses = app.statuses(Some(reader), &ids).await?;
    }
    Ok(Json(out))
}

/// Query of `GET /api/v1/accounts/search`.
#[derive(Deserialize, Default)]
pub struct AccountSearchParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    limit: Option<String>,
    #[serde(default)]
    offset: Option<String>,
    #[serde(default, deserialize_with = "flag")]
    following: Option<bool>,
    #[serde(default, rename = "resolve")]
    _resolve: Option<String>,
}

/// `GET /api/v1/accounts/search`.
pub async fn account_search(State(app): State<App>, auth: MaybeAuth, Params(p): Params<AccountSearchParams>) -> ApiResult<Json<Vec<wire::Account>>> {
    let viewer = auth.viewer(Scope::ReadAccounts)?;
    let limit = number(p.limit.as_deref(), "limit", 40, 80)?.max(1);
    let offset = number(p.offset.as_deref(), "offset", 0, MAX_OFFSET)?;
    let q = query_text(&p.q)?;
    if q.is_empty() {
        return Ok(Json(Vec::new()));
    }
    app.search_accounts(viewer, q, p.following == Some(true), offset, limit).await.map(Json)
}

/// `GET /api/v1/tags/:name`.
pub async fn tag(State(app): State<App>, auth: MaybeAuth, Path(name): Path<String>) -> ApiResult<Json<wire::Tag>> {
    let viewer = auth.viewer(Scope::ReadStatuses)?;
    let tag = tags::service::Hashtag::parse(&name).ok_or(ApiError::NotFound)?;
    let normalized = tag.as_str();
    let relation = match viewer {
        Some(me) => Some(tags::service::relation(&app, me, &tag).await?),
        None => None,
    };
    let history = app.tag_history(normalized).await?;
    // A tag someone follows or features exists for them (Mastodon creates it then).
    let known = relation.is_some_and(|r| r.following || r.featuring)
        || history.iter().any(|h| h.uses != "0")
        || app.tag_used(normalized).await?
        || app.search.hashtags(normalized, 0, 1).await?.first().is_some_and(|t| t.name == normalized);
    if !known {
        return Err(ApiError::NotFound);
    }
    let mut entity = app.tag_entity(normalized, history);
    let relation = relation.unwrap_or_default();
    entity.following = Some(relation.following);
    if viewer.is_some() {
        entity.featuring = Some(relation.featuring);
    }
    Ok(Json(entity))
}
