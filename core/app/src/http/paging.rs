//! Paginated responses: Mastodon's cursor parameters in, a page with its `Link` header out.

use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use shared::id::Id;
use shared::page::{PageRequest, link_header};
use shared::wire;

use crate::App;
use crate::error::{ApiError, ApiResult};

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

impl Paged<wire::Account> {
    /// A page of the accounts an id-keyed list partition of `Ref`s lists (followers, blocks,
    /// …), rendered, with its Link header; missing and suspended accounts drop out.
    pub async fn accounts(app: &App, partition: String, page: &PageParams, url: &RequestUrl) -> ApiResult<Self> {
        Self::accounts_of(app, vec![partition], page, url).await
    }

    /// [`Paged::accounts`] of a partition split into shards, merged by id.
    pub async fn accounts_of(app: &App, partitions: Vec<String>, page: &PageParams, url: &RequestUrl) -> ApiResult<Self> {
        let window = page.request(40, 80)?.window();
        let (cursors, accounts) = app.ref_page_of(partitions, &window).await?;
        let rendered = app.account_list(&accounts).await?;
        Ok(Paged::new(app, url, rendered, &cursors))
    }
}

impl Paged<wire::Status> {
    /// A page of the statuses a list partition names (`ids`, listed under `cursors`), rendered
    /// for `viewer`, with its Link header; deleted or hidden statuses drop out and take their
    /// cursors with them.
    pub async fn statuses_listed(app: &App, viewer: Id, cursors: Vec<Id>, ids: Vec<Id>, url: &RequestUrl) -> ApiResult<Self> {
        let statuses = app.statuses(Some(viewer), &ids).await?;
        let kept: std::collections::HashSet<Id> = statuses.iter().map(|s| s.id).collect();
        let cursors: Vec<Id> = cursors.into_iter().zip(ids).filter(|(_, id)| kept.contains(id)).map(|(c, _)| c).collect();
        Ok(Paged::new(app, url, statuses, &cursors))
    }
}
