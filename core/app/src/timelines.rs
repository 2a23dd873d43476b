//! Timelines: home (cached, rebuilt on demand, with celebrity posts merged in at read time),
//! public, hashtag, and an account's own statuses.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use serde::Deserialize;
use shared::id::Id;
use shared::page::Window;
use shared::wire::{self};

use crate::auth::{Auth, MaybeAuth};
use crate::error::{ApiError, ApiResult};
use crate::http::{PageParams, Paged, Params, RequestUrl, flag, path_id};
use crate::model::{self, AccountStatusEntry, Ref};
use crate::policy::{FeedItem, Relations, Viewer, feed, visibility};
use crate::ports::{Item, Query, TimelineEntry};
use crate::{App, keys};

/// How long the in-process copy of the celebrity set is trusted.
const CELEBRITY_TTL: Duration = Duration::from_secs(10);
/// Followed accounts read when rebuilding a home timeline.
const REBUILD_MAX_FOLLOWEES: usize = 2000;
/// Partition pages scanned at most to fill one filtered page.
const MAX_SCAN_PAGES: usize = 10;

/// Cache key of an account's home timeline.
pub fn home_key(account: Id) -> String {
    format!("home:{account}")
}

impl App {
    /// Accounts whose posts are pulled at read time (cached briefly in process).
    pub async fn celebrities(&self) -> ApiResult<Arc<HashSet<Id>>> {
        if let Ok(guard) = self.celebrities.read()
            && let Some((at, set)) = guard.as_ref()
            && at.elapsed() < CELEBRITY_TTL
        {
            return Ok(set.clone());
        }
        let items = self.store.query(&Query::partition(keys::CELEBRITIES, 100_000)).await?;
        let set: Arc<HashSet<Id>> = Arc::new(items.iter().filter_map(|i| Id::from_sort_key(&i.key.sk)).collect());
        if let Ok(mut guard) = self.celebrities.write() {
            *guard = Some((Instant::now(), set.clone()));
        }
        Ok(set)
    }

    /// Forgets the cached celebrity set (after a change this process made).
    pub fn invalidate_celebrities(&self) {
        if let Ok(mut guard) = self.celebrities.write() {
            *guard = None;
        }
    }

    /// Builds `viewer`'s home timeline from the store if the cache lacks it.
    pub async fn ensure_home(&self, viewer: Id) -> ApiResult<()> {
        let key = home_key(viewer);
        if self.timelines.exists(&key).await? {
            return Ok(());
        }
        // Mark first: fanout from now on lands in it; what committed before is read below.
        self.timelines.create(&key).await?;
        let celebrities = self.celebrities().await?;
        let followees = self.store.query(&Query { descending: true, ..Query::partition(keys::following_partition(viewer), REBUILD_MAX_FOLLOWEES) }).await?;
        let mut sources: Vec<Id> = Vec::with_capacity(followees.len() + 1);
        sources.push(viewer);
        for item in &followees {
            let target = model::decode::<Ref>(item)?.id;
            if !celebrities.contains(&target) {
                sources.push(target);
            }
        }
        let relations = Relations::following(sources.iter().copied().collect());
        let per_source = (self.config.timelines.cap / sources.len().max(1)).clamp(10, 100);
        let mut entries = Vec::new();
        for source in sources {
            let items = self.store.query(&Query { descending: true, ..Query::partition(keys::account_statuses_partition(source), per_source) }).await?;
            for item in &items {
                if let Some(entry) = self.home_entry(viewer, source, item, &relations)? {
                    entries.push(entry);
                }
            }
        }
        entries.sort_by_key(|e| std::cmp::Reverse(e.id));
        entries.truncate(self.config.timelines.cap);
        self.timelines.insert(&key, &entries, self.config.timelines.cap).await?;
        Ok(())
    }

    /// Turns an `AS#` item into a home entry if the viewer should see it there.
    fn home_entry(&self, viewer: Id, author: Id, item: &Item, relations: &Relations) -> ApiResult<Option<TimelineEntry>> {
        let Some(id) = Id::from_sort_key(&item.key.sk) else { return Ok(None) };
        let entry: AccountStatusEntry = model::decode(item)?;
        Ok(feed::in_home(viewer, relations, &FeedItem::entry(author, &entry)).then_some(TimelineEntry { id, reblog_of: entry.reblog_of }))
    }

    /// Home-timeline ids for a window: the cached entries merged with followed celebrities' posts.
    pub async fn home_ids(&self, viewer: Id, window: &Window) -> ApiResult<Vec<Id>> {
        self.ensure_home(viewer).await?;
        let mut ids = self.timelines.range(&home_key(viewer), window).await?;
        let celebrities = self.celebrities().await?;
        if !celebrities.is_empty() {
            let candidates: Vec<Id> = celebrities.iter().copied().collect();
            let followed = Relations::load(self, viewer, &candidates).await?.followed().clone();
            if !followed.is_empty() {
                let mut all_followed: Option<Relations> = None;
                let no_one = Relations::default();
                let mut seen_originals: HashSet<Id> = HashSet::new();
                let mut boosts: Vec<(Id, Id)> = Vec::new();
                for celebrity in followed {
                    let items = self.store.query(&Query::window(keys::account_statuses_partition(celebrity), window)).await?;
                    for item in &items {
                        let entry: AccountStatusEntry = model::decode(item)?;
                        if entry.in_reply_to_account.is_some() && all_followed.is_none() {
                            let set = self.following_set(viewer).await?;
                            all_followed = Some(Relations::following(set));
                        }
                        let followed_set = all_followed.as_ref().unwrap_or(&no_one);
                        if let Some(e) = self.home_entry(viewer, celebrity, item, followed_set)? {
                            match e.reblog_of {
                                Some(original) => {
                                    if seen_originals.insert(original) {
                                        boosts.push((e.id, original));
                                    }
                                }
                                None => ids.push(e.id),
                            }
                        }
                    }
                }
                if !boosts.is_empty() {
                    // One entry per original status, as the cache keeps it: a merged boost of
                    // something the page already shows (itself or boosted) is left out.
                    let shown: HashSet<Id> = self.status_records(&ids).await?.values().map(|r| r.reblog_of.unwrap_or(r.id)).collect();
                    ids.extend(boosts.into_iter().filter(|(_, original)| !shown.contains(original)).map(|(boost, _)| boost));
                }
                ids.sort_unstable_by(|a, b| b.cmp(a));
                ids.dedup();
                ids = window.select_from_newest_first(ids.into_iter());
            }
        }
        Ok(ids)
    }

    /// Everyone `viewer` follows (bounded), for reply filtering.
    async fn following_set(&self, viewer: Id) -> ApiResult<HashSet<Id>> {
        let items = self.store.query(&Query::partition(keys::following_partition(viewer), REBUILD_MAX_FOLLOWEES)).await?;
        items.iter().map(|i| model::decode::<Ref>(i).map(|r| r.id)).collect()
    }

    /// Scans an id-keyed partition through `window`, keeping items `keep` accepts, until the
    /// page is full or the partition ends. Returns ids newest first.
    async fn scan_ids(&self, partition: String, window: &Window, keep: impl Fn(&Item) -> ApiResult<bool>) -> ApiResult<Vec<Id>> {
        let mut out = Vec::new();
        let mut query = Query::window(partition, window);
        query.limit = window.limit.max(20);
        for _ in 0..MAX_SCAN_PAGES {
            let items = self.store.query(&query).await?;
            let exhausted = items.len() < query.limit;
            let Some(last) = items.last().map(|i| i.key.sk.clone()) else { break };
            for item in &items {
                if out.len() < window.limit && keep(item)? {
                    out.extend(Id::from_sort_key(&item.key.sk));
                }
            }
            if out.len() >= window.limit || exhausted {
                break;
            }
            if query.descending { query.before = Some(last) } else { query.after = Some(last) }
        }
        if window.oldest_first {
            out.reverse();
        }
        Ok(out)
    }
}

/// `GET /api/v1/timelines/home`.
pub async fn home(State(app): State<App>, auth: Auth, Params(page): Params<PageParams>, url: RequestUrl) -> ApiResult<Paged<wire::Status>> {
    let me = auth.user("read:statuses")?;
    let window = page.request(20, 40)?.window();
    let ids = app.home_ids(me, &window).await?;
    let statuses = app.statuses(Some(me), &ids).await?;
    Ok(Paged::new(&app, &url, statuses, &ids))
}

/// `GET /api/starling/v1/timelines/home/version`: a number that changes whenever the caller's
/// home timeline gains or loses entries; the edge validates its cached pages with it.
pub async fn home_version(State(app): State<App>, auth: Auth) -> ApiResult<axum::Json<serde_json::Value>> {
    let me = auth.user("read:statuses")?;
    // Build first, so the first read's rebuild does not move the version it is cached under.
    app.ensure_home(me).await?;
    let version = app.timelines.version(&home_key(me)).await?;
    Ok(axum::Json(serde_json::json!({ "version": version.to_string() })))
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
    let viewer = auth.viewer("read:statuses")?;
    let window = p.page.request(20, 40)?.window();
    if p.remote == Some(true) {
        return Ok(Paged::new(&app, &url, Vec::new(), &[]));
    }
    let ids = app.scan_ids(keys::PUBLIC.to_owned(), &window, media_filter(p.only_media == Some(true))).await?;
    let statuses = app.statuses(viewer, &ids).await?;
    Ok(Paged::new(&app, &url, statuses, &ids))
}

/// Keeps public/hashtag entries with media when `only_media`, everything otherwise.
fn media_filter(only_media: bool) -> impl Fn(&crate::ports::Item) -> ApiResult<bool> {
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
    let viewer = auth.viewer("read:statuses")?;
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
    let mut ids: Vec<Id> = Vec::new();
    for t in &tags {
        ids.extend(app.scan_ids(keys::tag_partition(t), &window, media_filter(only_media)).await?);
    }
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids.dedup();
    let mut ids = window.select_from_newest_first(ids.into_iter());
    if !all.is_empty() || !none.is_empty() {
        let records = app.status_records(&ids).await?;
        ids.retain(|id| records.get(id).is_some_and(|r| all.iter().all(|t| r.tags.contains(t)) && !none.iter().any(|t| r.tags.contains(t))));
    }
    let statuses = app.statuses(viewer, &ids).await?;
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
    let viewer = auth.viewer("read:statuses")?;
    let account = app.account_record(path_id(&id)?).await?;
    let window = p.page.request(20, 40)?.window();
    let owner = account.id;
    let ids = if p.pinned == Some(true) {
        app.scan_ids(format!("AP#{owner}"), &window, |_| Ok(true)).await?
    } else {
        let follows = match viewer {
            Some(v) if v != owner => app.follow_edge(v, owner).await?.is_some(),
            _ => false,
        };
        let reader = Viewer::new(viewer, if follows { Relations::following(HashSet::from([owner])) } else { Relations::default() });
        let (exclude_replies, exclude_reblogs, only_media) = (p.exclude_replies == Some(true), p.exclude_reblogs == Some(true), p.only_media == Some(true));
        app.scan_ids(keys::account_statuses_partition(owner), &window, |item| {
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
        let records = app.status_records(&ids).await?;
        ids.retain(|id| records.get(id).is_some_and(|r| r.tags.contains(&tag)));
    }
    let statuses = app.statuses(viewer, &ids).await?;
    Ok(Paged::new(&app, &url, statuses, &ids))
}

/// The homes `item` is pushed into (and streamed to): the policy's recipients, or only the
/// author's home for an account whose posts are pulled at read time (a celebrity).
pub async fn push_recipients(app: &App, item: &FeedItem<'_>) -> ApiResult<Vec<Id>> {
    let pulled = item.visibility != shared::wire::Visibility::Direct && app.celebrities().await?.contains(&item.author);
    feed::home_recipients(app, item, pulled).await
}
