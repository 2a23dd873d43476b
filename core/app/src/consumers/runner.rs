//! The in-process consumers of the event log (fanout, search, notifications) share one loop:
//! read a batch after the consumer's checkpoint, handle it, advance the checkpoint. Handling is
//! idempotent, so a crash between handling and the checkpoint replays the batch harmlessly.
//!
//! The same consumers can instead be fed from outside the process ([`sink`], `consumers::sinks`): the
//! Kinesis consumer reads the relayed stream with shard leases, so several core instances
//! split the work, and hands each shard's batches to `C::handle`.
//!
//! Owns: the read-handle-checkpoint loop, its retry and its stop; the [`EventSink`] adapter.
//! Must never: advance a checkpoint past a batch that was not handled in full, or name a
//! concrete consumer (they implement [`Consumer`]; `consumers` registers them).

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;

use crate::App;
use crate::cursor::Cursor;
use crate::error::ApiResult;
use crate::ports::{EventSink, LoggedEvent, SinkError};

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

/// How long one step waits for events before reading its checkpoint again.
const IDLE_WAIT: Duration = Duration::from_secs(2);

/// Runs `C` until `stop` turns true, retrying a failed batch after a second.
pub async fn run<C: Consumer>(app: App, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        tokio::select! {
            // A long wait: the log wakes the read when something is appended, so this only
            // bounds how often an idle consumer reads its checkpoint again.
            result = step::<C>(&app, IDLE_WAIT) => {
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
    let batch = app.events.read(&after, C::BATCH, wait).await?;
    let _guard = C::lock(app).lock().await;
    // Another runner may have moved on while this one waited.
    if app.events.checkpoint(C::NAME).await? != after {
        return Ok(batch.len());
    }
    C::handle(app, &batch).await?;
    if !batch.is_empty() {
        app.events.save_checkpoint(C::NAME, &Cursor::of_batch(app.events.partitions(), &batch)).await?;
    }
    Ok(batch.len())
}

/// `C` as an [`EventSink`]: each delivered batch is handled by `C::handle` (in chunks of
/// `C::BATCH`, under `C::lock`), so whatever delivers it keeps its own checkpoint. Handling is
/// idempotent, so redelivery is harmless.
///
/// Ordering: a sink sees events in order only within what its feed keeps in order — on
/// Kinesis, one shard, where one partition key (the acting account) lands. Every event about a
/// status (created, edited, deleted) and every follow/unfollow of one follower share it, and
/// the handlers re-read the store instead of trusting event order across accounts: fanout
/// takes followers, follow edges and a status's existence from the store when it runs,
/// search re-reads each status and account, notifications are keyed by the event's `seq`.
/// So a batch arriving late, twice, or (after a partially refused `PutRecords`) behind a later
/// event of the same account converges to the same timelines, index and notifications.
pub fn sink<C: Consumer>(app: &App) -> Arc<dyn EventSink> {
    Arc::new(Sink::<C> { app: app.clone(), consumer: PhantomData })
}

struct Sink<C> {
    app: App,
    consumer: PhantomData<fn() -> C>,
}

#[async_trait]
impl<C: Consumer> EventSink for Sink<C> {
    async fn deliver(&self, events: &[LoggedEvent]) -> Result<(), SinkError> {
        let _guard = C::lock(&self.app).lock().await;
        for chunk in events.chunks(C::BATCH) {
            C::handle(&self.app, chunk).await.map_err(|e| SinkError(format!("{} consumer: {e:?}", C::NAME).into()))?;
        }
        Ok(())
    }
}
