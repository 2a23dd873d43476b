//! The in-process consumers of the event log (fanout, search, notifications) share one loop:
//! read a batch after the consumer's checkpoint, handle it, advance the checkpoint. Handling is
//! idempotent, so a crash between handling and the checkpoint replays the batch harmlessly.
//!
//! Owns: the read-handle-checkpoint loop, its retry and its stop. Must never: advance a checkpoint
//! past a batch that was not handled in full.

use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;

use crate::App;
use crate::error::ApiResult;
use crate::ports::LoggedEvent;

/// One consumer: its checkpoint name, batch size, and what it does with a batch.
#[async_trait]
pub trait Consumer: Send + Sync + 'static {
    /// Name of its checkpoint (and in logs).
    const NAME: &'static str;
    /// Events handled per batch.
    const BATCH: usize;

    /// Serialises the background runner and [`drain`] so one batch is never handled twice at once.
    fn lock(app: &App) -> &tokio::sync::Mutex<()>;

    /// Handles one batch; an error leaves the checkpoint where it was.
    async fn handle(app: &App, batch: &[LoggedEvent]) -> ApiResult<()>;
}

/// Runs `C` until `stop` turns true, retrying a failed batch after a second.
pub async fn run<C: Consumer>(app: App, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        tokio::select! {
            result = step::<C>(&app, Duration::from_millis(500)) => {
                if let Err(e) = result {
                    tracing::warn!(consumer = C::NAME, error = ?e, "event consumer step failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
            _ = stop.changed() => return,
        }
    }
}

/// Has `C` handle everything logged so far.
pub async fn drain<C: Consumer>(app: &App) -> ApiResult<()> {
    while step::<C>(app, Duration::ZERO).await? > 0 {}
    Ok(())
}

/// One batch: read after the checkpoint, handle, advance the checkpoint.
async fn step<C: Consumer>(app: &App, wait: Duration) -> ApiResult<usize> {
    let after = app.events.checkpoint(C::NAME).await?;
    let batch = app.events.read(after, C::BATCH, wait).await?;
    let _guard = C::lock(app).lock().await;
    // Another runner may have moved on while this one waited.
    if app.events.checkpoint(C::NAME).await? != after {
        return Ok(batch.len());
    }
    C::handle(app, &batch).await?;
    if let Some(last) = batch.last() {
        app.events.save_checkpoint(C::NAME, last.seq).await?;
    }
    Ok(batch.len())
}
