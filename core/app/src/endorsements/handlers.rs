//! The endorsement and note endpoints.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use shared::wire;

use super::service;
use crate::auth::{Auth, MaybeAuth, Scope};
use crate::error::ApiResult;
use crate::http::{Input, PageParams, Paged, Params, RequestUrl, path_id};
use crate::{App, keys};

/// `POST /api/v1/accounts/:id/endorse` (and the older `/pin`).
pub async fn endorse(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Relationship>> {
    let me = auth.user(Scope::WriteAccounts)?;
    let target = path_id(&id)?;
    service::endorse(&app, me, target).await?;
    app.relationship(me, target).await.map(Json)
}

/// `POST /api/v1/accounts/:id/unendorse` (and the older `/unpin`).
pub async fn unendorse(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Relationship>> {
    let me = auth.user(Scope::WriteAccounts)?;
    let target = path_id(&id)?;
    service::unendorse(&app, me, target).await?;
    app.relationship(me, target).await.map(Json)
}

/// `GET /api/v1/endorsements`: the accounts the caller features, most recent first.
pub async fn mine(State(app): State<App>, auth: Auth, Params(page): Params<PageParams>, url: RequestUrl) -> ApiResult<Paged<wire::Account>> {
    let me = auth.user(Scope::ReadAccounts)?;
    Paged::accounts(&app, keys::endorsements_partition(me), &page, &url).await
}

/// `GET /api/v1/accounts/:id/endorsements`: the accounts an account features on its profile.
pub async fn of_account(
    State(app): State<App>,
    _auth: MaybeAuth,
    Path(id): Path<String>,
    Params(page): Params<PageParams>,
    url: RequestUrl,
) -> ApiResult<Paged<wire::Account>> {
    let account = path_id(&id)?;
    // As its profile: a missing (or suspended) account answers 404.
    app.account(account).await?;
    Paged::accounts(&app, keys::endorsements_partition(account), &page, &url).await
}

/// Body of `POST /api/v1/accounts/:id/note`.
#[derive(Deserialize, Default)]
pub struct NoteBody {
    #[serde(default)]
    comment: Option<String>,
}

/// `POST /api/v1/accounts/:id/note`: the caller's private note on an account.
pub async fn note(State(app): State<App>, auth: Auth, Path(id): Path<String>, Input(body): Input<NoteBody>) -> ApiResult<Json<wire::Relationship>> {
    let me = auth.user(Scope::WriteAccounts)?;
    let target = path_id(&id)?;
    service::note(&app, me, target, body.comment.unwrap_or_default()).await?;
    app.relationship(me, target).await.map(Json)
}
