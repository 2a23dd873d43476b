//! The followed- and featured-tag use cases.

use std::collections::HashSet;

use shared::id::Id;
use shared::page::Window;
use shared::wire;

use super::writes::{self, TagConflict};
use crate::error::{ApiError, ApiResult};
use crate::model::{self, AccountStatusEntry, TagFollowRecord, TagName};
use crate::ports::Query;
use crate::transaction::RACE_RETRIES;
use crate::{App, keys};

/// Most hashtags one account features (Mastodon's limit).
pub const MAX_FEATURED_TAGS: usize = 10;
/// Most suggestions of tags to feature.
const MAX_SUGGESTIONS: usize = 10;
/// The author's newest statuses read for suggestions.
const SUGGESTION_SCAN: usize = 40;

/// A hashtag named in a path or a body: `#` dropped, validated and normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hashtag(String);

impl Hashtag {
    /// Parses `raw`, or `None` when it is no valid hashtag.
    pub fn parse(raw: &str) -> Option<Self> {
        let name = raw.trim().trim_start_matches('#');
        shared::text::is_valid_hashtag(name).then(|| Hashtag(shared::text::normalize_hashtag(name)))
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether an account follows and features a tag (the Tag entity's `following`, `featuring`).
#[derive(Debug, Clone, Copy, Default)]
pub struct TagRelation {
    pub following: bool,
    pub featuring: bool,
}

/// `account`'s relation to `tag`.
pub async fn relation(app: &App, account: Id, tag: &Hashtag) -> ApiResult<TagRelation> {
    let items = app.store.get_many(&[keys::tag_follow_edge(account, tag.as_str()), keys::tag_feature_edge(account, tag.as_str())]).await?;
    Ok(TagRelation { following: items[0].is_some(), featuring: items[1].is_some() })
}

/// `account`'s follow of `tag`, if any.
async fn tag_follow(app: &App, account: Id, tag: &Hashtag) -> ApiResult<Option<TagFollowRecord>> {
    app.store.get(&keys::tag_follow_edge(account, tag.as_str())).await?.map(|item| model::decode(&item)).transpose()
}

/// `account`'s featuring of `tag`, if any.
async fn tag_feature(app: &App, account: Id, tag: &Hashtag) -> ApiResult<Option<TagFollowRecord>> {
    app.store.get(&keys::tag_feature_edge(account, tag.as_str())).await?.map(|item| model::decode(&item)).transpose()
}

/// Makes `account` follow `tag` (idempotent, as Mastodon since 4.1).
pub async fn follow(app: &App, account: Id, tag: &Hashtag) -> ApiResult<()> {
    for _ in 0..RACE_RETRIES {
        if tag_follow(app, account, tag).await?.is_some() {
            return Ok(());
        }
        match writes::follow(app, account, tag.as_str(), &TagFollowRecord { id: app.next_id()? }).await? {
            Ok(()) => return Ok(()),
            Err(TagConflict::Changed) => continue,
        }
    }
    Err(ApiError::Conflict("The tag follow kept changing; try again".into()))
}

/// Makes `account` stop following `tag` (idempotent).
pub async fn unfollow(app: &App, account: Id, tag: &Hashtag) -> ApiResult<()> {
    for _ in 0..RACE_RETRIES {
        let Some(follow) = tag_follow(app, account, tag).await? else { return Ok(()) };
        match writes::unfollow(app, account, tag.as_str(), &follow).await? {
            Ok(()) => return app.unmerge_tag(account, tag.as_str()).await,
            Err(TagConflict::Changed) => continue,
        }
    }
    Ok(())
}

/// A page of the tags `account` follows: (follow ids as cursors, names), newest first.
pub async fn followed_page(app: &App, account: Id, window: &Window) -> ApiResult<(Vec<Id>, Vec<String>)> {
    let items = app.store.query(&Query::window(keys::followed_tags_partition(account), window)).await?;
    crate::scan::window_entries(items, window, |item| Ok(model::decode::<TagName>(item)?.name))
}

/// Features `tag` on `account`'s profile (idempotent); at most [`MAX_FEATURED_TAGS`].
pub async fn feature(app: &App, account: Id, tag: &Hashtag) -> ApiResult<Id> {
    for _ in 0..RACE_RETRIES {
        if let Some(featured) = tag_feature(app, account, tag).await? {
            return Ok(featured.id);
        }
        let listed = app.store.query(&Query::partition(keys::featured_tags_partition(account), MAX_FEATURED_TAGS)).await?;
        if listed.len() >= MAX_FEATURED_TAGS {
            return Err(ApiError::Unprocessable(format!("Validation failed: You cannot feature more than {MAX_FEATURED_TAGS} hashtags")));
        }
        let featured = TagFollowRecord { id: app.next_id()? };
        match writes::feature(app, account, tag.as_str(), &featured).await? {
            Ok(()) => return Ok(featured.id),
            Err(TagConflict::Changed) => continue,
        }
    }
    Err(ApiError::Conflict("The featured tag kept changing; try again".into()))
}

/// Stops featuring `tag` (idempotent).
pub async fn unfeature(app: &App, account: Id, tag: &Hashtag) -> ApiResult<()> {
    for _ in 0..RACE_RETRIES {
        let Some(featured) = tag_feature(app, account, tag).await? else { return Ok(()) };
        match writes::unfeature(app, account, tag.as_str(), &featured).await? {
            Ok(()) => return Ok(()),
            Err(TagConflict::Changed) => continue,
        }
    }
    Ok(())
}

/// Deletes `account`'s featured tag `id`; 404 when it has none such.
pub async fn unfeature_by_id(app: &App, account: Id, id: Id) -> ApiResult<()> {
    let item = app.store.get(&keys::featured_tag_listing(account, id)).await?.ok_or(ApiError::NotFound)?;
    let name = model::decode::<TagName>(&item)?.name;
    unfeature(app, account, &Hashtag(name)).await
}

/// The tags `account` features, as entities: most used first.
pub async fn featured_tags(app: &App, account: Id) -> ApiResult<Vec<wire::FeaturedTag>> {
    let items = app.store.query(&Query::partition(keys::featured_tags_partition(account), MAX_FEATURED_TAGS * 2)).await?;
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let mut listed = Vec::with_capacity(items.len());
    for item in &items {
        let id = Id::from_sort_key(&item.key.sk).ok_or_else(|| ApiError::internal("bad featured tag sort key"))?;
        listed.push((id, model::decode::<TagName>(item)?.name));
    }
    let stat_keys: Vec<_> = listed.iter().flat_map(|(_, name)| [keys::account_tag_count(account, name), keys::account_tag_last(account, name)]).collect();
    let stats = app.store.get_many(&stat_keys).await?;
    let username = app.account_record(account).await?.username;
    let base = &app.config.instance.base_url;
    let mut out = Vec::with_capacity(listed.len());
    for ((id, name), stat) in listed.into_iter().zip(stats.chunks(2)) {
        let count = model::count(stat[0].as_ref());
        let last = stat[1].as_ref().map(model::decode::<u64>).transpose()?.filter(|_| count > 0);
        out.push((
            count,
            wire::FeaturedTag {
                id: id.to_string(),
                url: format!("{base}/@{username}/tagged/{name}"),
                name,
                statuses_count: count.to_string(),
                last_status_at: last.map(wire::date),
            },
        ));
    }
    out.sort_by(|(a, x), (b, y)| b.cmp(a).then_with(|| x.name.cmp(&y.name)));
    Ok(out.into_iter().map(|(_, t)| t).collect())
}

/// Tags `account` used lately and does not feature yet (newest use first).
pub async fn suggestions(app: &App, account: Id) -> ApiResult<Vec<String>> {
    let entries = app.store.query(&Query { descending: true, ..Query::partition(keys::account_statuses_partition(account), SUGGESTION_SCAN) }).await?;
    let mut ids = Vec::with_capacity(entries.len());
    for item in &entries {
        let entry: AccountStatusEntry = model::decode(item)?;
        if entry.reblog_of.is_none()
            && let Some(id) = Id::from_sort_key(&item.key.sk)
        {
            ids.push(id);
        }
    }
    let records = app.status_records(&ids).await?;
    let featured = featured_names(app, account).await?;
    let mut out: Vec<String> = Vec::new();
    for id in &ids {
        let Some(record) = records.get(id) else { continue };
        for tag in &record.tags {
            if out.len() < MAX_SUGGESTIONS && !featured.contains(tag) && !out.contains(tag) {
                out.push(tag.clone());
            }
        }
    }
    Ok(out)
}

/// The names of the tags `account` features.
pub async fn featured_names(app: &App, account: Id) -> ApiResult<HashSet<String>> {
    app.store
        .query(&Query::partition(keys::featured_tags_partition(account), MAX_FEATURED_TAGS * 2))
        .await?
        .iter()
        .map(|i| model::decode::<TagName>(i).map(|t| t.name))
        .collect()
}
