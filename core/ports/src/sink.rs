//! Tailing the event log into an [`EventSink`] with a checkpoint: how the outbox relay and
//! the analytics loader follow the log. The checkpoint moves only after the sink accepted the
//! whole batch, so a crash between commit and delivery loses nothing (it re-delivers).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::cursor::Cursor;
use crate::leases::Leases;
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

/// The outbox relay: like [`tail`], but the log's partitions are split between the processes
/// running it by [`Leases`] (units: partition numbers), so each partition has one publisher at
/// a time instead of every process publishing everything. Each process keeps its partitions'
/// positions in memory while it holds them (read from the checkpoint when it takes one) and
/// saves them once a second while busy, when idle, before rebalancing and when it stops;
/// leases are rebalanced every quarter lease. Delivery stays
/// at-least-once: a partition changing hands at a lease's edge may be delivered twice, never
/// skipped (each holder saves only what it delivered).
pub async fn relay(
    log: Arc<dyn EventLog>,
    consumer: String,
    sink: Arc<dyn EventSink>,
    leases: Leases,
    limit: usize,
    poll: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let units: Vec<String> = (0..log.partitions()).map(|p| p.to_string()).collect();
    let mut state = RelayState { held: Vec::new(), at: Cursor::from_parts(log.partitions(), []), balanced_ms: None, unsaved: None, saved_ms: 0 };
    loop {
        if *stop.borrow() {
            break;
        }
        let pause = match relay_round(log.as_ref(), &consumer, sink.as_ref(), &leases, &units, limit, &mut state).await {
            Ok(0) => poll,
            Ok(_) => Duration::ZERO,
            Err(e) => {
                tracing::warn!(consumer = %consumer, error = %e, "outbox relay round failed; retrying");
                // Positions may be stale after a failure: rebalance and read them again.
                state.at = Cursor::from_parts(log.partitions(), []);
                state.balanced_ms = None;
                poll.max(Duration::from_secs(1))
            }
        };
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            _ = stop.changed() => break,
        }
    }
    // What was delivered is saved before the partitions go to another process.
    if let Err(e) = save_delivered(log.as_ref(), &consumer, &mut state).await {
        tracing::warn!(consumer = %consumer, error = %e, "outbox relay could not save its last positions; they are relayed again");
    }
    if let Err(e) = leases.release(&units).await {
        tracing::warn!(consumer = %consumer, error = %e, "outbox relay could not release its leases; they expire");
    }
}

/// What a relay process knows between rounds.
struct RelayState {
    /// Partitions held.
    held: Vec<u32>,
    /// Positions of the held partitions.
    at: Cursor,
    /// When the leases were last balanced.
    balanced_ms: Option<u64>,
    /// Positions delivered but not saved yet (saved at most once per [`RELAY_SAVE_EVERY`]).
    unsaved: Option<Cursor>,
    /// When positions were last saved.
    saved_ms: u64,
}

/// How often the relay saves its positions while it keeps delivering: a crash re-publishes at
/// most this much (consumers are idempotent), and a busy partition costs one checkpoint write
/// a second instead of one per batch.
const RELAY_SAVE_EVERY: Duration = Duration::from_secs(1);

/// Saves what was delivered since the last save.
async fn save_delivered(log: &dyn EventLog, consumer: &str, state: &mut RelayState) -> Result<(), StoreError> {
    if let Some(unsaved) = state.unsaved.take() {
        if let Err(e) = log.save_checkpoint(consumer, &unsaved).await {
            state.unsaved = Some(unsaved);
            return Err(e);
        }
    }
    Ok(())
}

/// One round of [`relay`]: rebalance when due, deliver one batch of the held partitions.
async fn relay_round(
    log: &dyn EventLog,
    consumer: &str,
    sink: &dyn EventSink,
    leases: &Leases,
    units: &[String],
    limit: usize,
    state: &mut RelayState,
) -> Result<usize, TailError> {
    let now = leases.now_ms();
    if state.balanced_ms.is_none_or(|at| now.saturating_sub(at) >= leases.lease_ms() / 4) {
        // Partitions may change hands: save first, so a new holder starts where this one is.
        save_delivered(log, consumer, state).await?;
        state.held = leases.balance(units).await?.iter().filter_map(|u| u.parse().ok()).collect();
        state.balanced_ms = Some(now);
        let known: Vec<u32> = state.at.parts().map(|(p, _)| p).filter(|p| state.held.contains(p)).collect();
        if known.len() < state.held.len() {
            // Newly taken partitions start from the stored checkpoint.
            let stored = log.checkpoint(consumer).await?;
            state.at = Cursor::from_parts(log.partitions(), state.held.iter().map(|p| (*p, if known.contains(p) { state.at.get(*p) } else { stored.get(*p) })));
        } else {
            state.at = state.at.only(&state.held);
        }
    }
    if state.held.is_empty() {
        return Ok(0);
    }
    let batch = log.read(&state.at, limit, Duration::ZERO).await?;
    if !batch.is_empty() {
        sink.deliver(&batch).await?;
        state.at.advance(&batch);
        state.unsaved.get_or_insert_with(|| Cursor::from_parts(log.partitions(), [])).advance(&batch);
    }
    let saving_due = u128::from(now.saturating_sub(state.saved_ms)) >= RELAY_SAVE_EVERY.as_millis();
    if batch.is_empty() || saving_due {
        save_delivered(log, consumer, state).await?;
        state.saved_ms = now;
    }
    Ok(batch.len())
}
