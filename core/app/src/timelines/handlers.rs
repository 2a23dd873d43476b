//! The HTTP endpoints: thin handlers that extract, call the service, and render.

use std::collections::HashSet;

use axum::extract::{Path, State};
use serde::Deserialize;
use shared::wire::{self, FilterContext};

use super::service::home_key;
use crate::auth::{Auth, MaybeAuth, Scope};
use crate::error::{ApiError, ApiResult};
use crate::http::{PageParams, Paged, Params, RequestUrl, flag, path_id};
use crate::model::{self, AccountStatusEntry};
use crate::policy::{Relations, Viewer, visibility};
use crate::{App, keys};

/// `GET /api/v1/timelines/home`.
pub async fn home(State(app): State<App>, auth: Auth, Params(page): Params<PageParams>, url: RequestUrl) -> ApiResult<Paged<wire::Status>> {
    let me = auth.user(Scope::ReadStatuses)?;
    let window = page.request(20, 40)?.window();
    let ids = app.home_ids(me, &window).await?;
    let statuses = app.feed_statuses(Some(me), &ids, FilterContext::Home).await?;
    Ok(Paged::new(&app, &url, statuses, &ids))
}

/// `GET /api/starling/v1/timelines/home/version`: a number that changes whenever the caller's
/// home timeline gains or loses entries; the edge validates its cached pages with it.
pub async fn home_version(State(app): State<App>, auth: Auth) -> ApiResult<axum::Json<shared::wire::HomeVersion>> {
    let me = auth.user(Scope::ReadStatuses)?;
    // Build first, so the first read's rebuild does not move the version it is cached under.
    app.ensure_home(me).await?;
    let version = app.timelines.version(&home_key(me)).await?;
    // What the home shows also changes with the caller's blocks and mutes (and as timed mutes
    // lift) and with moderators' actions on anyone: all part of the version the edge keys on.
    let items = app.store.get_many(&[keys::relations_counter(me), keys::mute_ends(me), keys::moderation_epoch()]).await?;
    let relations = model::count(items[0].as_ref());
    let now = crate::clock::now_ms();
    let lifted = items[1].as_ref().map(model::decode::<Vec<u64>>).transpose()?.unwrap_or_default().iter().filter(|end| **end <= now).count();
    let moderation = model::count(items[2].as_ref());
    Ok(axum::Json(shared::wire::HomeVersion { version: format!("{version}.{relations}.{lifted}.{moderation}") }))
}

/// Query of `GET /api/v1/timelines/public`.
#[derive(Deserialize)]
pub struct PublicParams {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "flag")]
    remote: Option<bool>,
    #[serde(default, deserialize_with = "flag")]
    only_media: Option<bool>,
}

/// `GET /api/v1/timelines/public` (all statuses are local: no federation yet).
pub async fn public(State(app): State<App>, auth: MaybeAuth, Params(p): Params<PublicParams>, url: RequestUrl) -> ApiResult<Paged<wire::Status>> {
    let viewer = auth.viewer(Scope::ReadStatuses)?;
    let window = p.page.request(20, 40)?.window();
    if p.remote == Some(true) {
        return Ok(Paged::new(&app, &url, Vec::new(), &[]));
    }
    let ids = app.scan_ids(keys::public_partitions(app.config.shards.public), &window, media_filter(p.only_media == Some(true))).await?;
    let statuses = app.feed_statuses(viewer, &ids, FilterContext::Public).await?;
    Ok(Paged::new(&app, &url, statuses, &ids))
}

/// Keeps public/hashtag entries with media when `only_media`, everything otherwise.
pub(crate) fn media_filter(only_media: bool) -> impl Fn(&crate::ports::Item) -> ApiResult<bool> {
    move |item| Ok(!only_media || crate::model::decode::<crate::model::PublicEntry>(item)?.media)
}

/// Query of `GET /api/v1/timelines/tag/:hashtag`.
#[derive(Deserialize)]
pub struct TagParams {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, rename = "any[]")]
    any: Vec<String>,
    #[serde(default, rename = "all[]")]
    all: Vec<String>,
    #[serde(default, rename = "none[]")]
    none: Vec<String>,
    #[serde(default, deserialize_with = "flag")]
    remote: Option<bool>,
    #[serde(default, deserialize_with = "flag")]
    only_media: Option<bool>,
}

/// `GET /api/v1/timelines/tag/:hashtag`.
pub async fn tag(
    State(app): State<App>,
    auth: MaybeAuth,
    Path(hashtag): Path<String>,
    Params(p): Params<TagParams>,
    url: RequestUrl,
) -> ApiResult<Paged<wire::Status>> {
    let viewer = auth.viewer(Scope::ReadStatuses)?;
    let window = p.page.request(20, 40)?.window();
    if !shared::text::is_valid_hashtag(&hashtag) {
        return Err(ApiError::NotFound);
    }
    if p.remote == Some(true) {
        return Ok(Paged::new(&app, &url, Vec::new(), &[]));
    }
    let only_media = p.only_media == Some(true);
    let norm = |t: &String| shared::text::normalize_hashtag(t.trim_start_matches('#'));
    let mut tags = vec![shared::text::normalize_hashtag(&hashtag)];
    tags.extend(p.any.iter().map(norm).filter(|t| !t.is_empty()).take(4));
    let all: Vec<String> = p.all.iter().map(norm).collect();
    let none: Vec<String> = p.none.iter().map(norm).collect();
    tags.sort_unstable();
    tags.dedup();
    // Every shard of every tag, merged by id: one status carrying several of them counts once.
    let partitions = tags.iter().flat_map(|t| keys::tag_partitions(t, app.config.shards.tags)).collect();
    let mut ids = app.scan_ids(partitions, &window, media_filter(only_media)).await?;
    if !all.is_empty() || !none.is_empty() {
        let records = app.cached_status_records(&ids).await?;
        ids.retain(|id| records.get(id).is_some_and(|r| all.iter().all(|t| r.tags.contains(t)) && !none.iter().any(|t| r.tags.contains(t))));
    }
    let statuses = app.feed_statuses(viewer, &ids, FilterContext::Public).await?;
    Ok(Paged::new(&app, &url, statuses, &ids))
}

/// Query of `GET /api/v1/accounts/:id/statuses`.
#[derive(Deserialize)]
pub struct AccountStatusesParams {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "flag")]
    exclude_replies: Option<bool>,
    #[serde(default, deserialize_with = "flag")]
    exclude_reblogs: Option<bool>,
    #[serde(default, deserialize_with = "flag")]
    only_media: Option<bool>,
    #[serde(default, deserialize_with = "flag")]
    pinned: Option<bool>,
    #[serde(default)]
    tagged: Option<String>,
}

/// `GET /api/v1/accounts/:id/statuses`.
pub async fn account_statuses(
    State(app): State<App>,
    auth: MaybeAuth,
    Path(id): Path<String>,
    Params(p): Params<AccountStatusesParams>,
    url: RequestUrl,
) -> ApiResult<Paged<wire::Status>> {
    let viewer = auth.viewer(Scope::ReadStatuses)?;
    let account = app.account_record(path_id(&id)?).await?;
    let window = p.page.request(20, 40)?.window();
    let owner = account.id;
    let ids = if p.pinned == Some(true) {
        app.scan_ids(vec![keys::pinned_partition(owner)], &window, |_| Ok(true)).await?
    } else {
        let follows = match viewer {
            Some(v) if v != owner => app.follow_edge(v, owner).await?.is_some(),
            _ => false,
        };
        let reader = Viewer::new(viewer, if follows { Relations::following(HashSet::from([owner])) } else { Relations::default() });
        let (exclude_replies, exclude_reblogs, only_media) = (p.exclude_replies == Some(true), p.exclude_reblogs == Some(true), p.only_media == Some(true));
        app.scan_ids(vec![keys::account_statuses_partition(owner)], &window, |item| {
            let e: AccountStatusEntry = model::decode(item)?;
            let visible = visibility::listed_on_profile(&reader, owner, &e);
            let is_reply_to_other = e.in_reply_to_account.is_some_and(|t| t != owner);
            Ok(visible && !(exclude_replies && is_reply_to_other) && !(exclude_reblogs && e.reblog_of.is_some()) && (!only_media || e.media))
        })
        .await?
    };
    let mut ids = ids;
    if let Some(tag) = p.tagged.as_deref().filter(|t| !t.is_empty()) {
        let tag = shared::text::normalize_hashtag(tag.trim_start_matches('#'));
        let records = app.cached_status_records(&ids).await?;
        ids.retain(|id| records.get(id).is_some_and(|r| r.tags.contains(&tag)));
    }
    let statuses = app.statuses_in(viewer, &ids, FilterContext::Account).await?;
    Ok(Paged::new(&app, &url, statuses, &ids))
}
