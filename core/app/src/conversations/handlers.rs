//! The conversation endpoints: thin handlers that extract, call the service and render.

use axum::Json;
use axum::extract::{Path, State};
use shared::wire;

use super::service;
use crate::App;
use crate::auth::{Auth, Scope};
use crate::error::{ApiError, ApiResult};
use crate::http::{PageParams, Paged, Params, RequestUrl, path_id};

/// `GET /api/v1/conversations`: the caller's conversations, newest activity first, paginated
/// by their newest statuses' ids (as Mastodon).
pub async fn index(State(app): State<App>, auth: Auth, Params(page): Params<PageParams>, url: RequestUrl) -> ApiResult<Paged<wire::Conversation>> {
    let me = auth.user(Scope::ReadStatuses)?;
    let window = page.request(20, 40)?.window();
    let (cursors, records) = service::page(&app, me, &window).await?;
    let rendered = service::render(&app, me, &records).await?;
    Ok(Paged::new(&app, &url, rendered, &cursors))
}

/// `POST /api/v1/conversations/:id/read`.
pub async fn read(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Conversation>> {
    let me = auth.user(Scope::WriteConversations)?;
    let record = service::mark_read(&app, me, path_id(&id)?).await?;
    service::render(&app, me, &[record]).await?.pop().map(Json).ok_or(ApiError::NotFound)
}

/// `DELETE /api/v1/conversations/:id`: removed for the caller only.
pub async fn delete(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user(Scope::WriteConversations)?;
    service::remove(&app, me, path_id(&id)?).await?;
    Ok(Json(serde_json::json!({})))
}
