//! Work due at a time, kept in the store so that it survives restarts and is done exactly once
//! however many core processes run: the ends of polls (`PX`) and scheduled statuses (`SX`).
//!
//! Each kind of work has a schedule, one time-ordered partition of entries keyed
//! `{due ms, 15 digits}#{id}` ([`keys::due`]). Every core process scans each schedule
//! periodically ([`every`]) for the entries due by now ([`take`]); the work of an entry claims it
//! by deleting the entry under `Exists` in the very transaction that does the work, so exactly one
//! scan acts on it, and a process dying before that commit leaves the entry for the next scan
//! (of any process, after a restart too).

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

use crate::error::ApiResult;
use crate::ports::{Item, Query};
use crate::{App, keys, now_ms};

/// Entries read per page of a schedule.
const PAGE: usize = 100;

/// Calls `scan` with the current time every `every` until `stop` turns true; a failed scan is
/// logged (as `what`) and tried again at the next one.
pub async fn every<F, Fut>(app: App, what: &'static str, every: Duration, mut stop: watch::Receiver<bool>, scan: F)
where
    F: Fn(App, u64) -> Fut,
    Fut: Future<Output = ApiResult<usize>>,
{
    loop {
        if *stop.borrow() {
            return;
        }
        if let Err(e) = scan(app.clone(), now_ms()).await {
            tracing::warn!(error = ?e, work = what, "cannot do due work; retrying at the next scan");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Hands every entry of schedule `partition` due at `now_ms` to `act`, oldest first, with the
/// time it was due. `act` claims the entry (its `Exists` delete commits with the work) and says
/// whether this call did the work (`false`: another process, or an earlier scan, did). Returns
/// how many this call did. An entry whose work fails is logged and left for the next scan; the
/// others go on.
pub async fn take<F, Fut>(app: &App, partition: &str, now_ms: u64, mut act: F) -> ApiResult<usize>
where
    F: FnMut(u64, Item) -> Fut,
    Fut: Future<Output = ApiResult<bool>>,
{
    let mut done = 0;
    let mut query = Query { before: Some(keys::due_before(now_ms)), ..Query::partition(partition, PAGE) };
    loop {
        let page = app.store.query(&query).await?;
        for item in &page {
            let Some(at) = keys::due_at(&item.key.sk) else { continue };
            let key = item.key.clone();
            match act(at, item.clone()).await {
                Ok(true) => done += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = ?e, pk = %key.pk, sk = %key.sk, "due work failed; retrying at the next scan"),
            }
        }
        match page.last() {
            Some(last) if page.len() == PAGE => query.after = Some(last.key.sk.clone()),
            _ => return Ok(done),
        }
    }
}
