//! The end of polls: every core process scans the `PX` schedule (time-ordered) every
//! `[polls] expiry_scan_ms` and ends what is due. The schedule is in the store, so a poll that
//! ends while no process runs ends at the next start; each end is claimed by deleting its
//! entry under `Exists` in the transaction that logs `PollEnded`, so with several processes
//! (or a scan repeated after a crash) each poll ends exactly once.

use std::time::Duration;

use tokio::sync::watch;

use super::writes::{self, EndConflict};
use crate::error::ApiResult;
use crate::model::{self, PollDue};
use crate::ports::Query;
use crate::{App, keys, now_ms};

/// Entries read per page of the schedule.
const PAGE: usize = 100;

/// Scans the schedule until `stop` turns true.
pub async fn run(app: App, mut stop: watch::Receiver<bool>) {
    let every = Duration::from_millis(app.config.polls.expiry_scan_ms.max(10));
    loop {
        if *stop.borrow() {
            return;
        }
        if let Err(e) = end_due(&app, now_ms()).await {
            tracing::warn!(error = ?e, "cannot end due polls; retrying at the next scan");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Ends every poll due at `now_ms` (logging `PollEnded` for each); returns how many this call
/// ended (those another process ended first are not counted).
pub async fn end_due(app: &App, now_ms: u64) -> ApiResult<usize> {
    let mut ended = 0;
    let mut query = Query { before: Some(keys::polls_due_before(now_ms)), ..Query::partition(keys::POLLS_DUE, PAGE) };
    loop {
        let page = app.store.query(&query).await?;
        for item in &page {
            let due: PollDue = model::decode(item)?;
            let Some(expires_at) = item.key.sk.split('#').next().and_then(|ms| ms.parse::<u64>().ok()) else { continue };
            match writes::end(app, expires_at, due).await? {
                Ok(()) => ended += 1,
                Err(EndConflict::NotDue) => {}
            }
        }
        match page.last() {
            Some(last) if page.len() == PAGE => query.after = Some(last.key.sk.clone()),
            _ => return Ok(ended),
        }
    }
}
