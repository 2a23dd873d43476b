//! The block and mute endpoints.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use shared::wire;

use super::service::{self, Mute};
use crate::auth::{Auth, Scope};
use crate::error::ApiResult;
use crate::http::{Input, PageParams, Paged, Params, RequestUrl, flag, path_id, whole_number};
use crate::model::{self, MuteRecord};
use crate::{App, keys};

/// `POST /api/v1/accounts/:id/block`.
pub async fn block(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Relationship>> {
    let me = auth.user(Scope::WriteBlocks)?;
    let target = path_id(&id)?;
    service::block(&app, me, target).await?;
    app.relationship(me, target).await.map(Json)
}

/// `POST /api/v1/accounts/:id/unblock`.
pub async fn unblock(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Relationship>> {
    let me = auth.user(Scope::WriteBlocks)?;
    let target = path_id(&id)?;
    service::unblock(&app, me, target).await?;
    app.relationship(me, target).await.map(Json)
}

/// Body of `POST /api/v1/accounts/:id/mute`.
#[derive(Deserialize, Default)]
pub struct MuteOptions {
    #[serde(default, deserialize_with = "flag")]
    notifications: Option<bool>,
    /// Seconds; 0 or absent: indefinitely.
    #[serde(default, deserialize_with = "whole_number")]
    duration: Option<u64>,
}

/// `POST /api/v1/accounts/:id/mute`.
pub async fn mute(State(app): State<App>, auth: Auth, Path(id): Path<String>, Input(options): Input<MuteOptions>) -> ApiResult<Json<wire::Relationship>> {
    let me = auth.user(Scope::WriteMutes)?;
    let target = path_id(&id)?;
    let cmd = Mute { muter: me, target, notifications: options.notifications.unwrap_or(true), duration_secs: options.duration.filter(|d| *d > 0) };
    service::mute(&app, cmd).await?;
    app.relationship(me, target).await.map(Json)
}

/// `POST /api/v1/accounts/:id/unmute`.
pub async fn unmute(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Relationship>> {
    let me = auth.user(Scope::WriteMutes)?;
    let target = path_id(&id)?;
    service::unmute(&app, me, target).await?;
    app.relationship(me, target).await.map(Json)
}

/// `GET /api/v1/blocks`: the accounts the caller blocks, most recent block first.
pub async fn blocks(State(app): State<App>, auth: Auth, Params(page): Params<PageParams>, url: RequestUrl) -> ApiResult<Paged<wire::Account>> {
    let me = auth.user(Scope::ReadBlocks)?;
    Paged::accounts(&app, keys::blocks_partition(me), &page, &url).await
}

/// `GET /api/v1/mutes`: the accounts the caller mutes, most recent mute first, each with
/// when its mute ends. Mutes that have ended are not listed.
pub async fn mutes(State(app): State<App>, auth: Auth, Params(page): Params<PageParams>, url: RequestUrl) -> ApiResult<Paged<wire::MutedAccount>> {
    let me = auth.user(Scope::ReadMutes)?;
    let window = page.request(40, 80)?.window();
    let (cursors, accounts) = app.ref_page(keys::mutes_partition(me), &window).await?;
    let edges = app.store.get_many(&accounts.iter().map(|a| keys::mute_edge(me, *a)).collect::<Vec<_>>()).await?;
    let now = crate::clock::now_ms();
    let mut kept = Vec::with_capacity(accounts.len());
    let mut ends = std::collections::HashMap::new();
    for (account, edge) in accounts.iter().zip(edges) {
        let Some(item) = edge else { continue };
        let mute: MuteRecord = model::decode(&item)?;
        if mute.active(now) {
            kept.push(*account);
            ends.insert(*account, mute.expires_at);
        }
    }
    let rendered = app.account_list(&kept).await?;
    let muted = rendered
        .into_iter()
        .map(|account| {
            let mute_expires_at = ends.get(&account.id).copied().flatten().map(wire::timestamp);
            wire::MutedAccount { account, mute_expires_at }
        })
        .collect();
    Ok(Paged::new(&app, &url, muted, &cursors))
}
