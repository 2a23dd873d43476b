//! Search: the indexing consumer of the event log, the rebuild from the store, and the
//! Mastodon endpoints (`/api/v2/search`, `/api/v1/accounts/search`, `/api/v1/tags/:name`).
//!
//! The index is a derived view, like timelines: the consumer re-reads each changed status or
//! account from the store and writes (or removes) its document by id, so replays and
//! reordering converge on the store's state. Readers' visibility is filtered inside the query
//! (visibility, author and mentions are in the document) and checked again when hydrating.

use std::collections::{BTreeSet, HashMap, HashSet};

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use shared::id::Id;
use shared::wire;

use crate::auth::MaybeAuth;
use crate::error::{ApiError, ApiResult};
use crate::events::Event;
use crate::http::{Params, flag};
use crate::model::{self, AccountRecord, Ref, StatusRecord};
use crate::ports::{AccountDoc, AccountSearch, Query, SearchChange, SearchError, StatusDoc, StatusSearch};
use crate::{App, keys, now_ms};

/// Name of this consumer's checkpoint.
const CONSUMER: &str = "search";
/// Events handled per batch (one index commit each).
const BATCH: usize = 512;
/// Longest query accepted, in bytes.
const MAX_QUERY_BYTES: usize = 512;
/// Most accounts whose private statuses a reader's search considers (the ones they follow).
const MAX_FOLLOWED: usize = 10_000;
/// Days of history in a Tag entity.
const TAG_HISTORY_DAYS: u64 = 7;
/// Most tagged statuses read to count a tag's history.
const TAG_HISTORY_SCAN: usize = 5_000;

impl From<SearchError> for ApiError {
    fn from(e: SearchError) -> Self {
        ApiError::Unavailable(crate::ports::error_chain(&*e.0))
    }
}

/// The search routes.
pub fn routes() -> Router<App> {
    Router::new().route("/api/v2/search", get(search)).route("/api/v1/accounts/search", get(account_search)).route("/api/v1/tags/{name}", get(tag))
}

// The consumer.

/// The search indexing consumer: one index commit per batch.
pub struct Indexer;

#[async_trait::async_trait]
impl crate::consumer::Consumer for Indexer {
    const NAME: &'static str = CONSUMER;
    const BATCH: usize = BATCH;

    fn lock(app: &App) -> &tokio::sync::Mutex<()> {
        &app.search_lock
    }

    async fn handle(app: &App, batch: &[crate::ports::LoggedEvent]) -> ApiResult<()> {
        let mut statuses = BTreeSet::new();
        let mut accounts = BTreeSet::new();
        for logged in batch {
            match &logged.event {
                Event::StatusCreated { status, reblog_of: None, .. }
                | Event::StatusUpdated { status, .. }
                | Event::StatusDeleted { status, reblog_of: None, .. } => {
                    statuses.insert(*status);
                }
                Event::AccountCreated { account } | Event::AccountUpdated { account } => {
                    accounts.insert(*account);
                }
                _ => {}
            }
        }
        let statuses: Vec<Id> = statuses.into_iter().collect();
        let accounts: Vec<Id> = accounts.into_iter().collect();
        let mut changes = status_changes(app, &statuses).await?;
        changes.extend(account_changes(app, &accounts).await?);
        if !changes.is_empty() {
            app.search.apply(changes).await?;
        }
        Ok(())
    }
}

/// The document each status should have now: its current record, or none when it is gone.
async fn status_changes(app: &App, ids: &[Id]) -> ApiResult<Vec<SearchChange>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(100) {
        let records = app.status_records(chunk).await?;
        for id in chunk {
            out.push(match records.get(id) {
                Some(record) if record.reblog_of.is_none() => SearchChange::IndexStatus(status_doc(record)),
                _ => SearchChange::DeleteStatus(*id),
            });
        }
    }
    Ok(out)
}

async fn account_changes(app: &App, ids: &[Id]) -> ApiResult<Vec<SearchChange>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(100) {
        let records = app.account_records(chunk).await?;
        for id in chunk {
            out.push(match records.get(id) {
                Some(record) => SearchChange::IndexAccount(account_doc(record)),
                None => SearchChange::DeleteAccount(*id),
            });
        }
    }
    Ok(out)
}

fn status_doc(record: &StatusRecord) -> StatusDoc {
    let text = if record.spoiler_text.is_empty() { record.text.clone() } else { format!("{}\n{}", record.spoiler_text, record.text) };
    StatusDoc {
        id: record.id,
        author: record.account_id,
        visibility: record.visibility,
        mentions: record.mentions.iter().map(|m| m.id).collect(),
        text,
        tags: record.tags.clone(),
    }
}

fn account_doc(record: &AccountRecord) -> AccountDoc {
    AccountDoc { id: record.id, username: record.username.clone(), display_name: record.display_name.clone() }
}

/// Progress of a rebuild, reported after every page of accounts.
#[derive(Debug, Clone, Copy, Default)]
pub struct RebuildProgress {
    /// Accounts indexed so far.
    pub accounts: u64,
    /// Accounts the instance counts (for a progress bar).
    pub accounts_total: u64,
    /// Statuses indexed so far.
    pub statuses: u64,
}

impl App {
    /// Re-indexes every account (the `ACCTS` listing) and each one's statuses (their `AS#`
    /// partitions) from the store, then points the consumer's checkpoint at the log position
    /// read before the scan, so anything committed meanwhile is indexed again (idempotently).
    pub async fn rebuild_search(&self, mut progress: impl FnMut(RebuildProgress)) -> ApiResult<RebuildProgress> {
        const PAGE: usize = 500;
        let head = self.events.head().await?;
        self.search.clear().await?;
        let mut done =
            RebuildProgress { accounts_total: model::count(self.store.get(&keys::meta("n#accounts")).await?.as_ref()), ..RebuildProgress::default() };
        let mut query = Query::partition(keys::ACCOUNTS, PAGE);
        loop {
            let page = self.store.query(&query).await?;
            let Some(last) = page.last() else { break };
            query.after = Some(last.key.sk.clone());
            let ids: Vec<Id> = page.iter().map(|i| model::decode::<Ref>(i).map(|r| r.id)).collect::<ApiResult<_>>()?;
            let mut changes = account_changes(self, &ids).await?;
            for account in &ids {
                let mut statuses = Query::partition(keys::account_statuses_partition(*account), PAGE);
                loop {
                    let items = self.store.query(&statuses).await?;
                    let Some(last) = items.last() else { break };
                    statuses.after = Some(last.key.sk.clone());
                    let ids: Vec<Id> = items.iter().filter_map(|i| Id::from_sort_key(&i.key.sk)).collect();
                    let found = status_changes(self, &ids).await?;
                    let indexed = found.into_iter().filter(|c| matches!(c, SearchChange::IndexStatus(_)));
                    for change in indexed {
                        changes.push(change);
                        done.statuses += 1;
                    }
                    if changes.len() >= 5_000 {
                        self.search.apply(std::mem::take(&mut changes)).await?;
                    }
                    if items.len() < PAGE {
                        break;
                    }
                }
            }
            self.search.apply(changes).await?;
            done.accounts += ids.len() as u64;
            progress(done);
            if page.len() < PAGE {
                break;
            }
        }
        self.events.save_checkpoint(CONSUMER, head).await?;
        Ok(done)
    }
}

// The endpoints.

/// Query of `GET /api/v2/search`.
#[derive(Deserialize, Default)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "flag")]
    following: Option<bool>,
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default)]
    max_id: Option<String>,
    #[serde(default)]
    min_id: Option<String>,
    #[serde(default)]
    limit: Option<String>,
    #[serde(default)]
    offset: Option<String>,
    // Accepted and ignored: there is no federation to resolve against, and every hashtag is
    // reviewed.
    #[serde(default, rename = "resolve")]
    _resolve: Option<String>,
    #[serde(default, rename = "exclude_unreviewed")]
    _exclude_unreviewed: Option<String>,
}

/// What to search for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Accounts,
    Hashtags,
    Statuses,
}

/// Parses a bounded non-negative number parameter.
fn number(raw: Option<&str>, name: &str, default: usize, max: usize) -> ApiResult<usize> {
    match raw.map(str::trim) {
        None | Some("") => Ok(default),
        Some(s) => {
            let n: usize = s.parse().map_err(|_| ApiError::BadRequest(format!("Invalid {name}")))?;
            Ok(n.min(max))
        }
    }
}

fn optional_id(raw: Option<&str>, name: &str) -> ApiResult<Option<Id>> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| ApiError::BadRequest(format!("Invalid {name}"))),
    }
}

/// The query text, trimmed; too long is refused.
fn query_text(q: &str) -> ApiResult<&str> {
    let q = q.trim();
    if q.len() > MAX_QUERY_BYTES {
        return Err(ApiError::invalid(format!("Search query is too long (maximum is {MAX_QUERY_BYTES} bytes)")));
    }
    Ok(q)
}

/// Largest offset accepted (deeper pages are not useful and cost the index).
const MAX_OFFSET: usize = 10_000;

/// `GET /api/v2/search`.
async fn search(State(app): State<App>, auth: MaybeAuth, Params(p): Params<SearchParams>) -> ApiResult<Json<wire::Search>> {
    let viewer = auth.viewer("read:search")?;
    let kinds: Vec<Kind> = match p.kind.as_deref().map(str::trim) {
        None | Some("") => vec![Kind::Accounts, Kind::Hashtags, Kind::Statuses],
        Some("accounts") => vec![Kind::Accounts],
        Some("hashtags") => vec![Kind::Hashtags],
        Some("statuses") => vec![Kind::Statuses],
        Some(_) => return Err(ApiError::invalid("Invalid search type: use accounts, hashtags or statuses")),
    };
    let limit = number(p.limit.as_deref(), "limit", 20, 40)?.max(1);
    let offset = number(p.offset.as_deref(), "offset", 0, MAX_OFFSET)?;
    let account_id = optional_id(p.account_id.as_deref(), "account_id")?;
    let max_id = optional_id(p.max_id.as_deref(), "max_id")?;
    let min_id = optional_id(p.min_id.as_deref(), "min_id")?;
    if offset > 0 && viewer.is_none() {
        // As Mastodon: paging through search results needs a signed-in user.
        return Err(ApiError::Unauthorized);
    }
    let q = query_text(&p.q)?;
    let mut out = wire::Search { accounts: Vec::new(), statuses: Vec::new(), hashtags: Vec::new() };
    if q.is_empty() {
        return Ok(Json(out));
    }
    let following = p.following == Some(true);
    if kinds.contains(&Kind::Accounts) {
        out.accounts = app.search_accounts(viewer, q, following, offset, limit).await?;
    }
    if kinds.contains(&Kind::Hashtags) {
        out.hashtags = app.search_hashtags(q, offset, limit).await?;
    }
    if kinds.contains(&Kind::Statuses)
        && let Some(reader) = viewer
    {
        let followed = app.followed_accounts(reader).await?;
        let query = StatusSearch { text: q.to_owned(), reader, followed, author: account_id, max_id, min_id, offset, limit };
        let ids = app.search.statuses(&query).await?;
        out.statuses = app.statuses(Some(reader), &ids).await?;
    }
    Ok(Json(out))
}

/// Query of `GET /api/v1/accounts/search`.
#[derive(Deserialize, Default)]
pub struct AccountSearchParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    limit: Option<String>,
    #[serde(default)]
    offset: Option<String>,
    #[serde(default, deserialize_with = "flag")]
    following: Option<bool>,
    #[serde(default, rename = "resolve")]
    _resolve: Option<String>,
}

/// `GET /api/v1/accounts/search`.
async fn account_search(State(app): State<App>, auth: MaybeAuth, Params(p): Params<AccountSearchParams>) -> ApiResult<Json<Vec<wire::Account>>> {
    let viewer = auth.viewer("read:accounts")?;
    let limit = number(p.limit.as_deref(), "limit", 40, 80)?.max(1);
    let offset = number(p.offset.as_deref(), "offset", 0, MAX_OFFSET)?;
    let q = query_text(&p.q)?;
    if q.is_empty() {
        return Ok(Json(Vec::new()));
    }
    app.search_accounts(viewer, q, p.following == Some(true), offset, limit).await.map(Json)
}

/// `GET /api/v1/tags/:name`.
async fn tag(State(app): State<App>, auth: MaybeAuth, Path(name): Path<String>) -> ApiResult<Json<wire::Tag>> {
    auth.viewer("read:statuses")?;
    let name = name.trim_start_matches('#');
    if !shared::text::is_valid_hashtag(name) {
        return Err(ApiError::NotFound);
    }
    let normalized = shared::text::normalize_hashtag(name);
    let history = app.tag_history(&normalized).await?;
    let used = history.iter().any(|h| h.uses != "0") || !app.store.query(&Query::partition(keys::tag_partition(&normalized), 1)).await?.is_empty();
    let known = used || app.search.hashtags(&normalized, 0, 1).await?.first().is_some_and(|t| t.name == normalized);
    if !known {
        return Err(ApiError::NotFound);
    }
    let mut entity = app.tag_entity(&normalized, history);
    entity.following = Some(false);
    Ok(Json(entity))
}

impl App {
    /// Accounts the reader follows (for private statuses and the `following` filter).
    async fn followed_accounts(&self, reader: Id) -> ApiResult<Vec<Id>> {
        let items = self.store.query(&Query::partition(keys::following_partition(reader), MAX_FOLLOWED)).await?;
        items.iter().map(|i| model::decode::<Ref>(i).map(|r| r.id)).collect()
    }

    async fn search_accounts(&self, viewer: Option<Id>, q: &str, following: bool, offset: usize, limit: usize) -> ApiResult<Vec<wire::Account>> {
        let Some(text) = local_account_query(q, &self.config.instance.domain) else { return Ok(Vec::new()) };
        let among = match (following, viewer) {
            (false, _) => None,
            (true, Some(reader)) => Some(self.followed_accounts(reader).await?),
            (true, None) => return Err(ApiError::Unauthorized),
        };
        let ids = self.search.accounts(&AccountSearch { text, among, offset, limit }).await?;
        self.account_list(&ids).await
    }

    async fn search_hashtags(&self, q: &str, offset: usize, limit: usize) -> ApiResult<Vec<wire::Tag>> {
        let name = q.trim_start_matches('#');
        if !shared::text::is_valid_hashtag(name) {
            return Ok(Vec::new());
        }
        let hits = self.search.hashtags(&shared::text::normalize_hashtag(name), offset, limit).await?;
        Ok(hits.into_iter().map(|hit| self.tag_entity(&hit.name, Vec::new())).collect())
    }

    fn tag_entity(&self, name: &str, history: Vec<wire::TagHistory>) -> wire::Tag {
        wire::Tag {
            id: tag_id(name).to_string(),
            name: name.to_owned(),
            url: format!("{}/tags/{name}", self.config.instance.base_url),
            history,
            following: None,
        }
    }

    /// Daily uses and distinct accounts of a tag over the last week, newest day first, from
    /// its public timeline partition (ids carry their time, so the scan starts a week back).
    async fn tag_history(&self, tag: &str) -> ApiResult<Vec<wire::TagHistory>> {
        const DAY_MS: u64 = 86_400_000;
        let today = now_ms() / DAY_MS * DAY_MS;
        let since = today.saturating_sub((TAG_HISTORY_DAYS - 1) * DAY_MS);
        let query = Query { after: Some(Id::floor_of_millis(since).sort_key()), ..Query::partition(keys::tag_partition(tag), TAG_HISTORY_SCAN) };
        let mut days: HashMap<u64, (u64, HashSet<Id>)> = HashMap::new();
        for item in self.store.query(&query).await? {
            let Some(id) = Id::from_sort_key(&item.key.sk) else { continue };
            let day = id.timestamp_millis() / DAY_MS * DAY_MS;
            let entry = days.entry(day).or_default();
            entry.0 += 1;
            entry.1.insert(model::decode::<Ref>(&item)?.id);
        }
        Ok((0..TAG_HISTORY_DAYS)
            .map(|back| {
                let day = today - back * DAY_MS;
                let (uses, accounts) = days.get(&day).map_or((0, 0), |(n, a)| (*n, a.len()));
                wire::TagHistory { day: (day / 1000).to_string(), uses: uses.to_string(), accounts: accounts.to_string() }
            })
            .collect())
    }
}

/// The local part of an account query: `@alice`, `alice@this.domain` → `alice`; a remote
/// domain finds nothing (no federation).
fn local_account_query(q: &str, domain: &str) -> Option<String> {
    let q = q.trim().trim_start_matches('@');
    match q.split_once('@') {
        Some((user, host)) if host.eq_ignore_ascii_case(domain) => Some(user.to_owned()),
        Some(_) => None,
        None => Some(q.to_owned()),
    }
}

/// A stable numeric id for a tag name (FNV-1a, 63 bits), as Mastodon clients expect digits.
fn tag_id(name: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash >> 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_queries_keep_only_local_names() {
        assert_eq!(local_account_query("@alice", "example.org").as_deref(), Some("alice"));
        assert_eq!(local_account_query("alice@EXAMPLE.org", "example.org").as_deref(), Some("alice"));
        assert_eq!(local_account_query("alice@elsewhere.net", "example.org"), None);
        assert_eq!(local_account_query("Alice Smith", "example.org").as_deref(), Some("Alice Smith"));
    }

    #[test]
    fn tag_ids_are_stable_and_distinct() {
        assert_eq!(tag_id("rust"), tag_id("rust"));
        assert_ne!(tag_id("rust"), tag_id("rusty"));
        assert!(tag_id("rust") < 1 << 63);
    }
}
