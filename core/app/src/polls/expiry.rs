//! The end of polls: every core process scans the `PX` schedule (time-ordered) every
//! `[polls] expiry_scan_ms` and ends what is due ([`crate::due`]). The schedule is in the store,
//! so a poll that ends while no process runs ends at the next start; each end is claimed by
//! deleting its entry under `Exists` in the transaction that logs `PollEnded`, so with several
//! processes (or a scan repeated after a crash) each poll ends exactly once.

use std::time::Duration;

use tokio::sync::watch;

use super::writes;
use crate::error::ApiResult;
use crate::model::{self, PollDue};
use crate::{App, due, keys};

/// Scans the schedule until `stop` turns true.
pub async fn run(app: App, stop: watch::Receiver<bool>) {
    let every = Duration::from_millis(app.config.polls.expiry_scan_ms.max(10));
    due::every(app, "poll ends", every, stop, |app, now| async move { end_due(&app, now).await }).await;
}

/// Ends every poll due at `now_ms` (logging `PollEnded` for each); returns how many this call
/// ended (those another process ended first are not counted).
pub async fn end_due(app: &App, now_ms: u64) -> ApiResult<usize> {
    due::take(app, keys::POLLS_DUE, now_ms, |expires_at, item| async move {
        let due: PollDue = model::decode(&item)?;
        Ok(writes::end(app, expires_at, due).await?.is_ok())
    })
    .await
}
