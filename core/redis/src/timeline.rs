//! Home timelines in Redis.
//!
//! Per timeline `T`, four keys sharing the hash tag `{T}` (one cluster slot):
//!
//! | key | type | holds |
//! |---|---|---|
//! | `tl:{T}:e` | sorted set | entries: member = the entry id as 16-digit hex, score 0 |
//! | `tl:{T}:b` | hash | boost entry id → original status id |
//! | `tl:{T}:o` | hash | original status id → the boost of it shown |
//! | `tl:{T}:v` | string | the version; its existence marks the timeline as built |
//!
//! Why lexicographic members instead of scores: ids are 64-bit and a score is an f64 with a
//! 53-bit mantissa, so two statuses of the same millisecond could share a score and pages
//! would cut between them. All members have score 0, so the set is ordered by member bytes,
//! and fixed-width lowercase hex sorts exactly like the numbers: `ZRANGE … BYLEX` pages by
//! id with exclusive bounds, and `ZREMRANGEBYRANK` trims the oldest.
//!
//! Adding and removing run as Lua scripts so the one-entry-per-original check and the write
//! are atomic. A fresh timeline's version is seeded from the clock (microseconds), so a
//! timeline rebuilt after a wipe never repeats a version the edge may have cached a page under.

use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use core_ports::ports::{CacheError, TimelineCache, TimelineEntry};
use fred::prelude::{ClientLike as _, KeysInterface as _, SortedSetsInterface as _};
use fred::types::sorted_sets::{ZRange, ZRangeBound, ZRangeKind, ZSort};
use fred::types::{ClusterHash, CustomCommand};
use shared::id::Id;
use shared::page::Window;

use crate::{Redis, failed};

/// Home timelines in Redis (single node or cluster).
#[derive(Clone)]
pub struct RedisTimelineCache {
    redis: Redis,
}

/// The keys of one timeline, in the order the scripts take them.
fn keys(timeline: &str) -> Vec<String> {
    ["e", "b", "o", "v"].iter().map(|part| format!("tl:{{{timeline}}}:{part}")).collect()
}

fn entries_key(timeline: &str) -> String {
    format!("tl:{{{timeline}}}:e")
}

fn version_key(timeline: &str) -> String {
    format!("tl:{{{timeline}}}:v")
}

fn seed() -> String {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(1, |d| d.as_micros().max(1)).to_string()
}

/// Script arguments for adding `entries` (sorted oldest first, so of two boosts of one
/// status the earlier is kept).
fn add_args(only_if_built: bool, cap: usize, entries: &[TimelineEntry]) -> Vec<String> {
    let mut sorted = entries.to_vec();
    sorted.sort_by_key(|e| e.id);
    let mut args = Vec::with_capacity(3 + 2 * sorted.len());
    args.extend([if only_if_built { "1" } else { "0" }.to_owned(), cap.to_string(), seed()]);
    for entry in sorted {
        args.push(entry.id.sort_key());
        args.push(entry.reblog_of.map(Id::sort_key).unwrap_or_default());
    }
    args
}

impl RedisTimelineCache {
    /// Timelines on `redis`.
    pub fn new(redis: Redis) -> Self {
        RedisTimelineCache { redis }
    }

    /// Runs one script per timeline in a pipeline (each call stays inside its timeline's slot),
    /// retrying once after reloading the scripts if the server lost them.
    async fn per_timeline(&self, script: &fred::types::scripts::Script, timelines: &[String], args: &[String]) -> Result<Vec<i64>, CacheError> {
        for attempt in 0..2 {
            let pipeline = self.redis.client.pipeline();
            for timeline in timelines {
                // EVALSHA sha numkeys key…: routed by the first key (offset 2), whose slot the
                // timeline's other keys share.
                let cmd = CustomCommand::new_static("EVALSHA", ClusterHash::Offset(2), false);
                let mut call: Vec<String> = Vec::with_capacity(6 + args.len());
                call.push(script.sha1().to_string());
                call.push("4".to_owned());
                call.extend(keys(timeline));
                call.extend_from_slice(args);
                pipeline.custom::<(), _>(cmd, call).await.map_err(|e| failed("pipeline", &e))?;
            }
            let results = pipeline.try_all::<i64>().await;
            if attempt == 0 && results.iter().any(|r| r.as_ref().is_err_and(Redis::is_noscript)) {
                tracing::warn!("redis lost its scripts; reloading");
                self.redis.load_scripts().await?;
                continue;
            }
            return results.into_iter().map(|r| r.map_err(|e| failed("timeline script", &e))).collect();
        }
        Err(CacheError("redis keeps losing its scripts".into()))
    }
}

#[async_trait]
impl TimelineCache for RedisTimelineCache {
    async fn exists(&self, timeline: &str) -> Result<bool, CacheError> {
        let n: i64 = self.redis.guarded("exists", async { self.redis.client.exists(version_key(timeline)).await.map_err(|e| failed("exists", &e)) }).await?;
        Ok(n > 0)
    }

    async fn create(&self, timeline: &str) -> Result<(), CacheError> {
        let create = self.redis.client.set::<(), _, _>(version_key(timeline), seed(), None, Some(fred::types::SetOptions::NX), false);
        self.redis.guarded("create", async { create.await.map_err(|e| failed("create", &e)) }).await
    }

    async fn insert(&self, timeline: &str, entries: &[TimelineEntry], cap: usize) -> Result<usize, CacheError> {
        let insert = self.redis.eval(&self.redis.scripts.add, keys(timeline), add_args(false, cap, entries));
        let added: i64 = self.redis.guarded("insert", async { insert.await.map_err(|e| failed("insert", &e)) }).await?;
        Ok(usize::try_from(added).unwrap_or(0))
    }

    async fn fan_out(&self, timelines: &[String], entry: TimelineEntry, cap: usize) -> Result<usize, CacheError> {
        if timelines.is_empty() {
            return Ok(0);
        }
        let args = add_args(true, cap, &[entry]);
        let results = self.redis.guarded("fanout", self.per_timeline(&self.redis.scripts.add, timelines, &args)).await?;
        Ok(results.iter().filter(|added| **added >= 0).count())
    }

    async fn remove(&self, timeline: &str, ids: &[Id]) -> Result<(), CacheError> {
        if ids.is_empty() {
            return Ok(());
        }
        let args = ids.iter().map(|id| id.sort_key()).collect();
        let remove = self.redis.eval::<i64>(&self.redis.scripts.remove, keys(timeline), args);
        self.redis.guarded("remove", async { remove.await.map_err(|e| failed("remove", &e)) }).await?;
        Ok(())
    }

    async fn remove_from_all(&self, timelines: &[String], ids: &[Id]) -> Result<(), CacheError> {
        if timelines.is_empty() || ids.is_empty() {
            return Ok(());
        }
        let args: Vec<String> = ids.iter().map(|id| id.sort_key()).collect();
        self.redis.guarded("remove from all", self.per_timeline(&self.redis.scripts.remove, timelines, &args)).await?;
        Ok(())
    }

    async fn range(&self, timeline: &str, window: &Window) -> Result<Vec<Id>, CacheError> {
        let bound = |id: Option<Id>, open: ZRangeBound| match id {
            Some(id) => ZRange { kind: ZRangeKind::Exclusive, range: ZRangeBound::Lex(id.sort_key()) },
            None => ZRange { kind: ZRangeKind::Inclusive, range: open },
        };
        let lower = bound(window.after, ZRangeBound::NegInfinityLex);
        let upper = bound(window.before, ZRangeBound::InfiniteLex);
        let limit = Some((0, i64::try_from(window.limit).unwrap_or(i64::MAX)));
        let key = entries_key(timeline);
        let client = &self.redis.client;
        let members: Vec<String> = self
            .redis
            .guarded("range", async {
                if window.oldest_first {
                    client.zrange(key, lower, upper, Some(ZSort::ByLex), false, limit, false).await
                } else {
                    // With REV the bounds come highest first.
                    client.zrange(key, upper, lower, Some(ZSort::ByLex), true, limit, false).await
                }
                .map_err(|e| failed("range", &e))
            })
            .await?;
        let mut ids: Vec<Id> = members.iter().filter_map(|m| Id::from_sort_key(m)).collect();
        if window.oldest_first {
            ids.reverse();
        }
        Ok(ids)
    }

    async fn version(&self, timeline: &str) -> Result<u64, CacheError> {
        let version: Option<u64> =
            self.redis.guarded("version", async { self.redis.client.get(version_key(timeline)).await.map_err(|e| failed("version", &e)) }).await?;
        Ok(version.unwrap_or(0))
    }

    async fn drop_timeline(&self, timeline: &str) -> Result<(), CacheError> {
        // One slot: the keys share the timeline's hash tag.
        self.redis.guarded("drop", async { self.redis.client.del::<(), _>(keys(timeline)).await.map_err(|e| failed("drop", &e)) }).await
    }

    async fn ping(&self) -> Result<(), CacheError> {
        self.redis.ping().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timelines_keys_share_one_hash_tag() {
        let slots: Vec<u16> = keys("home:123").iter().map(|k| fred::util::redis_keyslot(k.as_bytes())).collect();
        assert!(slots.windows(2).all(|w| w[0] == w[1]), "all keys of a timeline hash to one slot");
        assert_ne!(
            fred::util::redis_keyslot(entries_key("home:123").as_bytes()),
            fred::util::redis_keyslot(entries_key("home:124").as_bytes()),
            "timelines spread over slots"
        );
    }

    #[test]
    fn entries_are_sent_oldest_first_with_their_originals() {
        let entries = [TimelineEntry { id: Id::from_u64(0x20), reblog_of: Some(Id::from_u64(0x5)) }, TimelineEntry { id: Id::from_u64(0x10), reblog_of: None }];
        let args = add_args(true, 800, &entries);
        assert_eq!(&args[..2], ["1", "800"]);
        assert_eq!(&args[3..], ["0000000000000010", "", "0000000000000020", "0000000000000005"]);
    }
}
