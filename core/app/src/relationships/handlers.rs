//! The relationship endpoints: follow, unfollow, follower and following lists, relationships.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use shared::id::Id;
use shared::wire;

use super::service::{self, Follow};
use crate::auth::{Auth, MaybeAuth, Scope};
use crate::error::ApiResult;
use crate::http::{Input, PageParams, Paged, Params, RequestUrl, flag, path_id};
use crate::{App, keys};

/// Query of `GET /api/v1/accounts/relationships`.
#[derive(Deserialize)]
pub struct RelationshipParams {
    #[serde(default, rename = "id[]")]
    ids: Vec<String>,
    #[serde(default)]
    id: Vec<String>,
}

/// `GET /api/v1/accounts/relationships?id[]=`.
pub async fn relationships(State(app): State<App>, auth: Auth, Params(p): Params<RelationshipParams>) -> ApiResult<Json<Vec<wire::Relationship>>> {
    let me = auth.user(Scope::ReadFollows)?;
    let mut ids: Vec<Id> = p.ids.iter().chain(p.id.iter()).filter_map(|s| s.parse().ok()).take(100).collect();
    // As Mastodon: one relationship per existing account, whatever else was asked.
    let known = app.account_records(&ids).await?;
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| known.contains_key(id) && seen.insert(*id));
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(app.relationship(me, id).await?);
    }
    Ok(Json(out))
}

/// Body of `POST /api/v1/accounts/:id/follow`.
#[derive(Deserialize, Default)]
pub struct FollowOptions {
    #[serde(default, deserialize_with = "flag")]
    reblogs: Option<bool>,
    #[serde(default, deserialize_with = "flag")]
    notify: Option<bool>,
}

/// `POST /api/v1/accounts/:id/follow`.
pub async fn follow(State(app): State<App>, auth: Auth, Path(id): Path<String>, Input(options): Input<FollowOptions>) -> ApiResult<Json<wire::Relationship>> {
    let me = auth.user(Scope::WriteFollows)?;
    let target = path_id(&id)?;
    service::follow(&app, Follow { follower: me, target, reblogs: options.reblogs, notify: options.notify }).await?;
    app.relationship(me, target).await.map(Json)
}

/// `POST /api/v1/accounts/:id/unfollow`.
pub async fn unfollow(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Relationship>> {
    let me = auth.user(Scope::WriteFollows)?;
    let target = path_id(&id)?;
    app.account_record(target).await?;
    service::unfollow(&app, me, target).await?;
    app.relationship(me, target).await.map(Json)
}

/// `GET /api/v1/accounts/:id/followers`.
pub async fn followers(
    State(app): State<App>,
    auth: MaybeAuth,
    Path(id): Path<String>,
    Params(page): Params<PageParams>,
    url: RequestUrl,
) -> ApiResult<Paged<wire::Account>> {
    follow_list(app, auth, id, page, url, keys::followers_partition).await
}

/// `GET /api/v1/accounts/:id/following`.
pub async fn following(
    State(app): State<App>,
    auth: MaybeAuth,
    Path(id): Path<String>,
    Params(page): Params<PageParams>,
    url: RequestUrl,
) -> ApiResult<Paged<wire::Account>> {
    follow_list(app, auth, id, page, url, keys::following_partition).await
}

async fn follow_list(app: App, auth: MaybeAuth, id: String, page: PageParams, url: RequestUrl, partition: fn(Id) -> String) -> ApiResult<Paged<wire::Account>> {
    let viewer = auth.viewer(Scope::ReadAccounts)?;
    let owner = app.account_record(path_id(&id)?).await?;
    if owner.hide_collections && viewer != Some(owner.id) {
        return Ok(Paged::new(&app, &url, Vec::new(), &[]));
    }
    Paged::accounts(&app, partition(owner.id), &page, &url).await
}

/// `GET /api/v1/follow_requests`: accounts asking to follow the caller, newest request first.
pub async fn follow_requests(State(app): State<App>, auth: Auth, Params(page): Params<PageParams>, url: RequestUrl) -> ApiResult<Paged<wire::Account>> {
    let me = auth.user(Scope::ReadFollows)?;
    Paged::accounts(&app, keys::follow_requests_partition(me), &page, &url).await
}

/// `POST /api/v1/follow_requests/:account_id/authorize`.
pub async fn authorize(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Relationship>> {
    let me = auth.user(Scope::WriteFollows)?;
    let follower = path_id(&id)?;
    service::authorize(&app, me, follower).await?;
    app.relationship(me, follower).await.map(Json)
}

/// `POST /api/v1/follow_requests/:account_id/reject`.
pub async fn reject(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Relationship>> {
    let me = auth.user(Scope::WriteFollows)?;
    let follower = path_id(&id)?;
    app.account_record(follower).await?;
    service::close_request(&app, follower, me).await?;
    app.relationship(me, follower).await.map(Json)
}

/// `POST /api/v1/accounts/:id/remove_from_followers`: the account stops following the caller.
pub async fn remove_from_followers(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Relationship>> {
    let me = auth.user(Scope::WriteFollows)?;
    let follower = path_id(&id)?;
    app.account_record(follower).await?;
    service::unfollow(&app, follower, me).await?;
    app.relationship(me, follower).await.map(Json)
}
