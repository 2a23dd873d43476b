//! What each public page shows, read as an anonymous reader would through the API.

use shared::id::Id;
use shared::page::Window;
use shared::wire;

use crate::error::{ApiError, ApiResult};
use crate::model::{self, AccountStatusEntry};
use crate::policy::{Relations, Viewer, visibility};
use crate::{App, keys, statuses};

/// Statuses per page.
pub const PAGE: usize = 20;

/// Why a page has nothing to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Never existed, or not for an anonymous reader: 404.
    NotFound,
    /// Existed and was taken down (a suspended account): 410.
    Gone,
}

/// A page's content, or why there is none.
pub type PageResult<T> = Result<Result<T, Missing>, ApiError>;

/// The newest-first window of a page: `max_id` when paging back.
pub fn window(max_id: Option<Id>) -> Window {
    Window { after: None, before: max_id, oldest_first: false, limit: PAGE }
}

/// The landing page: the newest public statuses.
pub async fn recent_public(app: &App) -> ApiResult<Vec<wire::Status>> {
    let ids = app.scan_ids(keys::public_partitions(app.config.shards.public), &window(None), |_| Ok(true)).await?;
    app.feed_statuses(None, &ids, wire::FilterContext::Public).await
}

/// A profile: the account, its pinned statuses (first page only) and a page of its statuses
/// an anonymous reader may see.
pub struct Profile {
    pub account: wire::Account,
    pub pinned: Vec<wire::Status>,
    /// Its featured hashtags (first page only).
    pub featured_tags: Vec<wire::FeaturedTag>,
    pub statuses: Vec<wire::Status>,
    /// The cursor of the next (older) page, when this one was full.
    pub older: Option<Id>,
}

/// The account named `username`, unless missing (404) or suspended (410).
async fn account_named(app: &App, username: &str) -> PageResult<wire::Account> {
    let Some(id) = app.account_id_by_username(username).await? else { return Ok(Err(Missing::NotFound)) };
    if app.moderation(id).await?.suspended_at.is_some() {
        return Ok(Err(Missing::Gone));
    }
    match app.account(id).await {
        Ok(account) => Ok(Ok(account)),
        Err(ApiError::NotFound) => Ok(Err(Missing::NotFound)),
        Err(e) => Err(e),
    }
}

/// The profile of `username`, statuses before `max_id`.
pub async fn profile(app: &App, username: &str, max_id: Option<Id>) -> PageResult<Profile> {
    let account = match account_named(app, username).await? {
        Ok(account) => account,
        Err(missing) => return Ok(Err(missing)),
    };
    let owner = account.id;
    let pinned = if max_id.is_none() {
        let ids = app.scan_ids(vec![keys::pinned_partition(owner)], &window(None), |_| Ok(true)).await?;
        app.statuses(None, &ids).await?
    } else {
        Vec::new()
    };
    let featured_tags = if max_id.is_none() { crate::tags::service::featured_tags(app, owner).await? } else { Vec::new() };
    let reader = Viewer::new(None, Relations::default());
    let ids = app
        .scan_ids(vec![keys::account_statuses_partition(owner)], &window(max_id), |item| {
            let e: AccountStatusEntry = model::decode(item)?;
            Ok(visibility::listed_on_profile(&reader, owner, &e))
        })
        .await?;
    let older = (ids.len() == PAGE).then(|| ids.last().copied()).flatten();
    let statuses = app.statuses(None, &ids).await?;
    Ok(Ok(Profile { account, pinned, featured_tags, statuses, older }))
}

/// A status page: the status and the parts of its thread an anonymous reader may see.
pub struct Thread {
    pub ancestors: Vec<wire::Status>,
    pub status: wire::Status,
    pub descendants: Vec<wire::Status>,
}

/// The status `id` of `username` with its thread; 404 unless it is theirs and public to read.
pub async fn thread(app: &App, username: &str, id: Id) -> PageResult<Thread> {
    let account = match account_named(app, username).await? {
        Ok(account) => account,
        Err(missing) => return Ok(Err(missing)),
    };
    let status = match app.status(None, id).await {
        Ok(status) if status.account.id == account.id && status.reblog.is_none() => status,
        Ok(_) | Err(ApiError::NotFound) => return Ok(Err(Missing::NotFound)),
        Err(e) => return Err(e),
    };
    let record = app.status_record(id).await?;
    let (ancestors, descendants) = statuses::service::thread(app, &record).await?;
    Ok(Ok(Thread { ancestors: app.statuses(None, &ancestors).await?, status, descendants: app.statuses(None, &descendants).await? }))
}

/// A tag page: public statuses with `tag`, before `max_id`; 404 for a name that is no tag.
pub async fn tagged(app: &App, tag: &str, max_id: Option<Id>) -> PageResult<(String, Vec<wire::Status>, Option<Id>)> {
    if !shared::text::is_valid_hashtag(tag) {
        return Ok(Err(Missing::NotFound));
    }
    let name = shared::text::normalize_hashtag(tag);
    let ids = app.scan_ids(keys::tag_partitions(&name, app.config.shards.tags), &window(max_id), |_| Ok(true)).await?;
    let older = (ids.len() == PAGE).then(|| ids.last().copied()).flatten();
    let statuses = app.feed_statuses(None, &ids, wire::FilterContext::Public).await?;
    Ok(Ok((name, statuses, older)))
}
