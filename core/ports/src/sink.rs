//! Tailing the event log into an [`EventSink`] with a checkpoint: how the outbox relay and
//! the analytics loader follow the log. The checkpoint moves only after the sink accepted the
//! whole batch, so a crash between commit and delivery loses nothing (it re-delivers).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::cursor::Cursor;
use crate::ports::{EventLog, EventSink, SinkError, StoreError};

/// Why a step of [`tail`] failed.
#[derive(Debug, thiserror::Error)]
pub enum TailError {
    /// The log or its checkpoint could not be read or written.
    #[error(transparent)]
    Log(#[from] StoreError),
    /// The sink refused the batch.
    #[error(transparent)]
    Sink(#[from] SinkError),
}

/// One batch: read after `consumer`'s checkpoint, deliver, advance; returns how many events.
pub async fn step(log: &dyn EventLog, consumer: &str, sink: &dyn EventSink, limit: usize, wait: Duration) -> Result<usize, TailError> {
    let after = log.checkpoint(consumer).await?;
    let batch = log.read(&after, limit, wait).await?;
    if !batch.is_empty() {
        sink.deliver(&batch).await?;
        log.save_checkpoint(consumer, &Cursor::of_batch(log.partitions(), &batch)).await?;
    }
    Ok(batch.len())
}

/// Delivers everything logged so far.
pub async fn drain(log: &dyn EventLog, consumer: &str, sink: &dyn EventSink, limit: usize) -> Result<(), TailError> {
    while step(log, consumer, sink, limit, Duration::ZERO).await? > 0 {}
    Ok(())
}

/// Runs until `stop` turns true, retrying failed batches after a pause.
pub async fn tail(log: Arc<dyn EventLog>, consumer: String, sink: Arc<dyn EventSink>, limit: usize, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        tokio::select! {
            result = step(log.as_ref(), &consumer, sink.as_ref(), limit, Duration::from_millis(500)) => {
                if let Err(e) = result {
                    tracing::warn!(consumer = %consumer, error = %e, "event sink step failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
            _ = stop.changed() => return,
        }
    }
}
