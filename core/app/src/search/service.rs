//! The use cases and the reads they share; no HTTP type reaches here.

use std::collections::{HashMap, HashSet};

use shared::id::Id;
use shared::wire;

use crate::error::{ApiError, ApiResult};
use crate::model::{self, Ref};
use crate::ports::{AccountSearch, Query, SearchError};
use crate::{App, keys, now_ms};

/// Most accounts whose private statuses a reader's search considers (the ones they follow).
pub(crate) const MAX_FOLLOWED: usize = 10_000;
/// Days of history in a Tag entity.
pub(crate) const TAG_HISTORY_DAYS: u64 = 7;
/// Most tagged statuses read to count a tag's history.
pub(crate) const TAG_HISTORY_SCAN: usize = 5_000;

impl From<SearchError> for ApiError {
    fn from(e: SearchError) -> Self {
        ApiError::Unavailable(crate::ports::error_chain(&*e.0))
    }
}

impl App {
    /// Accounts the reader follows (for private statuses and the `following` filter).
    pub(crate) async fn followed_accounts(&self, reader: Id) -> ApiResult<Vec<Id>> {
        let items = self.store.query(&Query::partition(keys::following_partition(reader), MAX_FOLLOWED)).await?;
        items.iter().map(|i| model::decode::<Ref>(i).map(|r| r.id)).collect()
    }

    pub(crate) async fn search_accounts(&self, viewer: Option<Id>, q: &str, following: bool, offset: usize, limit: usize) -> ApiResult<Vec<wire::Account>> {
        let Some(text) = local_account_query(q, &self.config.instance.domain) else { return Ok(Vec::new()) };
        let among = match (following, viewer) {
            (false, _) => None,
            (true, Some(reader)) => Some(self.followed_accounts(reader).await?),
            (true, None) => return Err(ApiError::Unauthorized),
        };
        let ids = self.search.accounts(&AccountSearch { text, among, offset, limit }).await?;
        self.account_list(&ids).await
    }

    pub(crate) async fn search_hashtags(&self, q: &str, offset: usize, limit: usize) -> ApiResult<Vec<wire::Tag>> {
        let name = q.trim_start_matches('#');
        if !shared::text::is_valid_hashtag(name) {
            return Ok(Vec::new());
        }
        let hits = self.search.hashtags(&shared::text::normalize_hashtag(name), offset, limit).await?;
        Ok(hits.into_iter().map(|hit| self.tag_entity(&hit.name, Vec::new())).collect())
    }

    pub(crate) fn tag_entity(&self, name: &str, history: Vec<wire::TagHistory>) -> wire::Tag {
        wire::Tag {
            id: tag_id(name).to_string(),
            name: name.to_owned(),
            url: format!("{}/tags/{name}", self.config.instance.base_url),
            history,
            following: None,
            featuring: None,
        }
    }

    /// Whether any public status ever carried `tag` (and is still listed under it).
    pub(crate) async fn tag_used(&self, tag: &str) -> ApiResult<bool> {
        let queries: Vec<Query> = keys::tag_partitions(tag, self.config.shards.tags).into_iter().map(|pk| Query::partition(pk, 1)).collect();
        let shards = futures_util::future::try_join_all(queries.iter().map(|q| self.store.query(q))).await?;
        Ok(shards.iter().any(|items| !items.is_empty()))
    }

    /// Daily uses and distinct accounts of a tag over the last week, newest day first, from
    /// its public timeline partition (ids carry their time, so the scan starts a week back).
    pub(crate) async fn tag_history(&self, tag: &str) -> ApiResult<Vec<wire::TagHistory>> {
        const DAY_MS: u64 = 86_400_000;
        let today = now_ms() / DAY_MS * DAY_MS;
        let since = today.saturating_sub((TAG_HISTORY_DAYS - 1) * DAY_MS);
        let partitions = keys::tag_partitions(tag, self.config.shards.tags);
        let per_shard = TAG_HISTORY_SCAN.div_ceil(partitions.len());
        let queries: Vec<Query> =
            partitions.into_iter().map(|pk| Query { after: Some(Id::floor_of_millis(since).sort_key()), ..Query::partition(pk, per_shard) }).collect();
        let shards = futures_util::future::try_join_all(queries.iter().map(|q| self.store.query(q))).await?;
        let mut days: HashMap<u64, (u64, HashSet<Id>)> = HashMap::new();
        for item in shards.into_iter().flatten() {
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
pub(crate) fn local_account_query(q: &str, domain: &str) -> Option<String> {
    let q = q.trim().trim_start_matches('@');
    match q.split_once('@') {
        Some((user, host)) if host.eq_ignore_ascii_case(domain) => Some(user.to_owned()),
        Some(_) => None,
        None => Some(q.to_owned()),
    }
}

/// A stable numeric id for a tag name (FNV-1a, 63 bits), as Mastodon clients expect digits.
pub(crate) fn tag_id(name: &str) -> u64 {
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
