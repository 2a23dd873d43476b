//! The scheduler: every core process scans the `SX` schedule every `[scheduled] scan_ms` and
//! publishes the scheduled statuses that are due ([`crate::due`]). The schedule is in the store,
//! so one due while no process runs is published at the next start; each is claimed by deleting
//! its entry under `Exists` in the transaction that posts it, so with several processes (or a
//! scan repeated after a crash) each is posted exactly once.

use std::time::Duration;

use tokio::sync::watch;

use super::service;
use crate::error::ApiResult;
use crate::model::{self, ScheduledDue};
use crate::{App, due, keys};

/// Scans the schedule until `stop` turns true.
pub async fn run(app: App, stop: watch::Receiver<bool>) {
    let every = Duration::from_millis(app.config.scheduled.scan_ms.max(10));
    due::every(app, "scheduled statuses", every, stop, |app, now| async move { publish_due(&app, now).await }).await;
}

/// Publishes every scheduled status due at `now_ms`; returns how many this call published (or
/// dropped as no longer postable); those another process took first are not counted.
pub async fn publish_due(app: &App, now_ms: u64) -> ApiResult<usize> {
    due::take(app, keys::SCHEDULED_DUE, now_ms, |at, item| async move {
        let due: ScheduledDue = model::decode(&item)?;
        service::publish(app, at, due).await
    })
    .await
}
