//! The poll endpoints: thin handlers that extract, call [`service`], and render.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use shared::wire;

use super::service::{self, Vote};
use crate::App;
use crate::auth::{Auth, MaybeAuth, Scope};
use crate::error::ApiResult;
use crate::http::{Input, path_id, string_list};

/// Body of `POST /api/v1/polls/:id/votes`: `choices[]` (forms) or `choices` (JSON).
#[derive(Deserialize, Default)]
pub struct VoteParams {
    #[serde(default, rename = "choices[]", deserialize_with = "string_list")]
    choices_form: Vec<String>,
    #[serde(default, deserialize_with = "string_list")]
    choices: Vec<String>,
}

/// `GET /api/v1/polls/:id`.
pub async fn show(State(app): State<App>, auth: MaybeAuth, Path(id): Path<String>) -> ApiResult<Json<wire::Poll>> {
    let viewer = auth.viewer(Scope::ReadStatuses)?;
    service::show(&app, viewer, path_id(&id)?).await.map(Json)
}

/// `POST /api/v1/polls/:id/votes`: returns the poll with the vote counted.
pub async fn vote(State(app): State<App>, auth: Auth, Path(id): Path<String>, Input(p): Input<VoteParams>) -> ApiResult<Json<wire::Poll>> {
    let me = auth.user(Scope::WriteStatuses)?;
    let choices = p.choices_form.into_iter().chain(p.choices).collect();
    let record = service::vote(&app, Vote { voter: me, poll: path_id(&id)?, choices }).await?;
    service::show(&app, Some(me), record.id).await.map(Json)
}
